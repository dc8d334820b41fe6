"""The one place in the app that owns threads.

``TaskRunner`` runs module-level core functions (``fn(*args, progress=Progress)``) on a
``QThreadPool`` and reports back on the GUI thread with plain-data signals. Each job has a
*kind* ("retrain", "export", ...): a new request of a kind cancels the previous job of that
kind (``Progress.cancel()``) and the superseded job's result, error or progress is dropped,
so retrain requests never pile up (Orange3's ConcurrentWidgetMixin, pymeasure's Worker).
"""
from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from core.errors import ActiveLabError
from core.progress import Cancelled, Progress

log = logging.getLogger(__name__)


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


class _Bridge(QObject):
    """Carries a job's events from the pool thread to the GUI thread (queued signals)."""

    done = Signal(str, int, object)
    error = Signal(str, int, str)
    step = Signal(str, int, float, str)


class _Job(QRunnable):
    def __init__(self, kind: str, job_id: int, fn: Callable[..., Any], args: tuple, kwargs: dict,
                 progress: Progress, bridge: _Bridge) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.kind, self.job_id, self.fn = kind, job_id, fn
        self.args, self.kwargs, self.progress, self.bridge = args, kwargs, progress, bridge

    def run(self) -> None:  # pool thread
        torch = sys.modules.get("torch")  # imported late when a neural model was picked
        if torch is not None and torch.get_num_threads() > 1:
            torch.set_num_threads(1)
        try:
            result = self.fn(*self.args, progress=self.progress, **self.kwargs)
        except Cancelled:
            self.bridge.error.emit(self.kind, self.job_id, "")
            return
        except ActiveLabError as exc:
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
    """

    started = Signal(str)
    progress = Signal(str, float, str)
    finished = Signal(str, object)
    failed = Signal(str, str)

    def __init__(self, parent: QObject | None = None, max_threads: int = 2) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_threads)
        self._bridge = _Bridge(self)
        self._bridge.done.connect(self._on_job_done)
        self._bridge.error.connect(self._on_job_error)
        self._bridge.step.connect(self._on_job_step)
        self._jobs: dict[str, JobInfo] = {}
        self._next_id = 0

    def submit(self, kind: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
        """Run ``fn(*args, progress=..., **kwargs)`` in the pool; supersede the running ``kind``."""
        self.cancel(kind)
        self._next_id += 1
        job_id = self._next_id
        bridge = self._bridge

        def report(fraction: float, message: str) -> None:
            bridge.step.emit(kind, job_id, fraction, message)

        progress = Progress(report)
        self._jobs[kind] = JobInfo(kind, job_id, progress, time.perf_counter())
        self._pool.start(_Job(kind, job_id, fn, args, kwargs, progress, bridge))
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
        """Cancel everything and wait for the pool threads (call when the window closes)."""
        for kind in list(self._jobs):
            self.cancel(kind)
        return self._pool.waitForDone(wait_ms)

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
