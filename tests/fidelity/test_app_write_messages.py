"""What the app's banner says for each kind of failed write (no Qt): our StoreWriteError as it
is, and raw sqlite3/OS errors, named from their SQLite code, errno, text or the file system."""
from __future__ import annotations

import errno
import sqlite3

import pytest

from activelab.app.write_failures import describe_write_failure, read_only_reason
from activelab.core.errors import LabelError, StoreWriteError
from tests.fidelity.app_fixtures import fill, remount, tmpfs


def _real_sqlite_error(tmp_path, kind: str) -> sqlite3.Error:
    """A real error from SQLite itself (with its sqlite_errorcode), not one made by hand."""
    db = tmp_path / "x.sqlite"
    sqlite3.connect(db).execute("CREATE TABLE t(x)").connection.commit()
    if kind == "readonly":
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    else:   # locked: another connection holds the write lock
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        conn = sqlite3.connect(db, timeout=0.01)
    try:
        conn.execute("INSERT INTO t VALUES (1)")
        conn.commit()
    except sqlite3.Error as exc:
        return exc
    raise AssertionError("the write did not fail")


@pytest.mark.parametrize("exc, what, cause, said", [
    (StoreWriteError("Disk full — label NOT saved to /p. Free some space.", cause="disk_full"),
     "label", "disk_full", "Disk full — label NOT saved to /p. Free some space."),
    (sqlite3.OperationalError("database or disk is full"), "label", "disk_full", "Disk full — label NOT saved"),
    (OSError(errno.ENOSPC, "No space left on device"), "skip", "disk_full", "Disk full — skip NOT saved"),
    (OSError(errno.EDQUOT, "Disk quota exceeded"), "flag", "disk_full", "Disk full — flag NOT saved"),
    (OSError(errno.EROFS, "Read-only file system"), "undo", "read_only", "read-only — undo NOT saved"),
    (PermissionError(errno.EACCES, "Permission denied"), "redo", "read_only", "read-only — redo NOT saved"),
    (sqlite3.OperationalError("attempt to write a readonly database"), "setting", "read_only",
     "The project is read-only — setting NOT saved"),
    (sqlite3.OperationalError("database is locked"), "label", "locked", "locked by another program — label NOT saved"),
    (OSError(errno.EIO, "Input/output error"), "label", "io", "Write error — label NOT saved (OSError"),
    (LabelError("'x' is not a class of task 'topic'."), "label", "refused", "'x' is not a class of task 'topic'."),
], ids=["store_error_as_is", "sqlite_full", "enospc", "edquot", "erofs", "eacces", "sqlite_readonly",
        "sqlite_locked", "eio", "not_a_write_error"])
def test_banner_text_per_cause(tmp_path, exc, what, cause, said):
    failure = describe_write_failure(exc, tmp_path, what)
    assert failure.cause == cause
    assert said in failure.message
    assert failure.retryable == (cause != "refused"), "Retry only where retrying can help"
    assert "Traceback" not in failure.message and "\n" not in failure.message


@pytest.mark.parametrize("kind, cause", [("readonly", "read_only"), ("locked", "locked")])
def test_real_sqlite_errors_are_named_by_their_code(tmp_path, kind, cause):
    exc = _real_sqlite_error(tmp_path, kind)
    assert describe_write_failure(exc, tmp_path, "label").cause == cause


def test_masked_error_on_a_full_disk_says_disk_full(tmp_path):
    """SQLite's "cannot rollback" hides a full disk: the file system is asked."""
    with tmpfs(tmp_path / "mnt", "1m") as mnt:
        fill(mnt)
        failure = describe_write_failure(
            sqlite3.OperationalError("cannot rollback - no transaction is active"), mnt, "label")
        assert failure.cause == "disk_full"
        assert failure.message.startswith("Disk full — label NOT saved.")
        assert "0 KiB free" in failure.message


def test_read_only_mount_is_the_reason(tmp_path):
    with tmpfs(tmp_path / "mnt", "1m") as mnt:
        assert read_only_reason(mnt) == ""
        remount(mnt, "ro")
        assert read_only_reason(mnt) == "its folder is on a read-only drive or mount"
        failure = describe_write_failure(sqlite3.OperationalError("disk I/O error"), mnt, "label")
        assert failure.cause == "read_only"
        assert "its folder is on a read-only drive or mount" in failure.message
