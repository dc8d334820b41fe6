"""Naming the cause of a failed store write or open, in one paragraph a user can act on.

``write_error`` turns an ``sqlite3.Error`` or ``OSError`` into a ``StoreWriteError`` whose
``cause`` is ``disk_full``, ``read_only``, ``locked`` or ``io``. SQLite's own result code
(``sqlite_errorcode``, Python 3.11+) decides; the message text is the fallback (an error raised
by hand carries no code). An I/O error on a file system that is full or mounted read-only is
reported as that cause, because that is what the user has to fix.

``open_error`` does the same for a store that cannot be opened: "corrupted" is said only when
SQLite's integrity check failed; everything else names its real cause.
"""
from __future__ import annotations

import errno
import os
import sqlite3
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Iterator

from activelab.core.errors import ProjectError, StoreWriteError

# SQLite primary result codes (the low byte of an extended code).
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 10, 11, 13, 14, 26

_LOW_SPACE_BYTES = 256 * 1024
"""Below this much free space, an I/O error is reported as a full disk."""

_RETRY = {
    "label": "label again", "skip": "skip again", "flag": "flag again", "undo": "undo again",
    "redo": "redo again", "setting": "change the setting again", "import": "create it again",
    "curve point": "retrain again", "queue": "query again", "repair": "run the repair again",
    "migration": "open it again", "backup": "run the backup again",
}

_COMMAND: ContextVar[str | None] = ContextVar("activelab_command", default=None)
"""The command-line command running now (None in the app): a failed write then tells
the user to run that command again, not the app action that ``what`` names."""


@contextmanager
def command_running(name: str) -> Iterator[None]:
    """Within this block, write failures advise to run ``activelab name`` again (for a
    command-line command, whose user never chose the step that failed, e.g. a retrain)."""
    token = _COMMAND.set(name)
    try:
        yield
    finally:
        _COMMAND.reset(token)


def retry_advice(what: str) -> str:
    """What to do again after ``what`` was not saved: "run 'activelab query' again" while a
    command-line command runs, else the app action for ``what`` ("retrain again", ...)."""
    command = _COMMAND.get()
    if command:
        return f"run 'activelab {command}' again"
    return _RETRY.get(what, "try again")


def sqlite_code(exc: BaseException) -> int | None:
    """SQLite's primary result code of ``exc``, or None when it carries none."""
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else int(code) & 0xFF


def is_storage_error(exc: BaseException) -> bool:
    """True for errors caused by the disk or the file rather than by the SQL (constraint
    violations and programming errors are bugs, not something the user can fix)."""
    if isinstance(exc, OSError):
        return True
    if isinstance(exc, (sqlite3.IntegrityError, sqlite3.ProgrammingError,
                        sqlite3.InterfaceError)):
        return False
    return isinstance(exc, sqlite3.DatabaseError)


def _fs_state(folder: Path) -> tuple[bool, int | None]:
    """(file system mounted read-only, free bytes) for ``folder``; unknown -> (False, None)."""
    try:
        st = os.statvfs(folder)
    except OSError:
        return False, None
    return bool(st.f_flag & os.ST_RDONLY), st.f_bavail * st.f_frsize


def read_only_reason(path: Path) -> str | None:
    """Why the store at ``path`` cannot be written, or None when it can.

    Checks the file system (mounted read-only), the folder (SQLite creates the -wal and -shm
    files beside the store) and the store file itself. ``os.access`` answers for the real
    user, so a root user on a read-only mount is caught by the first check.
    """
    folder = path.parent
    ro_fs, _free = _fs_state(folder)
    if ro_fs:
        return "its file system is mounted read-only"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is not writable"
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if p.exists() and not os.access(p, os.W_OK):
            return f"{p.name} is not writable"
    return None


def cause_of(exc: BaseException, folder: Path | None = None) -> str:
    """``disk_full``, ``read_only``, ``locked`` or ``io`` for a storage error."""
    text = str(exc).lower()
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return "disk_full"
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return "read_only"
    code = sqlite_code(exc)
    if code == _SQLITE_FULL or "disk is full" in text:
        return "disk_full"
    if code in (_SQLITE_READONLY, _SQLITE_PERM) or "readonly database" in text:
        return "read_only"
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED) or "database is locked" in text \
            or "table is locked" in text:
        return "locked"
    if folder is not None and (code in (_SQLITE_IOERR, _SQLITE_CANTOPEN)
                               or isinstance(exc, OSError) or "i/o error" in text):
        ro_fs, free = _fs_state(folder)
        if ro_fs:
            return "read_only"
        if free is not None and free < _LOW_SPACE_BYTES:
            return "disk_full"
        if code == _SQLITE_CANTOPEN and read_only_reason(folder / "project.sqlite"):
            return "read_only"
    return "io"


def human_bytes(n: int | None) -> str:
    if n is None:
        return "an unknown amount"
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TB"  # pragma: no cover


def write_error(exc: BaseException, project: Path, what: str, *, busy_timeout: float = 30.0,
                reason: str | None = None, kept: str | None = None,
                place: str = "project") -> StoreWriteError:
    """A ``StoreWriteError`` naming why writing ``what`` to ``project`` (a folder) failed.

    ``kept`` replaces the closing "everything saved before is kept" (e.g. for a backup);
    ``place="folder"`` words it for a folder that is not a project (a backup's destination).
    """
    cause = cause_of(exc, project)
    retry = retry_advice(what)
    kept = kept or "everything saved before is kept"
    detail = str(exc) or type(exc).__name__
    if cause == "disk_full":
        _ro, free = _fs_state(project)
        msg = (f"Disk full — {what} NOT saved to {project}. Free some space on the disk that "
               f"holds it ({human_bytes(free)} free now) or move the project to a disk with "
               f"room, and {retry}; {kept}.")
    elif cause == "read_only" and place != "project":
        why = reason or read_only_reason(project / "x") or detail
        msg = (f"The folder {project} is read-only ({why}) — {what} NOT saved. Choose a writable "
               f"place, or make it writable, and {retry}; {kept}.")
    elif cause == "read_only":
        why = reason or read_only_reason(project / "project.sqlite") or detail
        msg = (f"The project {project} is read-only ({why}) — {what} NOT saved. It can still be "
               f"viewed, checked and exported. To change it, make the folder and project.sqlite "
               f"writable (or copy it with 'activelab backup {project} NEW_FOLDER' and open the "
               f"copy), and {retry}; {kept}.")
    elif cause == "locked":
        msg = (f"The project {project} is locked by another program — {what} NOT saved after "
               f"waiting {busy_timeout:g} s for it. Close the other activelab window or "
               f"command using this project (or wait for it to finish), and {retry}; {kept}.")
    else:
        msg = (f"I/O error — {what} NOT saved to {project} ({detail}). The disk may be failing "
               f"or disconnected, or a network share may have dropped; check it, then {retry}; "
               f"{kept}. 'activelab check {project}' verifies the store.")
    return StoreWriteError(msg, cause=cause)


def read_only_error(project: Path, what: str, reason: str) -> StoreWriteError:
    """The error for a write attempted on a store that was opened read-only."""
    return write_error(sqlite3.OperationalError("attempt to write a readonly database"),
                       project, what, reason=reason)


def open_error(exc: BaseException, path: Path) -> ProjectError:
    """A ``ProjectError`` naming why the store at ``path`` could not be opened."""
    code = sqlite_code(exc)
    text = str(exc)
    if "integrity check failed" in text or code == _SQLITE_CORRUPT:
        return ProjectError(
            f"The project store {path} is corrupted: SQLite's integrity check says "
            f"'{text}'. Restore it from a backup ('activelab backup' makes one); labels "
            "already exported are safe."
        )
    if code == _SQLITE_NOTADB or "not a database" in text:
        return ProjectError(
            f"{path} is not an SQLite database ({text}): it is damaged or is not an activelab "
            "project store. Open the project folder that activelab made, or restore the store "
            "from a backup."
        )
    if isinstance(exc, OSError) or is_storage_error(exc):
        cause = cause_of(exc, path.parent)
        if cause == "locked":
            return ProjectError(
                f"The project store {path} is locked by another program ({text}). Close the "
                "other activelab window or command using it, or wait, and open it again."
            )
        if cause == "read_only":
            return ProjectError(
                f"The project store {path} cannot be read ({text}; "
                f"{read_only_reason(path) or 'permission denied'}). Give yourself read access "
                "to the folder and project.sqlite."
            )
        if cause == "disk_full":
            return ProjectError(
                f"The project store {path} cannot be opened because its disk is full ({text}). "
                "Free some space and open it again; nothing was changed."
            )
    return ProjectError(
        f"The project store {path} cannot be opened ({text or type(exc).__name__}). Check the "
        "disk it is on; 'activelab check' tells whether the store itself is damaged."
    )


def describe_error(exc: BaseException) -> str:
    """One paragraph for an SQLite or OS error that reached the command line unnamed."""
    if isinstance(exc, OSError):
        where = exc.filename or "a file"
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return (f"Disk full while writing {where}: free some space and run the command "
                    "again; nothing saved before is lost.")
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            kind = "is on a read-only file system" if exc.errno == errno.EROFS else \
                "is not writable (permission denied)"
            return (f"{where} {kind}. Choose a writable place, or fix the permissions, and run "
                    "the command again.")
        return (f"Cannot use {where}: {exc.strerror or exc}. Check the path and the disk, and "
                "run the command again.")
    if getattr(exc, "refusal", None):   # a running PostgreSQL server refused the connection
        from activelab.core.store.pg_refusals import refusal_paragraph

        return refusal_paragraph(exc.refusal, exc.detail, exc.where,
                                 what="what this command was writing", who=exc.who)
    if str(exc).startswith("store unreachable"):   # activelab.core.store.pg_sql.StoreUnreachable
        return (f"The project's PostgreSQL store is unreachable ({exc}): what this command was "
                "writing was NOT saved. Check the network and that the server is running, and "
                "run the command again; everything saved before is kept on the server.")
    cause = cause_of(exc) if is_storage_error(exc) else "io"
    if cause == "disk_full":
        return (f"Disk full ({exc}): what this command was writing was NOT saved. Free some "
                "space and run it again; everything saved before is kept.")
    if cause == "read_only":
        return (f"The project is read-only ({exc}): what this command was writing was NOT "
                "saved. Make the folder writable, or work on a copy ('activelab backup').")
    if cause == "locked":
        return (f"The project is locked by another program ({exc}). Close the other activelab "
                "window or command using it, or wait, and run the command again.")
    return (f"The project store reported an error it could not name ({exc}). Nothing was "
            "saved by this command; 'activelab check PROJECT' verifies the store.")
