"""A project that cannot be written opens read-only (viewing, status, export, query work);
an open failure names its real cause, and "corrupted" is said only when SQLite's integrity
check says so; the schema-1 store is migrated in place (or read as it is when read-only)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess

import pytest

from activelab.core.errors import ProjectError, StoreWriteError
from activelab.core.project.project import Project
from activelab.core.store.store import SCHEMA_VERSION, LabelStore
from tests.fidelity.store_helpers import (
    ENV, PY, ROOT, assert_clean_error, cli, labels_of, make_project, read_only_bind, remount, tmpfs,
)


def _status(path) -> dict:
    proc = cli("status", path, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_read_only_mount_status_export_query_check_work(tmp_path):
    with tmpfs(tmp_path / "disk") as disk:
        proj = make_project(disk, data_dir=tmp_path)
        proj.retrain()
        proj.close()
        before = labels_of(proj.path)
        remount(disk, "ro")
        try:
            assert _status(proj.path)["labeled"] == len(before)
            out = tmp_path / "labels.csv"
            assert cli("export", proj.path, "--out", out).returncode == 0
            assert out.read_text(encoding="utf-8").count("\n") >= len(before)
            q = cli("query", proj.path, "-n", "3", "--json")
            assert q.returncode == 0, q.stderr
            assert len(json.loads(q.stdout)) == 3
            assert cli("check", proj.path).returncode == 0
            ro = Project.open(proj.path)
            assert ro.read_only and ro.features.n_samples == 40 and ro.pool_projection().shape == (40, 2)
            assert ro.sample(0).texts["text"]
            with pytest.raises(StoreWriteError) as info:
                ro.update_settings(batch_size=3)
            assert info.value.cause == "read_only" and "setting NOT saved" in str(info.value)
            ro.close()
            assert sorted(os.listdir(proj.path)) == ["cache", "pool.parquet", "project.sqlite"]
        finally:
            remount(disk, "rw")


def test_read_only_copy_with_unchecked_wal_shows_every_label(tmp_path):
    """A project copied (with its -wal, without -shm) to a read-only place, labels never
    checkpointed: opened from a private temporary copy, every label is there."""
    proj = make_project(tmp_path, labels=3)
    proj.close()
    child = (
        "import os, sys\n"
        "import activelab.core.store.store as s\n"
        "from activelab.core.project.project import Project\n"
        "p = Project.open(sys.argv[1])\n"
        "p.store._checkpointer.stop(); p.store._checkpointer = None\n"
        "for k in range(10, 30): p.label(p.ids[k], 'tech', task='topic')\n"
        "os._exit(0)\n"                                 # no close: the labels stay in the WAL
    )
    subprocess.run([PY, "-c", child, str(proj.path)], check=True, env=ENV, cwd=ROOT)
    src = tmp_path / "copy"
    shutil.copytree(proj.path, src)
    (src / "project.sqlite-shm").unlink(missing_ok=True)
    assert (src / "project.sqlite-wal").stat().st_size > 0
    with read_only_bind(src, tmp_path / "ro") as ro_dir:
        ro = Project.open(ro_dir)
        assert ro.read_only and "temporary copy" in (ro.store.note or "")
        assert ro.labeled_count() == 23
        ro.close()


def test_schema_1_store_is_migrated_in_place_keeping_its_curve(tmp_path):
    proj = make_project(tmp_path)
    proj.retrain()
    proj.close()
    path = proj.path / "project.sqlite"
    _downgrade_to_v1(path)
    proj = Project.open(proj.path)
    con = sqlite3.connect(path)
    assert con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == str(SCHEMA_VERSION)
    assert [r[0] for r in con.execute("SELECT version FROM curve")] == [1, 2]
    con.close()
    assert proj.model_version == 2
    proj.label(proj.ids[20], "food", task="topic")
    assert proj.retrain().version == 3


def test_schema_1_store_on_read_only_mount_opens_without_migrating(tmp_path):
    with tmpfs(tmp_path / "disk") as disk:
        proj = make_project(disk, data_dir=tmp_path)
        proj.retrain()
        proj.close()
        _downgrade_to_v1(proj.path / "project.sqlite")
        before = (proj.path / "project.sqlite").read_bytes()
        remount(disk, "ro")
        try:
            ro = Project.open(proj.path)
            assert ro.read_only and ro.model_version == 2 and len(ro.curve()) == 2
            ro.close()
            assert (proj.path / "project.sqlite").read_bytes() == before
        finally:
            remount(disk, "rw")


def _downgrade_to_v1(path) -> None:
    """Rewrite a store into the schema-1 layout (curve keyed by version, no quarantine)."""
    con = sqlite3.connect(path, isolation_level=None)
    cols = ("version, time, n_labels, cv_accuracy, cv_macro_f1, audit_accuracy, audit_n, "
            "train_seconds, per_task, model")
    con.execute("BEGIN")
    con.execute(
        "CREATE TABLE curve_v1(version INTEGER PRIMARY KEY, time REAL NOT NULL, n_labels INTEGER "
        "NOT NULL, cv_accuracy REAL, cv_macro_f1 REAL, audit_accuracy REAL, audit_n INTEGER NOT "
        "NULL DEFAULT 0, train_seconds REAL NOT NULL, per_task TEXT NOT NULL, model TEXT)")
    con.execute(f"INSERT INTO curve_v1 SELECT {cols} FROM curve")
    con.execute("INSERT INTO curve_v1 SELECT version + 1, time, n_labels, cv_accuracy, cv_macro_f1, "
                "audit_accuracy, audit_n, train_seconds, per_task, model FROM curve")
    con.execute("DROP TABLE curve")
    con.execute("ALTER TABLE curve_v1 RENAME TO curve")
    con.execute("DROP TABLE quarantine")
    con.execute("UPDATE meta SET value='1' WHERE key='schema_version'")
    con.execute("COMMIT")
    con.close()


# ----------------------------------------------------------------------------- open failures
def _corrupt_pages(path) -> None:
    data = bytearray(path.read_bytes())
    page = 4096
    for start in range(2 * page, len(data) - page, page):   # every page but the first two
        data[start + 8:start + 400] = bytes((7 * i + start) % 256 for i in range(392))
    path.write_bytes(bytes(data))


OPEN_FAILURES = [
    ("damaged-pages", _corrupt_pages, "is corrupted"),
    ("not-a-database", lambda p: p.write_bytes(b"hello, not sqlite\n" * 300), "is not an SQLite database"),
    ("empty-tables", lambda p: (p.unlink(), sqlite3.connect(p).execute("CREATE TABLE x(y)").connection.commit()),
     "not an activelab project store"),
    ("store-is-a-folder", lambda p: (p.unlink(), p.mkdir()), "is not a file"),
    ("store-missing", lambda p: p.unlink(), "No project store at"),
]


@pytest.mark.parametrize("damage,fragment", [c[1:] for c in OPEN_FAILURES], ids=[c[0] for c in OPEN_FAILURES])
def test_open_failure_names_its_cause_and_corrupted_only_when_integrity_fails(tmp_path, damage, fragment):
    proj = make_project(tmp_path, n=200, labels=60)
    proj.close()
    damage(proj.path / "project.sqlite")
    with pytest.raises(ProjectError) as info:
        Project.open(proj.path)
    assert fragment in str(info.value)
    assert ("corrupted" in str(info.value)) == (fragment == "is corrupted")
    assert_clean_error(cli("status", proj.path), fragment)


def test_newer_schema_is_refused_and_left_unchanged(tmp_path):
    proj = make_project(tmp_path)
    proj.close()
    path = proj.path / "project.sqlite"
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    con.commit()
    con.close()
    before = path.read_bytes()
    assert_clean_error(cli("label", proj.path, proj.ids[20], "food"), "written by a newer activelab")
    with pytest.raises(ProjectError, match="has not been changed"):
        LabelStore(path)
    assert path.read_bytes() == before


def test_sigterm_during_a_command_is_an_interrupt_not_a_kill(tmp_path):
    """SIGTERM ends a command like Ctrl+C: exit 130 and the message, labels kept."""
    proj = make_project(tmp_path)
    proj.close()
    child = subprocess.Popen(
        [PY, "-c", "import sys, time\nfrom activelab.core.cli.main import main\nimport activelab.core.cli.status as c\n"
                   "c.cmd_status = lambda a: (print('READY', flush=True), time.sleep(30))[0]\n"
                   "sys.exit(main(['status', sys.argv[1]]))", str(proj.path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
    assert child.stdout.readline().strip() == "READY"
    child.send_signal(signal.SIGTERM)
    _out, err = child.communicate(timeout=30)
    assert child.returncode == 130 and "interrupted; everything saved so far is kept." in err
    assert len(labels_of(proj.path)) == 6
