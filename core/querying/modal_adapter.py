"""Use modAL-style query functions as activelab strategies (modAL itself is optional).

A modAL query function has the form ``func(classifier, X, n_instances) -> indices`` or
``-> (indices, values_or_instances)``; a modAL utility has the form ``func(classifier, X) ->
one score per row``. activelab never hands them a real model: they get a read-only shim
whose ``predict_proba(X)`` returns the already computed probabilities of the rows of X.

X is the candidates' representation (features or embeddings), or their positions as a one
column matrix when the pool has no features. The shim maps rows of any X it is given back to
candidates: X itself (or any array sharing its memory with the same shape) maps to all
candidates in order; any other array (a subset or a copy) is looked up row by row.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from activelab.core.errors import StrategyError
from activelab.core.querying.strategy_api import Param, QueryContext, QueryResult, Strategy


class ClassifierShim:
    """Just enough of a fitted modAL learner / scikit-learn classifier for query functions."""

    on_transformed = False

    def __init__(self, X: np.ndarray, proba: np.ndarray, classes: np.ndarray,
                 X_training: np.ndarray | None):
        self._X = X
        self._proba = proba
        self._index: dict[bytes, int] | None = None
        self.classes_ = classes
        self.X_training = X_training
        self.y_training = None
        self.estimator = self

    def _rows(self, X: Any) -> np.ndarray:
        X = np.asarray(X)
        if X is self._X or (X.shape == self._X.shape and np.shares_memory(X, self._X)):
            return np.arange(self._X.shape[0])
        if self._index is None:
            self._index = {}
            for i, row in enumerate(np.ascontiguousarray(self._X)):
                self._index.setdefault(row.tobytes(), i)
        X = np.ascontiguousarray(np.asarray(X, dtype=self._X.dtype).reshape(len(X), -1))
        try:
            return np.array([self._index[row.tobytes()] for row in X], dtype=np.int64)
        except KeyError:
            raise StrategyError(
                "A modAL-style function asked for predictions on rows that are not pool "
                "candidates; the adapter can only answer for the candidates it was given."
            ) from None

    def predict_proba(self, X: Any, **_: Any) -> np.ndarray:
        return self._proba[self._rows(X)]

    def predict(self, X: Any, **_: Any) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def transform_without_estimating(self, X: Any) -> Any:
        return X


def _pick_task(ctx: QueryContext, task: str):
    if task:
        if task not in ctx.tasks:
            raise StrategyError(f"Unknown task '{task}'; tasks: {sorted(ctx.tasks)}.")
        out = ctx.tasks[task]
    else:
        out = next((o for o in ctx.tasks.values() if o.proba is not None), None)
    if out is None or out.proba is None:
        raise StrategyError("This modAL-style strategy needs class probabilities from a "
                            "fitted model; label at least two classes first.")
    return out


def shim_for(ctx: QueryContext, task: str = "") -> tuple[ClassifierShim, np.ndarray]:
    """The classifier shim and the X (one row per candidate) to pass to a modAL function."""
    out = _pick_task(ctx, task)
    cand = np.asarray(ctx.candidates, dtype=np.int64)
    if ctx.features is not None or ctx.embeddings is not None:
        rep = ctx.representation()
        X = np.asarray(rep[cand])
        X_train = np.asarray(rep[ctx.labeled]) if len(ctx.labeled) else None
    else:
        X = cand.astype(np.float64).reshape(-1, 1)
        X_train = np.asarray(ctx.labeled, dtype=np.float64).reshape(-1, 1) if len(
            ctx.labeled) else None
    classes = np.asarray(out.classes) if out.classes else np.arange(out.proba.shape[1])
    shim = ClassifierShim(X, np.asarray(out.proba[cand]), classes, X_train)
    return shim, X


_TASK = Param("task", str, "", "Task whose model is used (empty: the first with a model).")


def strategy_from_modal(func: Callable[..., Any], name: str, description: str = "",
                        n_param: str = "n_instances") -> Strategy:
    """A batch Strategy calling ``func(classifier, X, n_instances=n)``; positions in X become
    pool indices. Scores come from a returned value array when there is one, else from rank."""

    def run(ctx: QueryContext, n: int, task: str = "") -> QueryResult:
        shim, X = shim_for(ctx, task)
        got = func(shim, X, **{n_param: n})
        values = None
        if isinstance(got, tuple):
            got, rest = got[0], got[1:]
            if rest:
                v = np.asarray(rest[-1])
                if v.ndim == 1 and v.dtype.kind in "fiu":
                    values = v.astype(np.float64)
        pos = np.asarray(got, dtype=np.int64).ravel()
        if pos.size and (pos.min() < 0 or pos.max() >= len(ctx.candidates)):
            raise StrategyError(f"modAL-style strategy '{name}' returned positions outside X.")
        if values is None or len(values) != len(pos):
            values = 1.0 - np.arange(len(pos)) / max(len(pos), 1)
        return QueryResult(ctx.candidates[pos].astype(np.int64), values)

    return Strategy(name, description or f"modAL-style query function {func.__name__}.", run,
                    kind="batch", params=(_TASK,), requires=frozenset({"proba"}),
                    optional=frozenset({"features"}), source=f"modAL adapter ({func.__module__})")


def strategy_from_modal_utility(func: Callable[..., Any], name: str, description: str = "",
                                higher_is_better: bool = True) -> Strategy:
    """A score Strategy from a modAL utility ``func(classifier, X) -> scores`` (for example
    ``modAL.uncertainty.classifier_entropy``; pass higher_is_better=False for
    ``classifier_margin``, whose small values are the informative ones)."""

    def run(ctx: QueryContext, task: str = "") -> np.ndarray:
        shim, X = shim_for(ctx, task)
        s = np.asarray(func(shim, X), dtype=np.float64).ravel()
        return s if higher_is_better else -s

    return Strategy(name, description or f"modAL utility {func.__name__}.", run,
                    params=(_TASK,), requires=frozenset({"proba"}),
                    optional=frozenset({"features"}), source=f"modAL adapter ({func.__module__})")
