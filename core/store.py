"""The project store: one SQLite file (WAL, synchronous=FULL), schema-versioned.

Labels, skips, flags, undos and redos are append-only events; nothing is deleted, so the full
history and provenance are kept. Current labels are a fold over the events. Every write is its
own transaction and is on disk when the method returns.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from core.errors import ProjectError

SCHEMA_VERSION = 1
STORE_NAME = "project.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS samples(
    idx INTEGER PRIMARY KEY, sample_id TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events(
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    grp INTEGER NOT NULL,
    time REAL NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('label','skip','flag','undo','redo')),
    sample_id TEXT,
    task TEXT,
    value TEXT,
    annotator TEXT,
    seconds REAL,
    strategy TEXT,
    score REAL,
    rank INTEGER,
    model_version INTEGER,
    audit INTEGER NOT NULL DEFAULT 0,
    predicted TEXT,
    confidence REAL,
    target_seq INTEGER);
CREATE INDEX IF NOT EXISTS events_sample ON events(sample_id);
CREATE TABLE IF NOT EXISTS curve(
    version INTEGER PRIMARY KEY, time REAL NOT NULL, n_labels INTEGER NOT NULL,
    cv_accuracy REAL, cv_macro_f1 REAL, audit_accuracy REAL, audit_n INTEGER NOT NULL DEFAULT 0,
    train_seconds REAL NOT NULL, per_task TEXT NOT NULL, model TEXT);
CREATE TABLE IF NOT EXISTS queue(
    position INTEGER PRIMARY KEY, sample_id TEXT NOT NULL, strategy TEXT, score REAL,
    rank INTEGER, percentile REAL, audit INTEGER NOT NULL DEFAULT 0, predictions TEXT,
    model_version INTEGER, reason TEXT, created REAL NOT NULL, event_seq INTEGER);
"""


@dataclass(frozen=True)
class LabelEvent:
    """One row of the event log (see the module docstring)."""

    seq: int
    time: float
    kind: str
    sample_id: str | None
    task: str | None
    value: Any
    annotator: str | None
    seconds: float | None
    strategy: str | None
    score: float | None
    rank: int | None
    model_version: int | None
    audit: bool
    predicted: Any
    confidence: float | None
    target_seq: int | None
    group: int = 0


@dataclass
class LabelState:
    """The fold of the event log: what is labeled, skipped and flagged now."""

    labels: dict[str, dict[str, Any]] = field(default_factory=dict)      # task -> id -> value
    provenance: dict[tuple[str, str], LabelEvent] = field(default_factory=dict)  # (task,id)->event
    skipped: set[str] = field(default_factory=set)
    flagged: set[str] = field(default_factory=set)
    undo_stack: list[int] = field(default_factory=list)   # active groups, newest last
    redo_stack: list[int] = field(default_factory=list)   # undone groups, newest last
    last_seq: int = 0


def _dumps(v: Any) -> str | None:
    return None if v is None else json.dumps(v, ensure_ascii=False)


def _loads(s: str | None) -> Any:
    return None if s is None else json.loads(s)


_EVENT_COLS = (
    "seq, grp, time, kind, sample_id, task, value, annotator, seconds, strategy, score, rank, "
    "model_version, audit, predicted, confidence, target_seq"
)


def _row_to_event(r: Sequence[Any]) -> LabelEvent:
    return LabelEvent(
        seq=r[0], group=r[1], time=r[2], kind=r[3], sample_id=r[4], task=r[5],
        value=_loads(r[6]), annotator=r[7], seconds=r[8], strategy=r[9], score=r[10],
        rank=r[11], model_version=r[12], audit=bool(r[13]), predicted=_loads(r[14]),
        confidence=r[15], target_seq=r[16],
    )


class LabelStore:
    """Thread-aware access to ``project.sqlite``: one connection per thread."""

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path)
        if not create and not self.path.exists():
            raise ProjectError(
                f"No project store at {self.path}. Is this an activelab project folder? "
                "Create one with 'activelab new PROJECT_DIR --data FILE'."
            )
        self._local = threading.local()
        self._lock = threading.Lock()
        try:
            conn = self._conn()
            if create:
                conn.executescript(_SCHEMA)
                with conn:
                    conn.execute(
                        "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                        (str(SCHEMA_VERSION),),
                    )
                    conn.execute(
                        "INSERT OR IGNORE INTO meta VALUES ('created', ?)", (str(time.time()),)
                    )
            self._check()
        except sqlite3.DatabaseError as exc:
            raise ProjectError(
                f"The project store {self.path} is corrupted or is not an activelab project "
                f"({exc}). Restore it from a backup or copy; labels already exported are safe."
            ) from exc

    # -- connections -----------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def _check(self) -> None:
        conn = self._conn()
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        needed = {"meta", "settings", "samples", "events", "curve", "queue"}
        if not needed <= tables:
            raise ProjectError(
                f"{self.path} is an SQLite file but not an activelab project store (missing "
                f"tables: {sorted(needed - tables)}). Open the project folder that activelab made."
            )
        row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise ProjectError(
                f"{self.path} was written by a newer activelab (store schema {version}; this "
                f"version reads up to {SCHEMA_VERSION}). Upgrade activelab to open it; the "
                "project has not been changed."
            )
        if version < 1:
            raise ProjectError(f"{self.path} has no schema version; it is not a valid project.")
        if self.path.stat().st_size < 512 * 1024 * 1024:
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
            if result != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {result}")

    def integrity_check(self) -> str:
        return self._conn().execute("PRAGMA integrity_check").fetchone()[0]

    # -- settings and samples -------------------------------------------------------------
    def set_setting(self, key: str, value: Any) -> None:
        with self._lock, self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, json.dumps(value)))
            conn.execute("COMMIT")

    def get_setting(self, key: str, default: Any = None) -> Any:
        row = self._conn().execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        return default if row is None else _loads(row[0])

    def add_samples(self, rows: Iterable[tuple[int, str, dict[str, Any]]]) -> None:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(
                "INSERT INTO samples VALUES (?, ?, ?)",
                ((i, sid, json.dumps(data, ensure_ascii=False, default=str)) for i, sid, data in rows),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def sample_ids(self) -> list[str]:
        return [r[0] for r in self._conn().execute("SELECT sample_id FROM samples ORDER BY idx")]

    def sample_data(self, idx: int) -> dict[str, Any]:
        row = self._conn().execute("SELECT data FROM samples WHERE idx=?", (idx,)).fetchone()
        if row is None:
            raise ProjectError(f"Sample #{idx} is not in the project store {self.path}.")
        return json.loads(row[0])

    def all_sample_data(self) -> list[dict[str, Any]]:
        return [json.loads(r[0]) for r in self._conn().execute("SELECT data FROM samples ORDER BY idx")]

    # -- events ---------------------------------------------------------------------------
    def append_group(self, events: Sequence[dict[str, Any]]) -> list[LabelEvent]:
        """Append events as one group (one user action) in one durable transaction.

        An event's ``time`` (seconds since the epoch) is kept when given (labels imported
        from an export keep when they were made); otherwise it is now.
        """
        if not events:
            return []
        now = time.time()
        with self._lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                seqs = []
                grp = None
                for e in events:
                    cur = conn.execute(
                        "INSERT INTO events(grp, time, kind, sample_id, task, value, annotator, "
                        "seconds, strategy, score, rank, model_version, audit, predicted, "
                        "confidence, target_seq) VALUES (0,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        (
                            now if e.get("time") is None else float(e["time"]), e["kind"], e.get("sample_id"), e.get("task"),
                            _dumps(e.get("value")), e.get("annotator"), e.get("seconds"),
                            e.get("strategy"), e.get("score"), e.get("rank"),
                            e.get("model_version"), int(bool(e.get("audit"))),
                            _dumps(e.get("predicted")), e.get("confidence"), e.get("target_seq"),
                        ),
                    )
                    seq = cur.lastrowid
                    grp = seq if grp is None else grp
                    seqs.append(seq)
                conn.execute(
                    f"UPDATE events SET grp=? WHERE seq IN ({','.join('?' * len(seqs))})",
                    (grp, *seqs),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        rows = conn.execute(
            f"SELECT {_EVENT_COLS} FROM events WHERE seq IN ({','.join('?' * len(seqs))}) "
            "ORDER BY seq",
            seqs,
        ).fetchall()
        return [_row_to_event(r) for r in rows]

    def events(self, since: int = 0) -> list[LabelEvent]:
        rows = self._conn().execute(
            f"SELECT {_EVENT_COLS} FROM events WHERE seq > ? ORDER BY seq", (since,)
        ).fetchall()
        return [_row_to_event(r) for r in rows]

    def last_seq(self) -> int:
        row = self._conn().execute("SELECT MAX(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def state(self) -> LabelState:
        return fold_events(self.events())

    # -- curve and queue ------------------------------------------------------------------
    def add_curve_point(self, p: dict[str, Any]) -> None:
        with self._lock, self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "INSERT OR REPLACE INTO curve VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    p["version"], p["time"], p["n_labels"], p.get("cv_accuracy"),
                    p.get("cv_macro_f1"), p.get("audit_accuracy"), p.get("audit_n", 0),
                    p["train_seconds"], json.dumps(p.get("per_task", {})), p.get("model"),
                ),
            )
            conn.execute("COMMIT")

    def curve(self) -> list[dict[str, Any]]:
        rows = self._conn().execute(
            "SELECT version, time, n_labels, cv_accuracy, cv_macro_f1, audit_accuracy, audit_n, "
            "train_seconds, per_task, model FROM curve ORDER BY version"
        ).fetchall()
        keys = ("version", "time", "n_labels", "cv_accuracy", "cv_macro_f1", "audit_accuracy",
                "audit_n", "train_seconds", "per_task", "model")
        out = []
        for r in rows:
            d = dict(zip(keys, r))
            d["per_task"] = json.loads(d["per_task"])
            out.append(d)
        return out

    def save_queue(self, items: Sequence[dict[str, Any]], event_seq: int) -> None:
        now = time.time()
        with self._lock, self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM queue")
            conn.executemany(
                "INSERT INTO queue VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        i, it["id"], it.get("strategy"), it.get("score"), it.get("rank"),
                        it.get("percentile"), int(bool(it.get("audit"))),
                        json.dumps(it.get("predictions", {})), it.get("model_version"),
                        it.get("reason"), now, event_seq,
                    )
                    for i, it in enumerate(items)
                ],
            )
            conn.execute("COMMIT")

    def load_queue(self) -> tuple[list[dict[str, Any]], int | None]:
        rows = self._conn().execute(
            "SELECT sample_id, strategy, score, rank, percentile, audit, predictions, "
            "model_version, reason, event_seq FROM queue ORDER BY position"
        ).fetchall()
        items = [
            {
                "id": r[0], "strategy": r[1], "score": r[2], "rank": r[3], "percentile": r[4],
                "audit": bool(r[5]), "predictions": json.loads(r[6] or "{}"),
                "model_version": r[7], "reason": r[8],
            }
            for r in rows
        ]
        return items, (rows[0][9] if rows else None)

    def queue_entry(self, sample_id: str) -> dict[str, Any] | None:
        items, _ = self.load_queue()
        for it in items:
            if it["id"] == sample_id:
                return it
        return None


def fold_events(events: Iterable[LabelEvent]) -> LabelState:
    """Replay the log: groups are active unless undone (and not redone)."""
    events = list(events)
    groups: dict[int, list[LabelEvent]] = {}
    order: list[int] = []
    active: dict[int, bool] = {}
    st = LabelState()
    for e in events:
        st.last_seq = e.seq
        if e.kind in ("label", "skip", "flag"):
            if e.group not in groups:
                groups[e.group] = []
                order.append(e.group)
                active[e.group] = True
                st.undo_stack.append(e.group)
                st.redo_stack.clear()
            groups[e.group].append(e)
        elif e.kind == "undo" and e.target_seq in active:
            active[e.target_seq] = False
            if e.target_seq in st.undo_stack:
                st.undo_stack.remove(e.target_seq)
            st.redo_stack.append(e.target_seq)
        elif e.kind == "redo" and e.target_seq in active:
            active[e.target_seq] = True
            if e.target_seq in st.redo_stack:
                st.redo_stack.remove(e.target_seq)
            st.undo_stack.append(e.target_seq)
    for g in order:
        if not active[g]:
            continue
        for e in groups[g]:
            if e.kind == "label":
                st.labels.setdefault(e.task or "", {})[e.sample_id] = e.value
                st.provenance[(e.task or "", e.sample_id)] = e
                st.skipped.discard(e.sample_id)
            elif e.kind == "skip":
                st.skipped.add(e.sample_id)
            elif e.kind == "flag":
                st.flagged.add(e.sample_id)
    return st
