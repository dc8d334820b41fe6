"""The project store: one SQLite file (WAL, synchronous=FULL), schema-versioned.

Labels, skips, flags, undos and redos are append-only events; nothing is deleted, so the full
history and provenance are kept. Current labels are a fold over the events, kept in memory
(``state()``): each read takes in only the events appended since the last one, by this process
or another, so reads do not grow with the history. Every write is its
own transaction and is on disk when the method returns; shortly after each burst of writes the
WAL is checkpointed into ``project.sqlite`` itself (``activelab.core.store.connection``), so a copy of that one
file has every label.

A write that does not land raises ``StoreWriteError`` naming the cause (disk full, read-only,
locked, I/O error; ``activelab.core.store.failures``). A project that cannot be written is opened read-only.
A damaged row (a value that is not JSON, a label the project's spec does not allow) is skipped
when read and reported by ``damaged_rows()``; ``activelab check`` lists and quarantines them.
"""
from __future__ import annotations

import atexit
import json
import sqlite3
import threading
import time
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

from activelab.core.errors import ActiveLabError, ProjectError
from activelab.core.store.failures import (
    cause_of, is_storage_error, open_error, read_only_error, read_only_reason, write_error,
)
from activelab.core.records import DamagedRow, LabelEvent
from activelab.core.store.events import event_columns, insert_group, loads, row_to_event, usable_events
from activelab.core.store.label_state import LabelState
from activelab.core.store.connection import (
    IDLE_DELAY, Checkpointer, ReadOnlyOpener, checkpoint, connect_rw, rollback_quietly,
)
from activelab.core.store.curve import CurveQueueMixin
from activelab.core.store.schema import NEEDED_TABLES, SCHEMA, SCHEMA_VERSION, migrate, schema_version

__all__ = ["LabelStore", "SCHEMA_VERSION", "STORE_NAME"]

STORE_NAME = "project.sqlite"
FULL_CHECK_BYTES = 8 * 1024 * 1024
"""Stores smaller than this get a full ``PRAGMA quick_check`` when opened (see ``_check``)."""
BUSY_TIMEOUT = 30.0
"""Seconds a write waits for another program's lock before it is reported as locked."""


_OPEN_STORES: "weakref.WeakSet[LabelStore]" = weakref.WeakSet()


def _close_all() -> None:
    """At interpreter exit: checkpoint and close every store still open (CLI, scripts)."""
    for store in list(_OPEN_STORES):
        try:
            store.close()
        except (sqlite3.Error, OSError):   # exit must not fail; the WAL keeps the data
            pass


atexit.register(_close_all)


class LabelStore(CurveQueueMixin):
    """Thread-aware access to ``project.sqlite``: one connection per thread.

    ``create``: make a new store. ``busy_timeout``: seconds a write waits for another
    program's lock (default ``BUSY_TIMEOUT``). ``checkpoint_delay``: seconds of quiet after
    which a burst of writes is checkpointed into the main file (None: only on close).

    Raises ``ProjectError`` when the store cannot be opened (naming the cause; "corrupted" only
    when SQLite's integrity check says so) or is from a newer activelab (left unchanged).
    The PostgreSQL backend is ``activelab.core.store.pg_store.PgLabelStore``; ``open_store``
    (``activelab.core.store.backends``) picks the one a project folder uses.
    """

    dialect = "sqlite"
    curve_key = "rowid"
    """The column that orders curve points of one version (SQLite's rowid; ``point`` on PG)."""

    def __init__(self, path: str | Path, *, create: bool = False,
                 busy_timeout: float | None = None,
                 checkpoint_delay: float | None = IDLE_DELAY) -> None:
        self.path = Path(path)
        self.project_dir = self.path.parent
        if not create and not self.path.exists():
            raise ProjectError(
                f"No project store at {self.path}. Is this an activelab project folder? "
                "Create one with 'activelab new PROJECT_DIR --data FILE'."
            )
        if not create and not self.path.is_file():
            raise ProjectError(f"{self.path} is not a file; it should be the project's store.")
        self._init_state(busy_timeout, checkpoint_delay)
        self.read_only_reason = None if create else read_only_reason(self.path)
        try:
            self._open(create)
        except ProjectError:
            raise
        except (sqlite3.Error, OSError) as exc:
            if create:
                raise write_error(exc, self.project_dir, "import") from exc
            raise open_error(exc, self.path) from exc
        self._start_checkpointer()
        _OPEN_STORES.add(self)

    def _init_state(self, busy_timeout: float | None, checkpoint_delay: float | None) -> None:
        """The in-memory state every backend keeps (``PgLabelStore`` calls it too: add new
        per-store attributes here so both backends have them)."""
        self.busy_timeout = BUSY_TIMEOUT if busy_timeout is None else float(busy_timeout)
        self._event_filter: Callable[[LabelEvent], str | None] | None = None
        self._index: Mapping[str, int] | None = None
        self._state: LabelState | None = None
        self._state_read_to = 0             # the last event row the state has seen
        self._state_lock = threading.RLock()
        self.read_only_reason: str | None = None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._damaged: dict[tuple[str, str], DamagedRow] = {}
        self._ro: ReadOnlyOpener | None = None
        self._blocked: str | None = None    # "read_only" or "disk_full" while opened read-only
        self._gen = 0                       # bumped when the store becomes writable again
        self._checkpoint_delay = checkpoint_delay
        self._checkpointer: Checkpointer | None = None

    def _start_checkpointer(self) -> None:
        if self._ro is None and self._checkpoint_delay is not None and self._checkpointer is None:
            path = self.path   # not self: the thread must not keep the store alive
            self._checkpointer = Checkpointer(
                lambda: connect_rw(path, 1.0), idle=self._checkpoint_delay,
                max_delay=max(self._checkpoint_delay, 1.0))

    def _open(self, create: bool) -> None:
        if self.read_only_reason is not None:
            self._blocked = "read_only"
        else:
            try:
                conn = self._conn()
            except (sqlite3.OperationalError, OSError) as exc:
                # A read-only place, or a full disk (SQLite cannot create its -wal/-shm):
                # open for reading; a write says why it cannot land.
                cause = cause_of(exc, self.project_dir)
                if create or cause not in ("read_only", "disk_full"):
                    raise
                self._blocked = cause
                self.read_only_reason = (read_only_reason(self.path) or str(exc)
                                         if cause == "read_only" else "its disk is full")
        if self._blocked is not None:
            self._ro = ReadOnlyOpener(self.path, self.busy_timeout)
        conn = self._conn()
        if create:
            conn.executescript(SCHEMA)
            with self.writing("import") as c:
                c.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?) "
                          "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                          (str(SCHEMA_VERSION),))
                c.execute("INSERT INTO meta(key, value) VALUES ('created', ?) "
                          "ON CONFLICT(key) DO NOTHING", (str(time.time()),))
        self._check()
        if self._ro is None:
            migrate(conn)
        self._event_cols = event_columns(conn)

    # -- connections -----------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "gen", 0) != self._gen:
            conn.close()       # opened read-only before the store became writable again
            conn = None
        if conn is None:
            conn = self._ro.connect() if self._ro is not None else connect_rw(self.path, self.busy_timeout)
            self._local.conn, self._local.gen = conn, self._gen
        return conn

    def _writable_again(self) -> bool:
        """Opened read-only because the disk was full: True once a read-write open works."""
        if self._blocked != "disk_full":
            return False
        try:
            conn = connect_rw(self.path, self.busy_timeout)
            migrate(conn)
            self._event_cols = event_columns(conn)
        except (sqlite3.Error, OSError):
            return False
        self._ro, self._blocked, self.read_only_reason = None, None, None
        self._gen += 1
        self._local.conn, self._local.gen = conn, self._gen
        self._start_checkpointer()
        return True

    @property
    def read_only(self) -> bool:
        """True when the project cannot be written (read-only file system, folder or file;
        see ``read_only_reason``). A store opened for reading because its disk was full is not
        read-only: its writes say "Disk full" and work again once there is space."""
        return self._blocked == "read_only"

    @property
    def note(self) -> str | None:
        """What was done to open a read-only store, when it was not a plain read-only open."""
        return self._ro.note if self._ro is not None else None

    def checkpoint(self, mode: str = "TRUNCATE") -> bool:
        """Copy every committed write into ``project.sqlite`` now (True when all were copied)."""
        if self._ro is not None:
            return True
        return checkpoint(self._conn(), mode)

    def close(self) -> None:
        """Checkpoint (the WAL is left empty) and close this thread's connection."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
        conn = getattr(self._local, "conn", None)
        if conn is None:
            return
        self._local.conn = None
        try:
            if self._ro is None:
                conn.execute("PRAGMA busy_timeout=1000")
                checkpoint(conn, "TRUNCATE")
        except sqlite3.Error:   # another connection is busy: the WAL keeps the data
            pass
        finally:
            conn.close()

    def _check(self) -> None:
        conn = self._conn()
        # Integrity first: a damaged page must be called that, not "missing tables".
        size = self.path.stat().st_size
        if size < FULL_CHECK_BYTES:
            checks = ["PRAGMA quick_check"]
        elif size < 512 * 1024 * 1024:
            # A large store is mostly the sample ids of a big pool, written once at import:
            # checking them took 0.4 s of every command at 1M samples. Every other table
            # is checked; 'activelab check' checks them all.
            names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            checks = [f'PRAGMA quick_check("{n}")' for n in names if n != "samples"]
        else:
            checks = []
        for check in checks:
            result = conn.execute(check).fetchone()[0]
            if result != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {result}")
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not NEEDED_TABLES <= tables:
            raise ProjectError(
                f"{self.path} is an SQLite file but not an activelab project store (missing "
                f"tables: {sorted(NEEDED_TABLES - tables)}). Open the project folder that "
                "activelab made."
            )
        version = schema_version(conn)
        if version > SCHEMA_VERSION:
            raise ProjectError(
                f"{self.path} was written by a newer activelab (store schema {version}; this "
                f"version reads up to {SCHEMA_VERSION}). Upgrade activelab to open it; the "
                "project has not been changed."
            )
        if version < 1:
            raise ProjectError(f"{self.path} has no schema version; it is not a valid project.")

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check``: "ok" or the first problems found."""
        return self._conn().execute("PRAGMA integrity_check").fetchone()[0]

    # -- writing ---------------------------------------------------------------------------
    @contextmanager
    def writing(self, what: str) -> Iterator[sqlite3.Connection]:
        """One durable write transaction (BEGIN IMMEDIATE ... COMMIT) on this thread's
        connection. Any failure rolls back (only if a transaction is still open, so the real
        error is never masked) and a storage failure becomes ``StoreWriteError`` naming
        ``what`` was not saved."""
        with self._lock:
            if self._ro is not None and not self._writable_again():
                if self._blocked == "disk_full":
                    raise write_error(sqlite3.OperationalError("database or disk is full"),
                                      self.project_dir, what)
                raise read_only_error(self.project_dir, what, self.read_only_reason or "read-only")
            try:
                conn = self._conn()
            except (sqlite3.Error, OSError) as exc:
                raise write_error(exc, self.project_dir, what, busy_timeout=self.busy_timeout) from exc
            try:
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                rollback_quietly(conn)
                if is_storage_error(exc):
                    raise write_error(exc, self.project_dir, what,
                                      busy_timeout=self.busy_timeout) from exc
                raise
        if self._checkpointer is not None:
            self._checkpointer.poke()

    # -- damaged rows ----------------------------------------------------------------------
    def report_damage(self, table: str, key: str, reason: str, repairable: bool = True) -> None:
        """Record a damaged row found while reading (listed by ``damaged_rows``)."""
        self._damaged.setdefault((table, key), DamagedRow(table, key, reason, repairable))

    def damaged_rows(self) -> list[DamagedRow]:
        """Rows skipped as damaged so far while reading (``activelab check`` finds them all)."""
        return list(self._damaged.values())

    def _decode(self, text: Any, table: str, key: str, column: str,
                repairable: bool = True) -> tuple[bool, Any]:
        try:
            return True, loads(text)
        except (ValueError, TypeError):
            self.report_damage(table, key, f"{column} is not valid JSON: {str(text)[:40]!r}",
                               repairable)
            return False, None

    # -- settings and samples -------------------------------------------------------------
    def set_setting(self, key: str, value: Any) -> None:
        with self.writing("setting") as conn:
            conn.execute("INSERT INTO settings(key, value) VALUES (?, ?) "
                         "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                         (key, json.dumps(value)))

    def get_setting(self, key: str, default: Any = None, expect: type | tuple[type, ...] | None = None) -> Any:
        """The setting ``key``, or ``default`` when absent; a value that is not JSON (or not of
        the ``expect``-ed type) is reported as damaged and ``default`` is returned."""
        row = self._conn().execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        if row is None:
            return default
        ok, value = self._decode(row[0], "settings", f"key '{key}'", "the value")
        if not ok:
            return default
        if expect is not None and value is not None and not isinstance(value, expect):
            names = " or ".join(t.__name__ for t in (expect if isinstance(expect, tuple) else (expect,)))
            self.report_damage("settings", f"key '{key}'",
                         f"the value is {type(value).__name__}, expected {names}")
            return default
        return value

    def get_setting_as(self, key: str, parse: Callable[[dict[str, Any]], Any], default: Any) -> Any:
        """Setting ``key`` (a JSON object) turned into an object by ``parse``; a damaged one
        (unreadable, wrong type, rejected by ``parse``) is reported and ``default`` returned."""
        value = self.get_setting(key, None, expect=dict)
        if value is None:
            return default
        try:
            return parse(value)
        except (ActiveLabError, KeyError, TypeError, ValueError) as exc:
            self.report_damage("settings", f"key '{key}'", f"cannot be read ({exc}); defaults used")
            return default

    def add_samples(self, rows: Iterable[tuple[int, str, dict[str, Any]]]) -> None:
        with self.writing("import") as conn:
            conn.executemany(
                "INSERT INTO samples VALUES (?, ?, ?)",
                ((i, sid, json.dumps(data, ensure_ascii=False, default=str)) for i, sid, data in rows),
            )

    def sample_ids(self) -> list[str]:
        return [r[0] for r in self._conn().execute("SELECT sample_id FROM samples ORDER BY idx")]

    def _sample(self, idx: int, text: Any) -> dict[str, Any]:
        # A sample cannot be quarantined (pool positions would shift): restore it from a backup.
        ok, data = self._decode(text, "samples", f"idx {idx}", "data", repairable=False)
        if ok and not isinstance(data, dict):
            self.report_damage("samples", f"idx {idx}", "data is not a JSON object", False)
        return data if ok and isinstance(data, dict) else {}

    def sample_data(self, idx: int) -> dict[str, Any]:
        """The imported fields of sample ``idx`` ({} when its row is damaged)."""
        row = self._conn().execute("SELECT data FROM samples WHERE idx=?", (idx,)).fetchone()
        if row is None:
            raise ProjectError(f"Sample #{idx} is not in the project store {self.path}.")
        return self._sample(idx, row[0])

    def all_sample_data(self) -> list[dict[str, Any]]:
        return [self._sample(i, d) for i, d in
                self._conn().execute("SELECT idx, data FROM samples ORDER BY idx")]

    # -- events ---------------------------------------------------------------------------
    def append_group(self, events: Sequence[dict[str, Any]]) -> list[LabelEvent]:
        """Append events as one group (one user action) in one durable transaction.

        Raises ``StoreWriteError`` (nothing saved) when the write does not land.
        An event's ``time`` (seconds since the epoch) is kept when given (labels imported
        from an export keep when they were made); otherwise it is now.
        """
        return self.append_groups([events])[0] if events else []

    def append_groups(self, groups: Sequence[Sequence[dict[str, Any]]]) -> list[list[LabelEvent]]:
        """Append several groups (user actions, in order) in one durable transaction (see
        ``append_group``); returns each group's events as stored. Empty groups are skipped."""
        groups = [g for g in groups if g]
        if not groups:
            return []
        now = time.time()
        with self.writing(groups[0][0].get("kind", "label")) as conn:
            spans = [insert_group(conn, events, now) for events in groups]
        rows = self._conn().execute(
            f"SELECT {self._event_cols} FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq",
            (spans[0][0], spans[-1][1]),
        ).fetchall()
        out: list[list[LabelEvent]] = [[] for _ in spans]
        g = 0
        for r in rows:
            while r[0] > spans[g][1]:
                g += 1
            out[g].append(row_to_event(r))
        return out

    def configure_events(self, event_filter: Callable[[LabelEvent], str | None] | None,
                         index: Mapping[str, int] | None = None) -> None:
        """How the project reads the log: ``event_filter(e)`` says why event ``e`` cannot be
        used (None: it can; a damaged event is skipped and reported), ``index`` maps sample
        ids to pool positions (``LabelState.by_index``). The state is folded again on the
        next read (the filter may accept events it refused before: a class was added)."""
        with self._state_lock:
            self._event_filter, self._index = event_filter, index
            self._state, self._state_read_to = None, 0

    @property
    def event_filter(self) -> Callable[[LabelEvent], str | None] | None:
        return self._event_filter

    def _usable(self, rows: Iterable[Sequence[Any]]) -> list[LabelEvent]:
        """The events of ``rows`` the project can use; damaged ones are reported and left out."""
        return usable_events(rows, self._event_filter,
                             lambda key, reason: self.report_damage("events", key, reason))

    def events(self, since: int = 0) -> list[LabelEvent]:
        """The events after ``since``, oldest first, without damaged rows (see module doc)."""
        rows = self._conn().execute(
            f"SELECT {self._event_cols} FROM events WHERE seq > ? ORDER BY seq", (since,)
        ).fetchall()
        return self._usable(rows)

    def recent_events(self, limit: int) -> list[LabelEvent]:
        """The latest ``limit`` usable events, newest first; reads only those rows (and the
        damaged ones among them)."""
        out: list[LabelEvent] = []
        before = None
        while len(out) < limit:
            rows = self._conn().execute(
                f"SELECT {self._event_cols} FROM events WHERE seq < ? ORDER BY seq DESC LIMIT ?",
                (before if before is not None else 2**63 - 1, limit - len(out)),
            ).fetchall()
            if not rows:
                break
            out.extend(self._usable(rows))
            before = rows[-1][0]
        return out

    def last_seq(self) -> int:
        row = self._conn().execute("SELECT MAX(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def state(self) -> LabelState:
        """The current labels, skips and flags: the fold of the usable events.

        Kept in memory and brought up to date on each call with the events appended since
        the last one (by this process or another): one indexed query when nothing changed,
        so a read costs O(new events), not O(history). The state returned is read-only and
        is updated in place by later calls."""
        with self._state_lock:
            if self._state is None:
                self._state, self._state_read_to = LabelState(self._index), 0
            rows = self._conn().execute(
                f"SELECT {self._event_cols} FROM events WHERE seq > ? ORDER BY seq",
                (self._state_read_to,),
            ).fetchall()
            if rows:
                self._state.apply(self._usable(rows))
                self._state_read_to = rows[-1][0]
            return self._state
