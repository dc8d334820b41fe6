"""The model side of a project: the model in memory, what a retrain is given (a ``Snapshot``),
installing a retrain's result (curve point and queue, in the store), predictions and the pool
map's projection.

A ``Project`` owns one ``ModelSide``. Models are derived data kept in memory (rebuilt on
demand), never read back from disk; the store keeps only the curve and the queue.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from activelab.core.data.spec import DatasetSpec
from activelab.core.features.cache import load_array, save_array
from activelab.core.learning.labels import prediction_summary
from activelab.core.loop.settings import Settings
from activelab.core.querying.strategy_api import PickRecord
from activelab.core.project.pick_provenance import NOT_QUEUED
from activelab.core.records import Installed, Prediction, QueueItem
from activelab.core.store.label_state import LabelState
from activelab.core.store.store import LabelStore
from activelab.core.team.training import training_labels

# The loop (and with it scikit-learn's room) is imported when a model is touched, not when a
# project is opened to label or to read its status.
if TYPE_CHECKING:   # pragma: no cover
    from activelab.core.loop.cycle import ModelState, RetrainResult, Snapshot


class ModelSide:
    """The model of one project's labels, its learning curve and its queue.

    ``store``: the project's store (curve points and the queue are written there);
    ``cache_dir``: where derived arrays (the pool map's projection) are cached.
    """

    def __init__(self, store: LabelStore, cache_dir: Path) -> None:
        self.served_stored = False   # whether the last query served the stored queue
        self._store = store
        self._cache_dir = cache_dir
        self.state: ModelState | None = None
        self._projection: np.ndarray | None = None
        self.panels: Any = None   # a Dask project's side panels (activelab.core.scale.panels)

    def forget(self) -> None:
        """Drop the model (another model was chosen: nothing to warm-start from)."""
        self.state = None
        self._projection = None

    def next_version(self, event_seq: int) -> int:
        """The model version a retrain on the labels up to ``event_seq`` would produce: the
        latest one when the latest curve point was trained on exactly those labels."""
        latest = self._store.model_version()
        same = latest and self._store.get_setting("curve_event_seq") == event_seq
        return latest if same else latest + 1

    def snapshot(self, *, spec: DatasetSpec, settings: Settings, features: Any,
                 ids: Sequence[str], index: dict[str, int], labels: LabelState,
                 pretrained_dense: bool = False) -> Snapshot:
        """What a retrain needs, read on this thread: per task the labeled pool positions and
        their values (in the order they were first labeled), the candidates (neither labeled
        nor skipped), the audit picks' records, the previous model. O(labeled samples)."""
        labeled: dict[str, tuple[np.ndarray, list[Any]]] = {}
        mask = np.ones(len(ids), dtype=bool)
        for t in spec.tasks:
            per = labels.by_index.get(t.name)
            if per:
                rows = np.fromiter(per.keys(), dtype=np.int64, count=len(per))
                labeled[t.name] = (rows, list(per.values()))
                mask[rows] = False
        if labels.skipped:
            mask[[index[s] for s in labels.skipped]] = False
        labeled, ties = training_labels(self._store, [t.name for t in spec.tasks], index, labeled)
        audits = tuple((task, ev.predicted, ev.value) for (task, _sid), ev in labels.audits.items())
        history, audit_rows = pick_history(labels, index)
        from activelab.core.loop.cycle import Snapshot

        return Snapshot(
            spec=spec, settings=settings, features=features, ids=tuple(ids), labeled=labeled,
            candidates=np.flatnonzero(mask).astype(np.int64), audit_records=audits,
            event_seq=labels.last_seq, version=self.next_version(labels.last_seq),
            n_labels=labels.labeled_count, previous=self.state, history=history,
            audit_rows=audit_rows, pretrained_dense=pretrained_dense, label_ties=ties,
        )

    def install(self, result: RetrainResult, *, save_queue: bool = True) -> Installed:
        """Swap in a worker's result: the model, a new curve point, the queue (saved unless
        ``save_queue`` is False). Returns the point as committed (the store gives it the next
        free version: another process may have committed one meanwhile; None when the latest
        point was trained on the same labels) and the queue with that version.

        Raises ``StoreWriteError`` when the point or queue cannot be saved (the model is in
        memory by then)."""
        if result.state is not None:
            self.state = result.state
            self._projection = None
        if result.panels is not None:
            self.panels = result.panels
        point, queue = result.curve_point, list(result.queue)
        if self._store.read_only:       # viewing only: the model and queue live in memory
            return Installed(point, tuple(queue))
        if point is not None:
            version = self._store.add_curve_point(point.to_dict(), event_seq=result.event_seq)
            if version is None:
                if self.state is not None:
                    self.state.version = self._store.model_version()
                point = None
            elif version != point.version:
                if self.state is not None:
                    self.state.version = version
                queue = [it.with_version(version) if it.model_version == point.version else it
                         for it in queue]
                point = replace(point, version=version)
        if save_queue:
            self._store.save_queue([it.to_dict() for it in queue], result.event_seq)
        return Installed(point, tuple(queue))

    def queue(self, labels: LabelState, index: dict[str, int]) -> list[QueueItem]:
        """The stored queue, minus samples labeled or skipped since it was made."""
        items, _seq = self._store.load_queue()
        return fresh_queue(items, labels, index)

    def query(self, snapshot: Callable[[], Snapshot], labels: Callable[[], LabelState],
              index: dict[str, int], n: int, strategy: str | None, *,
              annotator: str | None = None, retrain_every: int = 0,
              fresh: bool = False) -> list[QueueItem]:
        """The next ``n`` samples (with ``strategy``, else the settings'): the stored queue
        when it is up to date, else a new one (retraining first when labels changed since the
        model, or there is none); saved unless the project is read-only.

        In a team project, where others' labels land all the time, a process with no model in
        memory (a command) also serves the stored queue (minus what was labeled or skipped
        since) while fewer than ``retrain_every`` labels came since it was made and some are
        by annotators other than ``annotator``: their apps retrain at that pace and save the
        queue, so a command does not refit the model for every sample it asks for.
        ``fresh``: never serve the stored queue (its items are all held by others).
        ``served_stored`` tells afterwards whether the stored queue was served."""
        self.served_stored = False
        items, seq = self._store.load_queue()
        last = self._store.last_seq()
        prepared = fresh_queue(items, labels(), index)
        if not fresh and strategy is None and len(items) >= n and prepared and (
                seq == last or (self.state is None and self._others_recent(
                    seq, annotator, retrain_every))):
            self.served_stored = True
            return prepared[:n]
        from activelab.core.loop.cycle import make_queue, retrain_and_query

        snap = snapshot()
        if self.state is None or seq != last or snap.version - 1 == 0:
            self.install(retrain_and_query(snap))
            snap = snapshot()
        queue = make_queue(snap, self.state, n=n, strategy=strategy)
        if not self._store.read_only:
            self._store.save_queue([it.to_dict() for it in queue], snap.event_seq)
        return queue

    def _others_recent(self, seq: int | None, annotator: str | None, retrain_every: int) -> bool:
        """True when the labels since the stored queue (made at event ``seq``) are fewer than
        ``retrain_every`` and some are by an annotator other than ``annotator``."""
        if seq is None or retrain_every <= 1:
            return False
        since = [e for e in self._store.events(since=seq) if e.kind == "label"]
        return 0 < len(since) < retrain_every and any(e.annotator != annotator for e in since)

    def predictions(self, spec: DatasetSpec) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Predicted label and confidence per task for every pool sample ({} without a model)."""
        if self.state is None:
            return {}
        out = {}
        for task, p in self.state.proba.items():
            t = spec.task(task)
            out[task] = prediction_summary(p, t.classes, t.multilabel)
        return out

    def suggestion(self, spec: DatasetSpec, idx: int) -> dict[str, Prediction]:
        """The model's prediction per task for pool sample ``idx`` ({} without a model, or
        for a position outside its probabilities). O(classes): one row is summarized."""
        if self.state is None:
            return {}
        out = {}
        for task, p in self.state.proba.items():
            if not 0 <= idx < len(p):
                continue
            t = spec.task(task)
            labels, conf = prediction_summary(p[idx:idx + 1], t.classes, t.multilabel)
            out[task] = Prediction(labels[0], float(conf[0]))
        return out

    def projection(self, features: Any, n_samples: int) -> np.ndarray:
        """A 2-D PCA of the pool, (n_samples, 2): of the model's embeddings when it has them,
        else of the features (cached beside them; a damaged cache is recomputed)."""
        if self._projection is None:
            from activelab.core.features.projection import project_2d

            emb = self.state.embeddings if self.state is not None else None
            if emb is not None:
                self._projection = project_2d(emb)
            else:
                cache = self._cache_dir / f"projection-{features.fingerprint[:16]}.npy"
                xy = load_array(cache, (n_samples, 2))
                if xy is None:
                    xy = project_2d(features.dense)
                    if not self._store.read_only:
                        save_array(cache, xy)
                self._projection = xy
        return self._projection


def fresh_queue(items: Sequence[dict[str, Any]], labels: LabelState,
                index: dict[str, int]) -> list[QueueItem]:
    """The stored queue's rows as items, minus samples labeled or skipped since (and ids the
    project does not have). O(queue length)."""
    out = []
    for d in items:
        sid = d["id"]
        if sid in index and not labels.is_labeled(sid) and sid not in labels.skipped:
            out.append(QueueItem.from_dict(d, idx=index[sid]))
    return out


def _is_hit(predicted: Any, value: Any) -> bool:
    """Whether a recorded prediction matches the label (a multi-label set as a whole)."""
    if isinstance(value, list):
        return sorted(predicted or []) == sorted(value)
    return str(predicted) == str(value)


def pick_history(labels: LabelState, index: dict[str, int]
                 ) -> tuple[tuple[PickRecord, ...], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """From the labels' provenance: one ``PickRecord`` per (task, sample) label given on a
    queue item (a relabel keeps its pick; ``pick_provenance.NOT_QUEUED`` labels are not),
    in the order labels were given (what ``auto`` replays), and per task the
    pool rows and outcomes (wrong: True) of audit picks with a recorded prediction (what
    error-prediction sampling learns from). O(labels)."""
    history: list[PickRecord] = []
    audit: dict[str, tuple[list[int], list[bool]]] = {}
    for (task, sid), ev in labels.provenance.items():
        if ev.model_version is None or ev.strategy is None or ev.strategy in NOT_QUEUED:
            continue   # shown by the app's fallback or opened by hand: not the loop's pick
        hit = _is_hit(ev.predicted, ev.value) if ev.audit and ev.predicted is not None else None
        history.append(PickRecord(int(ev.model_version), str(ev.strategy), bool(ev.audit), hit))
        if hit is not None and sid in index:
            rows, wrong = audit.setdefault(task, ([], []))
            rows.append(index[sid])
            wrong.append(not hit)
    return tuple(history), {t: (np.asarray(r, np.int64), np.asarray(w, bool))
                            for t, (r, w) in audit.items()}
