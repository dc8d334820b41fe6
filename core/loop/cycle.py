"""The active-learning loop as module-level functions over plain data.

The GUI thread takes a cheap ``Snapshot`` of the project; a worker runs ``retrain_and_query`` or
``requery`` on it and returns a ``RetrainResult``; the GUI thread installs that result. The CLI
does the same three steps synchronously. Nothing here touches the store.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from activelab.core.learning.committee import fallback_strategy
from activelab.core.errors import ActiveLabError, ModelError
from activelab.core.learning.models import model_info
from activelab.core.progress import NULL_PROGRESS, Progress
from activelab.core.querying.runner import percentile_in_pool, run_strategy
from activelab.core.querying.registry import registry
from activelab.core.loop.settings import Settings
from activelab.core.loop.stopping import attach_stop_predictions
from activelab.core.data.spec import DatasetSpec
from activelab.core.learning.fitting import (
    committee_options,
    FittedTask,
    build_context,
    can_fit,
    cv_metrics,
    fit_task_model,
    prediction_summary,
    task_outputs,
    wanted_inputs,
)

COLD_START_STRATEGY = "coreset"


@dataclass(frozen=True)
class Prediction:
    label: Any
    confidence: float


@dataclass(frozen=True)
class QueueItem:
    idx: int
    id: str
    strategy: str
    score: float
    rank: int
    percentile: float | None
    audit: bool
    predictions: dict[str, Prediction]
    model_version: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "strategy": self.strategy, "score": self.score, "rank": self.rank,
            "percentile": self.percentile, "audit": self.audit, "model_version": self.model_version,
            "reason": self.reason,
            "predictions": {
                t: {"label": p.label, "confidence": p.confidence} for t, p in self.predictions.items()
            },
        }


@dataclass(frozen=True)
class CurvePoint:
    version: int
    n_labels: int
    time: float
    cv_accuracy: float | None
    cv_macro_f1: float | None
    audit_accuracy: float | None
    audit_n: int
    train_seconds: float
    per_task: dict[str, dict[str, float | None]]
    model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class ModelState:
    """Fitted models (one per task) and their pool-wide probabilities; derived data."""

    version: int
    model_name: str
    fitted: dict[str, FittedTask] = field(default_factory=dict)
    proba: dict[str, np.ndarray] = field(default_factory=dict)
    embeddings: np.ndarray | None = None


@dataclass(frozen=True)
class Snapshot:
    """Everything a worker needs, copied or read-only; taken on the GUI thread."""

    spec: DatasetSpec
    settings: Settings
    features: Any                      # activelab.core.features.build.FeatureSet (read-only arrays)
    ids: tuple[str, ...]
    labeled: dict[str, tuple[np.ndarray, list[Any]]]   # task -> (pool indices, values)
    candidates: np.ndarray             # pool indices with no label and not skipped
    audit_records: tuple[tuple[str, Any, Any], ...]    # (task, predicted, label) of audit picks
    event_seq: int
    version: int                       # the version a retrain would produce
    n_labels: int                      # samples with at least one label
    previous: ModelState | None = None

    @property
    def n_pool(self) -> int:
        return len(self.ids)


@dataclass
class RetrainResult:
    state: ModelState | None
    curve_point: CurvePoint | None
    queue: list[QueueItem]
    event_seq: int
    message: str = ""


def _model_input(snapshot: Snapshot) -> Any:
    info = model_info(snapshot.settings.model)
    if info.needs_blocks:
        return snapshot.features.blocks
    if info.input_block is not None:
        blocks = snapshot.features.blocks
        if info.input_block not in blocks:
            raise ModelError(
                f"Model '{info.name}' learns from the {info.input_block} modality, and this "
                f"project has none (it has: {', '.join(blocks) or 'no features'}). Pick another "
                "model in the settings."
            )
        return blocks[info.input_block]
    return snapshot.features.model_X


def _take(X: Any, idx: np.ndarray) -> Any:
    if isinstance(X, Mapping):
        return {k: v[idx] for k, v in X.items()}
    return X[idx]


def audit_accuracy(records: tuple[tuple[str, Any, Any], ...]) -> tuple[float | None, int]:
    """Accuracy of the model's recorded predictions on uniformly random audit picks."""
    if not records:
        return None, 0
    hits = 0
    for _task, pred, label in records:
        if isinstance(label, list):
            hits += int(sorted(pred or []) == sorted(label))
        else:
            hits += int(str(pred) == str(label))
    return hits / len(records), len(records)


def model_params(snapshot: Snapshot) -> dict[str, Any]:
    """The user's model parameters plus what the data fixes (a CNN's image shape)."""
    params = dict(snapshot.settings.model_params)
    info = model_info(snapshot.settings.model)
    shape = getattr(snapshot.features, "image_shape", None)
    if info.neural and shape is not None and "image_shape" not in params:
        if snapshot.settings.model in ("torch_cnn", "multimodal") or info.needs_blocks:
            params["image_shape"] = tuple(shape)
    return params


def _unlabeled_rows(snapshot: Snapshot, X: Any, params: Mapping[str, Any], limit: int = 2000) -> Any:
    """A seeded sample of unlabeled pool rows for losses that use them (image-text alignment)."""
    if not params.get("align_weight"):
        return None
    rng = np.random.default_rng(snapshot.settings.seed)
    cand = snapshot.candidates
    pick = np.sort(rng.choice(cand, size=min(limit, len(cand)), replace=False)) if len(cand) else cand
    return _take(X, pick)


def _fit_all(snapshot: Snapshot, X: Any, fit_tasks: list, params: dict[str, Any],
             progress: Progress) -> tuple[dict[str, FittedTask], dict[str, dict[str, float | None]], float]:
    """Fit (one shared model, or one per task) and estimate per-task accuracy by K-fold CV."""
    s = snapshot.settings
    info = model_info(s.model)
    folds = 3 if info.neural else 5
    per_task: dict[str, dict[str, float | None]] = {}
    if info.multitask:
        from activelab.core.learning.multitask_fitting import fit_multitask_model, multitask_cv_metrics

        progress.update(0.0, f"training {s.model} on {snapshot.n_labels} samples")
        prev = None
        if snapshot.previous is not None and snapshot.previous.model_name == s.model:
            prev = next((f.estimator for f in snapshot.previous.fitted.values()), None)
        t0 = time.perf_counter()
        fitted = fit_multitask_model(s.model, params, X, snapshot.labeled, fit_tasks, prev,
                                     _unlabeled_rows(snapshot, X, params))
        fit_seconds = time.perf_counter() - t0
        progress.update(0.5, "cross-validating")
        cv = multitask_cv_metrics(s.model, params, X, snapshot.labeled, fit_tasks, folds, s.seed)
        for t in fit_tasks:
            acc, f1 = cv[t.name]
            per_task[t.name] = {"cv_accuracy": acc, "cv_macro_f1": f1,
                                "n_labels": float(len(snapshot.labeled[t.name][0]))}
        return fitted, per_task, fit_seconds
    fitted = {}
    t0 = time.perf_counter()
    for i, task in enumerate(fit_tasks):
        idx, values = snapshot.labeled[task.name]
        progress.update(i / len(fit_tasks) * 0.5, f"training '{task.name}' on {len(idx)} labels")
        prev = snapshot.previous.fitted.get(task.name) if snapshot.previous else None
        if prev is not None and prev.model_name != s.model:
            prev = None
        fitted[task.name] = fit_task_model(
            s.model, params, _take(X, idx), values, task.classes, task.multilabel, prev
        )
    fit_seconds = time.perf_counter() - t0
    for i, task in enumerate(fit_tasks):
        idx, values = snapshot.labeled[task.name]
        progress.update(0.5 + 0.5 * i / len(fit_tasks), f"cross-validating '{task.name}'")
        acc, f1 = cv_metrics(s.model, params, _take(X, idx), values, task.classes,
                             task.multilabel, max_folds=folds, seed=s.seed)
        per_task[task.name] = {"cv_accuracy": acc, "cv_macro_f1": f1, "n_labels": float(len(idx))}
    return fitted, per_task, fit_seconds


def train(snapshot: Snapshot, progress: Progress = NULL_PROGRESS) -> tuple[ModelState | None, CurvePoint | None]:
    """Fit the model on the labels of every task that has two classes labeled; estimate
    per-task accuracy by cross-validation; compute the pool outputs."""
    s = snapshot.settings
    X = _model_input(snapshot)
    state = ModelState(version=snapshot.version, model_name=s.model)
    tasks = [t for t in snapshot.spec.tasks if t.name in snapshot.labeled]
    fit_tasks = [t for t in tasks if can_fit(snapshot.labeled[t.name][1], t.multilabel)]
    if not fit_tasks:
        return None, None
    params = model_params(snapshot)
    state.fitted, per_task, train_seconds = _fit_all(snapshot, X, fit_tasks, params,
                                                     progress.sub(0.0, 0.8))
    progress.update(0.8, "scoring the pool")
    for task in fit_tasks:
        if task.name in state.fitted:
            state.proba[task.name] = state.fitted[task.name].predict_proba(X)
    first = next(iter(state.fitted.values()))
    state.embeddings = first.embed(X) if hasattr(first.estimator, "embed") else None
    accs = [v["cv_accuracy"] for v in per_task.values() if v["cv_accuracy"] is not None]
    f1s = [v["cv_macro_f1"] for v in per_task.values() if v["cv_macro_f1"] is not None]
    aud, aud_n = audit_accuracy(snapshot.audit_records)
    point = CurvePoint(
        version=snapshot.version,
        n_labels=snapshot.n_labels,
        time=time.time(),
        cv_accuracy=float(np.mean(accs)) if accs else None,
        cv_macro_f1=float(np.mean(f1s)) if f1s else None,
        audit_accuracy=aud,
        audit_n=aud_n,
        train_seconds=train_seconds,
        per_task=per_task,
        model=s.model,
    )
    return state, point


def make_queue(
    snapshot: Snapshot,
    state: ModelState | None,
    n: int | None = None,
    strategy: str | None = None,
    strategy_params: Mapping[str, Any] | None = None,
    progress: Progress = NULL_PROGRESS,
) -> list[QueueItem]:
    """The next ``n`` samples to label, with provenance; audit picks mixed in at the set rate."""
    s = snapshot.settings
    n = s.batch_size if n is None else int(n)
    name = strategy or s.strategy
    params = dict(s.strategy_params if strategy is None or strategy == s.strategy else {})
    params.update(strategy_params or {})
    rng = np.random.default_rng([s.seed, snapshot.event_seq])
    cand = snapshot.candidates
    n = min(n, len(cand))
    if n <= 0:
        return []
    n_audit = int(rng.binomial(n, s.audit_rate)) if s.audit_rate > 0 and state is not None else 0
    n_main = n - n_audit
    reg = registry()
    dense = getattr(snapshot.features, "dense", None)
    labeled_idx = np.unique(np.concatenate(
        [idx for idx, _ in snapshot.labeled.values()] or [np.empty(0, np.int64)]
    )).astype(np.int64)
    version = state.version if state is not None else 0
    if state is None or not state.fitted:
        cold = COLD_START_STRATEGY if COLD_START_STRATEGY in reg and dense is not None else "random"
        strat = reg.get(cold)
        reason = (f"cold start: {'diverse' if cold != 'random' else 'random'} pick "
                  "(no task has two classes labeled yet)")
        used_name = f"cold_start:{cold}"
        ctx = build_context(snapshot.n_pool, cand, labeled_idx, dense, {}, rng)
        result = run_strategy(strat, ctx, n_main)
    else:
        strat = reg.get(name)
        progress.update(None, f"querying with {name}")
        X = _model_input(snapshot)
        wanted = wanted_inputs(strat, params)
        X_by_task = y_by_task = None
        if wanted & {"committee", "mc_samples"}:
            # Committees / bootstrap samples train per task on that task's own labeled rows.
            X_by_task = {t: _take(X, snapshot.labeled[t][0]) for t in state.fitted}
            y_by_task = {t: snapshot.labeled[t][1] for t in state.fitted}
        outputs = task_outputs(
            state.fitted, X, wanted, model_name=s.model, params=model_params(snapshot),
            X_train_by_task=X_by_task, y_train_by_task=y_by_task, rng=rng, proba=state.proba,
            **committee_options(strat, params),
        )
        ctx = build_context(
            snapshot.n_pool, cand, labeled_idx, dense, outputs, rng,
            embeddings=state.embeddings, aggregate=s.aggregate, task_weights=s.task_weights,
        )
        reason = f"chosen by {name}"
        used_name = name
        fallback = fallback_strategy(strat, outputs)
        if fallback is not None:    # no committee / samples could be fitted: say so, go on
            used_name, reason = fallback
            strat, params = reg.get(used_name), {}
        result = run_strategy(strat, ctx, n_main, params)
    chosen = [int(i) for i in result.indices]
    scores = [float(x) for x in result.scores]
    items: list[QueueItem] = []
    for rank, (i, sc) in enumerate(zip(chosen, scores), start=1):
        items.append(_item(snapshot, state, i, used_name, sc, rank,
                           percentile_in_pool(result.candidate_scores, sc), False, reason, version))
    if n_audit:
        rest = np.setdiff1d(cand, np.asarray(chosen, dtype=np.int64))
        picks = rng.choice(rest, size=min(n_audit, len(rest)), replace=False)
        positions = sorted(rng.choice(n, size=len(picks), replace=False))
        for pos, i in zip(positions, picks):
            items.insert(pos, _item(snapshot, state, int(i), "audit:random", float("nan"), 0, None,
                                    True, "audit: uniformly random pick (unbiased accuracy estimate)",
                                    version))
    return items


def _item(snapshot: Snapshot, state: ModelState | None, i: int, strategy: str, score: float,
          rank: int, pct: float | None, audit: bool, reason: str, version: int) -> QueueItem:
    preds: dict[str, Prediction] = {}
    if state is not None:
        for task, p in state.proba.items():
            t = snapshot.spec.task(task)
            labels, conf = prediction_summary(p[i:i + 1], t.classes, t.multilabel)
            preds[task] = Prediction(labels[0], float(conf[0]))
    return QueueItem(i, snapshot.ids[i], strategy, score, rank, pct, audit, preds, version, reason)


def retrain_and_query(snapshot: Snapshot, progress: Progress = NULL_PROGRESS) -> RetrainResult:
    """Worker job: retrain on the snapshot's labels, then prepare the next queue."""
    try:
        state, point = train(snapshot, progress.sub(0.0, 0.85))
    except ModelError:
        raise
    except (ValueError, TypeError, np.linalg.LinAlgError) as exc:
        raise ModelError(f"Training '{snapshot.settings.model}' failed: {exc}") from exc
    if state is not None and point is not None:   # for the stopping rule (loop.stopping)
        attach_stop_predictions(point.per_task, state, snapshot.n_pool, snapshot.settings.seed)
    queue = make_queue(snapshot, state, progress=progress.sub(0.85, 1.0))
    progress.update(1.0, "done")
    msg = (f"model v{point.version} trained on {point.n_labels} labels in "
           f"{point.train_seconds:.1f} s" if point else "not enough classes labeled to train yet")
    return RetrainResult(state, point, queue, snapshot.event_seq, msg)


def requery(snapshot: Snapshot, state: ModelState | None, progress: Progress = NULL_PROGRESS) -> RetrainResult:
    """Worker job: a new queue with the current model (e.g. after the strategy changed)."""
    queue = make_queue(snapshot, state, progress=progress)
    return RetrainResult(state, None, queue, snapshot.event_seq, "queue refreshed")


__all__ = [
    "ActiveLabError", "CurvePoint", "ModelState", "Prediction", "QueueItem", "RetrainResult",
    "Snapshot", "make_queue", "requery", "retrain_and_query", "train",
]
