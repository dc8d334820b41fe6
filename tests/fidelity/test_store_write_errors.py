"""Every failed write is named: disk full, read-only, locked, I/O error — one paragraph, the
label NOT saved, nothing saved before lost, labeling works again once the cause is gone.

Real small file systems (a 2 MB tmpfs filled up, a tmpfs remounted read-only) where the machine
allows mounting; SQLite and OS errors injected at the store boundary for the other kinds.
"""
from __future__ import annotations

import errno
import sqlite3

import pytest

import activelab.core.store.store
from activelab.core.cli.main import main
from activelab.core.errors import StoreWriteError
from activelab.core.project.project import Project
from tests.fidelity.store_helpers import (
    assert_clean_error, cli, fill, labels_of, make_project, remount, tmpfs,
)


# ----------------------------------------------------------------------------- real tmpfs
def _fill_until_full(proj: Project, start: int = 10) -> tuple[list[str], StoreWriteError]:
    """Label until the disk is full; the ids whose label was reported saved, and the error."""
    saved = []
    fill(proj.path.parent, leave=8 * 1024)
    for k in range(start, start + 400):
        sid = proj.ids[k % proj.n_samples]
        try:
            proj.label(sid, "food", task="topic", annotator="x" * 4000)
        except StoreWriteError as exc:
            return saved, exc
        saved.append(sid)
    pytest.fail("the disk never filled up")


def test_disk_full_label_via_project_names_cause_and_resumes(tmp_path):
    with tmpfs(tmp_path / "disk") as disk:
        proj = make_project(disk, data_dir=tmp_path)
        before = labels_of(proj.path)
        saved, exc = _fill_until_full(proj)
        assert exc.cause == "disk_full"
        assert str(exc).startswith(f"Disk full — label NOT saved to {proj.path}.")
        assert "everything saved before is kept" in str(exc)
        assert "cannot rollback" not in str(exc)
        (disk / "filler.bin").unlink()                     # the cause is gone
        proj.label(proj.ids[39], "sport", task="topic")    # the same Project labels again
        proj.close()
        after = labels_of(proj.path)
        assert all(after[s] == v for s, v in before.items())
        assert all(s in after for s in saved)
        assert after[proj.ids[39]] == "sport"


def test_disk_full_label_via_cli_exit_1_one_paragraph(tmp_path):
    with tmpfs(tmp_path / "disk") as disk:
        proj = make_project(disk, data_dir=tmp_path)
        proj.close()
        before = labels_of(proj.path)
        fill(disk, leave=0)
        # the longest annotator name there is (64 characters): the labels need new pages
        procs = [cli("label", proj.path, proj.ids[k], "food", "--annotator", "y" * 64)
                 for k in (*range(10, 30), *range(31, 40))]
        failed = [p for p in procs if p.returncode != 0]
        assert failed, "no label failed on a full disk"
        assert_clean_error(failed[0], f"Disk full — label NOT saved to {proj.path}.")
        assert failed[0].stderr.count("\n") == 1          # one paragraph
        (disk / "filler.bin").unlink()
        ok = cli("label", proj.path, proj.ids[30], "tech")
        assert ok.returncode == 0, ok.stderr
        after = labels_of(proj.path)
        assert all(after[s] == v for s, v in before.items())
        assert after[proj.ids[30]] == "tech"


def test_read_only_file_system_via_project_and_cli(tmp_path):
    with tmpfs(tmp_path / "disk") as disk:
        proj = make_project(disk, data_dir=tmp_path)
        proj.close()
        before = labels_of(proj.path)
        remount(disk, "ro")
        try:
            ro = Project.open(proj.path)
            assert ro.read_only
            with pytest.raises(StoreWriteError) as info:
                ro.label(ro.ids[20], "food", task="topic")
            assert info.value.cause == "read_only"
            assert str(info.value).startswith(f"The project {proj.path} is read-only (its file "
                                              "system is mounted read-only) — label NOT saved.")
            ro.close()
            assert_clean_error(cli("label", proj.path, proj.ids[20], "food"),
                               "is read-only (its file system is mounted read-only) — label NOT saved")
        finally:
            remount(disk, "rw")
        assert labels_of(proj.path) == before


def test_new_into_read_only_parent_is_named(tmp_path):
    with tmpfs(tmp_path / "disk") as disk:
        data = tmp_path / "d.csv"
        from tests.core.helpers import write_text_csv

        write_text_csv(data, n=20)
        remount(disk, "ro")
        proc = cli("new", disk / "p", "--data", data, "--text-column", "text", "--task", "topic=topic")
        assert_clean_error(proc, f"{disk} is on a read-only file system")
        assert not (disk / "p").exists()


def test_backup_to_full_disk_leaves_no_half_copy(tmp_path):
    proj = make_project(tmp_path)
    (proj.path / "pool.bin").write_bytes(b"\1" * 3_000_000)    # bigger than the disk
    with tmpfs(tmp_path / "disk") as disk:
        proc = cli("backup", proj.path, disk / "copy")
        assert_clean_error(proc, f"Disk full — backup NOT saved to {disk}.")
        assert "the project" in proc.stderr and "is unchanged" in proc.stderr
        assert list(disk.iterdir()) == []                  # neither DEST nor a hidden leftover


def test_backup_into_read_only_folder_is_named(tmp_path):
    proj = make_project(tmp_path)
    with tmpfs(tmp_path / "disk") as disk:
        remount(disk, "ro")
        proc = cli("backup", proj.path, disk / "copy.sqlite")
        assert_clean_error(proc, f"The folder {disk} is read-only (its file system is mounted "
                                 "read-only) — backup NOT saved.")
        remount(disk, "rw")
        assert list(disk.iterdir()) == []


# ----------------------------------------------------------------------------- injected
class _FailingConnection:
    """A connection whose next matching statement fails like SQLite would."""

    def __init__(self, conn: sqlite3.Connection, plan: dict) -> None:
        self._conn = conn
        self.plan = plan

    def __getattr__(self, name):
        return getattr(self._conn, name)

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def execute(self, sql, *args):
        exc, on, auto_rollback = self.plan.get("exc"), self.plan.get("on"), self.plan.get("rollback")
        if exc is not None and sql.strip().upper().startswith(on):
            if auto_rollback and self._conn.in_transaction:
                self._conn.execute("ROLLBACK")   # SQLite rolls back by itself after FULL / IOERR
            raise exc
        return self._conn.execute(sql, *args)


def _sqlite_error(message: str, code: int | None = None) -> sqlite3.OperationalError:
    exc = sqlite3.OperationalError(message)
    if code is not None:
        exc.sqlite_errorcode = code
    return exc


INJECTED = [
    # (id, error, statement it hits, SQLite already rolled back, cause, message start)
    ("full-at-commit-auto-rollback", _sqlite_error("database or disk is full", 13), "COMMIT", True,
     "disk_full", "Disk full — label NOT saved to"),
    ("full-message-only", _sqlite_error("database or disk is full"), "INSERT", False,
     "disk_full", "Disk full — label NOT saved to"),
    ("readonly-database", _sqlite_error("attempt to write a readonly database", 8), "INSERT",
     False, "read_only", "The project"),
    ("busy", _sqlite_error("database is locked", 5), "BEGIN", False, "locked",
     "The project"),
    ("ioerr-write", _sqlite_error("disk I/O error", 778), "COMMIT", True, "io",
     "I/O error — label NOT saved to"),
    ("oserror-enospc", OSError(errno.ENOSPC, "No space left on device"), "INSERT", False,
     "disk_full", "Disk full — label NOT saved to"),
    ("oserror-erofs", OSError(errno.EROFS, "Read-only file system"), "INSERT", False,
     "read_only", "The project"),
]


@pytest.mark.parametrize("exc,on,rollback,cause,start", [c[1:] for c in INJECTED],
                         ids=[c[0] for c in INJECTED])
def test_injected_write_failure_is_named_and_nothing_is_lost(tmp_path, monkeypatch, exc, on,
                                                             rollback, cause, start):
    proj = make_project(tmp_path)
    proj.close()
    before = labels_of(proj.path)
    plan: dict = {}
    real = activelab.core.store.store.connect_rw
    monkeypatch.setattr(activelab.core.store.store, "connect_rw",
                        lambda path, timeout: _FailingConnection(real(path, timeout), plan))
    proj = Project.open(proj.path)
    plan.update(exc=exc, on=on, rollback=rollback)
    with pytest.raises(StoreWriteError) as info:
        proj.label(proj.ids[20], "food", task="topic")
    assert info.value.cause == cause
    assert str(info.value).startswith(start)
    assert "label NOT saved" in str(info.value) and "cannot rollback" not in str(info.value)
    assert isinstance(info.value.__cause__, type(exc))       # the real error is kept
    assert not proj.store._conn().in_transaction
    plan.clear()                                              # the cause is gone
    proj.label(proj.ids[20], "food", task="topic")
    proj.close()
    after = labels_of(proj.path)
    assert after == {**before, proj.ids[20]: "food"}


def test_locked_by_another_program_waits_then_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(activelab.core.store.store, "BUSY_TIMEOUT", 0.2)
    proj = make_project(tmp_path)
    other = sqlite3.connect(proj.path / "project.sqlite", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")                        # another writer holds the lock
    try:
        fresh = Project.open(proj.path)
        with pytest.raises(StoreWriteError) as info:
            fresh.label(fresh.ids[21], "tech", task="topic")
        assert info.value.cause == "locked"
        assert "is locked by another program — label NOT saved after waiting 0.2 s" in str(info.value)
    finally:
        other.execute("ROLLBACK")
        other.close()
    fresh.label(fresh.ids[21], "tech", task="topic")
    assert labels_of(proj.path)[fresh.ids[21]] == "tech"


def test_setting_write_failure_names_the_setting(tmp_path, monkeypatch):
    proj = make_project(tmp_path)
    plan = {"exc": _sqlite_error("database or disk is full", 13), "on": "INSERT INTO SETTINGS",
            "rollback": True}
    real = proj.store._conn()
    proj.store._local.conn = _FailingConnection(real, plan)
    with pytest.raises(StoreWriteError, match="^Disk full — setting NOT saved to .* change the "
                                              "setting again; everything saved before is kept"):
        proj.update_settings(batch_size=7)


@pytest.mark.parametrize("exc,fragment", [
    (sqlite3.OperationalError("disk I/O error"), "The project store reported an error it could not name"),
    (sqlite3.OperationalError("database or disk is full"), "Disk full (database or disk is full): "
                                                           "what this command was writing was NOT saved"),
    (OSError(errno.ENOSPC, "No space left on device", "/somewhere/out.csv"),
     "Disk full while writing /somewhere/out.csv"),
    (PermissionError(errno.EACCES, "Permission denied", "/somewhere/out.csv"),
     "/somewhere/out.csv is not writable (permission denied)"),
], ids=["raw-sqlite-error", "raw-sqlite-full", "raw-enospc", "raw-eacces"])
def test_cli_last_resort_names_raw_errors_without_traceback(tmp_path, monkeypatch, capsys, exc, fragment):
    proj = make_project(tmp_path)
    proj.close()

    def broken(self, *a, **k):
        raise exc

    monkeypatch.setattr(Project, "label", broken)
    assert main(["label", str(proj.path), proj.ids[30], "food"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and fragment in err and "Traceback" not in err
