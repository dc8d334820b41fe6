"""The leakage guard: a feature column that nearly determines a task's labels.

A column derived from the answer (a "label_id" next to "label", a score computed from the
labels, the class written in another language) makes a model look perfect and learn
nothing. For each task whose column holds labels and each tabular feature column, a
one-column model is cross-validated: for a categorical column (or a numeric one with few
values) the most frequent class of each value in the training folds, for a numeric column
the same on quantile bins. Cross-validation keeps an id-like column (a different value on
every row) from "winning": values never seen in training predict the most frequent class.
A column is reported when that model reaches ``THRESHOLD`` accuracy and clearly beats
predicting the most frequent class.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from activelab.core.data.values import id_str, label_str, multilabel_cell, numeric_column
from activelab.core.data.spec import TaskSpec

THRESHOLD = 0.95
MAX_ROWS = 5000
MIN_ROWS = 20
_BINS = 32


@dataclass(frozen=True)
class Leak:
    """A feature column that nearly determines a task's labels."""

    column: str
    task: str
    accuracy: float      # cross-validated accuracy of the one-column model
    majority: float      # accuracy of always predicting the most frequent class
    n_rows: int          # labeled rows the check used
    folds: int

    def message(self) -> str:
        return (
            f"warning: feature column '{self.column}' nearly determines the labels of task "
            f"'{self.task}': a model on that column alone is {self.accuracy:.0%} accurate "
            f"({self.folds}-fold cross-validation on {self.n_rows} labeled rows; always "
            f"predicting the most frequent class: {self.majority:.0%}). If the column is "
            "derived from the labels, the model would see the answer: leave it out of the "
            "features (--feature-columns, or untick it in the wizard)."
        )


def _task_labels(column: pd.Series, task: TaskSpec) -> list[str | None]:
    if task.multilabel:
        out = []
        for v in column.tolist():
            labels = multilabel_cell(v, task.separator)
            out.append(None if labels is None else "\x1f".join(sorted(set(labels))))
        return out
    return [label_str(v) for v in column.tolist()]


def _codes(col: pd.Series, decimal: str) -> tuple[np.ndarray, np.ndarray | None]:
    """(category codes, numeric values to bin or None). Missing values get their own code."""
    num = numeric_column(col, decimal)
    if num is not None:
        values = num.values
        finite = values[~np.isnan(values)]
        if len(np.unique(finite)) > _BINS:
            return np.zeros(len(values), dtype=np.int64), values
        codes, _ = pd.factorize(pd.Series(values), use_na_sentinel=False)
        return np.asarray(codes, dtype=np.int64), None
    text = [id_str(v) for v in col.tolist()]
    codes, _ = pd.factorize(pd.Series(text, dtype=object), use_na_sentinel=False)
    return np.asarray(codes, dtype=np.int64), None


def _binned(values: np.ndarray, train: np.ndarray) -> np.ndarray:
    edges = np.unique(np.nanquantile(values[train], np.linspace(0, 1, _BINS + 1)[1:-1]))
    codes = np.searchsorted(edges, values, side="right").astype(np.int64)
    codes[np.isnan(values)] = len(edges) + 1
    return codes


def _lookup_accuracy(codes: np.ndarray, y: np.ndarray, n_classes: int,
                     train: np.ndarray, test: np.ndarray) -> int:
    """Correct test predictions of "most frequent class per value in the training rows"."""
    n_codes = int(codes.max()) + 1
    counts = np.zeros((n_codes, n_classes), dtype=np.int64)
    np.add.at(counts, (codes[train], y[train]), 1)
    fallback = int(np.bincount(y[train], minlength=n_classes).argmax())
    pred = counts.argmax(axis=1)
    pred[counts.sum(axis=1) == 0] = fallback
    return int((pred[codes[test]] == y[test]).sum())


def _without_rare_classes(rows: np.ndarray, labels: list[str | None]) -> np.ndarray:
    """``rows`` without those whose class has fewer than 2 of them (they cannot be split
    between training and test folds)."""
    _, inverse, counts = np.unique(np.array([labels[i] for i in rows], dtype=object),
                                   return_inverse=True, return_counts=True)
    return rows[counts[inverse] >= 2]


def find_leaks(frame: pd.DataFrame, feature_columns: Sequence[str], tasks: Sequence[TaskSpec],
               decimal: str = ".", *, threshold: float = THRESHOLD, max_rows: int = MAX_ROWS,
               seed: int = 0) -> list[Leak]:
    """Each (feature column, task) pair where the column alone predicts the task's labels.

    Only rows with a label in the task's column count. Classes with a single row cannot be
    cross-validated, so their rows are left out of the check (the other classes are still
    checked); a task with fewer than ``MIN_ROWS`` rows or fewer than 2 classes left is not
    checked. At most ``max_rows`` rows
    (a seeded random subset) are used, so the check stays fast on large tables.
    """
    from sklearn.model_selection import StratifiedKFold

    leaks: list[Leak] = []
    features = [c for c in feature_columns if c in frame.columns]
    if not features:
        return leaks
    rng = np.random.default_rng(seed)
    for task in tasks:
        if not task.column or task.column not in frame.columns:
            continue
        labels = _task_labels(frame[task.column], task)
        rows = np.array([i for i, v in enumerate(labels) if v is not None], dtype=np.int64)
        if len(rows) > max_rows:
            rows = np.sort(rng.choice(rows, size=max_rows, replace=False))
        rows = _without_rare_classes(rows, labels)
        if len(rows) < MIN_ROWS:
            continue
        classes, y = np.unique(np.array([labels[i] for i in rows], dtype=object), return_inverse=True)
        counts = np.bincount(y)
        folds = int(min(5, counts.min()))
        if len(classes) < 2 or folds < 2:
            continue
        majority = float(counts.max() / len(y))
        splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(rows, y))
        sub = frame.iloc[rows]
        for column in features:
            if column == task.column:
                continue
            codes, values = _codes(sub[column], decimal)
            correct = 0
            for train, test in splits:
                c = _binned(values, train) if values is not None else codes
                correct += _lookup_accuracy(c, y, len(classes), train, test)
            accuracy = correct / len(y)
            if accuracy >= threshold and accuracy - majority >= max(0.05, (1 - majority) / 2):
                leaks.append(Leak(column, task.name, accuracy, majority, len(y), folds))
    return leaks
