"""``activelab check``: find the damaged rows of a project's store, and quarantine them.

A row is damaged when the project cannot use it: a value that is not JSON, a label for a
sample id, task or class the project does not have, a setting of the wrong type, a missing
spec. Reading skips such rows everywhere (``activelab.core.store.store``); ``check_project`` reads every table
the way the project does and lists what was skipped, by position (table and seq / key / point).

``repair`` moves the repairable rows into the ``quarantine`` table: in one transaction each row
is copied there as JSON with where it was and why, then removed from its live table. Nothing of
the user's history is deleted (the quarantine keeps it). A missing or damaged spec and damaged
samples cannot be repaired this way (the project needs them): restore those from a backup.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from activelab.core.errors import ProjectError
from activelab.core.records import DamagedRow
from activelab.core.store.backends import POINTER_NAME, open_store
from activelab.core.store.store import STORE_NAME, LabelStore

_WHERE = {
    "events": (re.compile(r"^seq (\d+)$"), "seq", int),
    "settings": (re.compile(r"^key '(.*)'$"), "key", str),
    "curve": (re.compile(r"^point (\d+)$"), "rowid", int),
    "queue": (re.compile(r"^position (\d+)$"), "position", int),
}
_NOT_REPAIRABLE_SETTINGS = ("spec",)


@dataclass
class CheckReport:
    """What ``check_project`` found: SQLite's integrity check and the damaged rows."""

    project: Path
    integrity: str
    problems: list[DamagedRow] = field(default_factory=list)
    repaired: list[DamagedRow] = field(default_factory=list)
    read_only: bool = False

    @property
    def clean(self) -> bool:
        """True when the store passes the integrity check and has no damaged row."""
        return self.integrity == "ok" and not self.problems


def _store_path(project: str | Path) -> Path:
    p = Path(project).expanduser().resolve()
    return p if p.is_file() else p / STORE_NAME


def _open(project: str | Path) -> LabelStore:
    """The store of ``project`` (a folder, its project.sqlite, or a team project's store.json)."""
    p = Path(project).expanduser().resolve()
    if p.name == POINTER_NAME and p.is_file():
        p = p.parent
    if p.is_dir() and (p / POINTER_NAME).is_file():
        return open_store(p, checkpoint_delay=None)     # a team project on PostgreSQL
    return LabelStore(_store_path(p), checkpoint_delay=None)


def _scan(store: LabelStore) -> list[DamagedRow]:
    """Read every table the way the project does; return the rows that were skipped."""
    from activelab.core.project.project import Project

    try:
        Project(store.path.parent, store)   # reads the settings; sets the store's event filter
    except ProjectError as exc:      # the rest is still checked
        if store.get_setting("spec", expect=dict) is None:
            store.report_damage("settings", "key 'spec'",
                                "missing: the project's tasks and columns are unknown", False)
        else:
            store.report_damage("project", "folder", str(exc), False)
    except (KeyError, TypeError, ValueError) as exc:
        store.report_damage("settings", "key 'spec'", f"cannot be read ({exc})", False)
    _check_pool(store)
    store.events()            # with the project's event filter when the spec could be read
    store.all_sample_data()
    store.curve()
    store.load_queue()
    for key, expect in (("source", dict), ("decisions", list), ("feature_fingerprint", str),
                        ("curve_event_seq", int)):
        store.get_setting(key, expect=expect)
    for (key,) in store._conn().execute("SELECT key FROM settings").fetchall():
        store.get_setting(key)
    out = []
    for row in store.damaged_rows():
        if row.table == "settings" and row.key in (f"key '{k}'" for k in _NOT_REPAIRABLE_SETTINGS):
            row = DamagedRow(row.table, row.key, row.reason, False)
        out.append(row)
    return out


def _check_pool(store: LabelStore) -> None:
    """Report a pool file (the imported samples) that cannot be read whole or that holds a
    different number of rows than the store has sample ids. Not repairable here: the pool is
    the user's data, so it is restored from a backup or the project is created again."""
    from pyarrow import ArrowException

    from activelab.core.errors import DataError
    from activelab.core.store.pool import POOL_FILE, Pool

    from activelab.core.store.samples import sample_count

    try:
        pool = Pool.open(store.path.parent, store=store)
        row_groups = getattr(pool, "row_groups", None)   # read it all, a row group at a time
        n_rows = (sum(t.num_rows for _, t in row_groups()) if row_groups is not None
                  else len(pool.frame()))
    except (ProjectError, DataError, OSError, ValueError, ArrowException) as exc:
        store.report_damage("pool", POOL_FILE, f"cannot be read ({exc})", False)
        return
    n_ids = sample_count(store, exact=True)
    if n_rows != n_ids:
        store.report_damage("pool", POOL_FILE,
                            f"holds {n_rows} rows but the store has {n_ids} sample ids", False)


def check_project(project: str | Path) -> CheckReport:
    """Check the store of ``project`` (a project folder or its project.sqlite).

    Raises ``ProjectError`` when the store cannot be opened at all (the message names why,
    "corrupted" only when SQLite's integrity check says so).
    """
    store = _open(project)
    path = store.path
    try:
        integrity = store.integrity_check()
        return CheckReport(path.parent, integrity, _scan(store), read_only=store.read_only)
    finally:
        store.close()


def _locate(row: DamagedRow) -> tuple[str, object] | None:
    spec = _WHERE.get(row.table)
    if spec is None or not row.repairable:
        return None
    m = spec[0].match(row.key)
    return None if m is None else (spec[1], spec[2](m.group(1)))


def repair_project(project: str | Path) -> CheckReport:
    """Move every repairable damaged row of ``project`` into its ``quarantine`` table.

    One transaction: each row is copied into ``quarantine`` (time, source table, key, reason,
    the row as JSON) and removed from its live table; either all move or none. Returns the
    report of a new check, with ``repaired`` listing what was moved. Raises
    ``StoreWriteError`` when the store cannot be written (read-only, disk full...).
    """
    store = _open(project)
    path = store.path
    try:
        found = _scan(store)
        movable = [(row, _locate(row)) for row in found]
        movable = [(row, where) for row, where in movable if where is not None]
        if movable:
            now = time.time()
            with store.writing("repair") as conn:
                for row, (column, value) in movable:
                    if column == "rowid" and store.dialect != "sqlite":
                        column = "point"        # no rowid on PostgreSQL; the same number
                    cur = conn.execute(f"SELECT * FROM {row.table} WHERE {column}=?", (value,))
                    names = [d[0] for d in cur.description]
                    for values in cur.fetchall():
                        copy = json.dumps(dict(zip(names, values)), ensure_ascii=False, default=repr)
                        conn.execute(
                            "INSERT INTO quarantine(time, source, key, reason, row) "
                            "VALUES (?,?,?,?,?)", (now, row.table, row.key, row.reason, copy))
                    conn.execute(f"DELETE FROM {row.table} WHERE {column}=?", (value,))
            store.checkpoint()
    finally:
        store.close()
    report = check_project(path)
    report.repaired = [row for row, _ in movable]
    return report


def quarantined(project: str | Path) -> list[dict]:
    """The rows in the quarantine table (oldest first): source, key, reason, row (a dict)."""
    store = _open(project)
    try:
        conn = store._conn()
        if store.dialect == "sqlite" and conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name='quarantine'").fetchone() is None:
            return []          # a read-only store of schema 1
        rows = conn.execute(
            "SELECT time, source, key, reason, row FROM quarantine ORDER BY id").fetchall()
    finally:
        store.close()
    return [{"time": t, "source": s, "key": k, "reason": r, "row": json.loads(row)}
            for t, s, k, r, row in rows]
