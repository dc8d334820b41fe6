"""One fitter for every kind of model: fit, K-fold cross-validation and pool predictions.

``Fitter(model)`` takes a resolved ``ModelInfo`` and the labeled rows per task. A model with
one estimator per task fits each task on that task's own labeled rows; a shared multi-task
network (``model.shared_multitask``) fits once on every row labeled for any task, a head per
task. Either way the result is one ``FittedTask`` per task that could be fitted, and the
cross-validated accuracy is estimated the same way: folds are planned (per task, stratified
when the labels allow; or over the shared rows), each fold is fitted by the same ``fit`` and
each task is scored on its held-out rows. Used by the labeling loop, the simulator and the
benchmarks, so they train and score the same way. Every fit works on a fresh estimator.
"""
from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from activelab.core.data.spec import TaskSpec
from activelab.core.errors import ModelError
from activelab.core.learning.fitted import (
    FittedTask, can_fit, dense_if_needed, label_matrix, take_rows,
)
from activelab.core.learning.models import ModelInfo
from activelab.core.progress import NULL_PROGRESS, Progress

#: Fits on at most this many labeled rows run with one BLAS and one OpenMP thread: they are
#: latency bound, and on a busy 2-core machine threaded BLAS made a 50-row logistic regression
#: 13x slower (3.7 s instead of 0.28 s, Fashion-MNIST pixels) and OpenMP threads a 12-row
#: histogram gradient boosting fit 6.6x slower (3.0 s instead of 0.46 s, the few-labels
#: committee case). Torch models manage their own threads.
SMALL_FIT_ROWS = 20000
#: Labeled rows per task: task -> (pool rows, labels); a multi-label label is a list.
Labeled = Mapping[str, tuple[np.ndarray, Sequence[Any]]]
#: One cross-validation fold: the labeled rows it trains on and those it is scored on.
Fold = tuple[dict[str, tuple[np.ndarray, list[Any]]], dict[str, tuple[np.ndarray, list[Any]]]]


def fit_threads(model: ModelInfo, n_rows: int) -> Any:
    """A context that limits BLAS and OpenMP threads for small fits of scikit-learn models."""
    if n_rows > SMALL_FIT_ROWS or model.is_torch:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


@dataclass
class FitResult:
    """A retrain's models and what was measured on them.

    fitted:      task -> FittedTask, for every task that could be fitted.
    per_task:    task -> {"cv_accuracy", "cv_macro_f1", "n_labels"} (None: too few labels).
    proba:       task -> (N, C) float32 pool probabilities.
    embeddings:  (N, e) float32 pool embeddings when the model has them.
    fit_seconds: wall time of the fit (cross-validation not included).
    """

    fitted: dict[str, FittedTask]
    per_task: dict[str, dict[str, float | None]]
    proba: dict[str, np.ndarray]
    embeddings: np.ndarray | None
    fit_seconds: float


class Fitter:
    """Fit, cross-validate and predict with one resolved model (see the module doc)."""

    def __init__(self, model: ModelInfo) -> None:
        self.model = model

    # -- the whole retrain ----------------------------------------------------------------
    def retrain(self, X: Any, labeled: Labeled, tasks: Sequence[TaskSpec], *, seed: int = 0,
                previous: Mapping[str, FittedTask] | None = None, X_unlabeled: Any = None,
                progress: Progress = NULL_PROGRESS) -> FitResult:
        """Fit on the labeled rows of ``tasks``, estimate each task's accuracy by K-fold
        cross-validation (``model.cv_folds``), and predict the whole pool ``X``."""
        t0 = time.perf_counter()
        fitted = self.fit(X, labeled, tasks, previous, X_unlabeled, progress.sub(0.0, 0.4))
        fit_seconds = time.perf_counter() - t0
        cv = self.cross_validate(X, labeled, tasks, seed, progress.sub(0.4, 0.8))
        per_task = {t.name: {"cv_accuracy": cv[t.name][0], "cv_macro_f1": cv[t.name][1],
                             "n_labels": float(len(labeled[t.name][0]))} for t in tasks}
        progress.update(0.8, "scoring the pool")
        proba, embeddings = self.predict(fitted, X)
        return FitResult(fitted, per_task, proba, embeddings, fit_seconds)

    # -- fitting --------------------------------------------------------------------------
    def fit(self, X: Any, labeled: Labeled, tasks: Sequence[TaskSpec],
            previous: Mapping[str, FittedTask] | None = None, X_unlabeled: Any = None,
            progress: Progress = NULL_PROGRESS) -> dict[str, FittedTask]:
        """One FittedTask per task of ``tasks`` whose labeled rows (in ``labeled``) hold two
        classes. ``previous`` (task -> the fitted model in use) lets a model that supports
        it warm-start; ``X_unlabeled`` (pool rows) feeds a shared model's unlabeled losses.
        Raises ModelError when no task can be fitted or the model fails to fit."""
        fittable = [t for t in tasks if t.name in labeled
                    and can_fit(labeled[t.name][1], t.multilabel)]
        if not fittable:
            raise ModelError(
                "A model needs at least two different classes labeled; so far no task has "
                "two (label a sample of another class).")
        previous = {t: f for t, f in (previous or {}).items() if f.model.name == self.model.name}
        if self.model.shared_multitask:
            n = len(np.unique(np.concatenate([labeled[t.name][0] for t in tasks
                                              if t.name in labeled])))
            progress.update(0.0, f"training {self.model.name} on {n} samples")
            prev = next((f.estimator for f in previous.values()), None)
            return self._fit_shared(X, labeled, tasks, fittable, prev, X_unlabeled)
        fitted = {}
        for i, t in enumerate(fittable):
            idx, values = labeled[t.name]
            progress.update(i / len(fittable), f"training '{t.name}' on {len(idx)} labels")
            fitted[t.name] = self.fit_task(take_rows(X, idx), values, t.classes, t.multilabel,
                                           previous.get(t.name))
        return fitted

    def fit_task(self, X: Any, y: Sequence[Any], classes: Sequence[str], multilabel: bool = False,
                 previous: FittedTask | None = None) -> FittedTask:
        """Fit one task's own estimator on rows X (n, ...) and labels y (n,). ``previous``
        with the same classes is warm-started from when the model supports it. Raises
        ModelError when fewer than two classes are labeled or the fit fails."""
        classes = tuple(str(c) for c in classes)
        if not can_fit(y, multilabel):
            raise ModelError(
                "A model needs at least two different classes labeled; so far only "
                f"{sorted({str(v) for v in y}) if not multilabel else 'one label set'} is labeled."
            )
        est = self.model.build(multilabel)
        target: Any = label_matrix(y, classes) if multilabel else \
            np.asarray([str(v) for v in y], dtype=object)
        kwargs: dict[str, Any] = {}
        if previous is not None and previous.classes == classes and self.model.supports_warm_start:
            kwargs["init_from"] = previous.estimator
        self._fit(est, dense_if_needed(self.model, X), target, len(y), kwargs)
        return FittedTask(est, classes, multilabel, self.model)

    def _fit_shared(self, X: Any, labeled: Labeled, tasks: Sequence[TaskSpec],
                    fittable: Sequence[TaskSpec], previous: Any, X_unlabeled: Any
                    ) -> dict[str, FittedTask]:
        """One network with a head per task of ``tasks``, fitted on every row labeled for any
        of them; views for the ``fittable`` tasks."""
        rows = np.unique(np.concatenate([labeled[t.name][0] for t in tasks if t.name in labeled]))
        est = self.model.build(tasks={t.name: (list(t.classes), t.multilabel) for t in tasks})
        kwargs: dict[str, Any] = {}
        if previous is not None and self.model.supports_warm_start:
            kwargs["init_from"] = previous
        if X_unlabeled is not None:
            kwargs["X_unlabeled"] = X_unlabeled
        self._fit(est, take_rows(X, rows), shared_targets(rows, labeled, tasks), len(rows),
                  kwargs)
        memo: dict = {}
        return {t.name: FittedTask(est, tuple(t.classes), t.multilabel, self.model,
                                   task_key=t.name, memo=memo) for t in fittable}

    def _fit(self, est: Any, X: Any, target: Any, n: int, kwargs: dict[str, Any]) -> None:
        try:
            with fit_threads(self.model, n):
                est.fit(X, target, **kwargs)
        except (ValueError, TypeError, RuntimeError, np.linalg.LinAlgError) as exc:
            raise ModelError(f"Model '{self.model.name}' could not be fitted: {exc}") from exc

    # -- cross-validation -----------------------------------------------------------------
    def cross_validate(self, X: Any, labeled: Labeled, tasks: Sequence[TaskSpec], seed: int = 0,
                       progress: Progress = NULL_PROGRESS
                       ) -> dict[str, tuple[float | None, float | None]]:
        """Per task: (accuracy, macro-F1) of predictions on held-out labeled rows, each fold
        fitted by ``fit`` on the rest; (None, None) while there are too few labels. Single-
        label accuracy; subset accuracy for multi-label tasks."""
        truth: dict[str, list[Any]] = {t.name: [] for t in tasks}
        pred: dict[str, list[Any]] = {t.name: [] for t in tasks}
        if self.model.shared_multitask:
            plans = [("", fold) for fold in self._shared_folds(labeled, tasks, seed)]
        else:
            plans = [(f" '{t.name}'", fold) for t in tasks
                     for fold in self._task_folds(labeled, t, seed)]
        for i, (which, (train, test)) in enumerate(plans):
            progress.update(i / len(plans), f"cross-validating{which}")
            views = self.fit(X, train, tasks)
            for t in tasks:
                if t.name not in views or t.name not in test:
                    continue
                idx, values = test[t.name]
                p = views[t.name].predict_proba(take_rows(X, idx))
                if t.multilabel:
                    pred[t.name].extend((p >= 0.5).astype(int))
                    truth[t.name].extend(label_matrix(values, t.classes))
                else:
                    pred[t.name].extend(np.asarray(t.classes, dtype=object)[p.argmax(axis=1)])
                    truth[t.name].extend(str(v) for v in values)
        return {t.name: score_predictions(truth[t.name], pred[t.name], t.multilabel)
                for t in tasks}

    def _task_folds(self, labeled: Labeled, task: TaskSpec, seed: int) -> list[Fold]:
        """Folds over one task's labeled rows: stratified when every class has two examples
        for each fold, else plain K-fold; none while the estimate would mean nothing (fewer
        than 4 labels, or one example of most classes: held-out folds would test classes the
        fold never saw). A fold whose training part has one class is left out."""
        from sklearn.model_selection import KFold, StratifiedKFold

        if task.name not in labeled:
            return []
        idx, values = labeled[task.name]
        y = list(values)
        n, max_folds, ml = len(y), self.model.cv_folds, task.multilabel
        if n < 4 or not can_fit(y, ml):
            return []
        if ml:
            splits = KFold(min(max_folds, n // 2), shuffle=True, random_state=seed).split(
                np.zeros(n))
        else:
            ys = np.asarray([str(v) for v in y], dtype=object)
            counts = np.unique(ys, return_counts=True)[1]
            if np.median(counts) < 2:
                return []
            folds = min(max_folds, int(counts.min()))
            splits = (StratifiedKFold(folds, shuffle=True, random_state=seed).split(
                np.zeros(n), ys) if folds >= 2 else
                KFold(min(max_folds, n // 2), shuffle=True, random_state=seed).split(np.zeros(n)))
        out = []
        for tr, te in splits:
            ytr = [y[i] for i in tr]
            if can_fit(ytr, ml):
                out.append(({task.name: (idx[tr], ytr)},
                            {task.name: (idx[te], [y[i] for i in te])}))
        return out

    def _shared_folds(self, labeled: Labeled, tasks: Sequence[TaskSpec], seed: int) -> list[Fold]:
        """K folds over every row labeled for any task (a shared model fits them at once);
        none while there are fewer than 2 K rows. A fold where no task has two classes to
        train on is left out."""
        from sklearn.model_selection import KFold

        folds = self.model.cv_folds
        rows = np.unique(np.concatenate([labeled[t.name][0] for t in tasks if t.name in labeled]))
        if len(rows) < 2 * folds:
            return []
        out = []
        for tr, te in KFold(folds, shuffle=True, random_state=seed).split(rows):
            train = _restrict(labeled, tasks, set(rows[tr].tolist()))
            if any(can_fit(train[t.name][1], t.multilabel) for t in tasks if t.name in train):
                out.append((train, _restrict(labeled, tasks, set(rows[te].tolist()))))
        return out

    # -- predictions ----------------------------------------------------------------------
    def predict(self, fitted: Mapping[str, FittedTask], X: Any
                ) -> tuple[dict[str, np.ndarray], np.ndarray | None]:
        """Pool probabilities per task, (N, C) float32, and the model's (N, e) embeddings
        (None when it has none)."""
        proba = {t: f.predict_proba(X) for t, f in fitted.items()}
        first = next(iter(fitted.values()), None)
        return proba, (first.embed(X) if first is not None else None)


def _restrict(labeled: Labeled, tasks: Sequence[TaskSpec], keep: set[int]
              ) -> dict[str, tuple[np.ndarray, list[Any]]]:
    """Each task's labeled rows that are in ``keep`` (tasks with none left out)."""
    out = {}
    for t in tasks:
        if t.name not in labeled:
            continue
        idx, values = labeled[t.name]
        pos = [i for i, r in enumerate(idx) if int(r) in keep]
        if pos:
            out[t.name] = (idx[pos], [values[i] for i in pos])
    return out


def shared_targets(rows: np.ndarray, labeled: Labeled, tasks: Sequence[TaskSpec]
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
