"""The controller's model side: loading the pool features, retrain requests in the worker,
installing their results, and what the status line says meanwhile. Mixed into
``LabelingController`` (the labeling flow); split out so each module has one responsibility.

Needs from the host: project, runner, read_only, _ready, _pending_retrain,
_rebuild_only, _running_rebuild, _since_retrain, _labels_at_request, _features_problem,
_ticker, _queue, _handled, _current, _advance(), _is_labeled(), queue(), and the
host's signals.

After a retrain the queue that came back with the result (``project.install``) is used as it
is: nothing is read again from the store.
"""
from __future__ import annotations

import dataclasses
import sqlite3
from typing import Any

from PySide6.QtCore import Slot

from activelab.app.worker import freeze_loaded_objects
from activelab.app.write_failures import WRITE_ERRORS, describe_write_failure
from activelab.core.errors import ActiveLabError, StoreWriteError
from activelab.core.learning.cv_readiness import plural
from activelab.core.loop.cycle import RetrainResult
from activelab.core.records import CurvePoint, QueueItem
from activelab.core.loop.pool_warm_up import warm_up_pool
from activelab.core.loop.training_process import ProcessCall, retrain_timeout_s

RETRAIN = "retrain"
WARM_UP = "warm_up"


class RetrainControl:
    """Features, retrains and their results for ``LabelingController`` (see the module doc)."""

    @property
    def ready(self) -> bool:
        """The pool features are loaded (retrains can start)."""
        return self._ready

    @property
    def features_problem(self) -> str | None:
        """Why the pool features could not be loaded (retrains are off), or None."""
        return self._features_problem

    def load_features(self) -> None:
        """Load the pool features in the background (again, after a failure); retrains wait."""
        self.set_ready(False)
        job = self.runner.submit(WARM_UP, warm_up_pool, self.project)
        job.finished.connect(self._on_warm_up_finished)
        job.failed.connect(self._on_warm_up_failed)
        self._ticker.start()
        self._on_ticker_timeout()

    def set_ready(self, ready: bool) -> None:
        """Features are loaded (by a worker job); a retrain asked for meanwhile starts now."""
        self._ready = ready
        self._features_problem = None
        if ready:
            freeze_loaded_objects()   # no long GC pause over the loaded pool while labeling
        if ready and self._pending_retrain:
            self._pending_retrain = False
            self.request_retrain(rebuild=self._rebuild_only)
        elif ready and not self.runner.is_running(RETRAIN):
            try:
                line = self._model_line()   # the loading line is over
            except (StoreWriteError, sqlite3.Error) as exc:   # a team server gone meanwhile
                line = "Model status not read: " + describe_write_failure(
                    exc, None, "status").message
            self.status_changed.emit(line)

    def request_retrain(self, supersede: bool = True, rebuild: bool = False) -> None:
        """Retrain on a snapshot in the worker.

        ``supersede`` (Retrain now, changed settings) cancels a running retrain. Automatic
        requests while one runs are coalesced into one follow-up run started when it ends, so a
        fast expert still gets fresh models and requests never pile up. ``rebuild`` (on
        reopening) rebuilds the model of unchanged labels without replacing the queue.
        """
        if self.read_only and not rebuild:
            self.status_changed.emit("Read-only project: the model is not retrained (its results "
                                     "could not be saved).")
            return
        if self._features_problem is not None:
            self.status_changed.emit("No retraining: the pool features could not be loaded "
                                     "(see the banner; Retry loads them again).")
            return
        self._rebuild_only = rebuild and (self._rebuild_only or not self._pending_retrain)
        if not self._ready:
            self._pending_retrain = True
            self._on_ticker_timeout()   # "Loading the pool features…"
            return
        if not supersede and self.runner.is_running(RETRAIN):
            self._pending_retrain = True
            self._since_retrain = 0
            return
        self._pending_retrain = False
        self._running_rebuild, self._rebuild_only = self._rebuild_only, False
        try:
            snapshot = self.project.training_snapshot()
        except WRITE_ERRORS as exc:   # features rebuilt here may fail to be saved, too
            self.error_occurred.emit(describe_write_failure(exc, self.project.path, "features fingerprint").message)
            return
        fn = self.project.retrain_function()
        self._since_retrain = 0
        self._labels_at_request = self.project.labeled_count()
        job = self.runner.submit(RETRAIN, fn, snapshot, in_process=self._process_call(snapshot),
                                 timeout_s=retrain_timeout_s())
        job.finished.connect(self._on_retrain_finished)
        job.failed.connect(self._on_retrain_failed)
        self.retrain_running.emit(True)
        self._ticker.start()
        self._on_ticker_timeout()

    def _process_call(self, snapshot: Any) -> ProcessCall | None:
        """The retrain as a training-process job (the project's request: features re-opened
        from its cache there), or None: it runs in a thread."""
        if not self.runner.uses_processes():
            return None
        request = self.project.retrain_request(snapshot)
        if request is None:
            return None
        from activelab.core.loop import retrain_process

        return ProcessCall(retrain_process.retrain_from_request, (request,))

    def _process_note(self) -> str:
        note = self.runner.process_note
        return f" ({note})" if note else ""

    def _model_line(self) -> str:
        v = self.project.model_version
        n = self.project.labeled_count()
        if v == 0:
            return f"No model yet · {n} labeled · " + self._first_model_wait()
        return f"Model v{v} · {n} labeled"

    def _first_model_wait(self) -> str:
        """What the first model waits for, by the retrain rule: a retrain every
        ``settings.retrain_every`` labels (or when the queue runs low), and a model only once
        some task has two classes labeled."""
        if self.runner.is_running(RETRAIN) or self._pending_retrain:
            return "the first model is being trained"
        every = max(1, int(self.project.settings.retrain_every))
        more = max(1, every - self._since_retrain)
        when = f"after {plural(more, 'more label')}"
        counts = self.project.class_counts()
        if not any(sum(1 for c in per.values() if c > 0) >= 2 for per in counts.values()):
            return f"a model needs two classes of a task labeled (next retrain {when})"
        return f"first model {when}"

    @Slot()
    def _on_ticker_timeout(self) -> None:
        elapsed = self.runner.elapsed(RETRAIN)
        if elapsed is None:
            loading = self.runner.elapsed(WARM_UP)
            if loading is None or self._ready:
                self._ticker.stop()
            elif self._pending_retrain or loading >= 1.0:
                # A damaged or missing cache is rebuilt meanwhile: say it is still going.
                self.status_changed.emit(f"Loading the pool features… {loading:.0f} s "
                                         "(labeling works meanwhile)")
            return
        v = self.project.model_version + 1
        self.status_changed.emit(
            f"training model v{v} on {plural(self._labels_at_request, 'label')}… {elapsed:.1f} s"
            + self._process_note()
        )

    @Slot(object)
    def _on_warm_up_finished(self, result: object) -> None:
        self.set_ready(True)
        self.features_loaded.emit(result)

    @Slot(object)
    def _on_retrain_finished(self, result: object) -> None:
        self._ticker.stop()
        self.retrain_running.emit(False)
        rebuild, self._running_rebuild = self._running_rebuild, False
        try:
            installed = self.project.install(result, keep_queue=rebuild)
        except (StoreWriteError, sqlite3.Error, OSError) as exc:
            self._on_install_write_failed(result, exc, rebuild)
            return
        except ActiveLabError as exc:
            self._on_retrain_failed(str(exc))
            return
        finally:
            self._start_pending()
        self.model_installed.emit()
        point = installed.point
        if rebuild:   # reopened: the model is back, the queue the expert left stays
            if point is not None:
                self.model_updated.emit(point)
            self.status_changed.emit(self._model_line())
            return
        fresh_queue = self._use_queue(installed.queue)
        if point is not None:
            self.model_updated.emit(point)
        if self._current is None:
            self._advance()
        elif self._current.item is not None:
            fresh = {q.idx: q for q in fresh_queue}.get(self._current.idx)
            if fresh is not None:  # same sample, newer suggestion and score
                self._current = dataclasses.replace(self._current, item=fresh)
                self.current_changed.emit(self._current)
        message = result.message or "model updated"
        line = (self._point_line(point) if point is not None else self._model_line()
                if self.project.model_version == 0 else message[:1].upper() + message[1:])
        self.status_changed.emit(line + self._process_note())

    def _use_queue(self, queue: Any) -> list[QueueItem]:
        """Take a retrain's queue as the one to come, minus the samples labeled since its
        snapshot (or skipped here) and the one on screen (O(queue length)). Returns it without
        the labeled and skipped ones."""
        fresh = [q for q in queue if q.idx not in self._handled and not self._is_labeled(q.idx)]
        shown = self._current.idx if self._current is not None else None
        self._handled.clear()
        self._queue = [q for q in fresh if q.idx != shown]
        self.queue_changed.emit(self.queue())
        return fresh

    def _point_line(self, point: CurvePoint) -> str:
        parts = [f"Model v{point.version} trained on {plural(point.n_labels, 'label')} in "
                 f"{point.train_seconds:.1f} s"]
        if point.cv_accuracy is not None:
            parts.append(f"CV accuracy {point.cv_accuracy:.2f}")
        if point.audit_accuracy is not None and point.audit_n:
            parts.append(f"audit {point.audit_accuracy:.2f} (n={point.audit_n})")
        return " · ".join(parts)

    def _on_install_write_failed(self, result: RetrainResult, exc: BaseException, rebuild: bool) -> None:
        """The model was trained but its curve point or queue did not land: keep the model and
        its queue in memory (labels carry their provenance from the queue item), say why."""
        failure = describe_write_failure(exc, self.project.path, "the new model's curve point and queue")
        if self.project.model_state() is not None:
            self.model_installed.emit()
        if result.queue and not rebuild:
            self._use_queue(result.queue)
            if self._current is None:
                self._advance()
        if self.read_only:   # a rebuilt model of a read-only project: nothing to save, nothing to say
            self.status_changed.emit(self._model_line())
            return
        self.status_changed.emit("Model trained, but its results were NOT saved — labeling continues "
                                 "(see the banner).")
        self.write_failed.emit(failure.message + " The next retrain saves them again.")

    @Slot(str)
    def _on_warm_up_failed(self, message: str) -> None:
        self._ready = False
        self._pending_retrain = False
        self._features_problem = message
        self.status_changed.emit("The pool features could not be loaded — labeling continues; "
                                 "the model is not retrained (see the banner).")
        self.features_failed.emit(message)

    @Slot(str)
    def _on_retrain_failed(self, message: str) -> None:
        self._ticker.stop()
        self.retrain_running.emit(False)
        v = self.project.model_version
        keep = f"labeling continues with model v{v}" if v else "labeling continues without a model"
        self.status_changed.emit(f"Retrain failed — {keep}.")
        self.error_occurred.emit(f"Retraining failed: {message}")
        self._start_pending()

    def _start_pending(self) -> None:
        """Start the coalesced follow-up retrain, if labels arrived while one was running, now:
        no turn of the event loop may see "no retrain running" while one is still owed."""
        if self._pending_retrain and self._ready and not self.runner.is_running(RETRAIN):
            self.request_retrain()
