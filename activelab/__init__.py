"""activelab: human-in-the-loop active learning.

The public API, for scripts and plug-ins (everything else lives in the rooms of
``activelab.core``, the Qt app in ``activelab.app``, the built-in strategies in
``activelab.strategies``)::

    from activelab import Project, export_labels, simulate
    from activelab import strategy, Doc, QueryContext, QueryResult, aggregate_task_scores

Names are imported on first use, so ``import activelab`` (and the ``activelab`` command's
start-up) loads nothing heavy.
"""
from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_PUBLIC = {
    # working with projects
    "Project": "activelab.core.project.project",
    "export_labels": "activelab.core.export.labels",
    "simulate": "activelab.core.simulation.simulate",
    "Settings": "activelab.core.loop.settings",
    # writing a query strategy
    "strategy": "activelab.core.querying.strategy_api",
    "Doc": "activelab.core.querying.strategy_api",
    "StrategyName": "activelab.core.querying.strategy_api",
    "strategy_scores": "activelab.core.querying.strategy_api",
    "Strategy": "activelab.core.querying.strategy_api",
    "Param": "activelab.core.querying.strategy_api",
    "QueryContext": "activelab.core.querying.strategy_api",
    "QueryResult": "activelab.core.querying.strategy_api",
    "TaskOutput": "activelab.core.querying.strategy_api",
    "aggregate_task_scores": "activelab.core.querying.strategy_api",
    "top_k": "activelab.core.querying.strategy_api",
    # errors a caller may catch
    "ActiveLabError": "activelab.core.errors",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    try:
        module = _PUBLIC[name]
    except KeyError:
        raise AttributeError(f"module 'activelab' has no attribute {name!r}") from None
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC))
