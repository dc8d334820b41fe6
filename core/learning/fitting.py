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
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from activelab.core.data.spec import TaskSpec
from activelab.core.errors import ModelError
from activelab.core.learning.labels import (
    can_fit, label_matrix, score_predictions, shared_targets,
)
from activelab.core.learning.models import ModelInfo
from activelab.core.progress import NULL_PROGRESS, Progress

PREDICT_CHUNK = 65536


def take_rows(X: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of a matrix, or of every block of a dict of blocks (multimodal input)."""
    if isinstance(X, Mapping):
        return {k: take_rows(v, idx) for k, v in X.items()}
    return X[idx]


def n_rows(X: Any) -> int:
    if isinstance(X, Mapping):
        return n_rows(next(iter(v for k, v in X.items() if not k.startswith("__"))))
    return X.shape[0]


def dense_if_needed(model: ModelInfo, X: Any) -> Any:
    """X as a dense array when ``model`` cannot take sparse input."""
    import scipy.sparse as sp   # here: opening a project to label must not import scipy

    if model.dense_only and sp.issparse(X):
        return X.toarray()
    return X


@dataclass
class FittedTask:
    """A fitted estimator for one task with probabilities aligned to the task's classes.

    ``model`` is the resolved model it was built from (its capabilities say which outputs
    it has). ``task_key`` is set when ``estimator`` is one multi-task model shared by every
    task: its outputs are dicts keyed by task, computed once per input and shared through
    ``memo``.
    """

    estimator: Any
    classes: tuple[str, ...]
    multilabel: bool
    model: ModelInfo
    task_key: str | None = None
    memo: dict | None = field(default=None, repr=False, compare=False)

    def _shared(self, method: str, X: Any, *args: Any) -> Any:
        key = (method, id(X), args)
        if self.memo is not None and key in self.memo:
            return self.memo[key][1]
        out = getattr(self.estimator, method)(X, *args)
        if self.memo is not None:
            self.memo.clear() if len(self.memo) > 8 else None
            self.memo[key] = (X, out)        # keep X alive so its id is not reused
        return out

    def predict_proba(self, X: Any) -> np.ndarray:
        """(N, C) float32 probabilities, columns in the task's class order."""
        if self.task_key is not None:
            return np.asarray(self._shared("predict_proba", X)[self.task_key], dtype=np.float32)
        n = n_rows(X)
        out = np.zeros((n, len(self.classes)), dtype=np.float32)
        cols = self._column_map()
        for start in range(0, n, PREDICT_CHUNK):
            stop = min(n, start + PREDICT_CHUNK)
            Xc = dense_if_needed(self.model, take_rows(X, np.arange(start, stop)))
            p = np.asarray(self.estimator.predict_proba(Xc), dtype=np.float32)
            if p.ndim == 1:
                p = p[:, None]
            out[start:stop][:, cols] = p
        return out

    def _column_map(self) -> np.ndarray:
        if self.multilabel:
            return np.arange(len(self.classes))
        est_classes = [str(c) for c in getattr(self.estimator, "classes_", self.classes)]
        pos = {c: i for i, c in enumerate(self.classes)}
        return np.array([pos[c] for c in est_classes], dtype=np.int64)

    def sample_proba(self, X: Any, n_samples: int) -> np.ndarray | None:
        """(S, N, C) sampled predictions (MC dropout, ensemble members); None when the model
        has no sampler."""
        if not self.model.has_mc_samples:
            return None
        if self.task_key is not None:
            s = self._shared("predict_proba_samples", X, n_samples)[self.task_key]
            return np.asarray(s, dtype=np.float32)
        s = np.asarray(self.estimator.predict_proba_samples(dense_if_needed(self.model, X),
                                                            n_samples), dtype=np.float32)
        out = np.zeros((s.shape[0], s.shape[1], len(self.classes)), dtype=np.float32)
        out[:, :, self._column_map()] = s
        return out

    def committee_proba(self, X: Any) -> np.ndarray | None:
        """(M, N, C) predictions of the model's own members (a deep ensemble); else None."""
        if not self.model.has_committee:
            return None
        return np.asarray(self.estimator.committee_proba(X), dtype=np.float32)

    def proba_by_modality(self, X: Any, task: str) -> dict[str, np.ndarray] | None:
        """modality -> (N, C) predictions of each modality's own head (multimodal models)."""
        if not self.model.has_modality_heads:
            return None
        out: dict[str, np.ndarray] = {}
        for modality, per in self.estimator.predict_proba_by_modality(X).items():
            arr = per
            if isinstance(per, Mapping):
                arr = per.get(task, next(iter(per.values())) if len(per) == 1 else None)
            if arr is not None:
                out[modality] = np.asarray(arr, dtype=np.float32)
        return out or None

    def embed(self, X: Any) -> np.ndarray | None:
        """(N, e) float32 embeddings of the model; None when it has none."""
        if not self.model.has_embeddings:
            return None
        if self.task_key is not None:
            return np.asarray(self._shared("embed", X), np.float32)
        return np.asarray(self.estimator.embed(dense_if_needed(self.model, X)), np.float32)


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
                progress: Progress = NULL_PROGRESS) -> FitResult | None:
        """Fit on the labeled rows of every task of ``tasks`` that has two classes labeled,
        estimate each one's accuracy by K-fold cross-validation (``model.cv_folds``), and
        predict the whole pool ``X``; None while no task can be fitted."""
        tasks = [t for t in tasks if t.name in labeled and can_fit(labeled[t.name][1], t.multilabel)]
        if not tasks:
            return None
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
