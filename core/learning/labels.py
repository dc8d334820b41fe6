"""Labels as a model's targets, and a model's predictions as labels.

A single-label value is a class name; a multi-label value is a list of class names (the empty
list: no class applies), turned into a 0/1 row over the task's classes.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from activelab.core.data.spec import TaskSpec


def label_matrix(values: Sequence[Any], classes: Sequence[str]) -> np.ndarray:
    """Multi-label values (lists of class names) as a binary (n, C) matrix."""
    pos = {c: i for i, c in enumerate(classes)}
    Y = np.zeros((len(values), len(classes)), dtype=np.int64)
    for r, v in enumerate(values):
        for c in (v if isinstance(v, (list, tuple)) else [v]):
            if c in pos:
                Y[r, pos[c]] = 1
    return Y


def can_fit(y: Sequence[Any], multilabel: bool) -> bool:
    """A task can be modelled once two different classes (or label sets) are labeled."""
    if multilabel:
        return len(y) >= 2 and len({tuple(sorted(v)) for v in y}) >= 2
    return len(set(y)) >= 2


def shared_targets(rows: np.ndarray,
                   labeled: Mapping[str, tuple[np.ndarray, Sequence[Any]]],
                   tasks: Sequence[TaskSpec]
                   ) -> dict[str, np.ndarray]:
    """task -> targets over ``rows`` for a shared multi-task model: labels (None where
    unlabeled) for single-label tasks, an (n, C) float matrix with NaN rows where unlabeled
    for multi-label tasks."""
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


def score_predictions(truth: Sequence[Any], pred: Sequence[Any], multilabel: bool
                      ) -> tuple[float | None, float | None]:
    """Accuracy (subset accuracy for multi-label) and macro-F1; None when there is nothing."""
    from sklearn.metrics import accuracy_score, f1_score

    if len(truth) == 0:
        return None, None
    if multilabel:
        T, P = np.asarray(truth), np.asarray(pred)
        return float(accuracy_score(T, P)), float(f1_score(T, P, average="macro", zero_division=0))
    return (
        float(accuracy_score(truth, pred)),
        float(f1_score(truth, pred, average="macro", zero_division=0)),
    )


def prediction_summary(p: np.ndarray, classes: Sequence[str], multilabel: bool) -> tuple[np.ndarray, np.ndarray]:
    """Predicted label (object array; lists for multi-label) and confidence per row."""
    classes_arr = np.asarray(classes, dtype=object)
    if multilabel:
        labels = np.empty(p.shape[0], dtype=object)
        on = p >= 0.5
        for i in range(p.shape[0]):
            labels[i] = [str(c) for c in classes_arr[on[i]]]
        conf = np.maximum(p, 1 - p).mean(axis=1) if p.shape[1] else np.ones(p.shape[0])
        return labels, conf.astype(np.float32)
    return classes_arr[p.argmax(axis=1)], p.max(axis=1).astype(np.float32)
