"""Where the model is known to be right or wrong: what error-prediction sampling learns from.

* Out-of-fold predictions on the labeled rows: each row is predicted by a copy of the model
  fitted on the other folds (K-fold, stratified when every class allows it), so a mistake
  there is one the model would make on an unseen sample.
* Audit picks: uniformly random picks whose prediction was recorded before the label; their
  recorded mistake replaces the out-of-fold one for the same row (it is the model's own).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from activelab.core.learning.fitting import Fitter, FittedTask, take_rows
from activelab.core.learning.labels import can_fit, label_matrix

#: Folds of the out-of-fold predictions (fewer when a class has fewer labels).
FOLDS = 5


def _splits(y: Sequence[Any], multilabel: bool, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold, StratifiedKFold

    n = len(y)
    if n < 4:
        return []
    if not multilabel:
        ys = np.asarray([str(v) for v in y], dtype=object)
        smallest = int(np.unique(ys, return_counts=True)[1].min())
        if smallest >= 2:
            k = min(folds, smallest)
            return list(StratifiedKFold(k, shuffle=True, random_state=seed).split(np.zeros(n), ys))
    return list(KFold(min(folds, n // 2), shuffle=True, random_state=seed).split(np.zeros(n)))


def out_of_fold(fitted: FittedTask, X_labeled: Any, y: Sequence[Any], seed: int = 0,
                folds: int = FOLDS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positions, wrong, proba): for each labeled row (position in ``y``) that a fold could
    predict, whether the fold's model erred (bool; multi-label: any class wrong at 0.5) and
    the (k, C) float32 probabilities it predicted. Empty arrays while there are too few
    labels. Raises ModelError when a fold's fit fails."""
    C = len(fitted.classes)
    fitter = Fitter(fitted.model)
    pos_all, wrong_all, proba_all = [], [], []
    ys = list(y)
    for tr, te in _splits(ys, fitted.multilabel, folds, seed):
        ytr = [ys[i] for i in tr]
        if not can_fit(ytr, fitted.multilabel):
            continue
        model = fitter.fit_task(take_rows(X_labeled, tr), ytr, fitted.classes, fitted.multilabel)
        p = model.predict_proba(take_rows(X_labeled, te))
        if fitted.multilabel:
            truth = label_matrix([ys[i] for i in te], fitted.classes).astype(bool)
            wrong = ((p >= 0.5) != truth).any(axis=1)
        else:
            pred = np.asarray(fitted.classes, dtype=object)[p.argmax(axis=1)]
            wrong = pred != np.asarray([str(ys[i]) for i in te], dtype=object)
        pos_all.append(te)
        wrong_all.append(wrong)
        proba_all.append(p)
    if not pos_all:
        return (np.empty(0, np.int64), np.empty(0, bool), np.empty((0, C), np.float32))
    return (np.concatenate(pos_all).astype(np.int64), np.concatenate(wrong_all).astype(bool),
            np.concatenate(proba_all).astype(np.float32))


def known_errors(fitted: FittedTask, X_pool: Any, rows: np.ndarray, y: Sequence[Any],
                 audits: tuple[np.ndarray, np.ndarray] | None = None, seed: int = 0
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """``TaskOutput.errors`` for one task: pool rows, wrong (bool), the probabilities each
    prediction came from. ``rows``/``y`` are the task's labeled pool rows and labels;
    ``audits`` (pool rows, wrong) the audit picks' recorded outcomes (rows among ``rows``
    take the out-of-fold probabilities). None for a shared multi-task network (its folds
    are fitted jointly; not done here). Raises ModelError when a fold cannot be fitted."""
    if fitted.task_key is not None:
        return None
    rows = np.asarray(rows, dtype=np.int64)
    pos, wrong, proba = out_of_fold(fitted, take_rows(X_pool, rows), y, seed)
    out_rows = rows[pos]
    if audits is not None and len(audits[0]):
        where = {int(r): i for i, r in enumerate(out_rows)}
        for r, w in zip(np.asarray(audits[0], np.int64), np.asarray(audits[1], bool)):
            if int(r) in where:
                wrong[where[int(r)]] = bool(w)
    return out_rows, wrong, proba

