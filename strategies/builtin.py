"""The built-in strategies, registered through the ``activelab.strategies`` entry point
exactly like a third-party plug-in. Each is declared beside its function with ``@strategy``
(its parameters and their defaults read from the function's signature)."""
from __future__ import annotations

from activelab.core.querying.strategy_api import Strategy, strategies_in
from activelab.strategies import (
    baseline, bayesian, cold_start, committee, cotesting, density, diversity, error_prediction,
    hybrid, model_change, portfolio, uncertainty,
)

MODULES = (baseline, uncertainty, density, diversity, committee, bayesian, hybrid, cotesting,
           model_change, error_prediction, portfolio, cold_start)


def strategies() -> list[Strategy]:
    """Every built-in strategy (the entry point ``activelab.strategies.builtin:strategies``)."""
    return [s for module in MODULES for s in strategies_in(module)]
