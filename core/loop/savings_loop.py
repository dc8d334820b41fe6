"""What active learning saved, measured during a retrain: ``activelab.core.loop.savings``'s
estimates over the project's own model (its ``Fitter``), stored in the new curve point.

Every retrain refits the model ``FOLDS`` times without a fold of the audit picks (the current
model's estimate). The random-only and matched models depend only on the audit picks and the
strategy's first picks, so within one process (the app's training process, or its worker
thread) they are refitted only when an audit pick was added: a content key (model, parameters,
rows, labels, a digest of their features) finds the earlier ones.
"""
from __future__ import annotations

import hashlib
import warnings
from typing import Any, Sequence

import numpy as np

from activelab.core.loop.savings import SAVINGS_KEY, estimate

__all__ = ["attach_savings"]


def attach_savings(per_task: dict[str, dict[str, Any]], model: Any, X: Any, spec: Any,
                   labeled: dict[str, tuple[np.ndarray, list[Any]]],
                   audit_rows: dict[str, Sequence[int]], seed: int = 0) -> None:
    """Add each fitted task's savings record (``estimate``) to a curve point's ``per_task``
    entries (key ``SAVINGS_KEY``). ``model``: the resolved ``ModelInfo`` the loop trains;
    ``X``: its input for the whole pool; ``labeled``: task -> (pool positions in label order,
    values); ``audit_rows``: task -> pool positions labeled on audit picks. Costs about
    ``FOLDS`` x (1 + len(CURVE_FRACTIONS) + 1) fits per task once there are ``MIN_AUDIT`` picks
    (the random-only ones on the few audit labels); torch models skip the random-only curve
    (``FOLDS`` x 3 fits)."""
    from activelab.core.errors import ModelError
    from activelab.core.learning.fitting import Fitter, take_rows

    fitter = Fitter(model)
    for task in spec.tasks:
        if task.name not in per_task or task.name not in labeled:
            continue
        idx, values = labeled[task.name]
        audit = {int(i) for i in audit_rows.get(task.name, ())}
        mask = np.fromiter((int(i) in audit for i in idx), dtype=bool, count=len(idx))

        def fit_predict(train: np.ndarray, test: np.ndarray, task=task, idx=idx,
                        values=values) -> list[Any]:
            try:
                with warnings.catch_warnings():
                    # A few random labels often hold a multi-label class everywhere or nowhere.
                    warnings.filterwarnings("ignore", "Label .* is present in all training",
                                            UserWarning)
                    fitted = fitter.fit(X, {task.name: (idx[train], [values[i] for i in train])},
                                        [task])[task.name]
            except ModelError as exc:
                raise ValueError(str(exc)) from exc
            p = fitted.predict_proba(take_rows(X, idx[test]))
            classes = np.asarray(task.classes, dtype=object)
            if task.multilabel:
                return [list(classes[row >= 0.5]) for row in p]
            return list(classes[p.argmax(axis=1)])

        per_task[task.name][SAVINGS_KEY] = estimate(
            fit_predict, values, mask, seed=seed, curve=not model.is_torch,
            memo_key=_memo_key(model, X, task.name, idx, values, mask, seed))


def _memo_key(model: Any, X: Any, task: str, idx: np.ndarray, values: Sequence[Any],
              mask: np.ndarray, seed: int) -> Any:
    """What the random-only and matched models of ``estimate`` depend on: the model and its
    parameters, the audit picks and the strategy's first picks (rows, labels and a digest of
    their features), the seed. None when the features cannot be digested."""
    from activelab.core.learning.fitting import take_rows

    audit, active = np.flatnonzero(mask), np.flatnonzero(~mask)
    used = np.concatenate([audit, active[:len(audit)]])
    digest = _digest(take_rows(X, idx[used]))
    if digest is None:
        return None
    return (model.name, repr(sorted((str(k), repr(v)) for k, v in model.params.items())), task,
            seed, tuple(int(i) for i in idx[used]), tuple(repr(values[i]) for i in used),
            int(len(audit)), digest)


def _digest(x: Any) -> str | None:
    """A content digest of feature rows (dense, sparse or a dict of them); None otherwise."""
    h = hashlib.blake2b(digest_size=16)
    parts = [x] if not isinstance(x, dict) else [x[k] for k in sorted(x)]
    for part in parts:
        if hasattr(part, "indptr"):           # scipy sparse (CSR/CSC)
            arrays = (part.data, part.indices, part.indptr)
        elif isinstance(part, np.ndarray):
            arrays = (part,)
        else:
            return None
        for a in arrays:
            h.update(str(a.dtype).encode() + str(a.shape).encode())
            h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()
