"""Opening ``project.sqlite`` (read-write or read-only) and keeping the main file up to date.

In WAL mode a commit lands in ``project.sqlite-wal``; the main file gets the pages only at a
*checkpoint*. A project whose WAL was lost (copied without it, or deleted after a crash) loses
everything since the last checkpoint, silently. So the store checkpoints shortly after every
burst of writes, on a background thread (``Checkpointer``): a key press does not wait for it,
and within ``MAX_DELAY`` seconds of a label the main file holds it. Closing the store runs a
TRUNCATE checkpoint, leaving an empty WAL.

A read-only project (read-only mount, folder or file without write permission) is opened with
``mode=ro``. When even the ``-shm`` index cannot be created there, it is opened ``immutable``;
if a WAL with content sits beside it, the store and its WAL are first copied to a private
temporary folder so that no committed label is hidden.
"""
from __future__ import annotations

import logging
import shutil
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

log = logging.getLogger(__name__)

IDLE_DELAY = 0.25
"""Seconds without a write after which a burst of writes is checkpointed."""
MAX_DELAY = 1.0
"""A write is in the main file at most this many seconds (plus the checkpoint) after it."""
_MAX_RETRIES = 40
"""Incomplete checkpoints (a reader holds old pages) retried every IDLE_DELAY, then dropped
until the next write."""
_IDLE_EXIT = 5.0
"""Seconds without writes after which the checkpoint thread ends (and closes its connection);
the next write starts it again."""


def rollback_quietly(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction, if any; an error doing so never hides the first one.

    SQLite rolls a transaction back by itself after some errors (disk full, I/O error), so an
    unconditional ROLLBACK would fail with "no transaction is active" and replace the real cause.
    """
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error as exc:   # the original error is what matters
        log.debug("rollback after a failed write also failed: %s", exc)


def connect_rw(path: Path, busy_timeout: float) -> sqlite3.Connection:
    """A read-write connection in WAL mode with durable commits (synchronous=FULL)."""
    conn = sqlite3.connect(str(path), timeout=busy_timeout, isolation_level=None,
                           check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
    except BaseException:
        conn.close()
        raise
    return conn


def _connect_uri(path: Path, query: str, busy_timeout: float) -> sqlite3.Connection:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?{query}", uri=True, timeout=busy_timeout,
                           isolation_level=None, check_same_thread=False)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


class ReadOnlyOpener:
    """Decides once how a read-only store is opened, then opens connections that way.

    ``note`` says what was done when it is not a plain read-only open (for the user).
    """

    def __init__(self, path: Path, busy_timeout: float) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self.note: str | None = None
        self._query = "mode=ro"
        self._tmpdir: tempfile.TemporaryDirectory | None = None
        self._target = path
        try:
            _connect_uri(path, self._query, busy_timeout).close()
            return
        except sqlite3.OperationalError:
            if not path.is_file():
                raise
        wal = path.with_name(path.name + "-wal")
        if wal.is_file() and wal.stat().st_size > 0:
            # The -shm index cannot be created here, and immutable mode would ignore the WAL:
            # read a private copy of the store and its WAL instead.
            self._tmpdir = tempfile.TemporaryDirectory(prefix="activelab-ro-")
            self._target = Path(self._tmpdir.name) / path.name
            shutil.copy2(path, self._target)
            shutil.copy2(wal, self._target.with_name(self._target.name + "-wal"))
            self.note = (f"{path.parent} is read-only and its store has a WAL file that was "
                         "never checkpointed; it is read from a temporary copy.")
        else:
            self._query = "mode=ro&immutable=1"
        _connect_uri(self._target, self._query, busy_timeout).close()

    def connect(self) -> sqlite3.Connection:
        return _connect_uri(self._target, self._query, self.busy_timeout)

    def cleanup(self) -> None:
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None


def checkpoint(conn: sqlite3.Connection, mode: str = "PASSIVE") -> bool:
    """Run a WAL checkpoint; True when every committed frame is now in the main file."""
    busy, log_frames, done = conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
    return busy == 0 and (log_frames == -1 or done == log_frames)


class Checkpointer:
    """A background thread checkpointing the WAL after each burst of writes.

    ``poke()`` after every commit arms it: the checkpoint runs ``IDLE_DELAY`` s after the last
    write of a burst, and at most ``MAX_DELAY`` s after its first (so a long burst is also
    copied into the main file). It uses its own connection and a PASSIVE checkpoint, which
    never blocks the writer. ``completed`` counts checkpoints that copied everything.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection], *,
                 idle: float = IDLE_DELAY, max_delay: float = MAX_DELAY) -> None:
        self._connect = connect
        self.idle, self.max_delay = idle, max_delay
        self._cond = threading.Condition()
        self._first: float | None = None
        self._last: float | None = None
        self._stop = False
        self._running = False
        self._thread: threading.Thread | None = None
        self.completed = 0

    def poke(self) -> None:
        """A write was committed: checkpoint soon."""
        with self._cond:
            now = time.monotonic()
            if self._first is None:
                self._first = now
            self._last = now
            if not self._running:
                self._stop = False
                self._running = True
                self._thread = threading.Thread(target=self._run, name="activelab-checkpoint",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()

    def stop(self, timeout: float = 5.0) -> None:
        """Checkpoint what is pending and end the thread."""
        with self._cond:
            self._stop = True
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    def _next(self) -> bool:
        """Wait until a checkpoint is due; False when the thread should end."""
        with self._cond:
            while True:
                if self._first is None:
                    if self._stop or not self._cond.wait(_IDLE_EXIT) and self._first is None:
                        self._running = False
                        return False
                    continue
                due = min(self._first + self.max_delay, self._last + self.idle)
                wait = due - time.monotonic()
                if wait > 0 and not self._stop:
                    self._cond.wait(wait)
                    continue
                self._first = self._last = None
                return True

    def _run(self) -> None:
        conn = None
        retries = 0
        try:
            while self._next():
                try:
                    conn = conn or self._connect()
                    complete = checkpoint(conn, "PASSIVE")
                except sqlite3.Error as exc:   # the data is safe in the WAL; try again later
                    log.info("checkpoint failed (labels stay in the WAL): %s", exc)
                    complete = False
                if complete:
                    self.completed += 1
                    retries = 0
                elif retries < _MAX_RETRIES and not self._stop:
                    retries += 1
                    with self._cond:
                        now = time.monotonic()
                        self._first = self._first or now
                        self._last = self._last or now
        finally:
            with self._cond:
                if self._thread is threading.current_thread():
                    self._running = False
            if conn is not None:
                conn.close()
