"""Fitting per-task models and turning them into strategy inputs (plain data in and out).

Used by the labeling loop, the simulator and the benchmarks, so they train and score the same
way. Every fit works on a fresh estimator (a clone); the caller swaps it in.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from activelab.core.errors import ModelError
from activelab.core.learning.models import make_model, model_info
from activelab.core.querying.strategy_api import QueryContext, TaskOutput

PREDICT_CHUNK = 65536
#: The members of a committee of different model types (query-by-committee, "models" mode).
COMMITTEE_MODELS = ("logistic_regression", "sklearn.ensemble.ExtraTreesClassifier",
                    "random_forest", "knn")
#: Fits on at most this many labeled rows run with one BLAS and one OpenMP thread: they are
#: latency bound, and on a busy 2-core machine threaded BLAS made a 50-row logistic regression
#: 13x slower (3.7 s instead of 0.28 s, Fashion-MNIST pixels) and OpenMP threads a 12-row
#: histogram gradient boosting fit 6.6x slower (3.0 s instead of 0.46 s, the few-labels
#: committee case). Torch models manage their own threads.
SMALL_FIT_ROWS = 20000


def _fit_threads(model_name: str, n_rows: int) -> Any:
    """A context that limits BLAS and OpenMP threads for small fits of scikit-learn models."""
    from contextlib import nullcontext

    if n_rows > SMALL_FIT_ROWS or model_info(model_name).neural:
        return nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def _rows(X: Any, idx: np.ndarray) -> Any:
    if isinstance(X, Mapping):
        return {k: _rows(v, idx) for k, v in X.items()}
    return X[idx]


def _n_rows(X: Any) -> int:
    if isinstance(X, Mapping):
        return _n_rows(next(iter(v for k, v in X.items() if not k.startswith("__"))))
    return X.shape[0]


def _dense_if_needed(name: str, X: Any) -> Any:
    import scipy.sparse as sp   # here: opening a project to label must not import scipy

    if model_info(name).dense_only and sp.issparse(X):
        return X.toarray()
    return X


@dataclass
class FittedTask:
    """A fitted estimator for one task with probabilities aligned to the task's classes."""

    estimator: Any
    classes: tuple[str, ...]
    multilabel: bool
    model_name: str
    #: Set when ``estimator`` is one multi-task model shared by every task: its outputs are
    #: dicts keyed by task, computed once per input and shared through ``memo``.
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
        if self.task_key is not None:
            return np.asarray(self._shared("predict_proba", X)[self.task_key], dtype=np.float32)
        n = _n_rows(X)
        out = np.zeros((n, len(self.classes)), dtype=np.float32)
        cols = self._column_map()
        for start in range(0, n, PREDICT_CHUNK):
            stop = min(n, start + PREDICT_CHUNK)
            Xc = _dense_if_needed(self.model_name, _rows(X, np.arange(start, stop)))
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
        fn = getattr(self.estimator, "predict_proba_samples", None)
        if fn is None:
            return None
        if self.task_key is not None:
            s = self._shared("predict_proba_samples", X, n_samples)[self.task_key]
            return np.asarray(s, dtype=np.float32)
        s = np.asarray(fn(_dense_if_needed(self.model_name, X), n_samples), dtype=np.float32)
        out = np.zeros((s.shape[0], s.shape[1], len(self.classes)), dtype=np.float32)
        out[:, :, self._column_map()] = s
        return out

    def proba_by_modality(self, X: Any, task: str) -> dict[str, np.ndarray] | None:
        """modality -> (N, C) predictions of each modality's own head (multimodal models)."""
        fn = getattr(self.estimator, "predict_proba_by_modality", None)
        if fn is None:
            return None
        out: dict[str, np.ndarray] = {}
        for modality, per in fn(X).items():
            arr = per
            if isinstance(per, Mapping):
                arr = per.get(task, next(iter(per.values())) if len(per) == 1 else None)
            if arr is not None:
                out[modality] = np.asarray(arr, dtype=np.float32)
        return out or None

    def embed(self, X: Any) -> np.ndarray | None:
        fn = getattr(self.estimator, "embed", None)
        if fn is None:
            return None
        if self.task_key is not None:
            return np.asarray(self._shared("embed", X), np.float32)
        return np.asarray(fn(_dense_if_needed(self.model_name, X)), np.float32)


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


def accepts_init_from(estimator: Any) -> bool:
    """Models that warm-start take ``fit(..., init_from=previous_fitted_model)``."""
    import inspect

    try:
        return "init_from" in inspect.signature(estimator.fit).parameters
    except (TypeError, ValueError):
        return False


def fit_task_model(
    model_name: str,
    params: Mapping[str, Any] | None,
    X: Any,
    y: Sequence[Any],
    classes: Sequence[str],
    multilabel: bool = False,
    previous: FittedTask | None = None,
) -> FittedTask:
    """Fit a fresh estimator on (X, y). ``previous`` allows models that support it to warm-start."""
    classes = tuple(str(c) for c in classes)
    if not can_fit(y, multilabel):
        raise ModelError(
            "A model needs at least two different classes labeled; so far only "
            f"{sorted({str(v) for v in y}) if not multilabel else 'one label set'} is labeled."
        )
    est = make_model(model_name, params, multilabel=multilabel)
    X = _dense_if_needed(model_name, X)
    target: Any = label_matrix(y, classes) if multilabel else np.asarray([str(v) for v in y], dtype=object)
    fit_kwargs: dict[str, Any] = {}
    if previous is not None and previous.classes == classes and accepts_init_from(est):
        fit_kwargs["init_from"] = previous.estimator
    try:
        with _fit_threads(model_name, len(y)):
            est.fit(X, target, **fit_kwargs)
    except (ValueError, TypeError, np.linalg.LinAlgError) as exc:
        raise ModelError(f"Model '{model_name}' could not be fitted: {exc}") from exc
    return FittedTask(est, classes, multilabel, model_name)


def cv_metrics(
    model_name: str,
    params: Mapping[str, Any] | None,
    X: Any,
    y: Sequence[Any],
    classes: Sequence[str],
    multilabel: bool = False,
    max_folds: int = 5,
    seed: int = 0,
) -> tuple[float | None, float | None]:
    """Cross-validated accuracy and macro-F1 on the labeled set (None when too few labels)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    n = len(y)
    if n < 4 or not can_fit(y, multilabel):
        return None, None
    if multilabel:
        folds = min(max_folds, n // 2)
        splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
        splits = list(splitter.split(np.zeros(n)))
    else:
        ys = np.asarray([str(v) for v in y], dtype=object)
        _, counts = np.unique(ys, return_counts=True)
        if np.median(counts) < 2:
            # With one example of most classes, held-out folds test classes the fold never
            # saw: the estimate would be a meaningless 0, so there is none yet.
            return None, None
        folds = min(max_folds, int(counts.min()))
        if folds >= 2:
            splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(n), ys))
        else:
            folds = min(max_folds, n // 2)
            splits = list(KFold(folds, shuffle=True, random_state=seed).split(np.zeros(n)))
    y_list = list(y)
    truth: list[Any] = []
    pred: list[Any] = []
    for tr, te in splits:
        ytr = [y_list[i] for i in tr]
        if not can_fit(ytr, multilabel):
            continue
        fitted = fit_task_model(model_name, params, _rows(X, tr), ytr, classes, multilabel)
        p = fitted.predict_proba(_rows(X, te))
        if multilabel:
            pred.extend((p >= 0.5).astype(int))
            truth.extend(label_matrix([y_list[i] for i in te], fitted.classes))
        else:
            pred.extend(np.asarray(fitted.classes, dtype=object)[p.argmax(axis=1)])
            truth.extend(str(y_list[i]) for i in te)
    return score_predictions(truth, pred, multilabel)


def score_predictions(truth: Sequence[Any], pred: Sequence[Any], multilabel: bool) -> tuple[float | None, float | None]:
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


def task_outputs(
    fitted: Mapping[str, FittedTask],
    X_pool: Any,
    requires: frozenset[str] | set[str],
    *,
    model_name: str,
    params: Mapping[str, Any] | None = None,
    X_train: Any = None,
    y_train_by_task: Mapping[str, Sequence[Any]] | None = None,
    rng: np.random.Generator | None = None,
    n_committee: int = 5,
    n_mc_samples: int = 20,
    proba: Mapping[str, np.ndarray] | None = None,
    X_train_by_task: Mapping[str, Any] | None = None,
    n_bootstrap_samples: int = 10,
    committee_mode: str = "bootstrap",
    committee_models: Sequence[str] = COMMITTEE_MODELS,
) -> dict[str, TaskOutput]:
    """Pool-wide outputs per task; committee and MC samples only when a strategy requires them.

    ``proba`` passes already computed pool probabilities so they are not recomputed.
    Training rows for a task's committee are ``X_train_by_task[task]`` when given (each task
    trains on its own labeled rows), else the shared ``X_train``; labels come from
    ``y_train_by_task[task]``.

    Sampled predictions ("mc_samples") come from the estimator's ``predict_proba_samples``
    (MC dropout in the torch models). A model without it (every scikit-learn model) gets the
    standard non-Bayesian approximation instead: the predictions of ``n_bootstrap_samples``
    copies of the model, each fitted on a bootstrap resample of the labeled set, are used as
    posterior samples (a bootstrap ensemble, as in Beluch et al. 2018 and Lakshminarayanan et
    al. 2017). Multi-label tasks get one-vs-rest members on 0/1 targets per class.

    A committee (or bootstrap samples) that cannot be fitted on the labels is left None and
    the reason is put in ``TaskOutput.notes``, so the caller can fall back and say why
    (``activelab.core.learning.committee.fallback_strategy``).
    """
    outs: dict[str, TaskOutput] = {}
    rng = rng or np.random.default_rng(0)
    for task, f in fitted.items():
        p = proba[task] if proba is not None and task in proba else f.predict_proba(X_pool)
        Xt = X_train_by_task[task] if X_train_by_task and task in X_train_by_task else X_train
        yt = y_train_by_task.get(task) if y_train_by_task is not None else None

        notes: list[str] = []

        def fit_committee(mode: str, n_members: int) -> np.ndarray | None:
            """A committee on this task's labeled rows; None (and a note) when none fits."""
            if Xt is None or yt is None:
                return None
            from activelab.core.learning.committee import CommitteeError, task_committee

            try:
                return task_committee(f, Xt, yt, X_pool, model_name=model_name, params=params,
                                      mode=mode, n_members=n_members,
                                      committee_models=committee_models, rng=rng)
            except CommitteeError as exc:
                notes.append(f"task '{task}': {exc}")
                return None

        def model_types() -> np.ndarray | None:
            return fit_committee("models", 0)

        def bootstrap(n_members: int) -> np.ndarray | None:
            if f.task_key is not None:
                # A shared multi-task model: its MC-dropout samples serve as the committee.
                return f.sample_proba(X_pool, n_members)
            return fit_committee("bootstrap", n_members)

        mc = None
        if "mc_samples" in requires:
            mc = f.sample_proba(X_pool, n_mc_samples)
            if mc is None:
                mc = bootstrap(n_bootstrap_samples)
        committee = None
        if "committee" in requires:
            committee_fn = getattr(f.estimator, "committee_proba", None)
            if committee_mode == "models" and f.task_key is None:
                committee = model_types()
            elif committee_fn is not None:
                committee = np.asarray(committee_fn(X_pool), dtype=np.float32)
            else:
                committee = bootstrap(n_committee)
        by_modality = None
        if "by_modality" in requires:
            by_modality = f.proba_by_modality(X_pool, task)
        outs[task] = TaskOutput(
            proba=p, multilabel=f.multilabel, classes=f.classes, mc_samples=mc,
            committee=committee, by_modality=by_modality, notes=tuple(notes),
        )
    return outs


def committee_options(strategy: Any, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The committee settings a strategy's parameters ask for (see activelab.strategies.builtin)."""
    resolved = strategy.resolve_params(params)
    out: dict[str, Any] = {}
    if "committee" in resolved:
        out["committee_mode"] = resolved["committee"]
    if "n_members" in resolved:
        out["n_committee"] = int(resolved["n_members"])
    return out


def wanted_inputs(strategy: Any, params: Mapping[str, Any] | None = None) -> frozenset[str]:
    """The inputs to compute for ``strategy``: what it requires, the cheap optional ones, and
    an expensive optional one (committee, MC samples) only when a parameter names a strategy
    that requires it (e.g. ``exploration_mix`` with ``base="bald"``)."""
    from activelab.core.querying.registry import registry

    expensive = {"committee", "mc_samples"}
    wanted = set(strategy.requires) | (set(strategy.optional) - expensive)
    reg = registry()
    for value in strategy.resolve_params(params).values():
        if isinstance(value, str) and value in reg.names() and value != strategy.name:
            wanted |= set(reg.get(value).requires) & set(strategy.optional)
    return frozenset(wanted)


def build_context(
    n_pool: int,
    candidates: np.ndarray,
    labeled: np.ndarray,
    features_dense: np.ndarray | None,
    outputs: Mapping[str, TaskOutput],
    rng: np.random.Generator,
    embeddings: np.ndarray | None = None,
    aggregate: str = "mean",
    task_weights: Mapping[str, float] | None = None,
) -> QueryContext:
    return QueryContext(
        n_pool=n_pool,
        candidates=np.asarray(candidates, dtype=np.int64),
        rng=rng,
        labeled=np.asarray(labeled, dtype=np.int64),
        features=features_dense,
        embeddings=embeddings,
        tasks=dict(outputs),
        aggregate=aggregate,
        task_weights=task_weights,
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
