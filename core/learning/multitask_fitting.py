"""Training one shared multi-task model (a head per task) on samples labeled for some tasks.

The per-task views it returns are ``FittedTask`` objects sharing the one estimator, so every
strategy, the queue and the GUI treat them exactly like one model per task.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from activelab.core.errors import ModelError
from activelab.core.learning.models import make_model
from activelab.core.data.spec import TaskSpec
from activelab.core.learning.fitting import FittedTask, _rows, accepts_init_from, can_fit, score_predictions


def task_params(params: Mapping[str, Any] | None, tasks: Sequence[TaskSpec]) -> dict[str, Any]:
    """Model parameters with the task definitions a multi-task model is built with."""
    out = dict(params or {})
    out["tasks"] = {t.name: (list(t.classes), t.multilabel) for t in tasks}
    return out


def multitask_targets(
    rows: np.ndarray, labeled: Mapping[str, tuple[np.ndarray, list[Any]]], tasks: Sequence[TaskSpec]
) -> dict[str, np.ndarray]:
    """task -> targets over ``rows``: labels (None where unlabeled) for single-label tasks, an
    (n, C) float matrix with NaN rows where unlabeled for multi-label tasks."""
    pos = {int(r): i for i, r in enumerate(rows)}
    out: dict[str, np.ndarray] = {}
    for t in tasks:
        idx, values = labeled.get(t.name, (np.empty(0, np.int64), []))
        if t.multilabel:
            cls = {c: j for j, c in enumerate(t.classes)}
            m = np.full((len(rows), len(t.classes)), np.nan, dtype=np.float32)
            for r, v in zip(idx, values):
                m[pos[int(r)]] = 0.0
                for c in v:
                    if c in cls:
                        m[pos[int(r)], cls[c]] = 1.0
            out[t.name] = m
        else:
            a = np.full(len(rows), None, dtype=object)
            for r, v in zip(idx, values):
                a[pos[int(r)]] = str(v)
            out[t.name] = a
    return out


def fit_multitask_model(
    model_name: str,
    params: Mapping[str, Any] | None,
    X: Any,
    labeled: Mapping[str, tuple[np.ndarray, list[Any]]],
    tasks: Sequence[TaskSpec],
    previous: Any = None,
    X_unlabeled: Any = None,
) -> dict[str, FittedTask]:
    """Fit one model on every row labeled for any task; one view per task that can be scored."""
    rows = np.unique(np.concatenate([labeled[t.name][0] for t in tasks if t.name in labeled]))
    est = make_model(model_name, task_params(params, tasks))
    kwargs: dict[str, Any] = {}
    if previous is not None and accepts_init_from(est):
        kwargs["init_from"] = previous
    if X_unlabeled is not None:
        kwargs["X_unlabeled"] = X_unlabeled
    try:
        est.fit(_rows(X, rows), multitask_targets(rows, labeled, tasks), **kwargs)
    except (ValueError, TypeError, RuntimeError) as exc:
        raise ModelError(f"Model '{model_name}' could not be fitted: {exc}") from exc
    memo: dict = {}
    return {
        t.name: FittedTask(est, tuple(t.classes), t.multilabel, model_name, task_key=t.name, memo=memo)
        for t in tasks
        if t.name in labeled and can_fit(labeled[t.name][1], t.multilabel)
    }


def multitask_cv_metrics(
    model_name: str,
    params: Mapping[str, Any] | None,
    X: Any,
    labeled: Mapping[str, tuple[np.ndarray, list[Any]]],
    tasks: Sequence[TaskSpec],
    folds: int = 3,
    seed: int = 0,
) -> dict[str, tuple[float | None, float | None]]:
    """Per-task K-fold estimates for a shared model: fit on K-1 folds of the labeled rows,
    score each task on the held-out rows that carry its label."""
    from sklearn.model_selection import KFold

    rows = np.unique(np.concatenate([labeled[t.name][0] for t in tasks if t.name in labeled]))
    result: dict[str, tuple[float | None, float | None]] = {t.name: (None, None) for t in tasks}
    if len(rows) < 2 * folds:
        return result
    truth: dict[str, list[Any]] = {t.name: [] for t in tasks}
    pred: dict[str, list[Any]] = {t.name: [] for t in tasks}
    for tr, te in KFold(folds, shuffle=True, random_state=seed).split(rows):
        train_rows, test_rows = set(rows[tr].tolist()), rows[te]
        sub = {}
        for t in tasks:
            if t.name not in labeled:
                continue
            idx, values = labeled[t.name]
            keep = [i for i, r in enumerate(idx) if int(r) in train_rows]
            if keep:
                sub[t.name] = (idx[keep], [values[i] for i in keep])
        if not any(can_fit(v, t.multilabel) for t in tasks for k, (_, v) in sub.items() if k == t.name):
            continue
        views = fit_multitask_model(model_name, params, X, sub, tasks)
        test_set = {int(r) for r in test_rows}
        for t in tasks:
            if t.name not in views or t.name not in labeled:
                continue
            idx, values = labeled[t.name]
            held = [i for i, r in enumerate(idx) if int(r) in test_set]
            if not held:
                continue
            p = views[t.name].predict_proba(_rows(X, idx[held]))
            if t.multilabel:
                from activelab.core.learning.fitting import label_matrix

                pred[t.name].extend((p >= 0.5).astype(int))
                truth[t.name].extend(label_matrix([values[i] for i in held], t.classes))
            else:
                pred[t.name].extend(np.asarray(t.classes, dtype=object)[p.argmax(axis=1)])
                truth[t.name].extend(str(values[i]) for i in held)
    for t in tasks:
        result[t.name] = score_predictions(truth[t.name], pred[t.name], t.multilabel)
    return result
