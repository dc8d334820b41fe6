"""The model side of a project: snapshots for the worker, installing its results, the queue,
predictions and the pool map. Mixed into ``activelab.core.project.project.Project``; models are derived data kept
in memory (rebuilt on demand), never read back from disk."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from activelab.core.progress import NULL_PROGRESS, Progress
from activelab.core.project.create import CACHE_DIR

# The loop and the learning room (scikit-learn, scipy) are imported when a model is touched,
# not when a project is opened to label or to read its status.
if TYPE_CHECKING:   # pragma: no cover
    import numpy as np

    from activelab.core.loop.cycle import (
        CurvePoint, ModelState, QueueItem, RetrainResult, Snapshot,
    )


class ProjectModelMixin:
    """Needs from the host: store, spec, ids, _index, n_samples, features, model_version,
    _settings, _state, _projection, _state_now()."""

    def training_snapshot(self) -> Snapshot:
        import numpy as np

        from activelab.core.loop.cycle import Snapshot

        st = self._state_now()
        labeled: dict[str, tuple[np.ndarray, list[Any]]] = {}
        any_label: set[str] = set()
        for t in self.spec.tasks:
            per = st.labels.get(t.name, {})
            if per:
                sids = list(per)
                labeled[t.name] = (np.array([self._index[s] for s in sids], dtype=np.int64),
                                   [per[s] for s in sids])
                any_label.update(sids)
        excluded = any_label | st.skipped
        mask = np.ones(self.n_samples, dtype=bool)
        if excluded:
            mask[[self._index[s] for s in excluded]] = False
        audits = tuple(
            (task, ev.predicted, ev.value)
            for (task, _sid), ev in st.provenance.items()
            if ev.audit and ev.predicted is not None
        )
        return Snapshot(
            spec=self.spec, settings=self._settings, features=self.features, ids=self.ids,
            labeled=labeled, candidates=np.flatnonzero(mask).astype(np.int64),
            audit_records=audits, event_seq=st.last_seq,
            version=self.model_version + (
                0 if self.model_version and self.store.get_setting("curve_event_seq") == st.last_seq
                else 1),
            n_labels=len(any_label), previous=self._state,
        )

    def install(self, result: RetrainResult, *, keep_queue: bool = False) -> CurvePoint | None:
        """Swap in a worker's result: the model, a new curve point, the persisted queue.

        ``keep_queue``: a model rebuilt when a project is reopened keeps the persisted queue
        (when one is left), so the expert finds the queue they left; the next retrain replaces it."""
        if result.state is not None:
            self._state = result.state
            self._projection = None
        point = result.curve_point
        queue = result.queue
        if self.store.read_only:       # viewing only: the model and queue live in memory
            return point
        if point is not None:
            # The store gives the point the next free version (another process may have
            # committed one meanwhile), or None when the latest point was trained on the same
            # labels (e.g. a model rebuilt in a new process): the same model version.
            version = self.store.add_curve_point(point.to_dict(), event_seq=result.event_seq)
            if version is None:
                if self._state is not None:
                    self._state.version = self.model_version
                point = None
            elif version != point.version:
                if self._state is not None:
                    self._state.version = version
                queue = [replace(it, model_version=version) if it.model_version == point.version
                         else it for it in queue]
                point = replace(point, version=version)
        if not (keep_queue and self._queue_items()):
            self.store.save_queue([it.to_dict() for it in queue], result.event_seq)
        return point

    def retrain(self, progress: Progress | None = None) -> CurvePoint | None:
        """Retrain now (synchronously) and prepare a new queue."""
        from activelab.core.loop.cycle import retrain_and_query

        result = retrain_and_query(self.training_snapshot(), progress or NULL_PROGRESS)
        return self.install(result)

    def _queue_items(self) -> list[QueueItem]:
        from activelab.core.loop.cycle import Prediction, QueueItem

        items, _ = self.store.load_queue()
        st = self._state_now()
        done = {sid for per in st.labels.values() for sid in per} | st.skipped
        out = []
        for it in items:
            if it["id"] in done or it["id"] not in self._index:
                continue
            preds = {t: Prediction(p["label"], p["confidence"]) for t, p in it["predictions"].items()}
            out.append(QueueItem(
                self._index[it["id"]], it["id"], it["strategy"] or "",
                float("nan") if it["score"] is None else it["score"], it["rank"] or 0,
                it["percentile"], it["audit"], preds, it["model_version"] or 0, it["reason"] or "",
            ))
        return out

    def queue(self) -> list[QueueItem]:
        """The prepared queue, minus samples labeled or skipped since it was made."""
        return self._queue_items()

    def query(self, n: int | None = None, strategy: str | None = None) -> list[QueueItem]:
        """The next samples to label (synchronous; retrains first when labels changed)."""
        from activelab.core.loop.cycle import make_queue, retrain_and_query

        n = self._settings.batch_size if n is None else int(n)
        if strategy is not None:
            from activelab.core.querying.registry import get_strategy

            get_strategy(strategy)
        items, seq = self.store.load_queue()
        last = self.store.last_seq()
        if strategy is None and seq == last and len(items) >= n and self._queue_items():
            return self._queue_items()[:n]
        snap = self.training_snapshot()
        if self._state is None or seq != last or snap.version - 1 == 0:
            self.install(retrain_and_query(snap))
            snap = self.training_snapshot()
        queue = make_queue(snap, self._state, n=n, strategy=strategy)
        if not self.store.read_only:
            self.store.save_queue([it.to_dict() for it in queue], snap.event_seq)
        return queue

    def model_state(self) -> ModelState | None:
        return self._state

    def predictions(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Predicted label and confidence per task for every pool sample (trains if needed)."""
        from activelab.core.learning.fitting import prediction_summary

        if self._state is None:
            self.retrain()
        if self._state is None:
            return {}
        out = {}
        for task, p in self._state.proba.items():
            t = self.spec.task(task)
            out[task] = prediction_summary(p, t.classes, t.multilabel)
        return out

    def pool_projection(self) -> np.ndarray:
        """A 2-D PCA of the pool (model embeddings when the model provides them)."""
        if self._projection is None:
            from activelab.core.features.cache import load_array, save_array
            from activelab.core.features.projection import project_2d

            emb = self._state.embeddings if self._state is not None else None
            if emb is not None:
                self._projection = project_2d(emb)
            else:
                # The features' projection is derived data, cached beside the features; a
                # damaged or wrong-shaped cache is recomputed and replaced.
                cache = self.path / CACHE_DIR / f"projection-{self.features.fingerprint[:16]}.npy"
                xy = load_array(cache, (self.n_samples, 2))
                if xy is None:
                    xy = project_2d(self.features.dense)
                    if not self.store.read_only:
                        save_array(cache, xy)
                self._projection = xy
        return self._projection
