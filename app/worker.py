"""The one place in the app that owns threads; it adapts the training process to signals.

``TaskRunner.submit(kind, fn, *args)`` runs a module-level core function
(``fn(*args, progress=Progress)``) on a ``QThreadPool`` and returns a ``JobHandle``: that job's
own ``finished(result)``, ``failed(message)`` and ``progress(fraction, message)`` signals, emitted
on the GUI thread with plain data. A new request of a kind cancels the previous job of that kind
(``Progress.cancel()``); a superseded or cancelled job emits nothing more, so retrain requests
never pile up (Orange3's ConcurrentWidgetMixin, pymeasure's Worker).

A job may also name a ``ProcessCall`` (``in_process=``): it then runs in the training process
(``activelab.core.loop.training_process.TrainingProcess``, plain Python) and a pool thread only
waits for it. That process lives and dies with the app, is restarted when it dies, abandons a
job over its ``timeout_s``, and after repeated failures hands jobs back to a thread
(``TaskRunner.process_note`` says what the status line should). ``ACTIVELAB_RETRAIN_IN_PROCESS=0``
or ``TaskRunner(use_processes=False)`` chooses threads (tests that monkeypatch a model do).
"""
from __future__ import annotations

import gc
import logging
import os
import sys
import time
import traceback
from typing import Any, Callable

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from activelab.core.errors import ActiveLabError
from activelab.core.loop.training_process import (
    ProcessCall,
    ProcessFailed,
    ProcessUnavailable,
    RemoteError,
    TrainingProcess,
    describe_duration,
)
from activelab.core.progress import Cancelled, Progress

log = logging.getLogger(__name__)
PROCESS_ENV = "ACTIVELAB_RETRAIN_IN_PROCESS"
OVERDUE_GRACE_S = TrainingProcess.CANCEL_GRACE_S + 2.0   # the process enforces its own limit first

__all__ = ["JobHandle", "PROCESS_ENV", "TaskRunner", "freeze_loaded_objects", "limit_compute_threads"]


def limit_compute_threads(n: int = 1) -> None:
    """Keep BLAS/OpenMP/torch to ``n`` threads and switch the GIL often, so training never starves the UI."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(n))
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=n)
    except ImportError:  # threadpoolctl is a dependency; tolerate its absence in odd envs
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(n)
    # A training thread running Python code holds the GIL; hand it back to the GUI thread
    # every 1 ms instead of 5 ms so a key press is handled within a frame.
    sys.setswitchinterval(0.001)


def freeze_loaded_objects() -> None:
    """Exempt the objects alive now (a loaded project: ids, store state, widgets) from the
    cyclic garbage collector; a full collection over them paused the GUI ~110 ms on the
    60,000-image pool. Call once the window is loaded. Objects freed by reference counting
    are still freed. Constant time (no collection now, which would itself pause);
    ``TaskRunner.shutdown`` (the window closes) hands them back to the collector."""
    gc.freeze()


class JobHandle(QObject):
    """One submitted job. Its signals fire on the GUI thread, for this job only:
    ``finished(result)``, ``failed(message)`` (a message for the user), ``progress(fraction,
    message)``. A job that is cancelled or superseded emits nothing more."""

    finished = Signal(object)
    failed = Signal(str)
    progress = Signal(float, str)

    def __init__(self, runner: TaskRunner, kind: str, job_id: int, progress: Progress) -> None:
        super().__init__()
        self.kind, self.job_id = kind, job_id
        self.started = time.perf_counter()
        self._runner = runner
        self._progress = progress

    def elapsed(self) -> float:
        """Seconds since the job was submitted."""
        return time.perf_counter() - self.started

    def is_running(self) -> bool:
        """Submitted and neither ended, cancelled nor superseded."""
        return self._runner._jobs.get(self.kind) is self

    def cancel(self) -> None:
        """Stop this job (at its next progress check); it reports nothing more."""
        if self.is_running():
            self._runner.cancel(self.kind)
        else:
            self._progress.cancel()


class _Bridge(QObject):
    """Carries a job's events from its pool thread to the GUI thread (queued signals)."""

    done = Signal(str, int, object)
    error = Signal(str, int, str)
    step = Signal(str, int, float, str)


class _Job(QRunnable):
    def __init__(self, kind: str, job_id: int, fn: Callable[..., Any], args: tuple, kwargs: dict,
                 progress: Progress, bridge: _Bridge, call: ProcessCall | None = None,
                 process: TrainingProcess | None = None, timeout_s: float | None = None) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.kind, self.job_id, self.fn = kind, job_id, fn
        self.args, self.kwargs, self.progress, self.bridge = args, kwargs, progress, bridge
        self.call, self.process, self.timeout_s = call, process, timeout_s

    def _execute(self) -> Any:
        if self.call is not None and self.process is not None:
            try:
                return self.process.run(self.job_id, self.call, self.progress, self.timeout_s)
            except ProcessUnavailable as exc:   # run it here instead; nothing is lost
                log.warning("job %s runs in a thread: %s", self.kind, exc)
                self.progress.check()
        torch = sys.modules.get("torch")  # imported late when a neural model was picked
        if torch is not None and torch.get_num_threads() > 1:
            torch.set_num_threads(1)
        return self.fn(*self.args, progress=self.progress, **self.kwargs)

    def run(self) -> None:  # pool thread
        try:
            result = self._execute()
        except Cancelled:
            self.bridge.error.emit(self.kind, self.job_id, "")
            return
        except (ActiveLabError, RemoteError, ProcessFailed) as exc:   # already a message for the user
            self.bridge.error.emit(self.kind, self.job_id, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - any worker crash must reach the user, not kill the app
            log.error("worker job %s failed:\n%s", self.kind, traceback.format_exc())
            self.bridge.error.emit(self.kind, self.job_id, f"{type(exc).__name__}: {exc}")
            return
        self.bridge.done.emit(self.kind, self.job_id, result)


class TaskRunner(QObject):
    """Runs background jobs by kind; the newest request of a kind wins (see the module doc).

    ``use_processes``: None follows ``ACTIVELAB_RETRAIN_IN_PROCESS`` (on unless "0").
    """

    def __init__(self, parent: QObject | None = None, max_threads: int = 2,
                 use_processes: bool | None = None) -> None:
        super().__init__(parent)
        self._use_processes = use_processes
        self.training_process = TrainingProcess()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._on_app_about_to_quit)
        self._pool = QThreadPool(self)          # jobs that compute here
        self._pool.setMaxThreadCount(max_threads)
        self._waiters = QThreadPool(self)       # jobs that wait for the training process
        self._waiters.setMaxThreadCount(4)
        self._bridge = _Bridge(self)
        self._bridge.done.connect(self._on_job_done)
        self._bridge.error.connect(self._on_job_error)
        self._bridge.step.connect(self._on_job_step)
        self._jobs: dict[str, JobHandle] = {}
        self._next_id = 0

    def uses_processes(self) -> bool:
        """Whether jobs that name a ``ProcessCall`` go to the training process."""
        if self._use_processes is not None:
            return self._use_processes
        return os.environ.get(PROCESS_ENV, "1").strip().lower() not in ("0", "false", "no", "off")

    @property
    def process_problem(self) -> str | None:
        """Why process jobs run in a thread now (repeated failures), or None."""
        return self.training_process.problem if self.uses_processes() else None

    @property
    def process_note(self) -> str | None:
        """What the status line adds about where retrains run ("in a thread: …", "training
        process restarted: …"), or None."""
        return self.training_process.note() if self.uses_processes() else None

    def warm_up_process(self) -> None:
        """Start the training process in the background and import what a retrain needs."""
        if self.uses_processes():
            self.training_process.warm_up()

    def submit(self, kind: str, fn: Callable[..., Any], *args: Any,
               in_process: ProcessCall | None = None, timeout_s: float | None = None,
               **kwargs: Any) -> JobHandle:
        """Run ``fn(*args, progress=..., **kwargs)`` in the pool; supersede the running ``kind``.
        Returns the job's handle; connect to its signals before control returns to the event loop.

        With ``in_process`` (and processes enabled) the job runs that call in the training
        process instead; ``fn(*args)`` is the fallback when the process is unavailable.
        ``timeout_s``: the job is abandoned after this long and fails with a message saying so
        (in the training process, the process is killed and restarted)."""
        self.cancel(kind)
        self._next_id += 1
        job_id = self._next_id
        bridge = self._bridge

        def report(fraction: float, message: str) -> None:
            bridge.step.emit(kind, job_id, fraction, message)

        progress = Progress(report)
        handle = JobHandle(self, kind, job_id, progress)
        self._jobs[kind] = handle
        process = self.training_process if in_process is not None and self.uses_processes() else None
        pool = self._waiters if process is not None else self._pool
        pool.start(_Job(kind, job_id, fn, args, kwargs, progress, bridge, in_process, process, timeout_s))
        if timeout_s is not None:   # a job running in a thread cannot be killed: it is abandoned
            QTimer.singleShot(int((timeout_s + OVERDUE_GRACE_S) * 1000), handle,
                              lambda: self._on_job_overdue(handle, timeout_s))
        return handle

    def cancel(self, kind: str) -> None:
        """Cancel the job of ``kind`` (if any); whatever it still reports is dropped."""
        handle = self._jobs.pop(kind, None)
        if handle is not None:
            handle._progress.cancel()

    def current(self, kind: str) -> JobHandle | None:
        """The running job of ``kind``, or None."""
        return self._jobs.get(kind)

    def is_running(self, kind: str) -> bool:
        return kind in self._jobs

    def elapsed(self, kind: str) -> float | None:
        """Seconds since the current job of ``kind`` started, or None."""
        handle = self._jobs.get(kind)
        return None if handle is None else handle.elapsed()

    def shutdown(self, wait_ms: int = 500) -> bool:
        """Cancel everything and kill the training process at once (call when the window
        closes; everything the user did is already saved). Waits up to ``wait_ms`` for the pool
        threads to notice; True when they have all ended."""
        for kind in list(self._jobs):
            self.cancel(kind)
        self.training_process.shutdown()
        gc.unfreeze()   # the closed window's objects may be collected again
        deadline = time.perf_counter() + wait_ms / 1000
        done = self._waiters.waitForDone(wait_ms)
        left_ms = max(0, int((deadline - time.perf_counter()) * 1000))
        return self._pool.waitForDone(left_ms) and done

    @Slot()
    def _on_app_about_to_quit(self) -> None:
        self.shutdown()

    def _take(self, kind: str, job_id: int) -> JobHandle | None:
        """The current handle of ``kind`` if it is job ``job_id`` (then no longer running)."""
        handle = self._jobs.get(kind)
        if handle is None or handle.job_id != job_id:
            return None
        del self._jobs[kind]
        return handle

    @Slot(str, int, object)
    def _on_job_done(self, kind: str, job_id: int, result: object) -> None:
        handle = self._take(kind, job_id)
        if handle is not None:
            handle.finished.emit(result)

    @Slot(str, int, str)
    def _on_job_error(self, kind: str, job_id: int, message: str) -> None:
        handle = self._take(kind, job_id)
        if handle is not None and message:
            handle.failed.emit(message)

    @Slot(str, int, float, str)
    def _on_job_step(self, kind: str, job_id: int, fraction: float, message: str) -> None:
        handle = self._jobs.get(kind)
        if handle is not None and handle.job_id == job_id:
            handle.progress.emit(fraction, message)

    def _on_job_overdue(self, handle: JobHandle, timeout_s: float) -> None:
        if self._take(handle.kind, handle.job_id) is handle:
            handle._progress.cancel()
            handle.failed.emit(f"the {handle.kind.replace('_', ' ')} took longer than "
                               f"{describe_duration(timeout_s)} (the time limit) and was abandoned")
