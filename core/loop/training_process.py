"""The training process, parent side: one long-lived child Python process runs retrains
(``ProcessCall`` jobs), so their Python-level work never holds this process's GIL while the
expert labels. Plain Python, no Qt: ``activelab.app.worker`` calls ``TrainingProcess.run`` from a
pool thread and turns what it returns or raises into the job's signals.

What a user can rely on:

- The child lives and dies with this process. It is started with ``subprocess`` as the leader
  of its own process group (POSIX) and watches its parent (``activelab.core.loop.retrain_process``:
  its stdin reaches EOF, or its parent pid changes, when this process ends for any reason,
  SIGKILL included); it then kills its whole group, so nothing it started outlives it.
  ``shutdown`` (the window closes, the app quits) kills that group at once: it does not wait
  for a running retrain, whose results could be rebuilt anyway.
- A child that dies is replaced: the job it was running fails with a message that says so, a
  fresh child is started in the background, and the next job runs there (``note()`` says it was
  restarted). After ``MAX_FAILURES`` failures in a row, jobs run in a thread of this process
  instead, and ``problem`` says why.
- A job that runs longer than its ``timeout_s`` is abandoned: the child is killed and restarted,
  the job fails with a message, and the caller keeps its previous model.

Why not ``multiprocessing``: a spawned child shares a resource-tracker process with its parent
and re-imports the parent's ``__main__``, and ``ProcessPoolExecutor`` joins its running job when
the interpreter exits (Ctrl+Q took 3-4 s) and has no way to watch the parent. A plain child
process with two pipes does all of it in a few lines.
"""
from __future__ import annotations

import itertools
import logging
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from activelab.core.errors import ActiveLabError
from activelab.core.loop import retrain_process
from activelab.core.loop.retrain_process import JobOutcome, read_frame_bytes, write_frame
from activelab.core.progress import Cancelled, Progress

log = logging.getLogger(__name__)

RETRAIN_TIMEOUT_S = 600.0                 # 10 min: a retrain that takes longer is abandoned
TIMEOUT_ENV = "ACTIVELAB_RETRAIN_TIMEOUT_S"
CHILD_MODULE = "activelab.core.loop.retrain_process"

__all__ = ["CHILD_MODULE", "ProcessCall", "ProcessFailed", "ProcessUnavailable", "RemoteError",
           "RETRAIN_TIMEOUT_S", "TIMEOUT_ENV", "TrainingProcess", "describe_duration",
           "retrain_timeout_s"]


def retrain_timeout_s() -> float:
    """The time limit of one retrain, in seconds: ``ACTIVELAB_RETRAIN_TIMEOUT_S`` when set to a
    positive number, else ``RETRAIN_TIMEOUT_S`` (10 minutes)."""
    raw = os.environ.get(TIMEOUT_ENV, "").strip()
    if raw:
        try:
            value = float(raw)
        except ValueError:
            value = 0.0
        if value > 0:
            return value
        log.warning("%s=%r is not a positive number of seconds; using %.0f s", TIMEOUT_ENV, raw,
                    RETRAIN_TIMEOUT_S)
    return RETRAIN_TIMEOUT_S


def describe_duration(seconds: float) -> str:
    """``seconds`` as a person says it: "45 s", "10 min", "1 h 30 min"."""
    if seconds < 60:
        return f"{seconds:g} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h" + (f" {minutes % 60} min" if minutes % 60 else "")


@dataclass(frozen=True)
class ProcessCall:
    """A job for the training process: a module-level function (``fn(*args, progress=...)``)
    and plain-data arguments; both are pickled to the child."""

    fn: Callable[..., Any]
    args: tuple = ()


class RemoteError(Exception):
    """An unexpected exception in a job in the training process, as "Type: message"."""


class ProcessUnavailable(Exception):
    """The training process cannot run this job (none could be started, jobs run in threads
    since repeated failures, or the job cannot be pickled): run it in a thread instead."""


class ProcessFailed(Exception):
    """The job is lost: the training process died while running it, or the job took longer
    than its time limit and the process was killed. The message says which, for the user;
    the next job runs in a fresh process (or in a thread, when that is said too)."""


def _exit_reason(code: int | None) -> str:
    if code is None:
        return "stopped answering"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


class _Child:
    """One child process, its two pipes and the thread that reads its frames into ``inbox``."""

    def __init__(self) -> None:
        if not sys.executable or getattr(sys, "frozen", False):
            raise OSError("no Python interpreter to start it with")
        posix = os.name == "posix"
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-m", CHILD_MODULE, str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True,
            start_new_session=posix)   # its own group: killed as one, with what it starts
        self.pid = self.proc.pid
        self.ready = False
        self.inbox: queue.Queue = queue.Queue()
        self._send_lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True, name=f"activelab-training-{self.pid}").start()
        self.send(("init", list(sys.path)))

    def _read(self) -> None:
        stdout = self.proc.stdout
        try:
            while True:
                data = read_frame_bytes(stdout)
                try:
                    self.inbox.put(pickle.loads(data))
                except Exception as exc:  # noqa: BLE001 - e.g. a result naming a class not importable here
                    self.inbox.put(("unreadable", f"{type(exc).__name__}: {exc}"))
        except (OSError, ValueError, EOFError):   # EOF or a torn frame: the child is gone
            pass
        finally:
            self.inbox.put(("eof",))
            try:
                stdout.close()
            except OSError:
                pass

    def send(self, message: Any) -> bool:
        """Send a frame; False when the child is gone (its stdin is closed or broken)."""
        try:
            with self._send_lock:
                write_frame(self.proc.stdin, message)
            return True
        except (OSError, ValueError):
            return False

    def alive(self) -> bool:
        return self.proc.poll() is None

    def exit_reason(self, wait_s: float = 1.0) -> str:
        try:
            return _exit_reason(self.proc.wait(timeout=wait_s))
        except subprocess.TimeoutExpired:
            return _exit_reason(None)

    def stop(self) -> None:
        """Kill the child and everything it started, now; reap it."""
        try:
            if os.name == "posix":
                os.killpg(self.pid, signal.SIGKILL)   # the group outlives a dead leader's children
            else:
                self.proc.kill()
        except (ProcessLookupError, PermissionError, OSError):
            pass
        try:
            self.proc.stdin.close()
        except (OSError, ValueError):
            pass
        try:
            self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            log.warning("training process %s did not end after SIGKILL", self.pid)


class TrainingProcess:
    """One long-lived child process that runs ``ProcessCall`` jobs one at a time (see the
    module doc). Thread-safe: ``run`` blocks its caller (a worker thread); ``warm_up`` and
    ``shutdown`` return at once.

    ``pid``: the child's pid once it has answered, else None. ``running_job``: the id of the
    job the child is running now, or None. ``problem``: why jobs run in threads now (None while
    the process is used). ``failures``: failures in a row.
    ``restarts``: children started after one was lost."""

    MAX_FAILURES = 3          # failures in a row before jobs run in threads
    POLL_S = 0.05             # how often a waiting job checks cancellation and its time limit
    CANCEL_GRACE_S = 3.0      # a cancelled job that has not stopped by then: kill the child
    START_TIMEOUT_S = 60.0    # the child must answer within this (a busy machine starting Python)
    WARM_UP_TIMEOUT_S = 300.0  # importing scikit-learn and the loop there (not a retrain's limit)

    def __init__(self) -> None:
        self._lock = threading.Lock()       # the state below
        self._job_lock = threading.Lock()   # one job at a time in the child
        self._child: _Child | None = None
        self._closed = False
        self._warm_ids = itertools.count(-1, -1)
        self.problem: str | None = None
        self.running_job: int | None = None
        self.failures = 0
        self.restarts = 0
        self._starts = 0
        self._restart_note: str | None = None
        self._ok_since_restart = True

    # ----- state ------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        child = self._child
        return child.pid if child is not None and child.ready else None

    def note(self) -> str | None:
        """What the status line should say about where retrains run, or None: "in a thread:
        …" after repeated failures, "training process restarted: …" from a restart until a job
        has succeeded in the new process and the next one starts."""
        if self.problem is not None:
            return f"in a thread: {self.problem}"
        return self._restart_note

    # ----- jobs -------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Start the child if needed and import the training code in it, in the background."""
        if self._closed or self.problem is not None:
            return

        def run() -> None:
            try:
                self.run(next(self._warm_ids), ProcessCall(retrain_process.warm_up), Progress(),
                         timeout_s=self.WARM_UP_TIMEOUT_S, counts=False)
            except Exception as exc:  # noqa: BLE001 - a failed warm-up is counted; the next job says it
                log.debug("training process warm-up: %s: %s", type(exc).__name__, exc)

        threading.Thread(target=run, name="activelab-training-warm-up", daemon=True).start()

    def run(self, job_id: int, call: ProcessCall, progress: Progress,
            timeout_s: float | None = None, *, counts: bool = True) -> Any:
        """Run ``call`` in the child and return its result; blocks (call it from a worker thread).

        ``job_id``: unique per job (positive; cancellation names it). ``timeout_s``: abandon the
        job (kill and restart the child) after this many seconds in the child. ``counts``: a
        success resets the failure count (False for the warm-up, which proves less).

        Raises ``Cancelled`` (``progress`` was cancelled, or the process was shut down),
        ``ActiveLabError`` (the job's own message for the user), ``RemoteError`` (an unexpected
        error in the job), ``ProcessFailed`` (the child died during the job or it timed out),
        ``ProcessUnavailable`` (run it in a thread instead)."""
        try:
            payload = pickle.dumps((call.fn, tuple(call.args)), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - whatever cannot be pickled runs in a thread
            raise ProcessUnavailable(f"the job cannot be sent to it ({type(exc).__name__}: {exc})") from exc
        while not self._job_lock.acquire(timeout=self.POLL_S):
            progress.check()
        try:
            child = self._ensure(progress)
            if counts:
                with self._lock:
                    if self._ok_since_restart:
                        self._restart_note = None
            outcome = self._exchange(child, job_id, payload, progress, timeout_s)
        finally:
            self._job_lock.release()
        if outcome.status == "ok":
            if counts:
                with self._lock:
                    self.failures = 0
                    self._ok_since_restart = True
            return outcome.result
        if outcome.status == "cancelled":
            raise Cancelled()
        if outcome.status == "user_error":
            raise ActiveLabError(outcome.message)
        log.error("training process job failed:\n%s", outcome.details)
        raise RemoteError(outcome.message)

    def shutdown(self) -> None:
        """Stop for good, at once: kill the child and what it started (a running job's caller
        gets ``Cancelled``); later jobs raise ``Cancelled`` too."""
        with self._lock:
            self._closed = True
            child, self._child = self._child, None
        if child is not None:
            child.stop()

    # ----- internals ----------------------------------------------------------------------
    def _ensure(self, progress: Progress) -> _Child:
        """The running, answering child; starts one if there is none (under the job lock)."""
        with self._lock:
            if self._closed:
                raise Cancelled()
            if self.problem is not None:
                raise ProcessUnavailable(self.problem)
            child = self._child
        if child is not None and not child.alive():
            self._lose(child, child.exit_reason(), restart=False)
            child = None
        if child is None:
            try:
                child = _Child()
            except OSError as exc:
                self._lose(None, f"could not start ({exc})", restart=False)
                raise ProcessUnavailable(self.problem or f"the training process could not start ({exc})") from exc
            with self._lock:
                if self._closed:
                    child.stop()
                    raise Cancelled()
                self._starts += 1
                self.restarts = self._starts - 1
                self._child = child
        if not child.ready:
            self._await_ready(child, progress)
        return child

    def _await_ready(self, child: _Child, progress: Progress) -> None:
        deadline = time.monotonic() + self.START_TIMEOUT_S
        while True:
            try:
                message = child.inbox.get(timeout=self.POLL_S)
            except queue.Empty:
                message = None
            if message is not None and message[0] == "ready":
                child.ready = True
                return
            if (message is not None and message[0] == "eof") or time.monotonic() > deadline:
                if self._closed:
                    raise Cancelled()
                reason = child.exit_reason(0.1) if message is not None else "did not answer in time"
                self._lose(child, f"could not start ({reason})", restart=False)
                raise ProcessUnavailable(self.problem or f"the training process could not start ({reason})")
            progress.check()   # the child keeps starting; the next job finds it ready

    def _exchange(self, child: _Child, job_id: int, payload: bytes, progress: Progress,
                  timeout_s: float | None) -> JobOutcome:
        child.send(("job", job_id, payload))   # a dead child shows as EOF below
        self.running_job = job_id
        try:
            return self._await_outcome(child, job_id, progress, timeout_s)
        finally:
            self.running_job = None

    def _await_outcome(self, child: _Child, job_id: int, progress: Progress,
                       timeout_s: float | None) -> JobOutcome:
        started = time.monotonic()
        cancel_sent: float | None = None
        while True:
            try:
                message = child.inbox.get(timeout=self.POLL_S)
            except queue.Empty:
                message = None
            if message is not None:
                tag = message[0]
                if tag == "outcome" and message[1] == job_id:
                    return message[2]
                if tag == "progress" and message[1] == job_id and not progress.cancelled:
                    try:
                        progress.update(message[2], message[3])
                    except Cancelled:
                        pass
                elif tag == "unreadable":   # the frame was read whole: the child goes on
                    raise RemoteError(f"the training process's answer could not be read ({message[1]})")
                elif tag == "eof":
                    if self._closed:
                        raise Cancelled()
                    reason = child.exit_reason()
                    self._lose(child, reason)
                    if progress.cancelled:
                        raise Cancelled()
                    raise ProcessFailed(f"the training process {reason} during the retrain; "
                                        + self._what_next())
            now = time.monotonic()
            if progress.cancelled:
                if cancel_sent is None:
                    child.send(("cancel", job_id))
                    cancel_sent = now
                elif now - cancel_sent > self.CANCEL_GRACE_S:
                    log.info("training process did not stop a cancelled job in %.0f s; replacing it",
                             self.CANCEL_GRACE_S)
                    self._replace(child)
                    raise Cancelled()
            elif timeout_s is not None and now - started > timeout_s:
                limit = describe_duration(timeout_s)
                self._lose(child, f"took longer than {limit}")
                raise ProcessFailed(f"the retrain took longer than {limit} (the time limit) and was "
                                    "abandoned; " + self._what_next())

    def _what_next(self) -> str:
        if self.problem is not None:
            return "retrains run in a thread of the app from now on"
        return "the training process was restarted for the next retrain"

    def _lose(self, child: _Child | None, reason: str, restart: bool = True) -> None:
        """A child died, hung or could not start: stop it, count the failure, start a fresh one
        in the background (``restart``), or give up after ``MAX_FAILURES`` in a row."""
        if child is not None:
            child.stop()
        with self._lock:
            if child is not None and self._child is child:
                self._child = None
            if self._closed:
                return
            self.failures += 1
            self._ok_since_restart = False
            self._restart_note = f"training process restarted: the previous one {reason}"
            if self.failures >= self.MAX_FAILURES:
                self.problem = (f"the training process failed {self.failures} times in a row "
                                f"(the last one {reason})")
        if self.problem is not None:
            log.warning("%s; retraining in a thread from now on", self.problem)
            return
        log.warning("the training process %s; starting a new one", reason)
        if restart:
            self.warm_up()

    def _replace(self, child: _Child) -> None:
        """Stop a child that did nothing wrong but must go (a cancelled job would not stop)."""
        child.stop()
        with self._lock:
            if self._child is child:
                self._child = None
        self.warm_up()
