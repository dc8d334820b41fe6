"""The strategy registry: built-ins and plug-ins both arrive through the entry-point group
``activelab.strategies``. An entry point names a function declared with ``@strategy``, a
module (every strategy declared in it), a ``Strategy``, a list of those, or a callable
returning one or a list. A plug-in that fails to load is reported by name and skipped.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any, Iterable

from activelab.core.errors import StrategyError
from activelab.core.querying.strategy_api import Strategy, StrategyName, strategies_in

log = logging.getLogger(__name__)

GROUP = "activelab.strategies"
#: The built-ins' entry point (in activelab's own package metadata).
BUILTIN_ENTRY = "activelab.strategies.builtin:strategies"


@dataclass
class StrategyRegistry:
    strategies: dict[str, Strategy] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def register(self, strategy: Strategy, replace: bool = False) -> None:
        if not isinstance(strategy, Strategy):
            raise StrategyError(f"Only Strategy objects can be registered, got {type(strategy)}.")
        if strategy.name in self.strategies and not replace:
            existing = self.strategies[strategy.name]
            raise StrategyError(
                f"A strategy named '{strategy.name}' is already registered "
                f"(from {existing.source}); pick another name for the one from {strategy.source}."
            )
        self.strategies[strategy.name] = strategy

    def get(self, name: str) -> Strategy:
        try:
            return self.strategies[name]
        except KeyError:
            known = ", ".join(sorted(self.strategies))
            raise StrategyError(
                f"Unknown strategy '{name}'. Registered strategies: {known}. "
                "Run 'activelab strategies' to see them with their parameters."
            ) from None

    def names(self) -> list[str]:
        return sorted(self.strategies)

    def __contains__(self, name: str) -> bool:
        return name in self.strategies

    def __iter__(self):
        return iter(self.strategies.values())


def _declared(obj: Any) -> list[Strategy] | None:
    """The strategies ``obj`` declares itself (a decorated function, a Strategy, a module)."""
    if isinstance(obj, Strategy):
        return [obj]
    if isinstance(getattr(obj, "__strategy__", None), Strategy):
        return [obj.__strategy__]
    if isinstance(obj, ModuleType):
        return strategies_in(obj)
    return None


def _as_strategies(obj: Any, source: str) -> list[Strategy]:
    items: Iterable[Any] | None = _declared(obj)
    if items is None:
        if callable(obj):
            obj = obj()
        items = _declared(obj)
        if items is None:
            items = list(obj)
    out = []
    for item in items:
        declared = _declared(item)
        if declared is None or isinstance(item, ModuleType):
            raise StrategyError(f"Entry point {source} gave {type(item).__name__}, not a "
                                "Strategy or a function declared with @strategy.")
        for s in declared:
            if s.source == "builtin" and source != "builtin":
                s = Strategy(**{**s.__dict__, "source": source})
            out.append(s)
    return out


def load_registry() -> StrategyRegistry:
    """Build a fresh registry from every entry point of the group (built-ins included)."""
    reg = StrategyRegistry()
    for ep in entry_points(group=GROUP):
        source = "builtin" if ep.value == BUILTIN_ENTRY else f"plug-in '{ep.name}' ({ep.value})"
        try:
            for s in _as_strategies(ep.load(), source):
                reg.register(s)
        except Exception as exc:  # a broken plug-in must not break the app
            reg.failures[ep.name] = f"{type(exc).__name__}: {exc}"
            log.warning("Strategy plug-in '%s' (%s) failed to load: %s", ep.name, ep.value, exc)
    _name_the_choices(reg)
    return reg


def _name_the_choices(reg: StrategyRegistry) -> None:
    """Give each parameter that names a score strategy (``StrategyName``) the registered
    score strategies as its choices, so they are listed and offered like any choice."""
    scores = tuple(sorted(s.name for s in reg if s.kind == "score"))
    for s in list(reg):
        if any(p.type is StrategyName and p.choices is None for p in s.params):
            params = tuple(replace(p, choices=scores) if p.type is StrategyName else p
                           for p in s.params)
            reg.register(replace(s, params=params), replace=True)


_REGISTRY: StrategyRegistry | None = None


def registry(reload: bool = False) -> StrategyRegistry:
    """The process-wide registry, loaded once."""
    global _REGISTRY
    if _REGISTRY is None or reload:
        _REGISTRY = load_registry()
    return _REGISTRY


def get_strategy(name: str) -> Strategy:
    return registry().get(name)
