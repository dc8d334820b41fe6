"""``activelab backup``: a consistent copy of a project, safe while the app has it open.

The store is copied with SQLite's online backup API (``sqlite3.Connection.backup``): one
read transaction sees every committed label, including those still in the WAL, while the app
keeps labeling. The rest of the folder (the pool files, ``images.npy``, anything else the
user keeps there) is copied as files; ``cache/`` is not, it is derived and rebuilt on open.

Atomic: the copy is built in a hidden sibling of DEST (``.DEST.backup-PID@HOST~…``) whose store
is named ``project.sqlite.partial`` until it is complete and checked, then renamed into place.
A backup killed at any moment leaves DEST absent (never half a project that opens); the hidden
leftover is removed by the next ``backup`` or ``new`` into the same parent.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from activelab.core.errors import ProjectError
from activelab.core.store.store import STORE_NAME
from activelab.core.store.failures import is_storage_error, read_only_reason, write_error
from activelab.core.store.connection import ReadOnlyOpener, connect_rw
from activelab.core.store.temp_folders import is_temp_name, make_temp_sibling, remove_stale_temp_siblings

STORE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
"""A DEST ending in one of these is a single store file; anything else is a project folder."""
_NOT_COPIED = {STORE_NAME, STORE_NAME + "-wal", STORE_NAME + "-shm", STORE_NAME + "-journal",
               "cache"}
_PARTIAL = STORE_NAME + ".partial"


@dataclass
class BackupReport:
    """What ``backup_project`` copied: (name, bytes) per entry, and the store's contents."""

    source: Path
    dest: Path
    files: list[tuple[str, int]] = field(default_factory=list)
    events: int = 0
    labeled: int = 0
    integrity: str = ""
    skipped: list[str] = field(default_factory=list)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _source_connection(store: Path) -> tuple[sqlite3.Connection, ReadOnlyOpener | None]:
    """A connection that sees every committed write (WAL included) without changing anything
    a reader would not (read-only when the project is)."""
    if read_only_reason(store) is None:
        return connect_rw(store, 30.0), None
    opener = ReadOnlyOpener(store, 30.0)
    return opener.connect(), opener


def _copy_store(src: Path, dest_file: Path, report: BackupReport) -> None:
    conn, opener = _source_connection(src)
    try:
        out = sqlite3.connect(str(dest_file), isolation_level=None)
        try:
            conn.backup(out)       # one step: a consistent snapshot under one read transaction
            report.integrity = out.execute("PRAGMA integrity_check").fetchone()[0]
            report.events = out.execute("SELECT COUNT(*) FROM events").fetchone()[0]
            report.labeled = out.execute(
                "SELECT COUNT(DISTINCT sample_id) FROM events WHERE kind='label'").fetchone()[0]
            out.execute("PRAGMA journal_mode=DELETE")   # a standalone file: no WAL beside it
        finally:
            out.close()
    finally:
        conn.close()
        if opener is not None:
            opener.cleanup()
    if report.integrity != "ok":
        raise ProjectError(
            f"The backup of {src} failed its integrity check ({report.integrity}); nothing was "
            f"written to {report.dest}. Run 'activelab check {src.parent}'."
        )
    _fsync(dest_file)


def _check_paths(src: Path, dest: Path) -> None:
    if not (src / STORE_NAME).is_file() and (src / "store.json").is_file():
        raise ProjectError(
            f"{src} is a team project: its store is on a PostgreSQL server (see store.json), "
            "which keeps it durable. Back it up with the server's tools (pg_dump -n SCHEMA, "
            "the schema named in store.json); the folder itself is rebuilt by 'activelab attach'.")
    if not (src / STORE_NAME).is_file():
        raise ProjectError(f"{src} is not an activelab project folder (no {STORE_NAME} in it).")
    if dest == src or src in dest.parents:
        raise ProjectError(
            f"The backup {dest} would be inside the project {src}; choose a place outside it."
        )
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise ProjectError(
            f"{dest} already exists. Give a new folder (or .sqlite file) name for the backup; "
            "nothing is overwritten."
        )


def backup_project(project: str | Path, dest: str | Path) -> BackupReport:
    """Copy ``project`` to ``dest``: a new project folder, or a single ``.sqlite`` file.

    Works while another process has the project open. Raises ``ProjectError`` for a bad
    source or an existing ``dest`` and ``StoreWriteError`` when ``dest`` cannot be written
    (disk full, read-only); in every failure ``dest`` is left absent and the project unchanged.
    """
    src = Path(project).expanduser().resolve()
    final = Path(dest).expanduser().resolve()
    _check_paths(src, final)
    single = final.suffix.lower() in STORE_SUFFIXES
    report = BackupReport(src, final)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temp_siblings(final.parent)
        tmp = make_temp_sibling(final, "backup", folder=not single)
    except OSError as exc:
        raise write_error(exc, final.parent, "backup", place="folder",
                          kept=f"the project {src} is unchanged") from exc
    try:
        if single:
            _copy_store(src / STORE_NAME, tmp, report)
            report.files.append((STORE_NAME, tmp.stat().st_size))
        else:
            _copy_store(src / STORE_NAME, tmp / _PARTIAL, report)
            report.files.append((STORE_NAME, (tmp / _PARTIAL).stat().st_size))
            for entry in sorted(src.iterdir()):
                if entry.name in _NOT_COPIED or is_temp_name(entry.name):
                    if entry.name == "cache":
                        report.skipped.append("cache/ (derived; rebuilt when the copy is opened)")
                    continue
                if entry.is_dir():
                    shutil.copytree(entry, tmp / entry.name, symlinks=True)
                else:
                    shutil.copy2(entry, tmp / entry.name, follow_symlinks=False)
                    if not entry.is_symlink():
                        _fsync(tmp / entry.name)
                report.files.append((entry.name + ("/" if entry.is_dir() else ""),
                                     _size(tmp / entry.name)))
            os.replace(tmp / _PARTIAL, tmp / STORE_NAME)
            _fsync(tmp)
        shutil.copymode(src if not single else src / STORE_NAME, tmp)   # not mkdtemp's 0700
        if final.is_dir():
            final.rmdir()           # an empty folder the user made for it
        os.replace(tmp, final)
        _fsync(final.parent)
    except BaseException as exc:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        if is_storage_error(exc):
            raise write_error(exc, final.parent, "backup", place="folder",
                              kept=f"the project {src} is unchanged") from exc
        raise
    return report
