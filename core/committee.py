"""Build a query-by-committee: predictions of M models over the pool, shape (M, N, C).

Two kinds of committee: bootstrap copies of one model (``mode="bootstrap"``: each member is
trained on a seeded resample of the labeled set) or several model types trained on the same
labeled set (``mode="models"``). Columns follow ``classes``; a class a member never saw gets
probability 0 from it. Members are fresh estimators from factories, never the model in use.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from core.errors import ModelError

Factory = Callable[[], Any]


def _bootstrap_rows(y: np.ndarray, rng: np.random.Generator, tries: int = 20) -> np.ndarray:
    """A resample holding at least two classes; falls back to all rows when none is found."""
    n = len(y)
    for _ in range(tries):
        rows = rng.integers(0, n, size=n)
        if np.unique(y[rows]).size >= 2:
            return rows
    return np.arange(n)


def _aligned_proba(est: Any, X_pool: Any, classes: Sequence, block: int = 65536) -> np.ndarray:
    col = {c: i for i, c in enumerate(classes)}
    own = list(getattr(est, "classes_", []))
    where = [col.get(c, col.get(str(c))) for c in own]
    n = X_pool.shape[0]
    out = np.zeros((n, len(classes)), dtype=np.float32)
    for s in range(0, n, block):
        p = est.predict_proba(X_pool[s:s + block])
        for j, w in enumerate(where):
            if w is not None:
                out[s:s + block, w] = p[:, j]
    return out


def committee_outputs(
    make_estimator: Factory | Sequence[Factory],
    X_train: Any,
    y_train: Sequence,
    X_pool: Any,
    classes: Sequence,
    n_members: int = 5,
    mode: str = "bootstrap",
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Fit a committee and return its members' probabilities over X_pool, (M, N, len(classes)).

    ``make_estimator`` is a factory (bootstrap mode) or a sequence of factories (models mode;
    one member each, ``n_members`` ignored). Single-label tasks only: for a multi-label task
    pass a one-vs-rest factory and 0/1 indicator targets per class via your own loop.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    y = np.asarray(y_train)
    if len(y) == 0 or np.unique(y).size < 2:
        raise ModelError(
            "A committee needs labeled samples of at least two classes; label more samples "
            "(or use a strategy that works without a model until then)."
        )
    if mode == "bootstrap":
        if isinstance(make_estimator, (list, tuple)):
            raise ModelError("Bootstrap committees take one estimator factory, not a list.")
        if n_members < 2:
            raise ModelError(f"A committee needs at least 2 members; got n_members={n_members}.")
        plans = [(make_estimator, _bootstrap_rows(y, rng)) for _ in range(int(n_members))]
    elif mode == "models":
        factories = list(make_estimator) if isinstance(make_estimator, (list, tuple)) else [
            make_estimator]
        if len(factories) < 2:
            raise ModelError("A committee of model types needs at least two estimator factories.")
        plans = [(f, np.arange(len(y))) for f in factories]
    else:
        raise ModelError(f"Unknown committee mode '{mode}'; use 'bootstrap' or 'models'.")
    outs = []
    for factory, rows in plans:
        est = factory()
        Xt = X_train[rows]
        try:
            est.fit(Xt, y[rows])
        except ValueError as exc:
            raise ModelError(f"A committee member ({type(est).__name__}) failed to train: "
                             f"{exc}") from exc
        outs.append(_aligned_proba(est, X_pool, classes))
    return np.stack(outs)
