"""Build a query-by-committee: predictions of M models over the pool, shape (M, N, C).

Two kinds of committee (``activelab.core.querying.strategy_api.Committee`` holds the kind,
the size and the member types): bootstrap copies of one model (``mode="bootstrap"``: each
member is trained on a seeded resample of the labeled set) or several model types trained on
the same labeled set (``mode="models"``). Columns follow ``classes``; a class a member never
saw gets probability 0 from it. Members are fresh estimators from factories, never the model
in use.

Built from what can be fitted: a single-label resample is stratified (every member sees every
labeled class as often as the labeled set has it, so a model that fits the labeled set fits
each member), a multi-label resample keeps a positive and a negative example of every class
that has both. A member that still cannot be fitted is left out; with fewer than two members
left, ``CommitteeError`` says why, and the caller falls back to another strategy.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import numpy as np

from activelab.core.errors import ModelError
from activelab.core.learning.fitting import FittedTask, dense_if_needed, fit_threads
from activelab.core.learning.labels import label_matrix
from activelab.core.learning.models import model_info
from activelab.core.querying.strategy_api import Committee

Factory = Callable[[], Any]


class CommitteeError(ModelError):
    """A committee could not be built from the labeled data (the message says why)."""


def _stratified_rows(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A bootstrap resample drawn per class: class c's n_c rows are resampled n_c times."""
    parts = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        parts.append(rng.choice(idx, size=idx.size, replace=True))
    rows = np.concatenate(parts)
    rng.shuffle(rows)
    return rows


def _multilabel_rows(Y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A bootstrap resample of an (n, C) indicator matrix keeping, for every class that has
    both, one positive and one negative example; the rest drawn uniformly."""
    n = Y.shape[0]
    keep: list[int] = []
    for j in np.flatnonzero(Y.min(axis=0) != Y.max(axis=0)):
        keep.append(int(rng.choice(np.flatnonzero(Y[:, j] == 1))))
        keep.append(int(rng.choice(np.flatnonzero(Y[:, j] == 0))))
    rest = rng.integers(0, n, size=max(0, n - len(keep)))
    rows = np.concatenate([np.asarray(keep, dtype=np.int64), rest.astype(np.int64)])
    rng.shuffle(rows)
    return rows


def _aligned_proba(est: Any, X_pool: Any, classes: Sequence, multilabel: bool = False,
                   block: int = 65536) -> np.ndarray:
    n = X_pool.shape[0]
    out = np.zeros((n, len(classes)), dtype=np.float32)
    if multilabel:      # one-vs-rest on an indicator matrix: columns are the classes
        for s in range(0, n, block):
            out[s:s + block] = np.asarray(est.predict_proba(X_pool[s:s + block]))
        return out
    col = {c: i for i, c in enumerate(classes)}
    own = list(getattr(est, "classes_", []))
    where = [col.get(c, col.get(str(c))) for c in own]
    for s in range(0, n, block):
        p = est.predict_proba(X_pool[s:s + block])
        for j, w in enumerate(where):
            if w is not None:
                out[s:s + block, w] = p[:, j]
    return out


def committee_outputs(
    make_estimator: Factory | Sequence[Factory],
    X_train: Any,
    y_train: Sequence | np.ndarray,
    X_pool: Any,
    classes: Sequence,
    n_members: int = Committee.n_members,
    mode: str = Committee.kind,
    rng: np.random.Generator | None = None,
    multilabel: bool = False,
) -> np.ndarray:
    """Fit a committee and return its members' probabilities over X_pool, (M, N, len(classes)).

    ``make_estimator`` is a factory (bootstrap mode) or a sequence of factories (models mode;
    one member each, ``n_members`` ignored). Single-label: ``y_train`` holds class names.
    Multi-label (``multilabel=True``): ``y_train`` is the (n, C) 0/1 indicator matrix in
    ``classes`` order and the factories build one-vs-rest estimators. Members that cannot be
    fitted are left out; raises ``CommitteeError`` when fewer than two are left (or when the
    labels cannot support any committee), ``ModelError`` for a wrong call.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    y = np.asarray(y_train)
    if multilabel:
        if y.ndim != 2 or y.shape[1] != len(classes):
            raise ModelError("A multi-label committee takes an (n, C) 0/1 matrix of labels.")
        if len(y) < 2 or not np.any(y.min(axis=0) != y.max(axis=0)):
            raise CommitteeError("no class is both present and absent among the labeled samples")
    elif len(y) == 0 or np.unique(y).size < 2:
        raise CommitteeError(
            "a committee needs labeled samples of at least two classes (label a sample of "
            "another class)"
        )
    if mode == "bootstrap":
        if isinstance(make_estimator, (list, tuple)):
            raise ModelError("Bootstrap committees take one estimator factory, not a list.")
        if n_members < 2:
            raise ModelError(f"A committee needs at least 2 members; got n_members={n_members}.")
        resample = _multilabel_rows if multilabel else _stratified_rows
        plans = [(make_estimator, resample(y, rng)) for _ in range(int(n_members))]
    elif mode == "models":
        factories = list(make_estimator) if isinstance(make_estimator, (list, tuple)) else [
            make_estimator]
        if len(factories) < 2:
            raise ModelError("A committee of model types needs at least two estimator factories.")
        plans = [(f, np.arange(len(y))) for f in factories]
    else:
        raise ModelError(f"Unknown committee mode '{mode}'; use 'bootstrap' or 'models'.")
    outs, failures = [], []
    for factory, rows in plans:
        est = factory()
        try:
            with warnings.catch_warnings():
                # Convergence and "label present in all examples" warnings of tiny resamples
                # say nothing the user can act on; the member is used as fitted.
                warnings.simplefilter("ignore")
                est.fit(X_train[rows], y[rows])
                outs.append(_aligned_proba(est, X_pool, classes, multilabel))
        except (ValueError, TypeError, np.linalg.LinAlgError) as exc:
            failures.append(f"{type(est).__name__}: {exc}")
    if len(outs) < 2:
        raise CommitteeError(
            f"only {len(outs)} of {len(plans)} committee members could be fitted on these "
            f"labels ({failures[0] if failures else 'no member'})"
        )
    return np.stack(outs)


def task_committee(
    fitted: FittedTask,
    X_train: Any,
    y_train: Sequence[Any],
    X_pool: Any,
    committee: Committee = Committee(),
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """The committee of one fitted task, (M, N, C) over X_pool, as ``committee`` asks.

    Bootstrap kind: ``committee.n_members`` copies of the task's own model (its resolved
    ``ModelInfo``, parameters included); models kind: one member of each of
    ``committee.model_types``. Labels ``y_train`` are class names, or lists of them for a
    multi-label task (one-vs-rest members on 0/1 targets). Raises CommitteeError when no
    committee can be fitted on these labels."""
    multilabel = bool(fitted.multilabel)
    y = label_matrix(y_train, fitted.classes) if multilabel else \
        np.asarray([str(v) for v in y_train], dtype=object)
    if committee.kind == "models":
        members = [model_info(name) for name in committee.model_types]
        with fit_threads(members[0], len(y)):
            return committee_outputs(
                [lambda m=m: _seeded(m.build(multilabel)) for m in members],
                X_train, y, X_pool, classes=fitted.classes, mode="models", rng=rng,
                multilabel=multilabel,
            )
    model = fitted.model
    with fit_threads(model, len(y)):
        return committee_outputs(
            lambda: model.build(multilabel),
            dense_if_needed(model, X_train), y, dense_if_needed(model, X_pool),
            classes=fitted.classes, n_members=committee.n_members, rng=rng,
            multilabel=multilabel, mode=committee.kind,
        )


def _seeded(est: Any) -> Any:
    """``est`` with any unset ``random_state`` (its own or a wrapped estimator's) set to 0, so
    the same labels give the same committee in every process."""
    get_params = getattr(est, "get_params", None)
    if get_params is not None:
        unset = {k: 0 for k, v in get_params().items()
                 if (k == "random_state" or k.endswith("__random_state")) and v is None}
        if unset:
            est.set_params(**unset)
    return est
