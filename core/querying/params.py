"""Typed strategy parameters: what a parameter accepts, checked and converted when it is set.

A strategy declared with ``@strategy`` gets its ``Param``s from its function's signature: the
name and default from the parameter, the type from the annotation (or the default), and what
it means and accepts from a ``Doc`` in ``Annotated[...]``::

    def density_weighted(ctx, beta: Annotated[float, Doc("Weight of representativeness.",
                                                         minimum=0.0)] = 1.0): ...

``StrategyName`` marks a parameter whose value names another registered score strategy (the
base of ``exploration_mix``), so built-ins and plug-ins can be combined.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

from activelab.core.errors import StrategyError


class StrategyName(str):
    """The type of a parameter naming a registered score-based strategy (built-in or plug-in)."""


@dataclass(frozen=True)
class Doc:
    """What a strategy parameter means and accepts (the metadata of ``Annotated[type, Doc]``)."""

    description: str = ""
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Param:
    """A typed strategy parameter (shown by ``activelab strategies`` and in the GUI).

    ``engine`` parameters are read by the loop when it builds the strategy's inputs (the
    committee's kind and size) and are not passed to the strategy's function.
    """

    name: str
    type: type
    default: Any
    description: str = ""
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    engine: bool = False

    def describe(self) -> str:
        """What the parameter accepts, in words (used in error messages)."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.type is StrategyName:
            return ("the name of a registered score-based strategy ("
                    + ", ".join(_score_strategy_names()) + ")")
        word = {bool: "true or false", int: "an integer", float: "a number",
                str: "text"}.get(self.type, self.type.__name__)
        if self.minimum is not None and self.maximum is not None:
            return f"{word} from {self.minimum:g} to {self.maximum:g}"
        if self.minimum is not None:
            return f"{word} >= {self.minimum:g}"
        if self.maximum is not None:
            return f"{word} <= {self.maximum:g}"
        return word

    def _typed(self, value: Any) -> Any:
        """``value`` as ``self.type`` without losing information (1.5 is no int, 'maybe' no
        bool); raises ValueError otherwise."""
        t = self.type
        if t is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(value)
        if isinstance(value, bool) and t in (int, float):
            raise ValueError(value)
        if t is int:
            if isinstance(value, Integral):
                return int(value)
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, str):
                return int(value.strip())
            raise ValueError(value)
        if t is float:
            v = float(value) if isinstance(value, (Real, str)) else None
            if v is None or not math.isfinite(v):
                raise ValueError(value)
            return v
        if t is StrategyName:
            return _score_strategy_name(value)
        return t(value)

    def coerce(self, value: Any) -> Any:
        """``value`` converted to the parameter's type and checked against its choices and
        range; raises StrategyError naming the parameter, the value and what is allowed."""
        try:
            v = self._typed(value)
        except (TypeError, ValueError):
            v = None
            ok = False
        else:
            ok = not ((self.choices is not None and v not in self.choices)
                      or (self.minimum is not None and v < self.minimum)
                      or (self.maximum is not None and v > self.maximum))
        if not ok:
            raise StrategyError(
                f"Parameter '{self.name}' must be {self.describe()}; got {value!r}."
            )
        return v


def _score_strategy_names() -> list[str]:
    from activelab.core.querying.registry import registry

    return sorted(s.name for s in registry() if s.kind == "score")


def _score_strategy_name(value: Any) -> str:
    """``value`` when it names a registered score strategy; ValueError otherwise."""
    if not isinstance(value, str) or value not in _score_strategy_names():
        raise ValueError(value)
    return str(value)
