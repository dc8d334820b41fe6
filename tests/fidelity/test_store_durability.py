"""A copied or moved project never loses labels; kills never leave a half store or a half
backup; concurrent retrains keep every curve point; an interrupted `new` leaves nothing behind."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from activelab.core.errors import ProjectError
from activelab.core.project.project import Project
from activelab.core.store.backup import backup_project
from activelab.core.store.temp_folders import is_temp_name, remove_stale_temp_siblings, temp_prefix
from tests.core.helpers import write_text_csv
from tests.fidelity.store_helpers import (
    ENV, PY, ROOT, cli, labels_in_file_alone, labels_of, make_project,
)

LABELER = r"""
import sys
from activelab.core.project.project import Project
p = Project.open(sys.argv[1])
mode = sys.argv[2]
classes = ["sport", "tech", "food"]
print("READY", flush=True)
for k in range(100000):
    sid = p.ids[k % p.n_samples]
    p.label(sid, classes[k % 3], task="topic", annotator=f"{mode}{k}")
    print(f"SAVED {sid} {mode}{k}", flush=True)
    if mode == "ckpt":
        p.store.checkpoint("TRUNCATE")          # kills land inside checkpoints too
    elif mode == "burst" and k == int(sys.argv[3]) - 1:
        print("BURST DONE", flush=True)
        import time; time.sleep(60)
"""


def _spawn(*args: str) -> subprocess.Popen:
    return subprocess.Popen([PY, "-c", *args], stdout=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)


def _saved(out: str) -> list[tuple[str, str]]:
    return [(ln.split()[1], ln.split()[2]) for ln in out.splitlines()
            if ln.startswith("SAVED ") and len(ln.split()) == 3]


def _events(path: Path) -> set[tuple[str, str]]:
    p = Project.open(path)
    try:
        assert p.store.integrity_check() == "ok"
        return {(e.sample_id, e.annotator) for e in p.store.events() if e.kind == "label"}
    finally:
        p.close()


# ----------------------------------------------------------------------------- copies
@pytest.mark.parametrize("when", ["after-close", "after-burst-checkpoint", "after-close-other-reader"])
def test_copying_project_sqlite_alone_keeps_every_label(tmp_path, when):
    proj = make_project(tmp_path, labels=0)
    reader = Project.open(proj.path) if when == "after-close-other-reader" else None
    if reader is not None:
        reader.labeled_count()                       # the app's other connection, idle
    for k in range(40):
        proj.label(proj.ids[k], ["sport", "tech", "food"][k % 3], task="topic")
    store = proj.path / "project.sqlite"
    if when == "after-burst-checkpoint":             # the app still open: within ~1 s
        deadline = time.monotonic() + 3.0
        while labels_in_file_alone(store) < 40 and time.monotonic() < deadline:
            time.sleep(0.05)
    else:
        proj.close()
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy2(store, copy / "project.sqlite")     # the store alone, no -wal
    assert labels_in_file_alone(copy / "project.sqlite") == 40
    assert len(labels_of(copy)) == 40
    if reader is not None:
        reader.close()


def test_sigkill_then_wal_deleted_keeps_labels_of_the_burst(tmp_path):
    proj = make_project(tmp_path, labels=0)
    proj.close()
    child = _spawn(LABELER, str(proj.path), "burst", "30")
    assert child.stdout.readline().strip() == "READY"
    lines = []
    for line in child.stdout:
        lines.append(line)
        if line.startswith("BURST DONE"):
            break
    reported = _saved("".join(lines))
    deadline = time.monotonic() + 3.0                # the burst checkpoint, within ~1 s
    while labels_in_file_alone(proj.path / "project.sqlite") < 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.communicate()
    for suffix in ("-wal", "-shm"):
        (proj.path / f"project.sqlite{suffix}").unlink(missing_ok=True)
    assert len(reported) == 30
    assert set(reported) <= _events(proj.path)


# ----------------------------------------------------------------------------- backups
def test_backup_while_another_process_labels(tmp_path):
    proj = make_project(tmp_path, labels=0)
    np.save(proj.path / "images.npy", np.zeros((3, 4, 4), np.uint8))   # copied as a file
    proj.close()
    child = _spawn(LABELER, str(proj.path), "open")
    assert child.stdout.readline().strip() == "READY"
    seen = [child.stdout.readline() for _ in range(20)]            # 20 labels acknowledged
    proc = cli("backup", proj.path, tmp_path / "copy")
    child.send_signal(signal.SIGKILL)
    child.communicate()
    assert proc.returncode == 0, proc.stderr
    assert "project.sqlite (" in proc.stdout and "pool.parquet (" in proc.stdout
    assert "images.npy (" in proc.stdout and "Not copied: cache/" in proc.stdout
    copy = _events(tmp_path / "copy")
    assert set(_saved("".join(seen))) <= copy <= _events(proj.path)
    assert sorted(os.listdir(tmp_path / "copy")) == ["images.npy", "pool.parquet", "project.sqlite"]
    assert Project.open(tmp_path / "copy").features.n_samples == 40   # cache rebuilt


def test_backup_to_a_single_sqlite_file_while_open(tmp_path):
    proj = make_project(tmp_path, labels=12)                 # still open, labels maybe in WAL
    proc = cli("backup", proj.path, tmp_path / "store.sqlite")
    assert proc.returncode == 0, proc.stderr
    assert labels_in_file_alone(tmp_path / "store.sqlite") == 12
    assert not (tmp_path / "store.sqlite-wal").exists()


@pytest.mark.parametrize("dest,fragment", [
    ("existing", "already exists"), ("inside", "would be inside the project"),
], ids=["dest-exists", "dest-inside-project"])
def test_backup_refuses_a_bad_destination(tmp_path, dest, fragment):
    proj = make_project(tmp_path, labels=2)
    target = {"existing": tmp_path / "d.csv", "inside": proj.path / "b"}[dest]
    target.parent.mkdir(exist_ok=True)
    if dest == "existing":
        target.write_text("keep me")
    proc = cli("backup", proj.path, target)
    assert proc.returncode == 1 and fragment in proc.stderr and "Traceback" not in proc.stderr
    if dest == "existing":
        assert target.read_text() == "keep me"


BACKUPS = r"""
import sys
from activelab.core.store.backup import backup_project
print("READY", flush=True)
for i in range(1000):
    backup_project(sys.argv[1], f"{sys.argv[2]}/b{i}")
    print(f"DONE {i}", flush=True)
"""


def test_sigkill_during_backup_leaves_complete_or_absent(tmp_path):
    proj = make_project(tmp_path, n=120, labels=0)
    (proj.path / "pool.bin").write_bytes(os.urandom(4_000_000))
    proj.close()
    dests = tmp_path / "backups"
    dests.mkdir()
    labeler = _spawn(LABELER, str(proj.path), "kill")
    assert labeler.stdout.readline().strip() == "READY"
    rng = np.random.default_rng(3)
    for _round in range(6):
        child = _spawn(BACKUPS, str(proj.path), str(dests))
        assert child.stdout.readline().strip() == "READY"
        time.sleep(float(rng.uniform(0.05, 0.6)))
        child.send_signal(signal.SIGKILL)
        child.communicate()
        for d in dests.iterdir():
            if is_temp_name(d.name):            # a killed backup's leftover: not a project
                with pytest.raises(ProjectError):
                    Project.open(d)
            elif d.is_dir():                    # a backup that exists is complete
                assert (d / "pool.bin").read_bytes() == (proj.path / "pool.bin").read_bytes()
                assert _events(d) <= _events(proj.path)
        for d in list(dests.iterdir()):
            if not is_temp_name(d.name):
                shutil.rmtree(d)
    labeler.send_signal(signal.SIGKILL)
    out, _ = labeler.communicate()
    assert set(_saved(out)) <= _events(proj.path)             # the source is intact
    leftovers = [d for d in dests.iterdir() if is_temp_name(d.name)]
    backup_project(proj.path, dests / "final")                # cleans the stale leftovers
    assert sorted(os.listdir(dests)) == ["final"], leftovers


def test_sigkill_during_checkpoints_loses_no_acknowledged_label(tmp_path):
    proj = make_project(tmp_path, labels=0)
    proj.close()
    rng = np.random.default_rng(11)
    reported: list[tuple[str, str]] = []
    for _round in range(8):
        child = _spawn(LABELER, str(proj.path), "ckpt")
        assert child.stdout.readline().strip() == "READY"
        time.sleep(float(rng.uniform(0.05, 0.4)))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        reported += _saved(out)
    assert len(reported) > 10
    assert set(reported) <= _events(proj.path)


# ----------------------------------------------------------------------------- concurrency
RETRAINER = r"""
import sys
from activelab.core.project.project import Project
p = Project.open(sys.argv[1])
first = int(sys.argv[2])
for k in range(9):
    p.label(p.ids[first + k], ["sport", "tech", "food"][k % 3], task="topic")
    pt = p.retrain()
    if pt is not None:
        print(f"POINT {pt.version} {pt.time!r}", flush=True)
"""


def test_two_processes_retraining_keep_every_curve_point(tmp_path):
    proj = make_project(tmp_path, n=60, labels=6)
    proj.close()
    kids = [_spawn(RETRAINER, str(proj.path), str(first)) for first in (10, 30)]
    outs = [k.communicate(timeout=600)[0] for k in kids]
    assert all(k.returncode == 0 for k in kids)
    reported = [(int(ln.split()[1]), float(ln.split()[2])) for out in outs
                for ln in out.splitlines() if ln.startswith("POINT ")]
    p = Project.open(proj.path)
    stored = [(c.version, c.time) for c in p.curve()]
    assert len(reported) >= 12                       # at most a few retrains share labels
    assert sorted(reported) == sorted(stored)        # every reported point kept, none replaced
    assert len({v for v, _ in stored}) == len(stored)
    assert p.model_version == max(v for v, _ in stored) == len(stored)


# ----------------------------------------------------------------------------- interrupted new
def _slow_new(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    data = write_text_csv(tmp_path / "big.csv", n=30000)
    parent = tmp_path / "projects"
    parent.mkdir()
    child = subprocess.Popen(
        [PY, "-m", "activelab.core.cli.main", "new", str(parent / "p"), "--data", str(data), "--text-column",
         "text", "--task", "topic=topic"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
    deadline = time.monotonic() + 120
    while not any(".creating-" in n for n in os.listdir(parent)):
        assert child.poll() is None and time.monotonic() < deadline, "new ended too soon"
        time.sleep(0.01)
    return child, parent


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT],
                         ids=["sigkill", "sigterm", "ctrl-c"])
def test_interrupted_new_leaves_no_creating_folder(tmp_path, sig):
    child, parent = _slow_new(tmp_path)
    child.send_signal(sig)
    _out, err = child.communicate(timeout=120)
    if sig != signal.SIGKILL:                        # cleaned up by the process itself
        assert child.returncode == 130 and "interrupted" in err and "Traceback" not in err
        assert os.listdir(parent) == []
        return
    assert any(".creating-" in n for n in os.listdir(parent))      # SIGKILL cannot clean up
    data = write_text_csv(tmp_path / "small.csv", n=20)
    Project.create(parent / "q", data=data, text_columns=["text"], tasks=["topic=topic"]).close()
    assert os.listdir(parent) == ["q"]               # the next `new` removed the stale folder


def test_live_or_recent_creating_folders_are_kept(tmp_path):
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        live = tmp_path / (temp_prefix(tmp_path / "a", "creating").replace(
            f"-{os.getpid()}@", f"-{sleeper.pid}@") + "x1")
        live.mkdir()
        legacy_new = tmp_path / ".b.creating-abc123"         # no pid: kept while recent
        legacy_old = tmp_path / ".c.creating-def456"         # no pid, an hour old: stale
        legacy_new.mkdir()
        legacy_old.mkdir()
        os.utime(legacy_old, (time.time() - 3600, time.time() - 3600))
        unrelated = tmp_path / ".config"
        unrelated.mkdir()
        removed = remove_stale_temp_siblings(tmp_path)
        assert removed == [legacy_old]
        assert live.exists() and legacy_new.exists() and unrelated.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert remove_stale_temp_siblings(tmp_path) == [live]   # its process is gone now


def test_a_kill_whose_exception_was_swallowed_still_stops_the_commit():
    """Python drops an exception raised in a finalizer or a callback from C: the kill is
    remembered, so creating a project does not rename its folder into place afterwards."""
    from activelab.core.store.temp_folders import raise_if_interrupted, sigterm_as_keyboard_interrupt

    with sigterm_as_keyboard_interrupt():
        raise_if_interrupted()                   # nothing arrived yet: no exception
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.5)                      # the handler runs here
        except KeyboardInterrupt:
            pass                                 # swallowed, as a finalizer would
        with pytest.raises(KeyboardInterrupt):
            raise_if_interrupted()
