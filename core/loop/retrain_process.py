"""Retraining in a separate process: the child side, its wire format, and the plain-data request.

A retrain in a thread of the GUI process holds the GIL for the Python-level work between
numpy/sklearn releases, and key presses wait behind it. In a child process it cannot. The parent
side (``activelab.core.loop.training_process.TrainingProcess``) starts this module as
``python -P -m activelab.core.loop.retrain_process PARENT_PID`` and talks to it over the child's
stdin/stdout in length-prefixed pickle frames (``write_frame`` / ``read_frame``).

The child lives only as long as its parent: a thread blocks on stdin, which reaches EOF when the
parent ends for any reason (quit, crash, SIGTERM, SIGKILL); a second thread notices the parent's
pid changing (a process that inherited the pipe would otherwise keep it open). Either ends the
child's whole process group (the parent starts it as a session leader), so nothing the child
started outlives it either.

Nothing large crosses the boundary per retrain: ``retrain_request`` copies the snapshot without
its feature set and names the project's feature cache instead; the child re-opens the cached,
memory-mapped features with ``activelab.core.features.build.load_cached_features`` (and keeps them for the next
request). The previous model (for warm starts) goes without its pool outputs. Errors come back
as messages (``JobOutcome``), never as pickled exception objects.

This module imports no numpy at import time, so ``main`` sets the thread counts before any
BLAS/OpenMP library loads in the child.
"""
from __future__ import annotations

import os
import pickle
import queue
import signal
import struct
import sys
import threading
import time
import traceback
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from activelab.core.errors import ActiveLabError, DataError   # no numpy behind these two
from activelab.core.progress import Cancelled, Progress

CHILD_NICENESS = 10
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
PARENT_POLL_S = 0.5          # how often the child checks that its parent is still the same
PROGRESS_EVERY_S = 0.1       # the child sends at most this many progress frames per second
_HEADER = struct.Struct("!Q")

_cancelled: set[int] = set()                 # job ids the parent cancelled (child)
_features: dict[tuple[str, str], Any] = {}  # (cache_dir, fingerprint) -> FeatureSet (child)


@dataclass(frozen=True)
class RetrainRequest:
    """A ``activelab.core.loop.cycle.Snapshot`` without its features, plus where the child finds them."""

    snapshot: Any        # activelab.core.loop.cycle.Snapshot with features=None
    cache_dir: str
    fingerprint: str


@dataclass(frozen=True)
class JobOutcome:
    """What a child job sends back: a result, or an error as text (plain data)."""

    status: str              # "ok" | "cancelled" | "user_error" | "error"
    result: Any = None
    message: str = ""
    details: str = ""        # the child's traceback, for the log


def retrain_request(snapshot: Any, cache_dir: str | Path | None) -> RetrainRequest | None:
    """The plain-data request for ``snapshot``, or None when its features are not in a cache
    folder the child can open (then the caller retrains in a thread)."""
    features = getattr(snapshot, "features", None)
    fingerprint = getattr(features, "fingerprint", None)
    if cache_dir is None or not fingerprint:
        return None
    from activelab.core.features.build import _cache_folder

    if not (_cache_folder(cache_dir, fingerprint) / "meta.json").is_file():
        return None
    previous = snapshot.previous
    if previous is not None:   # warm starts need the fitted models, not the pool outputs
        previous = replace(previous, proba={}, embeddings=None)
        _drop_memos(previous)
    slim = replace(snapshot, features=None, previous=previous)
    return RetrainRequest(slim, str(cache_dir), str(fingerprint))


def retrain_from_request(request: RetrainRequest, progress: Any) -> Any:
    """Child job: ``activelab.core.loop.cycle.retrain_and_query`` on the request's snapshot with its features."""
    from activelab.core.features.build import load_cached_features
    from activelab.core.loop.cycle import retrain_and_query

    key = (request.cache_dir, request.fingerprint)
    features = _features.get(key)
    if features is None:
        features = load_cached_features(request.cache_dir, request.fingerprint)
        if features is None:
            raise DataError(
                f"The feature cache {request.cache_dir} has no valid features "
                f"{request.fingerprint[:16]}; reopen the project to rebuild them.")
        _features.clear()
        _features[key] = features
    result = retrain_and_query(replace(request.snapshot, features=features), progress)
    if result.state is not None:
        _drop_memos(result.state)
    return result


def _drop_memos(state: Any) -> None:
    """Shared multi-task models memoise outputs together with their input (the whole pool);
    those must not be pickled back."""
    for fitted in getattr(state, "fitted", {}).values():
        memo = getattr(fitted, "memo", None)
        if memo:
            memo.clear()


# ----------------------------------------------------------------------------- wire format
def write_frame(stream: Any, message: Any) -> None:
    """Send one message (any picklable value) as an 8-byte length and its pickle; flushes.
    Raises OSError/ValueError when the other side is gone."""
    _write_bytes(stream, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def _write_bytes(stream: Any, data: bytes) -> None:
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def read_frame(stream: Any) -> Any:
    """The next message from ``stream``; raises EOFError when the other side has closed it."""
    return pickle.loads(read_frame_bytes(stream))


def read_frame_bytes(stream: Any) -> bytes:
    """The next frame's pickle, not yet loaded; raises EOFError when the other side has closed it."""
    header = _read_exactly(stream, _HEADER.size)
    return _read_exactly(stream, _HEADER.unpack(header)[0])


def _read_exactly(stream: Any, n: int) -> bytes:
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise EOFError("the other side closed the pipe")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


# ----------------------------------------------------------------------------- child side
def _end_with_parent() -> None:
    """The parent is gone: end this process and everything it started, at once."""
    try:
        if hasattr(os, "killpg") and os.getpgrp() == os.getpid():
            os.killpg(os.getpid(), signal.SIGKILL)    # the group: this process and its children
    finally:
        os._exit(0)


def _watch_parent_pipe(stdin: Any, jobs: queue.Queue) -> None:
    """Read the parent's frames; EOF (the parent ended, however) ends this process."""
    try:
        while True:
            message = read_frame(stdin)
            if message[0] == "cancel":
                _cancelled.add(message[1])
            else:
                jobs.put(message)
    except BaseException:  # noqa: BLE001 - EOF, a broken pipe or a torn frame: the parent is gone
        _end_with_parent()


def _watch_parent_pid(parent_pid: int) -> None:
    """Portable fallback: the parent's pid changes when it dies, even if another process still
    holds the write end of our stdin."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_S)
    _end_with_parent()


def _limit_threads() -> None:
    """One BLAS/OpenMP/torch thread and a lower CPU priority than the GUI process."""
    for var in THREAD_VARS:
        os.environ[var] = "1"
    try:   # the expert's key presses come first when the CPUs are busy
        os.nice(CHILD_NICENESS)
    except (AttributeError, OSError):
        pass
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1)
    except ImportError:  # threadpoolctl is a dependency; tolerate its absence in odd envs
        pass


def warm_up(progress: Any = None) -> int:
    """Import what a retrain needs, so the first one does not pay for it; returns the pid."""
    import sklearn.linear_model  # noqa: F401
    import sklearn.model_selection  # noqa: F401

    import activelab.core.features.build  # noqa: F401
    import activelab.core.loop.cycle  # noqa: F401
    from activelab.core.querying.registry import registry

    registry()
    _limit_torch()
    return os.getpid()


def _limit_torch() -> None:
    torch = sys.modules.get("torch")  # imported late, when a neural model is used
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


class _ChildProgress(Progress):
    """A ``Progress`` cancelled by the parent's "cancel" frame; updates go back to the parent
    (at most every ``PROGRESS_EVERY_S``)."""

    def __init__(self, job_id: int, send: Callable[[Any], None]) -> None:
        super().__init__()
        self.job_id = job_id
        self._send = send
        self._sent_at = 0.0

    def check(self) -> None:
        if self.job_id in _cancelled:
            raise Cancelled()

    def update(self, fraction: float | None = None, message: str | None = None) -> None:
        super().update(fraction, message)
        now = time.monotonic()
        if now - self._sent_at >= PROGRESS_EVERY_S:
            self._sent_at = now
            self._send(("progress", self.job_id, self.fraction, self.message))


def run_job(job_id: int, fn: Callable[..., Any], args: tuple,
            send: Callable[[Any], None] = lambda message: None) -> JobOutcome:
    """``fn(*args, progress=...)`` with errors turned into messages (never raised)."""
    _limit_torch()
    try:
        result = fn(*args, progress=_ChildProgress(job_id, send))
    except Cancelled:
        return JobOutcome("cancelled")
    except ActiveLabError as exc:
        return JobOutcome("user_error", message=str(exc), details=traceback.format_exc())
    except Exception as exc:  # noqa: BLE001 - the parent shows it; the child must keep serving
        return JobOutcome("error", message=f"{type(exc).__name__}: {exc}",
                          details=traceback.format_exc())
    finally:
        _limit_torch()
        _cancelled.discard(job_id)
    return JobOutcome("ok", result=result)


def serve(stdin: Any, stdout: Any, parent_pid: int) -> None:
    """The child's main loop: run the parent's jobs one at a time, answer each with its outcome.

    Frames from the parent: ``("init", sys_path)`` first, then ``("job", job_id, pickled (fn,
    args))`` and ``("cancel", job_id)``. Frames to it: ``("ready", pid)``, ``("progress",
    job_id, fraction, message)`` and ``("outcome", job_id, JobOutcome)``. Never returns."""
    jobs: queue.Queue = queue.Queue()
    threading.Thread(target=_watch_parent_pipe, args=(stdin, jobs), daemon=True,
                     name="activelab-parent-pipe").start()
    threading.Thread(target=_watch_parent_pid, args=(parent_pid,), daemon=True,
                     name="activelab-parent-pid").start()

    def send(message: Any) -> None:
        try:
            write_frame(stdout, message)
        except (OSError, ValueError):   # the parent is gone
            _end_with_parent()

    while True:
        message = jobs.get()
        if message[0] == "init":
            sys.path[:] = list(message[1])    # as the parent sees modules (plug-ins, tests)
            send(("ready", os.getpid()))
            continue
        job_id = message[1]
        try:
            fn, args = pickle.loads(message[2])
        except Exception as exc:  # noqa: BLE001 - a function this process cannot import
            outcome = JobOutcome("error", message=f"{type(exc).__name__}: {exc}",
                                 details=traceback.format_exc())
        else:
            outcome = run_job(job_id, fn, args, send)
        try:
            data = pickle.dumps(("outcome", job_id, outcome), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - a result that cannot travel is an error message
            data = pickle.dumps(("outcome", job_id, JobOutcome(
                "error", message=f"the result could not be sent back ({type(exc).__name__}: {exc})")))
        try:
            _write_bytes(stdout, data)
        except (OSError, ValueError):
            _end_with_parent()


def main(argv: list[str] | None = None) -> None:
    """``python -P -m activelab.core.loop.retrain_process PARENT_PID``: serve the parent on
    stdin/stdout. Anything printed by library code goes to stderr, never into the frames."""
    argv = sys.argv[1:] if argv is None else argv
    parent_pid = int(argv[0]) if argv else os.getppid()
    stdin = os.fdopen(os.dup(0), "rb")
    stdout = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)                           # print() in a library cannot corrupt a frame
    sys.stdin = open(os.devnull)            # nor can a read of stdin steal one
    _limit_threads()
    if os.getppid() != parent_pid:          # the parent died while we were starting
        _end_with_parent()
    serve(stdin, stdout, parent_pid)


if __name__ == "__main__":   # run as the real module, so what it pickles names that module
    from activelab.core.loop.retrain_process import main as _main

    _main()
