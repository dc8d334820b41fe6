"""The labeling flow without widgets: which sample is shown, committing, undo/redo, retraining.

A label is committed to the project store (``Project.label_sample``) before the view moves on;
the next sample comes from the queue prepared in advance, so nothing waits on the model. Every
``settings.retrain_every`` labels the controller asks the ``TaskRunner`` for
``loop.retrain_and_query`` on a snapshot; the result is installed on the GUI thread
(``project.install``) and refreshes the queue. A failing retrain leaves the previous model in use.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from app.worker import ProcessCall, TaskRunner, freeze_loaded_objects
from core.errors import ActiveLabError

RETRAIN = "retrain"
POSITION_KEY = "gui_current_sample"   # project-store setting: the sample on screen at close
POSITION_ITEM_KEY = "gui_current_item"  # its queue entry (suggestion, why), when it came from one
LOW_QUEUE = 2  # ask for a fresh queue when this few prepared items are left
PROCESS_START_MS = 300  # start the training process once the window is painted


@dataclass(frozen=True)
class Current:
    """What the labeling view shows now (plain data for the widgets)."""

    idx: int
    sample: Any                    # core.project.Sample
    item: Any | None               # core.project.QueueItem, None when not from the queue
    existing: dict[str, Any] = field(default_factory=dict)  # labels it already has, per task
    source: str = "queue"          # queue | history | undo | map | fallback


def _default_retrain_fn() -> Callable[..., Any]:
    from core import loop

    return loop.retrain_and_query


class LabelingController(QObject):
    """Owns the current sample and the local copy of the prepared queue."""

    current_changed = Signal(object)      # Current | None (None: everything is labeled)
    queue_changed = Signal(list)          # list[QueueItem]
    labels_changed = Signal()             # a label/skip/flag/undo/redo was committed
    model_updated = Signal(object)        # CurvePoint of a newly trained model (a curve point)
    model_installed = Signal()            # a model is in memory (new, or rebuilt on reopening)
    status_changed = Signal(str)
    error_occurred = Signal(str)
    retrain_running = Signal(bool)

    def __init__(self, project: Any, runner: TaskRunner, retrain_fn: Callable[..., Any] | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.runner = runner
        self._retrain_fn = retrain_fn
        self._queue: list[Any] = []
        self._current: Current | None = None
        self._shown_at = time.perf_counter()
        self._since_retrain = 0
        self._labels_at_request = 0
        self._handled: set[int] = set()   # labeled/skipped here since the queue was last read
        self._ready = True                # False until the window's warm-up job has loaded features
        self._pending_retrain = False
        self._rebuild_only = False        # the pending request only rebuilds the model (reopen)
        self._running_rebuild = False
        self._parked: list[Current] = []  # samples to return to after a revisit (undo, resume)
        self._rng = random.Random(getattr(project.settings, "seed", 0))
        runner.finished.connect(self._on_runner_finished)
        runner.failed.connect(self._on_runner_failed)
        self._ticker = QTimer(self)
        self._ticker.setInterval(200)
        self._ticker.timeout.connect(self._on_ticker_timeout)

    # ----- state -------------------------------------------------------------------------
    @property
    def current(self) -> Current | None:
        return self._current

    def queue(self) -> list[Any]:
        return list(self._queue)

    @property
    def ready(self) -> bool:
        """The pool features are loaded (retrains can start)."""
        return self._ready

    def start(self) -> None:
        """Show the sample that was on screen at close, else the first prepared one; prepare a
        queue in the background if there is none."""
        if self._retrain_fn is None:   # the real loop retrains in the training process;
            QTimer.singleShot(PROCESS_START_MS, self.runner.warm_up_process)  # after the first paint
        self._queue = list(self.project.queue())
        self.queue_changed.emit(self.queue())
        if not self._resume_position():
            self._advance()
        if len(self._queue) <= LOW_QUEUE:
            self.request_retrain()
        else:
            self.status_changed.emit(self._model_line())
            if self.project.model_version and self.project.model_state() is None:
                # Models are derived data: rebuild it in the background for the map colours
                # and suggestions, keeping the queue the expert left.
                self.request_retrain(rebuild=True)

    # ----- user actions ----------------------------------------------------------------------
    def submit(self, values: dict[str, Any]) -> list[Any]:
        """Commit the labels of the shown sample (all tasks at once), then show the next."""
        cur = self._current
        if cur is None:
            return []
        seconds = time.perf_counter() - self._shown_at
        events = self.project.label_sample(cur.sample.id, values, seconds=seconds, item=cur.item)
        self._since_retrain += 1
        self._handled.add(cur.idx)
        self._advance(after=cur)   # the next sample first, the panels after
        self.labels_changed.emit()
        if self._since_retrain >= max(1, int(self.project.settings.retrain_every)):
            self.request_retrain(supersede=False)
        elif len(self._queue) <= LOW_QUEUE and not self.runner.is_running(RETRAIN):
            self.request_retrain(supersede=False)
        return list(events)

    def skip(self) -> None:
        cur = self._current
        if cur is None:
            return
        self.project.skip(cur.sample.id)
        self._handled.add(cur.idx)
        self._advance(after=cur)
        self.labels_changed.emit()

    def flag(self) -> None:
        cur = self._current
        if cur is None:
            return
        self.project.flag(cur.sample.id)
        self._advance(after=cur)
        self.labels_changed.emit()

    def undo(self) -> Any | None:
        """Undo the last label and show that sample again."""
        event = self.project.undo()
        if event is None:
            self.status_changed.emit("Nothing to undo.")
            return None
        idx = self.project.index_of(event.sample_id)
        self._handled.discard(idx)
        self._park_current(except_idx=idx)
        self._show(idx, None, "undo")
        self.labels_changed.emit()
        return event

    def redo(self) -> Any | None:
        event = self.project.redo()
        if event is None:
            self.status_changed.emit("Nothing to redo.")
            return None
        idx = self.project.index_of(event.sample_id)
        if event.kind in ("label", "skip"):
            self._handled.add(idx)
        if self._current is not None and self._current.idx == idx:
            self._advance(after=self._current)
        self.labels_changed.emit()
        return event

    def show_sample(self, idx: int, source: str = "history") -> None:
        """Show any sample (from the history or the pool map); labeling it is a new event."""
        if self._current is not None and self._current.idx == idx:
            return
        self._park_current(except_idx=idx)
        self._show(idx, None, source)

    def apply_settings(self, changes: dict[str, Any]) -> None:
        """Persist changed settings; a new model or strategy asks for a fresh queue."""
        before = self.project.settings
        after = self.project.update_settings(**changes)
        if (after.model, after.model_params, after.strategy, after.strategy_params, after.batch_size,
                after.audit_rate, after.aggregate) != (before.model, before.model_params, before.strategy,
                                                       before.strategy_params, before.batch_size,
                                                       before.audit_rate, before.aggregate):
            self.request_retrain()
        if after.blind_mode != before.blind_mode and self._current is not None:
            self.current_changed.emit(self._current)

    def set_ready(self, ready: bool) -> None:
        """Features are loaded (by a worker job); a retrain asked for meanwhile starts now."""
        self._ready = ready
        if ready:
            freeze_loaded_objects()   # no long GC pause over the loaded pool while labeling
        if ready and self._pending_retrain:
            self._pending_retrain = False
            self.request_retrain(rebuild=self._rebuild_only)

    def request_retrain(self, supersede: bool = True, rebuild: bool = False) -> None:
        """Retrain on a snapshot in the worker.

        ``supersede`` (Retrain now, changed settings) cancels a running retrain. Automatic
        requests while one runs are coalesced into one follow-up run started when it ends, so a
        fast expert still gets fresh models and requests never pile up. ``rebuild`` (on
        reopening) rebuilds the model of unchanged labels without replacing the queue.
        """
        self._rebuild_only = rebuild and (self._rebuild_only or not self._pending_retrain)
        if not self._ready:
            self._pending_retrain = True
            self.status_changed.emit("Loading the pool features…")
            return
        if not supersede and self.runner.is_running(RETRAIN):
            self._pending_retrain = True
            self._since_retrain = 0
            return
        self._pending_retrain = False
        self._running_rebuild, self._rebuild_only = self._rebuild_only, False
        try:
            snapshot = self.project.training_snapshot()
        except ActiveLabError as exc:
            self.error_occurred.emit(str(exc))
            return
        fn = self._retrain_fn or _default_retrain_fn()
        self._since_retrain = 0
        self._labels_at_request = self.project.labeled_count()
        self.runner.submit(RETRAIN, fn, snapshot, in_process=self._process_call(snapshot))
        self.retrain_running.emit(True)
        self._ticker.start()
        self._on_ticker_timeout()

    def save_position(self) -> None:
        """Remember the sample on screen in the project store (called when the window closes)."""
        store = getattr(self.project, "store", None)
        if store is not None and self._current is not None:
            store.set_setting(POSITION_KEY, self._current.sample.id)
            item = self._current.item
            store.set_setting(POSITION_ITEM_KEY, item.to_dict() if item is not None else {})
        if store is not None and hasattr(store, "save_queue"):
            # The queue as the expert sees it (a sample put back after a revisit included), so
            # reopening shows the same next samples and their labels keep their provenance.
            items = ([self._current.item] if self._current is not None and self._current.item else [])
            items += [q for q in self._queue if q.idx not in self._handled]
            if items and [q.id for q in items] != [q.id for q in self.project.queue()]:
                _saved, seq = store.load_queue()
                store.save_queue([q.to_dict() for q in items], store.last_seq() if seq is None else seq)

    # ----- internals -------------------------------------------------------------------------
    def _process_call(self, snapshot: Any) -> ProcessCall | None:
        """The real loop's retrain as a training-process job (features re-opened from the
        project's cache there), or None: a custom retrain function runs in a thread."""
        if self._retrain_fn is not None or not self.runner.uses_processes():
            return None
        from core import retrain_process
        from core.project_create import CACHE_DIR

        path = getattr(self.project, "path", None)
        cache = None if path is None else Path(path) / CACHE_DIR
        request = retrain_process.retrain_request(snapshot, cache)
        return None if request is None else ProcessCall(retrain_process.retrain_from_request, (request,))

    def _process_note(self) -> str:
        problem = self.runner.process_problem
        return f" (in a thread: {problem})" if problem else ""

    def _resume_position(self) -> bool:
        store = getattr(self.project, "store", None)
        sample_id = store.get_setting(POSITION_KEY) if store is not None else None
        if not sample_id:
            return False
        item = next((q for q in self._queue if q.id == sample_id), None)
        if item is not None:
            self._queue.remove(item)
            self._show(item.idx, item, "queue")
            return True
        try:
            idx = self.project.index_of(sample_id)
        except (ActiveLabError, ValueError, KeyError):
            return False
        if idx in self._done_indices():
            return False
        saved = store.get_setting(POSITION_ITEM_KEY)
        item = _queue_item(idx, saved) if isinstance(saved, dict) and saved.get("id") == sample_id else None
        self._show(idx, item, "queue" if item is not None else "resume")
        return True

    def _park_current(self, except_idx: int) -> None:
        """Keep the sample on screen so the flow returns to it after a revisit: a queue item
        goes back to the queue's head, an unlabeled sample shown otherwise (undo, resume) is
        parked and shown again first."""
        cur = self._current
        if cur is not None and cur.idx != except_idx:
            if cur.item is not None:
                self._queue.insert(0, cur.item)
            elif cur.source in ("undo", "resume", "fallback") and not cur.existing:
                self._parked.append(cur)
        self._queue = [q for q in self._queue if q.idx != except_idx]
        self._parked = [c for c in self._parked if c.idx != except_idx]

    def _advance(self, after: Current | None = None) -> None:
        while self._parked:
            back = self._parked.pop()
            if back.idx not in self._handled and back.idx not in self._done_indices() and (
                    after is None or back.idx != after.idx):
                self._show(back.idx, None, back.source)
                return
        while self._queue:
            item = self._queue.pop(0)
            if item.idx not in self._handled and (after is None or item.idx != after.idx):
                self._show(item.idx, item, "queue")
                self.queue_changed.emit(self.queue())
                return
        self.queue_changed.emit([])
        idx = self._fallback_index(self._done_indices() | self._handled)
        if idx is None:
            self._current = None
            self.current_changed.emit(None)
            self.status_changed.emit("Every sample is labeled or skipped.")
            return
        self._show(idx, None, "fallback")
        if not self.runner.is_running(RETRAIN):
            self.request_retrain()

    def _done_indices(self) -> set[int]:
        done: set[int] = set()
        for per_task in self.project.labels().values():
            done.update(per_task)
        return done

    def _fallback_index(self, done: set[int]) -> int | None:
        """A random unlabeled sample while no queue is ready (the view never waits)."""
        n = self.project.n_samples
        if len(done) >= n:
            return None
        for _ in range(64):
            idx = self._rng.randrange(n)
            if idx not in done:
                return idx
        return next((i for i in range(n) if i not in done), None)

    def _show(self, idx: int, item: Any | None, source: str) -> None:
        # Queue items and fallback picks are unlabeled by construction; revisits look labels up.
        existing = {} if item is not None or source == "fallback" else {
            task: per[idx] for task, per in self.project.labels().items() if idx in per}
        self._current = Current(idx, self.project.sample(idx), item, existing, source)
        self._shown_at = time.perf_counter()
        self.current_changed.emit(self._current)

    def _model_line(self) -> str:
        v = self.project.model_version
        n = self.project.labeled_count()
        if v == 0:
            return f"No model yet · {n} labeled"
        return f"Model v{v} · {n} labeled"

    @Slot()
    def _on_ticker_timeout(self) -> None:
        elapsed = self.runner.elapsed(RETRAIN)
        if elapsed is None:
            self._ticker.stop()
            return
        v = self.project.model_version + 1
        self.status_changed.emit(
            f"training model v{v} on {self._labels_at_request} labels… {elapsed:.1f} s"
            + self._process_note()
        )

    @Slot(str, object)
    def _on_runner_finished(self, kind: str, result: object) -> None:
        if kind != RETRAIN:
            return
        self._ticker.stop()
        self.retrain_running.emit(False)
        rebuild, self._running_rebuild = self._running_rebuild, False
        try:
            point = self.project.install(result, keep_queue=True) if rebuild else self.project.install(result)
        except ActiveLabError as exc:
            self._on_runner_failed(RETRAIN, str(exc))
            return
        finally:
            self._start_pending()
        self.model_installed.emit()
        if rebuild:   # reopened: the model is back, the queue the expert left stays
            if point is not None:
                self.model_updated.emit(point)
            self.status_changed.emit(self._model_line())
            return
        shown = self._current.idx if self._current is not None else None
        fresh_queue = self.project.queue()
        self._handled.clear()
        self._queue = [q for q in fresh_queue if q.idx != shown]
        self.queue_changed.emit(self.queue())
        if point is not None:
            self.model_updated.emit(point)
        if self._current is None:
            self._advance()
        elif self._current.item is not None:
            fresh = {q.idx: q for q in fresh_queue}.get(self._current.idx)
            if fresh is not None:  # same sample, newer suggestion and score
                self._current = Current(self._current.idx, self._current.sample, fresh,
                                        self._current.existing, self._current.source)
                self.current_changed.emit(self._current)
        message = getattr(result, "message", "") or "model updated"
        line = self._point_line(point) if point is not None else message[:1].upper() + message[1:]
        self.status_changed.emit(line + self._process_note())

    def _point_line(self, point: Any) -> str:
        parts = [f"Model v{point.version} trained on {point.n_labels} labels in {point.train_seconds:.1f} s"]
        if point.cv_accuracy is not None:
            parts.append(f"CV accuracy {point.cv_accuracy:.2f}")
        if point.audit_accuracy is not None and point.audit_n:
            parts.append(f"audit {point.audit_accuracy:.2f} (n={point.audit_n})")
        return " · ".join(parts)

    @Slot(str, str)
    def _on_runner_failed(self, kind: str, message: str) -> None:
        if kind != RETRAIN:
            return
        self._ticker.stop()
        self.retrain_running.emit(False)
        v = self.project.model_version
        keep = f"labeling continues with model v{v}" if v else "labeling continues without a model"
        self.status_changed.emit(f"Retrain failed — {keep}.")
        self.error_occurred.emit(f"Retraining failed: {message}")
        self._start_pending()

    def _start_pending(self) -> None:
        """Start the coalesced follow-up retrain, if labels arrived while one was running."""
        if self._pending_retrain and self._ready and not self.runner.is_running(RETRAIN):
            self._pending_retrain = False
            QTimer.singleShot(0, self.request_retrain)


def _queue_item(idx: int, d: dict[str, Any]) -> Any:
    """A queue entry saved with ``QueueItem.to_dict`` as a QueueItem again (plain data)."""
    from core.loop import Prediction, QueueItem

    preds = {t: Prediction(p.get("label"), p.get("confidence"))
             for t, p in (d.get("predictions") or {}).items()}
    score = d.get("score")
    return QueueItem(idx, str(d["id"]), d.get("strategy") or "",
                     float("nan") if score is None else float(score), int(d.get("rank") or 0),
                     d.get("percentile"), bool(d.get("audit")), preds,
                     int(d.get("model_version") or 0), d.get("reason") or "")
