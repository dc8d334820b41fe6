"""The tables of ``project.sqlite``, its schema version and the in-place migrations.

Schema 4 (this version) adds ``claims``: which annotator a sample was handed to, until when
(``activelab.core.store.claims``; several slots per sample for overlap samples). A store opened
read-only keeps its older layout and hands out no claims.

Schema 3 adds ``events.input``: how a label's class was entered (accepted from
the model's suggestion, typed, clicked …; ``activelab.core.records.LABEL_INPUTS``). Events of
an older store keep NULL there (not known). A store opened read-only keeps its older layout;
``events.event_columns`` reads it with NULL in that column.

Schema 2 differs from 1 in two places:

* ``curve`` is keyed by an autoincrement ``point`` id; ``version`` is an ordinary (unique)
  column assigned by the store when the point is committed (one more than the highest so far),
  so two processes retraining at once both keep their point instead of one replacing the other.
  ``event_seq`` records the labels the point was trained on.
* ``quarantine`` holds damaged rows moved out of the live tables by ``activelab check --repair``
  (the original row as JSON, where it was, and why), so nothing is ever deleted.

A v1 store is migrated on open, in one transaction; a read-only v1 store is read as it is.
"""
from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 4

CURVE_COLUMNS = ("version", "time", "n_labels", "cv_accuracy", "cv_macro_f1", "audit_accuracy",
                 "audit_n", "train_seconds", "per_task", "model")
"""The curve columns shared by every schema version (read in this order)."""

NEEDED_TABLES = frozenset({"meta", "settings", "samples", "events", "curve", "queue"})

_CURVE_V2 = """
CREATE TABLE {name}(
    point INTEGER PRIMARY KEY AUTOINCREMENT,
    version INTEGER NOT NULL UNIQUE, time REAL NOT NULL, n_labels INTEGER NOT NULL,
    cv_accuracy REAL, cv_macro_f1 REAL, audit_accuracy REAL, audit_n INTEGER NOT NULL DEFAULT 0,
    train_seconds REAL NOT NULL, per_task TEXT NOT NULL, model TEXT, event_seq INTEGER)
"""

_QUARANTINE = """
CREATE TABLE IF NOT EXISTS quarantine(
    id INTEGER PRIMARY KEY AUTOINCREMENT, time REAL NOT NULL, source TEXT NOT NULL,
    key TEXT NOT NULL, reason TEXT NOT NULL, row TEXT NOT NULL)
"""

_CLAIMS = """
CREATE TABLE IF NOT EXISTS claims(
    sample_id TEXT NOT NULL, slot INTEGER NOT NULL, annotator TEXT NOT NULL,
    time REAL NOT NULL, expires REAL NOT NULL, PRIMARY KEY (sample_id, slot))
"""

SCHEMA = """
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
    target_seq INTEGER,
    input TEXT);
CREATE INDEX IF NOT EXISTS events_sample ON events(sample_id);
""" + _CURVE_V2.format(name="IF NOT EXISTS curve") + ";" + """
CREATE TABLE IF NOT EXISTS queue(
    position INTEGER PRIMARY KEY, sample_id TEXT NOT NULL, strategy TEXT, score REAL,
    rank INTEGER, percentile REAL, audit INTEGER NOT NULL DEFAULT 0, predictions TEXT,
    model_version INTEGER, reason TEXT, created REAL NOT NULL, event_seq INTEGER);
""" + _QUARANTINE + ";" + _CLAIMS + ";"


def schema_version(conn: sqlite3.Connection) -> int:
    """The ``meta.schema_version`` of an open store (0 when absent or not a number)."""
    row = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    try:
        return int(row[0]) if row else 0
    except (TypeError, ValueError):
        return 0


def _migrate_1_to_2(conn: sqlite3.Connection) -> None:
    cols = ", ".join(CURVE_COLUMNS)
    conn.execute(_CURVE_V2.format(name="curve_v2"))
    conn.execute(f"INSERT INTO curve_v2({cols}) SELECT {cols} FROM curve ORDER BY version")
    conn.execute("DROP TABLE curve")
    conn.execute("ALTER TABLE curve_v2 RENAME TO curve")
    conn.execute(_QUARANTINE)


def _migrate_2_to_3(conn: sqlite3.Connection) -> None:
    cols = {r[1] for r in conn.execute("PRAGMA table_info(events)")}
    if "input" not in cols:
        conn.execute("ALTER TABLE events ADD COLUMN input TEXT")


def _migrate_3_to_4(conn: sqlite3.Connection) -> None:
    conn.execute(_CLAIMS)


_MIGRATIONS = {1: _migrate_1_to_2, 2: _migrate_2_to_3, 3: _migrate_3_to_4}


def migrate(conn: sqlite3.Connection) -> int:
    """Bring a store to ``SCHEMA_VERSION`` in one transaction; returns the version found.

    The caller has checked that the store is writable and not newer than this version. The
    version is read again inside the write transaction, so two processes opening a v1 store
    at once migrate it once. Any error rolls the whole migration back (the store is unchanged).
    """
    found = schema_version(conn)
    if found >= SCHEMA_VERSION:
        return found
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = schema_version(conn)
        while version < SCHEMA_VERSION:
            _MIGRATIONS[version](conn)
            version += 1
        conn.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(version),))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return found
