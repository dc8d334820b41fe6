"""What the app says when a write to the project store does not land, and why a project is
read-only. No Qt here: plain functions the window and the controller call.

The store raises ``StoreWriteError`` (one paragraph; ``cause`` disk_full / read_only / locked /
io) for every failed write, and its message is shown as it is. A raw ``sqlite3.Error`` or
``OSError`` that still escapes is the last resort: it is named from its SQLite result code, its
errno, or (when the text hides the cause, as "cannot rollback - no transaction is active" hides
"database or disk is full") from the file system itself: free space, a read-only mount, a
folder the user cannot write to.
"""
from __future__ import annotations

import errno
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from activelab.core.errors import ActiveLabError, StoreWriteError
from activelab.core.project.engine import LabelingEngine

__all__ = ["WRITE_ERRORS", "SavedButStalled", "WriteFailure", "describe_write_failure",
           "project_read_only_reason", "read_only_reason"]

# What a store write may raise: our own errors first, the raw ones as the last resort.
WRITE_ERRORS: tuple[type[BaseException], ...] = (ActiveLabError, sqlite3.Error, OSError)
# (SavedButStalled, defined below, is added to them there.)
LOW_SPACE_BYTES = 256 * 1024   # below this, an unexplained write error is taken as "disk full"

# SQLite primary result codes that name the cause (SQLITE_IOERR and SQLITE_CANTOPEN do not).
_SQLITE_CAUSE = {13: "disk_full", 8: "read_only", 5: "locked", 6: "locked"}
_ERRNO_CAUSE = {errno.ENOSPC: "disk_full", errno.EDQUOT: "disk_full", errno.EROFS: "read_only",
                errno.EACCES: "read_only", errno.EPERM: "read_only"}


@dataclass(frozen=True)
class WriteFailure:
    """A failed user action as the banner shows it.

    ``cause``: disk_full | read_only | locked | io for a failed write, ``refused`` for an
    ActiveLabError that is not a write failure (a bad label value, say: retrying will not help).
    """

    cause: str
    message: str

    @property
    def retryable(self) -> bool:
        return self.cause != "refused"


class SavedButStalled(Exception):
    """The action was saved, but reading what comes next failed (a team project's server went
    away between the two). ``cause``: that error; ``resume()``: load the next sample again."""

    def __init__(self, cause: BaseException, resume: Any) -> None:
        super().__init__(str(cause))
        self.cause, self.resume = cause, resume


WRITE_ERRORS = (SavedButStalled, *WRITE_ERRORS)


def describe_write_failure(exc: BaseException, project_path: str | Path | None,
                           what: str = "label") -> WriteFailure:
    """One paragraph for ``exc`` raised while saving ``what`` ("label", "skip", "setting"…).

    A ``StoreWriteError`` keeps its own message and cause; another ``ActiveLabError`` is shown
    as it is (``refused``); a raw ``sqlite3.Error``/``OSError`` is named here;
    ``SavedButStalled``: the action WAS saved, the next sample could not be loaded."""
    if isinstance(exc, SavedButStalled):
        inner = describe_write_failure(exc.cause, project_path, what)
        detail = inner.message.split(" NOT saved", 1)[-1].lstrip(". ")
        detail = detail.split(" Check the network", 1)[0] + (
            " Check the network and that the server is running." if "Check the network"
            in detail else "")
        return WriteFailure(inner.cause, (
            f"The {what} WAS saved, but the next sample could not be loaded: {detail} "
            "Press Retry to load it once the store answers."))
    if isinstance(exc, StoreWriteError):
        return WriteFailure(exc.cause or "io", str(exc))
    if isinstance(exc, ActiveLabError):
        return WriteFailure("refused", str(exc))
    if getattr(exc, "refusal", None):   # a running PostgreSQL server refused the connection
        from activelab.core.store.pg_refusals import refusal_paragraph

        return WriteFailure("unreachable", refusal_paragraph(exc.refusal, exc.detail, exc.where,
                                                             what=what, who=exc.who))
    if str(exc).startswith("store unreachable"):   # a team project's PostgreSQL server
        return WriteFailure("unreachable", (
            f"Store unreachable — {what} NOT saved. {str(exc)[len('store unreachable: '):]}. "
            "Check the network and that the server is running, then press the key again or "
            "Retry; everything saved before is kept on the server."))
    cause, evidence = _raw_cause(exc, project_path)
    where = f" ({project_path})" if project_path else ""
    detail = evidence or f"{type(exc).__name__}: {exc}"
    if cause == "disk_full":
        text = (f"Disk full — {what} NOT saved. The drive holding the project{where} has no free "
                f"space left ({detail}). Free some space, then press the key again or click Retry; "
                "everything saved before is safe.")
    elif cause == "read_only":
        text = (f"The project is read-only — {what} NOT saved. The project folder{where} cannot be "
                f"written ({detail}). Make it writable, or open a writable copy of the folder, then "
                "Retry; everything saved before is safe.")
    elif cause == "locked":
        text = (f"The project is locked by another program — {what} NOT saved ({detail}). Close "
                f"the other activelab window or command using the project{where}, then Retry; "
                "everything saved before is safe.")
    else:
        text = (f"Write error — {what} NOT saved ({detail}) in the project{where}. Check the drive "
                "(is it still connected?), then Retry; everything saved before is safe.")
    return WriteFailure(cause, text)


def _raw_cause(exc: BaseException, project_path: str | Path | None) -> tuple[str, str]:
    """The cause, and the evidence when it came from the file system rather than ``exc``."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None and (code & 0xFF) in _SQLITE_CAUSE:
        return _SQLITE_CAUSE[code & 0xFF], ""
    if isinstance(exc, OSError) and exc.errno in _ERRNO_CAUSE:
        return _ERRNO_CAUSE[exc.errno], ""
    text = str(exc).lower()
    for cause, words in (("disk_full", ("disk is full", "no space")),
                         ("read_only", ("readonly", "read-only")), ("locked", ("locked", "busy"))):
        if any(w in text for w in words):
            return cause, ""
    # The text hides the cause: ask the file system the project lives on.
    if project_path is not None:
        why = read_only_reason(project_path)
        if why:
            return "read_only", why
        try:
            st = os.statvfs(project_path)
        except OSError:
            return "io", ""
        free = st.f_bavail * st.f_frsize
        if free < LOW_SPACE_BYTES:
            return "disk_full", f"{free // 1024} KiB free; the store said: {exc}"
    return "io", ""


def read_only_reason(project_path: str | Path, store_name: str = "project.sqlite") -> str:
    """Why the project folder cannot be written, in a few words, or "" when it can."""
    folder = Path(project_path)
    try:
        st = os.statvfs(folder)
    except OSError as exc:
        return f"its folder cannot be read ({exc.strerror or exc})"
    if st.f_flag & os.ST_RDONLY:
        return "its folder is on a read-only drive or mount"
    if not os.access(folder, os.W_OK):
        return "you do not have permission to write to its folder"
    store = folder / store_name
    if store.exists() and not os.access(store, os.W_OK):
        return f"its store file {store_name} is read-only"
    return ""


def project_read_only_reason(project: LabelingEngine) -> str:
    """Why ``project`` (opened read-only) cannot be written: its own reason when it gives
    one, else the file system's."""
    return project.read_only_reason or read_only_reason(project.path)
