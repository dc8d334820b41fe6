"""What a simulation measures while it runs: the evaluation split, scores, stop-set predictions.

``simulate`` fits the models; this module decides what each repeat is evaluated on (a seeded
stratified split of the data, or a fixed test set given by the user) and records, for every
fitted model, its accuracy and macro-F1 on the evaluation rows and its predictions on the
repeat's stop set (a seeded sample of the training pool, see
``activelab.core.loop.stopping``). The full-data model and the majority-class baseline are
recorded per repeat, in both metrics, so every figure of the report can be recomputed from the
per-repeat file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from activelab.core.loop.stopping import SPAN, STOP_SET_SIZE, agreement, span_kappa, stop_set

KAPPA_COLUMNS = ["strategy", "repeat", "n_labels", "kappa"]


def as_rows(X: Any) -> Any:
    """Row-indexable view of X: CSR for sparse input, an ndarray otherwise."""
    if sp.issparse(X):
        return X.tocsr()
    return np.asarray(X)


def stratified_split(y: np.ndarray, test_size: float, seed: int,
                     notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train/test split of row indices; plain random when a class is too rare
    (said once in ``notes``). Both sorted, int."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    _, counts = np.unique(y, return_counts=True)
    stratify = y if counts.min() >= 2 else None
    if stratify is None and "unstratified" not in " ".join(notes):
        notes.append(
            "A class has a single sample, so the train/test split is random (unstratified)."
        )
    train, test = train_test_split(idx, test_size=test_size, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(test)


def scores_of(pred: np.ndarray, truth: np.ndarray, k: int) -> tuple[float, float]:
    """Accuracy and macro-F1 of class positions ``pred`` against ``truth`` (both (n,) ints in
    0..k-1). Macro-F1 averages over the classes present in the truth or the predictions (like
    scikit-learn's ``labels=None``); a class never predicted scores 0."""
    acc = float(np.mean(pred == truth)) if len(truth) else float("nan")
    tp = np.bincount(truth[pred == truth], minlength=k).astype(np.float64)
    n_pred = np.bincount(pred, minlength=k)
    n_true = np.bincount(truth, minlength=k)
    denom = n_pred + n_true
    f1 = np.divide(2.0 * tp, denom, out=np.zeros(k), where=denom > 0)
    present = denom > 0
    return acc, float(f1[present].mean()) if present.any() else float("nan")


def class_positions(values: np.ndarray, classes: tuple[str, ...]) -> np.ndarray:
    """Positions of label strings in the sorted ``classes`` (every value must be one)."""
    return np.searchsorted(np.asarray(classes, dtype=object), values)


def model_scores(fitted: Any, X_test: Any, y_test: np.ndarray,
                 classes: tuple[str, ...]) -> tuple[float, float]:
    """Accuracy and macro-F1 of a fitted model (``predict_proba`` aligned to ``classes``)."""
    pred = np.argmax(fitted.predict_proba(X_test), axis=1)
    return scores_of(pred, class_positions(y_test, classes), len(classes))


def majority_scores(y_train: np.ndarray, y_test: np.ndarray,
                    classes: tuple[str, ...]) -> tuple[float, float]:
    """Accuracy and macro-F1 of a constant model predicting the training pool's most frequent
    class (ties: the first in sorted order) for every evaluation row."""
    values, counts = np.unique(y_train, return_counts=True)
    top = values[np.argmax(counts)]
    k = len(classes)
    pred = np.full(len(y_test), classes.index(top), dtype=np.int64)
    return scores_of(pred, class_positions(y_test, classes), k)


@dataclass
class RepeatData:
    """What one repeat trains and evaluates on. ``X_train`` rows are the pool the strategies
    pick from; ``X_test`` the evaluation rows (a split of the data, or the fixed test set)."""

    X_train: Any
    y_train: np.ndarray
    dense_train: np.ndarray | None
    X_test: Any
    y_test: np.ndarray
    stop_rows: np.ndarray
    X_stop: Any


def repeat_data(X: Any, y: np.ndarray, X_dense: np.ndarray | None, r: int, seed: int,
                test_size: float, notes: list[str], test: tuple[Any, np.ndarray] | None = None,
                stop_set_size: int = STOP_SET_SIZE) -> RepeatData:
    """The pool and evaluation rows of repeat ``r``: a stratified split seeded with seed + r,
    or (``test`` given) every row of X as the pool and the fixed test set. The stop set is
    a sample of the pool seeded with seed + r."""
    if test is None:
        train, held = stratified_split(y, test_size, seed + r, notes)
        X_train, X_test, y_train, y_test = X[train], X[held], y[train], y[held]
        dense_train = None if X_dense is None else np.asarray(X_dense[train])
    else:
        X_train, y_train = X, y
        X_test, y_test = test
        dense_train = None if X_dense is None else np.asarray(X_dense)
    rows = stop_set(len(y_train), seed + r, stop_set_size)
    return RepeatData(X_train, y_train, dense_train, X_test, y_test, rows, X_train[rows])


@dataclass
class Recorder:
    """Collects the curve rows, each model's stop-set predictions and the per-repeat references.

    curve_rows:   (strategy, repeat, n_labels, accuracy, macro_f1) per fitted model.
    kappa_rows:   (strategy, repeat, n_labels, kappa): Cohen's kappa between this model's and
                  the last compared model's predictions on the stop set, that model being at
                  least ``span`` labels earlier (rounds closer than that are not compared and
                  get no row; see ``activelab.core.loop.stopping.thinned``), scaled to
                  ``span`` labels (``span_kappa``). NaN for the first round, or when
                  undefined (``activelab.core.loop.stopping.agreement``).
    full:         repeat -> (accuracy, macro_f1) of the model fitted on the whole pool.
    majority:     repeat -> (accuracy, macro_f1) of the majority-class constant model.
    """

    classes: tuple[str, ...]
    curve_rows: list[tuple[str, int, int, float, float]] = field(default_factory=list)
    kappa_rows: list[tuple[str, int, int, float]] = field(default_factory=list)
    span: int = SPAN
    _last_stop: dict[tuple[str, int], tuple[int, np.ndarray]] = field(default_factory=dict,
                                                                      repr=False)
    full: dict[int, tuple[float, float]] = field(default_factory=dict)
    majority: dict[int, tuple[float, float]] = field(default_factory=dict)

    def full_model(self, r: int, fitted: Any, data: RepeatData) -> None:
        """Record the full-pool model and the majority baseline of repeat ``r``."""
        self.full[r] = model_scores(fitted, data.X_test, data.y_test, self.classes)
        self.majority[r] = majority_scores(data.y_train, data.y_test, self.classes)

    def round(self, strategy: str, r: int, n_labels: int, fitted: Any, data: RepeatData) -> None:
        """Record one fitted model of a strategy's run: its scores and stop-set predictions."""
        acc, f1 = model_scores(fitted, data.X_test, data.y_test, self.classes)
        self.curve_rows.append((strategy, r, int(n_labels), acc, f1))
        pred = np.argmax(fitted.predict_proba(data.X_stop), axis=1).astype(np.int32)
        prev = self._last_stop.get((strategy, r))
        if prev is not None and int(n_labels) - prev[0] < self.span:
            return
        kappa = float("nan") if prev is None else span_kappa(
            agreement(prev[1], pred), int(n_labels) - prev[0], self.span)
        self.kappa_rows.append((strategy, r, int(n_labels), kappa))
        self._last_stop[(strategy, r)] = (int(n_labels), pred)

    @property
    def full_accuracy(self) -> dict[int, float]:
        return {r: v[0] for r, v in self.full.items()}
