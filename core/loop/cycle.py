"""The active-learning loop as module-level functions over plain data.

The GUI thread takes a cheap ``Snapshot`` of the project; a worker runs ``retrain_and_query``
on it and returns a ``RetrainResult``; the GUI thread installs that result. The CLI does the
same three steps synchronously. Nothing here touches the store.

One retrain: the model is resolved once (``resolve_model``: name, parameters, capabilities),
a ``Fitter`` fits it, cross-validates it and predicts the pool, then ``make_queue`` builds the
chosen strategy's inputs (``task_outputs``) and runs it (``run_strategy``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from activelab.core.data.spec import DatasetSpec
from activelab.core.errors import ActiveLabError, ModelError
from activelab.core.learning.fitting import Fitter, FittedTask, take_rows
from activelab.core.learning.labels import prediction_summary
from activelab.core.learning.models import ModelInfo, resolve_model
from activelab.core.learning.strategy_inputs import (
    fallback_strategy, input_norms, representation_note, task_outputs,
)
from activelab.core.loop.savings_loop import attach_savings
from activelab.core.loop.cold_start import cold_start_representation, seek_unseen_classes, unseen_classes
from activelab.core.loop.settings import Settings
from activelab.core.loop.stopping import attach_stop_predictions
from activelab.core.progress import NULL_PROGRESS, Progress
from activelab.core.querying.registry import registry
from activelab.core.querying.runner import percentile_in_pool, run_strategy, wanted_inputs
from activelab.core.querying.strategy_api import PickRecord, QueryContext
from activelab.core.records import CurvePoint, Prediction, QueueItem

#: The first picks, before any task has a model (typical and diverse: TypiClust, Hacohen et al.
#: 2022; plain k-center took outliers: its first 9 catalogue picks were all one class).
COLD_START_STRATEGY = "typiclust"


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
    #: The labeled picks' provenance, oldest first (what ``auto`` replays its bandit from).
    history: tuple[PickRecord, ...] = ()
    #: task -> (pool rows, wrong) of audit picks whose prediction was recorded before the label.
    audit_rows: Mapping[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    #: The dense view comes from pretrained encoders (MiniLM, EfficientNet), not raw features.
    pretrained_dense: bool = False
    #: task -> ties between annotators, decided in the worker (``activelab.core.team.training``).
    label_ties: Mapping[str, Any] = field(default_factory=dict)

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
    panels: Any = None   # a Dask project's side panels from its scoring pass (core/scale/panels.py)


def snapshot_model(snapshot: Snapshot) -> ModelInfo:
    """The project's model, resolved once: the settings' name and parameters plus what the
    data fixes (the images' shape, for a model that needs it)."""
    return resolve_model(snapshot.settings.model, snapshot.settings.model_params,
                         getattr(snapshot.features, "image_shape", None))


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


def _unlabeled_rows(snapshot: Snapshot, model: ModelInfo, X: Any, limit: int = 2000) -> Any:
    """A seeded sample of unlabeled pool rows for losses that use them (image-text alignment)."""
    if not model.params.get("align_weight"):
        return None
    rng = np.random.default_rng(snapshot.settings.seed)
    cand = snapshot.candidates
    pick = np.sort(rng.choice(cand, size=min(limit, len(cand)), replace=False)) if len(cand) else cand
    return take_rows(X, pick)


def train(snapshot: Snapshot, progress: Progress = NULL_PROGRESS) -> tuple[ModelState | None, CurvePoint | None]:
    """Fit the model on the labels of every task that has two classes labeled; estimate
    per-task accuracy by cross-validation; compute the pool outputs."""
    model = snapshot_model(snapshot)
    X = model.input_of(snapshot.features)
    fit = Fitter(model).retrain(
        X, snapshot.labeled, snapshot.spec.tasks, seed=snapshot.settings.seed,
        previous=snapshot.previous.fitted if snapshot.previous is not None else None,
        X_unlabeled=_unlabeled_rows(snapshot, model, X) if model.shared_multitask else None,
        progress=progress)
    if fit is None:          # no task has two classes labeled yet
        return None, None
    state = ModelState(version=snapshot.version, model_name=model.name, fitted=fit.fitted,
                       proba=fit.proba, embeddings=fit.embeddings)
    accs = [v["cv_accuracy"] for v in fit.per_task.values() if v["cv_accuracy"] is not None]
    f1s = [v["cv_macro_f1"] for v in fit.per_task.values() if v["cv_macro_f1"] is not None]
    aud, aud_n = audit_accuracy(snapshot.audit_records)
    point = CurvePoint(
        version=snapshot.version,
        n_labels=snapshot.n_labels,
        time=time.time(),
        cv_accuracy=float(np.mean(accs)) if accs else None,
        cv_macro_f1=float(np.mean(f1s)) if f1s else None,
        audit_accuracy=aud,
        audit_n=aud_n,
        train_seconds=fit.fit_seconds,
        per_task=fit.per_task,
        model=model.name,
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
    suggestions, seek = _zero_shot(snapshot, state, cand, n_main, rng)
    if seek:     # the likeliest samples of classes nobody has labeled yet go first
        taken = np.asarray([p.idx for p in seek], dtype=np.int64)
        cand = np.setdiff1d(cand, taken)
        labeled_idx = np.union1d(labeled_idx, taken)
        n_main -= len(seek)
    if state is None or not state.fitted:
        rep = cold_start_representation(snapshot.features)
        cold = COLD_START_STRATEGY if COLD_START_STRATEGY in reg and rep is not None else "random"
        strat = reg.get(cold)
        reason = (f"cold start: {'typical and diverse' if cold != 'random' else 'random'} pick "
                  "(no task has two classes labeled yet)")
        used_name = f"cold_start:{cold}"
        if suggestions:
            reason += "; the suggestion is zero-shot, from the class names"
        ctx = QueryContext(n_pool=snapshot.n_pool, candidates=cand, rng=rng, labeled=labeled_idx,
                           features=rep)
        result = run_strategy(strat, ctx, n_main)
    else:
        strat = reg.get(name)
        progress.update(None, f"querying with {name}")
        # The fitted tasks carry the model they were resolved from (name, parameters,
        # capabilities); committees are built from it, each task on its own labeled rows.
        model = next(iter(state.fitted.values())).model
        X = model.input_of(snapshot.features)
        wanted = wanted_inputs(strat, params)
        outputs = task_outputs(
            state.fitted, X, wanted, labeled=snapshot.labeled, rng=rng,
            committee=strat.committee(params), proba=state.proba, audits=snapshot.audit_rows,
            seed=s.seed)
        # Distances on the model's learned embeddings, else on a pretrained dense view.
        embeddings = state.embeddings
        if embeddings is None and snapshot.pretrained_dense:
            embeddings = dense
        ctx = QueryContext(n_pool=snapshot.n_pool, candidates=cand, rng=rng, labeled=labeled_idx,
                           features=dense, embeddings=embeddings, tasks=outputs,
                           aggregate=s.aggregate, task_weights=s.task_weights,
                           input_norms=(input_norms(X, state.embeddings)
                                        if "input_norms" in wanted else None),
                           history=snapshot.history)
        reason = f"chosen by {name}"
        used_name = name
        fallback = fallback_strategy(strat, outputs, wanted=wanted)
        if fallback is not None:    # no committee / samples could be fitted: say so, go on
            used_name, reason = fallback
            strat, params = reg.get(used_name), {}
        note = representation_note(strat, embeddings is not None)
        reason += f"; {note}" if note else ""
        if "history" in strat.optional and s.audit_rate <= 0:
            reason += "; no audit picks (audit_rate is 0), so its choice of strategy learns nothing"
        result = run_strategy(strat, ctx, n_main, params)
        if result.detail:           # auto: which of its strategies chose the batch
            used_name, reason = f"{used_name}:{result.detail}", f"{reason} ({result.detail})"
    chosen = [int(i) for i in result.indices]
    scores = [float(x) for x in result.scores]
    items: list[QueueItem] = []
    for rank, p in enumerate(seek, start=1):
        items.append(_item(snapshot, state, p.idx, "zero_shot:unseen_class", p.probability, rank,
                           None, False, f"zero-shot: the likeliest '{p.cls}' for {p.task} (no "
                           f"sample labeled '{p.cls}' yet)", version, suggestions,
                           force={p.task}))
    for rank, (i, sc) in enumerate(zip(chosen, scores), start=len(seek) + 1):
        items.append(_item(snapshot, state, i, used_name, sc, rank,
                           percentile_in_pool(result.candidate_scores, sc), False, reason, version,
                           suggestions))
    chosen += [p.idx for p in seek]
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
          rank: int, pct: float | None, audit: bool, reason: str, version: int,
          suggestions: dict[str, np.ndarray] | None = None,
          force: set[str] | frozenset[str] = frozenset()) -> QueueItem:
    """One queue item; its predictions are the model's, and for a task without a model (or
    in ``force``) the zero-shot suggestion from ``suggestions``."""
    preds: dict[str, Prediction] = {}
    if state is not None:
        for task, p in state.proba.items():
            t = snapshot.spec.task(task)
            labels, conf = prediction_summary(p[i:i + 1], t.classes, t.multilabel)
            preds[task] = Prediction(labels[0], float(conf[0]))
    for task, p in (suggestions or {}).items():
        if task not in preds or task in force:
            j = int(np.argmax(p[i]))
            preds[task] = Prediction(snapshot.spec.task(task).classes[j], float(p[i, j]))
    return QueueItem(i, snapshot.ids[i], strategy, score, rank, pct, audit, preds, version, reason)


def _zero_shot(snapshot: Snapshot, state: ModelState | None, cand: np.ndarray, n: int,
               rng: np.random.Generator) -> tuple[dict[str, np.ndarray], list]:
    """Zero-shot suggestions for the tasks that need them (no model yet, or a class never
    labeled) and the picks that look for unseen classes: up to half the batch before the
    first model, a fifth after (at least one). ({}, []) when the setting is off or the
    features are not sentence embeddings (see ``activelab.core.learning.zero_shot``)."""
    s = snapshot.settings
    if not getattr(s, "zero_shot", True) or n <= 0:
        return {}, []
    fitted = set(state.fitted) if state is not None else set()
    missing = unseen_classes(snapshot.spec, snapshot.labeled)
    tasks = tuple(t.name for t in snapshot.spec.tasks if t.name not in fitted or t.name in missing)
    if not tasks:
        return {}, []
    from activelab.core.learning.zero_shot import zero_shot_suggestions

    suggestions, _why = zero_shot_suggestions(snapshot.features, snapshot.spec,
                                              getattr(s, "class_descriptions", None), tasks)
    share = max(1, n // 2) if not fitted else max(1, n // 5)
    return suggestions, seek_unseen_classes(snapshot.spec, snapshot.labeled, suggestions, cand,
                                            min(share, n), rng)


def retrain_and_query(snapshot: Snapshot, progress: Progress = NULL_PROGRESS) -> RetrainResult:
    """Worker job: retrain on the snapshot's labels, then prepare the next queue."""
    if snapshot.label_ties:   # annotators' ties: Dawid-Skene here, off the UI thread
        from activelab.core.team.training import resolve_ties

        snapshot = resolve_ties(snapshot)
    try:
        state, point = train(snapshot, progress.sub(0.0, 0.85))
    except ModelError:
        raise
    except (ValueError, TypeError, np.linalg.LinAlgError) as exc:
        raise ModelError(f"Training '{snapshot.settings.model}' failed: {exc}") from exc
    if state is not None and point is not None:   # for the stopping rule (loop.stopping)
        attach_stop_predictions(point.per_task, state, snapshot.n_pool, snapshot.settings.seed)
        if snapshot.audit_rows and state.fitted:   # what active learning saved (loop.savings)
            progress.update(0.85, "measuring on the audit picks")
            model = next(iter(state.fitted.values())).model
            attach_savings(point.per_task, model, model.input_of(snapshot.features),
                           snapshot.spec, snapshot.labeled,
                           {t: tuple(int(i) for i in rows)
                            for t, (rows, _wrong) in snapshot.audit_rows.items()},
                           snapshot.settings.seed)
    queue = make_queue(snapshot, state, progress=progress.sub(0.85, 1.0))
    progress.update(1.0, "done")
    msg = (f"model v{point.version} trained on {point.n_labels} labels in "
           f"{point.train_seconds:.1f} s" if point else "not enough classes labeled to train yet")
    return RetrainResult(state, point, queue, snapshot.event_seq, msg)


__all__ = [
    "ActiveLabError", "CurvePoint", "ModelState", "Prediction", "QueueItem", "RetrainResult",
    "Snapshot", "make_queue", "retrain_and_query", "snapshot_model", "train",
]
