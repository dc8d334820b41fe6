"""The labeling flow without widgets: which sample is shown, committing, undo/redo, retraining.

A label is committed to the project store (``Project.label_sample``) before the view moves on;
the next sample comes from the queue prepared in advance, so nothing waits on the model. Every
``settings.retrain_every`` labels the controller asks the ``TaskRunner`` to retrain a snapshot
(``project.retrain_function()``, in the training process when ``project.retrain_request`` gives
a request); the result is installed on the GUI thread (``project.install``) and its queue is
used as it came back. A failing retrain leaves the previous model in use. A settings change
that makes the queue stale (``Settings.invalidates_queue``) asks for a retrain at once.

The project is a ``LabelingEngine`` (``activelab.core.project.engine``): the controller uses
nothing else of it.

The pool features load in a background job (``load_features``); until they are there labeling
works and retrains wait. A failed load ends the wait (``features_failed``): labeling goes on,
retrains stay off until a reload succeeds. A write that does not land (disk full, read-only,
locked) raises out of the user actions, which leave the sample on screen and mark nothing as
saved; a failed write of a retrain's results (curve point, queue) keeps the new queue in memory
and reports ``write_failed``. A project opened read-only (``project.read_only``) attempts no
write: the actions raise ``StoreWriteError(cause="read_only")`` and no retrain is started.
"""
from __future__ import annotations

import random
import sqlite3
import time
from dataclasses import dataclass, field
from typing import Any, Collection

from PySide6.QtCore import QObject, QTimer, Signal

from activelab.app.retrain_control import RETRAIN, RetrainControl
from activelab.app.worker import TaskRunner
from activelab.app.write_failures import SavedButStalled, project_read_only_reason
from activelab.core.errors import ActiveLabError, StoreWriteError
from activelab.core.loop.settings import Settings
from activelab.core.project.engine import LabelingEngine
from activelab.core.project.pick_provenance import fallback_item
from activelab.core.records import LabelEvent, Prediction, QueueItem, Sample

__all__ = ["Current", "LabelingController", "RETRAIN"]
LOW_QUEUE = 2  # ask for a fresh queue when this few prepared items are left
PROCESS_START_MS = 300  # start the training process once the window is painted


def _text(value: Any) -> str:
    """A label for the status bar (a multi-label value as its classes)."""
    return (", ".join(map(str, value)) or "(none)") if isinstance(value, list) else str(value)


@dataclass(frozen=True)
class Current:
    """What the labeling view shows now (plain data for the widgets)."""

    idx: int
    sample: Sample
    item: QueueItem | None         # None when not shown from the queue
    existing: dict[str, Any] = field(default_factory=dict)  # labels it already has, per task
    source: str = "queue"          # queue | history | undo | map | fallback | review
    # The model in memory's prediction when not shown from the queue (a sample opened from the
    # pool map): task -> Prediction; {} otherwise, or without a model.
    suggestion: dict[str, Prediction] = field(default_factory=dict)


class LabelingController(QObject, RetrainControl):
    """Owns the current sample and the local copy of the prepared queue."""

    _stalled = False   # a saved action's next sample could not be loaded (see _retry_stalled)

    current_changed = Signal(object)      # Current | None (None: everything is labeled)
    queue_changed = Signal(list)          # list[QueueItem]
    labels_changed = Signal()             # a label/skip/flag/undo/redo was committed
    model_updated = Signal(object)        # CurvePoint of a newly trained model (a curve point)
    model_installed = Signal()            # a model is in memory (new, or rebuilt on reopening)
    status_changed = Signal(str)
    error_occurred = Signal(str)
    write_failed = Signal(str)            # a retrain's results could not be saved (the message)
    features_loaded = Signal(object)      # the pool map's (N, 2) projection, or None
    features_failed = Signal(str)         # the pool features could not be loaded (the message)
    retrain_running = Signal(bool)

    def __init__(self, project: LabelingEngine, runner: TaskRunner,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.runner = runner
        self._queue: list[QueueItem] = []
        self._current: Current | None = None
        self._shown_at = time.perf_counter()
        self._since_retrain = 0
        self._labels_at_request = 0
        self._handled: set[int] = set()   # labeled/skipped here since the queue was last read
        self._ready = True                # False until the window's warm-up job has loaded features
        self._pending_retrain = False
        self._rebuild_only = False        # the pending request only rebuilds the model (reopen)
        self._running_rebuild = False
        self._decides: frozenset[str] | None = None   # a review: the tasks it decides
        self._parked: list[Current] = []  # samples to return to after a revisit (undo, resume)
        self._features_problem: str | None = None   # why the features could not be loaded
        self.read_only = project.read_only
        self._rng = random.Random(project.settings.seed)
        self._ticker = QTimer(self)
        self._ticker.setInterval(200)
        self._ticker.timeout.connect(self._on_ticker_timeout)

    # ----- state -------------------------------------------------------------------------
    @property
    def annotator(self) -> str:
        """Who labels here ($ACTIVELAB_ANNOTATOR, else the app's per-machine name, else the
        project's setting): every event, undo/redo, claim and blind view is this annotator's."""
        return self.project.annotator

    @annotator.setter
    def annotator(self, app_name: str | None) -> None:
        self.project.set_annotator(app_name, source="app")

    @property
    def current(self) -> Current | None:
        return self._current

    def queue(self) -> list[QueueItem]:
        return list(self._queue)

    def start(self) -> None:
        """Show the sample that was on screen at close, else the first prepared one; prepare a
        queue in the background if there is none."""
        # Retrains run in the training process (when the runner uses one): start it after the
        # first paint.
        QTimer.singleShot(PROCESS_START_MS, self.runner.warm_up_process)
        self._queue = list(self.project.queue())
        self.queue_changed.emit(self.queue())
        if not self._resume_position():
            self._advance()
        if self.read_only:
            self.status_changed.emit(self._model_line())
            if self.project.model_version and self.project.model_state() is None:
                self.request_retrain(rebuild=True)   # map colours; nothing is written
        elif len(self._queue) <= LOW_QUEUE:
            self.request_retrain()
        else:
            self.status_changed.emit(self._model_line())
            if self.project.model_version and self.project.model_state() is None:
                # Models are derived data: rebuild it in the background for the map colours
                # and suggestions, keeping the queue the expert left.
                self.request_retrain(rebuild=True)

    # ----- user actions ----------------------------------------------------------------------
    def submit(self, values: dict[str, Any], inputs: dict[str, str] | None = None) -> list[LabelEvent]:
        """Commit the labels of the shown sample (all tasks at once), then show the next.
        ``inputs``: task -> how its class was entered (accepted, typed, clicked, kept)."""
        cur = self._current
        if cur is None:
            self._retry_stalled()
            return []
        self._check_writable("label")
        seconds = time.perf_counter() - self._shown_at
        item = cur.item if cur.source != "fallback" else fallback_item(
            cur.idx, cur.sample.id, self.project.model_version)   # provenance: fallback:random
        decided = self._decides if cur.source == "review" else None
        if decided is not None:      # a review decision: only the tasks under review
            values = {t: v for t, v in values.items() if t in decided}
            inputs = {t: v for t, v in (inputs or {}).items() if t in decided}
            if not values:
                self.status_changed.emit(
                    f"Nothing recorded: choose a class for {', '.join(sorted(decided))} (the "
                    "task under review) first.")
                return []
        events = self.project.label_sample(cur.sample.id, values, seconds=seconds, item=item,
                                           inputs=inputs, annotator=self.annotator)
        self._since_retrain += 1
        self._handled.add(cur.idx)
        self._advance_after_write(cur, self._after_label)
        if decided is not None:
            what = "; ".join(f"{e.task} = {_text(e.value)}" for e in events)
            self.status_changed.emit(f"Review decision recorded for {cur.sample.id}: {what} "
                                     f"({item.strategy if item else 'review'}, by "
                                     f"{self.annotator}).")
        return list(events)

    def skip(self) -> None:
        cur = self._current
        if cur is None:
            self._retry_stalled()
            return
        self._check_writable("skip")
        self.project.skip(cur.sample.id, annotator=self.annotator)
        self._handled.add(cur.idx)
        self._advance_after_write(cur, self._after_skip)

    def flag(self) -> None:
        cur = self._current
        if cur is None:
            return
        self._check_writable("flag")
        self.project.flag(cur.sample.id, annotator=self.annotator)
        self._advance(after=cur)
        self.labels_changed.emit()

    def undo(self) -> LabelEvent | None:
        """Undo the last label and show that sample again."""
        self._check_writable("undo")
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

    def redo(self) -> LabelEvent | None:
        self._check_writable("redo")
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

    def show_sample(self, idx: int, source: str = "history", item: QueueItem | None = None,
                    decides: Collection[str] | None = None) -> None:
        """Show any sample (from the history or the pool map); labeling it is a new event.
        ``item``: the provenance its label is recorded with (a review decision's, source
        "review"); None: looked up as for any revisit. ``decides``: on a review, the tasks
        under review: a submit records only those (the other tasks' labels are the
        annotators', not the reviewer's decision)."""
        if self._current is not None and self._current.idx == idx and item is None:
            return
        self._park_current(except_idx=idx)
        self._show(idx, item, source)
        self._decides = None if decides is None or source != "review" else frozenset(decides)

    def show_review(self, item: QueueItem) -> None:
        """Show a labeled sample from a review queue (the suspect labels) with its labels; the
        label given on it records ``item``'s provenance (e.g. ``review:suspect``)."""
        if self._current is not None and self._current.idx == item.idx:
            return
        self._park_current(except_idx=item.idx)
        self._show(item.idx, item, "review")

    def apply_settings(self, changes: dict[str, Any]) -> None:
        """Persist changed settings; a change that makes the queue stale (the project empties
        it: ``Settings.invalidates_queue``) asks for a fresh one at once."""
        self._check_writable("setting")
        before = self.project.settings
        after = self.project.update_settings(**changes)
        if Settings.invalidates_queue(before, after):
            self.request_retrain()
        if after.blind_mode != before.blind_mode and self._current is not None:
            self.current_changed.emit(self._current)

    def save_position(self) -> None:
        """Remember the sample on screen and the queue to come in the project store (called
        when the window closes; nothing is written to a read-only project). Raises
        ``StoreWriteError`` (or a raw sqlite3/OS error) when the write fails."""
        if self.read_only:
            return
        self.project.release_claims()   # the samples handed to this window go to others
        cur = self._current
        self.project.save_position(None if cur is None else cur.sample.id,
                                   None if cur is None else cur.item,
                                   [q for q in self._queue if q.idx not in self._handled])

    # ----- internals -------------------------------------------------------------------------

    def _check_writable(self, what: str) -> None:
        """Attempt no write on a project opened read-only: say so instead."""
        if self.read_only:
            why = project_read_only_reason(self.project)
            raise StoreWriteError(
                f"Read-only: viewing only — {what} NOT saved. The project was opened read-only"
                f"{f' ({why})' if why else ''}; open a writable copy of the folder to label.",
                cause="read_only")

    def _resume_position(self) -> bool:
        saved = self.project.saved_position()
        if saved.sample_id is None:
            return False
        item = next((q for q in self._queue if q.id == saved.sample_id), None)
        if item is not None:
            self._queue.remove(item)
            self._show(item.idx, item, "queue")
            return True
        try:
            idx = self.project.index_of(saved.sample_id)
        except ActiveLabError:
            return False
        if self._is_labeled(idx):
            return False
        self._show(idx, saved.item, "queue" if saved.item is not None else "resume")
        return True

    def _park_current(self, except_idx: int) -> None:
        """Keep the sample on screen so the flow returns to it after a revisit: a queue item
        goes back to the queue's head, an unlabeled sample shown otherwise (undo, resume) is
        parked and shown again first."""
        cur = self._current
        if cur is not None and cur.idx != except_idx:
            if cur.item is not None and cur.source != "review":   # a review item: not the loop's
                self._queue.insert(0, cur.item)
            elif cur.source in ("undo", "resume", "fallback") and not cur.existing:
                self._parked.append(cur)
        self._queue = [q for q in self._queue if q.idx != except_idx]
        self._parked = [c for c in self._parked if c.idx != except_idx]

    def _after_label(self, cur: Current) -> None:
        self._advance(after=cur)   # the next sample first, the panels after
        self.labels_changed.emit()
        if self._since_retrain >= max(1, int(self.project.settings.retrain_every)):
            self.request_retrain(supersede=False)
        elif len(self._queue) <= LOW_QUEUE and not self.runner.is_running(RETRAIN):
            self.request_retrain(supersede=False)
        elif self.project.model_version == 0 and not self.runner.is_running(RETRAIN):
            self.status_changed.emit(self._model_line())   # what the first model waits for

    def _after_skip(self, cur: Current) -> None:
        self._advance(after=cur)
        self.labels_changed.emit()

    def _advance_after_write(self, cur: Current, then: Any) -> None:
        """``then(cur)``: the next sample (and the panels) once ``cur`` was saved. When the
        store cannot be read for it (a team project's server went away right after the
        write) the saved sample leaves the
        screen -- a second key press must not label it again -- and ``SavedButStalled`` tells
        the window it was saved; its ``resume`` loads the next sample."""
        try:
            then(cur)
        except (StoreWriteError, sqlite3.Error) as exc:
            self._current = None
            self.current_changed.emit(None)
            self._stalled = True
            raise SavedButStalled(exc, self._resume_after_stall) from exc

    def _resume_after_stall(self) -> None:
        self._advance()
        self._stalled = False
        self.labels_changed.emit()

    def _retry_stalled(self) -> None:
        """A key press while no sample is shown because loading the next one failed: try
        again (the press itself labels nothing); still failing, the banner stays."""
        if self._stalled:
            try:
                self._resume_after_stall()
            except (StoreWriteError, sqlite3.Error) as exc:
                raise SavedButStalled(exc, self._resume_after_stall) from exc

    def _advance(self, after: Current | None = None) -> None:
        while self._parked:
            back = self._parked.pop()
            if back.idx not in self._handled and not self._is_labeled(back.idx) and (
                    after is None or back.idx != after.idx):
                self._show(back.idx, None, back.source)
                return
        while self._queue:
            item = self._queue.pop(0)
            # claimed for this annotator (passed over: labeled or held by another annotator)
            if item.idx not in self._handled and (after is None or item.idx != after.idx) \
                    and (self.read_only or self.project.claim(item.id)):
                self._show(item.idx, item, "queue")
                self.queue_changed.emit(self.queue())
                return
        self.queue_changed.emit([])
        idx = self._fallback_index()
        if idx is None:
            self._current = None
            self.current_changed.emit(None)
            self.status_changed.emit("Every sample is labeled or skipped.")
            return
        self._show(idx, None, "fallback")
        if not self.runner.is_running(RETRAIN):
            self.request_retrain()

    def _is_labeled(self, idx: int) -> bool:
        """Sample ``idx`` has a label for some task (O(number of tasks))."""
        return any(idx in per for per in self.project.labels().values())

    def _fallback_index(self) -> int | None:
        """A random sample neither labeled nor handled here while no queue is ready (the view
        never waits); None when every sample is."""
        labels = list(self.project.labels().values())

        def done(i: int) -> bool:   # (or handed to another annotator)
            return i in self._handled or any(i in per for per in labels) or not (
                self.read_only or self.project.claim(self.project.ids[i]))

        n = self.project.n_samples
        if self.project.labeled_count() + len(self._handled) < n:
            for _ in range(64):
                idx = self._rng.randrange(n)
                if not done(idx):
                    return idx
        return next((i for i in range(n) if not done(i)), None)

    def _show(self, idx: int, item: QueueItem | None, source: str) -> None:
        # Queue items and fallback picks are unlabeled by construction; revisits look labels up.
        if (item is not None and source != "review") or source == "fallback":
            existing = {}
        elif source == "review":   # a reviewer sees the labels under review
            existing = {task: per[idx] for task, per in self.project.labels().items() if idx in per}
        else:   # a revisit; blind: {} on an overlap sample not labeled here
            existing = self.project.shown_labels(idx)
        suggestion = self.project.suggestion(idx) if item is None and source == "map" else {}
        self._current = Current(idx, self.project.sample(idx), item, existing, source, suggestion)
        self._decides: frozenset[str] | None = None
        self._shown_at = time.perf_counter()
        self.current_changed.emit(self._current)
