"""The one place in the app that owns threads and the training process.

``TaskRunner`` runs module-level core functions (``fn(*args, progress=Progress)``) on a
``QThreadPool`` and reports back on the GUI thread with plain-data signals. Each job has a
*kind* ("retrain", "export", ...): a new request of a kind cancels the previous job of that
kind (``Progress.cancel()``) and the superseded job's result, error or progress is dropped,
so retrain requests never pile up (Orange3's ConcurrentWidgetMixin, pymeasure's Worker).

A job may also name a ``ProcessCall``: it then runs in one long-lived ``spawn`` child process
(``TrainingProcess``) so its Python-level work never holds this process's GIL while the expert
labels; a pool thread only waits for it. A superseded process job is cancelled through a shared
board of job ids (the child stops at its next progress check) and its result is dropped. If
the child cannot start or dies, the job and the ones after it run in a thread instead
(``TaskRunner.process_problem`` says why). ``ACTIVELAB_RETRAIN_IN_PROCESS=0`` or
``TaskRunner(use_processes=False)`` chooses threads (tests that monkeypatch a model do).
"""
from __future__ import annotations

import gc
import logging
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal, Slot

from activelab.core.loop import retrain_process
from activelab.core.errors import ActiveLabError
from activelab.core.progress import Cancelled, Progress

if TYPE_CHECKING:  # multiprocessing and concurrent.futures load with the first process job
    from concurrent.futures import ProcessPoolExecutor

log = logging.getLogger(__name__)
PROCESS_ENV = "ACTIVELAB_RETRAIN_IN_PROCESS"

__all__ = ["PROCESS_ENV", "ProcessCall", "TaskRunner", "TrainingProcess", "freeze_loaded_objects",
           "limit_compute_threads"]


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


@dataclass(frozen=True)
class ProcessCall:
    """A job for the training process: a module-level function and plain-data arguments."""

    fn: Callable[..., Any]
    args: tuple


class RemoteError(Exception):
    """An unexpected exception in the training process, as its message ("Type: message")."""


class ProcessUnavailable(Exception):
    """The training process could not run the job (not started, died, or could not pickle)."""


class TrainingProcess:
    """One long-lived ``spawn`` child (never fork a Qt process) that runs ``ProcessCall`` jobs.

    Started lazily (``warm_up`` starts it in the background and imports sklearn and the loop
    there); the child keeps BLAS/OpenMP/torch at one thread. Cancelling writes the job id on a
    shared board the child's ``Progress`` reads. After the child dies ``problem`` says why and
    every later job runs in a thread.
    """

    POLL_S = 0.05

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        self._board: Any = None          # shared RawArray of cancelled job ids (the child reads it)
        self._slot = 0
        self._running: set[int] = set()
        self.problem: str | None = None
        self.pid: int | None = None
        self._closed = False           # shut down: no new child (the window has closed)

    def _ensure(self) -> ProcessPoolExecutor:
        with self._lock:
            if self.problem is not None or self._closed:
                raise ProcessUnavailable(self.problem or "the training process was shut down")
            if self._executor is None:
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                try:
                    ctx = multiprocessing.get_context("spawn")
                    self._board = ctx.RawArray("q", 16)   # no lock: one writer, int64 slots
                    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                        os.environ.setdefault(var, "1")   # inherited by the child
                    self._executor = ProcessPoolExecutor(
                        max_workers=1, mp_context=ctx, initializer=retrain_process.init_child,
                        initargs=(self._board,))
                except (OSError, ValueError, RuntimeError) as exc:
                    self.problem = f"the training process could not start ({exc})"
                    raise ProcessUnavailable(self.problem) from exc
            return self._executor

    def warm_up(self) -> None:
        """Start the child and import the training code in it, without blocking the caller."""
        def run() -> None:
            try:
                self.pid = self._ensure().submit(retrain_process.warm_up).result()
            except ProcessUnavailable:
                pass
            except Exception as exc:  # noqa: BLE001 - a dead child is reported, never raised here
                self._broken(exc)

        threading.Thread(target=run, name="activelab-process-warm-up", daemon=True).start()

    def run(self, job_id: int, call: ProcessCall, progress: Progress) -> Any:
        """Run ``call`` in the child and wait (pool thread); raises ``Cancelled`` when
        ``progress`` is cancelled, ``ProcessUnavailable`` when the child cannot run it."""
        from concurrent.futures import CancelledError
        from concurrent.futures import TimeoutError as FutureTimeout
        from concurrent.futures.process import BrokenProcessPool

        executor = self._ensure()
        self._running.add(job_id)
        try:
            future = executor.submit(retrain_process.run_job, job_id, call.fn, call.args)
            while True:
                try:
                    outcome = future.result(timeout=self.POLL_S)
                    break
                except FutureTimeout:
                    if progress.cancelled:
                        self.cancel(job_id)
                        future.cancel()
                        raise Cancelled() from None
        except (Cancelled, ProcessUnavailable):
            raise
        except Exception as exc:  # noqa: BLE001 - BrokenProcessPool, pickling: use a thread
            progress.check()
            if isinstance(exc, CancelledError):
                raise Cancelled() from None
            if isinstance(exc, BrokenProcessPool):
                self._broken(exc)
            raise ProcessUnavailable(f"{type(exc).__name__}: {exc}") from exc
        finally:
            self._running.discard(job_id)
        if outcome.status == "ok":
            return outcome.result
        if outcome.status == "cancelled":
            raise Cancelled()
        if outcome.status == "user_error":
            raise ActiveLabError(outcome.message)
        log.error("training process job failed:\n%s", outcome.details)
        raise RemoteError(outcome.message)

    def cancel(self, job_id: int) -> None:
        """Tell the child to stop ``job_id`` at its next progress check."""
        board = self._board
        if board is not None:
            with self._lock:
                board[self._slot % len(board)] = job_id
                self._slot += 1

    def _broken(self, exc: BaseException) -> None:
        self.problem = f"the training process stopped ({type(exc).__name__}: {exc})"
        log.warning("%s; retraining in a thread from now on", self.problem)
        self.shutdown(wait_s=0.0)

    def shutdown(self, wait_s: float = 1.5) -> None:
        """Stop the child (cancelling what it runs) for good; terminate it if it does not exit
        in time. Later jobs run in a thread."""
        with self._lock:
            executor, self._executor = self._executor, None
            self._closed = True
        if executor is None:
            return
        for job_id in list(self._running):
            self.cancel(job_id)
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for proc in processes:
            proc.join(wait_s)
            if proc.is_alive():
                proc.terminate()
                proc.join(1.0)
        self.pid = None


class _Bridge(QObject):
    """Carries a job's events from the pool thread to the GUI thread (queued signals)."""

    done = Signal(str, int, object)
    error = Signal(str, int, str)
    step = Signal(str, int, float, str)


class _Job(QRunnable):
    def __init__(self, kind: str, job_id: int, fn: Callable[..., Any], args: tuple, kwargs: dict,
                 progress: Progress, bridge: _Bridge, call: ProcessCall | None = None,
                 process: TrainingProcess | None = None) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.kind, self.job_id, self.fn = kind, job_id, fn
        self.args, self.kwargs, self.progress, self.bridge = args, kwargs, progress, bridge
        self.call, self.process = call, process

    def _execute(self) -> Any:
        if self.call is not None and self.process is not None:
            try:
                return self.process.run(self.job_id, self.call, self.progress)
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
        except (ActiveLabError, RemoteError) as exc:   # RemoteError: already "Type: message"
            self.bridge.error.emit(self.kind, self.job_id, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - any worker crash must reach the user, not kill the app
            log.error("worker job %s failed:\n%s", self.kind, traceback.format_exc())
            self.bridge.error.emit(self.kind, self.job_id, f"{type(exc).__name__}: {exc}")
            return
        self.bridge.done.emit(self.kind, self.job_id, result)


@dataclass
class JobInfo:
    kind: str
    job_id: int
    progress: Progress
    started: float


class TaskRunner(QObject):
    """Runs background jobs by kind; newest request of a kind wins.

    Signals (GUI thread, plain data): ``started(kind)``, ``progress(kind, fraction, message)``,
    ``finished(kind, result)``, ``failed(kind, message)``. A cancelled job emits nothing.
    ``use_processes``: None follows ``ACTIVELAB_RETRAIN_IN_PROCESS`` (on unless "0").
    """

    started = Signal(str)
    progress = Signal(str, float, str)
    finished = Signal(str, object)
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None, max_threads: int = 2,
                 use_processes: bool | None = None) -> None:
        super().__init__(parent)
        self._use_processes = use_processes
        self.training_process = TrainingProcess()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self._on_app_about_to_quit)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._bridge = _Bridge(self)
        self._bridge.done.connect(self._on_job_done)
        self._bridge.error.connect(self._on_job_error)
        self._bridge.step.connect(self._on_job_step)
        self._jobs: dict[str, JobInfo] = {}
        self._next_id = 0

    def uses_processes(self) -> bool:
        """Whether jobs that name a ``ProcessCall`` go to the training process."""
        if self._use_processes is not None:
            return self._use_processes
        return os.environ.get(PROCESS_ENV, "1").strip().lower() not in ("0", "false", "no", "off")

    @property
    def process_problem(self) -> str | None:
        """Why process jobs run in a thread now (the child could not start or died), or None."""
        return self.training_process.problem if self.uses_processes() else None

    def warm_up_process(self) -> None:
        """Start the training process in the background and import what a retrain needs."""
        if self.uses_processes():
            self.training_process.warm_up()

    def submit(self, kind: str, fn: Callable[..., Any], *args: Any,
               in_process: ProcessCall | None = None, **kwargs: Any) -> int:
        """Run ``fn(*args, progress=..., **kwargs)`` in the pool; supersede the running ``kind``.

        With ``in_process`` (and processes enabled) the job runs that call in the training
        process instead; ``fn(*args)`` is the fallback when the process is unavailable."""
        self.cancel(kind)
        self._next_id += 1
        job_id = self._next_id
        bridge = self._bridge

        def report(fraction: float, message: str) -> None:
            bridge.step.emit(kind, job_id, fraction, message)

        progress = Progress(report)
        self._jobs[kind] = JobInfo(kind, job_id, progress, time.perf_counter())
        process = self.training_process if in_process is not None and self.uses_processes() else None
        self._pool.start(_Job(kind, job_id, fn, args, kwargs, progress, bridge, in_process, process))
        self.started.emit(kind)
        return job_id

    def cancel(self, kind: str) -> None:
        """Cancel the job of ``kind`` (if any); whatever it still reports is dropped."""
        info = self._jobs.pop(kind, None)
        if info is not None:
            info.progress.cancel()

    def is_running(self, kind: str) -> bool:
        return kind in self._jobs

    def elapsed(self, kind: str) -> float | None:
        """Seconds since the current job of ``kind`` started, or None."""
        info = self._jobs.get(kind)
        return None if info is None else time.perf_counter() - info.started

    def shutdown(self, wait_ms: int = 5000) -> bool:
        """Cancel everything, stop the training process and wait for the pool threads (call
        when the window closes)."""
        for kind in list(self._jobs):
            self.cancel(kind)
        self.training_process.shutdown(wait_s=min(1.5, wait_ms / 1000))
        gc.unfreeze()   # the closed window's objects may be collected again
        return self._pool.waitForDone(wait_ms)

    @Slot()
    def _on_app_about_to_quit(self) -> None:
        self.shutdown(wait_ms=3000)

    def _current(self, kind: str, job_id: int) -> bool:
        info = self._jobs.get(kind)
        return info is not None and info.job_id == job_id

    @Slot(str, int, object)
    def _on_job_done(self, kind: str, job_id: int, result: object) -> None:
        if self._current(kind, job_id):
            del self._jobs[kind]
            self.finished.emit(kind, result)

    @Slot(str, int, str)
    def _on_job_error(self, kind: str, job_id: int, message: str) -> None:
        if self._current(kind, job_id):
            del self._jobs[kind]
            if message:
                self.failed.emit(kind, message)

    @Slot(str, int, float, str)
    def _on_job_step(self, kind: str, job_id: int, fraction: float, message: str) -> None:
        if self._current(kind, job_id):
            self.progress.emit(kind, fraction, message)
