"""The strategy registry: built-ins and plug-ins both arrive through the entry-point group
``activelab.strategies``. An entry point names either a Strategy, a list of them, or a callable
returning one or a list. A plug-in that fails to load is reported by name and skipped.
"""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Iterable

from activelab.core.errors import StrategyError
from activelab.core.querying.strategy_api import Strategy

log = logging.getLogger(__name__)

GROUP = "activelab.strategies"
#: Where the built-ins live; used only when the package metadata is missing (source checkout
#: run without installing), so that built-ins still arrive through the same loader code.
_BUILTIN_ENTRY = "activelab.strategies.builtin:strategies"


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


def _as_strategies(obj: Any, source: str) -> list[Strategy]:
    if callable(obj) and not isinstance(obj, Strategy):
        obj = obj()
    if isinstance(obj, Strategy):
        items: Iterable[Strategy] = [obj]
    else:
        items = list(obj)
    out = []
    for s in items:
        if not isinstance(s, Strategy):
            raise StrategyError(f"Entry point {source} gave {type(s).__name__}, not a Strategy.")
        if s.source == "builtin" and source != "builtin":
            s = Strategy(**{**s.__dict__, "source": source})
        out.append(s)
    return out


def _load_target(target: str) -> Any:
    module, _, attr = target.partition(":")
    obj = importlib.import_module(module)
    for part in attr.split(".") if attr else []:
        obj = getattr(obj, part)
    return obj


def load_registry() -> StrategyRegistry:
    """Build a fresh registry from every entry point of the group (built-ins included)."""
    reg = StrategyRegistry()
    eps = list(entry_points(group=GROUP))
    targets = [(ep.name, ep.value, ep.load) for ep in eps]
    if not any(value == _BUILTIN_ENTRY for _, value, _ in targets):
        targets.insert(0, ("builtin", _BUILTIN_ENTRY, lambda: _load_target(_BUILTIN_ENTRY)))
    for name, value, load in targets:
        source = "builtin" if value == _BUILTIN_ENTRY else f"plug-in '{name}' ({value})"
        try:
            for s in _as_strategies(load(), source):
                reg.register(s)
        except Exception as exc:  # a broken plug-in must not break the app
            reg.failures[name] = f"{type(exc).__name__}: {exc}"
            log.warning("Strategy plug-in '%s' (%s) failed to load: %s", name, value, exc)
    return reg


_REGISTRY: StrategyRegistry | None = None


def registry(reload: bool = False) -> StrategyRegistry:
    """The process-wide registry, loaded once."""
    global _REGISTRY
    if _REGISTRY is None or reload:
        _REGISTRY = load_registry()
    return _REGISTRY


def get_strategy(name: str) -> Strategy:
    return registry().get(name)
