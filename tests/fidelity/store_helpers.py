"""Shared set-up for the store tests: a small project, real small file systems, the CLI."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

from activelab.core.project.project import Project
from tests.core.helpers import write_text_csv

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def make_project(parent: Path, name: str = "p", n: int = 40, labels: int = 6,
                 data_dir: Path | None = None, **options) -> Project:
    """A text project of ``n`` samples (task 'topic': sport/tech/food), the first ``labels``
    labeled. The data file is written to ``data_dir`` (default ``parent``)."""
    data = write_text_csv((data_dir or parent) / f"{name}-data.csv", n=n)
    opts = {"text_columns": ["text"], "tasks": ["topic=topic"], **options}
    proj = Project.create(parent / name, data=data, **opts)
    classes = ["sport", "tech", "food"]
    for k in range(labels):
        proj.label(proj.ids[k], classes[k % 3], task="topic")
    return proj


def labels_of(path: Path) -> dict[str, object]:
    """sample id -> current label of task 'topic', read from a fresh Project."""
    proj = Project.open(path)
    try:
        st = proj.store.state()
        return dict(st.labels.get("topic", {}))
    finally:
        proj.close()


def labels_in_file_alone(store: Path) -> int:
    """Label events a copy of ``store`` holds without its -wal file."""
    con = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        return con.execute("SELECT COUNT(*) FROM events WHERE kind='label'").fetchone()[0]
    finally:
        con.close()


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``python -m activelab.core.cli.main ARGS`` from the worktree root; text output captured."""
    return subprocess.run([PY, "-m", "activelab.core.cli.main", *map(str, args)], capture_output=True,
                          text=True, env=ENV, cwd=ROOT, timeout=timeout)


def assert_clean_error(proc: subprocess.CompletedProcess, fragment: str) -> None:
    """Exit status 1, the fragment in stderr, no traceback, no masked rollback error."""
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert fragment in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "cannot rollback" not in proc.stderr


def _run(cmd: str) -> bool:
    return subprocess.run(cmd, shell=True, capture_output=True).returncode == 0


@contextmanager
def tmpfs(path: Path, size: str = "2m") -> Iterator[Path]:
    """A real, small tmpfs mounted at ``path`` (skips the test when mounting is not allowed)."""
    path.mkdir(parents=True, exist_ok=True)
    if not _run(f"mount -t tmpfs -o size={size} tmpfs '{path}'"):
        pytest.skip("mounting a tmpfs is not permitted here (the injected-error variants "
                    "of this kind still run)")
    try:
        yield path
    finally:
        _run(f"umount -l '{path}'")


def remount(path: Path, mode: str) -> None:
    """Remount the tmpfs at ``path`` read-only ("ro") or read-write ("rw")."""
    assert _run(f"mount -o remount,{mode} '{path}'"), f"remount {mode} of {path} failed"


@contextmanager
def read_only_bind(src: Path, at: Path) -> Iterator[Path]:
    """``src`` seen read-only at ``at`` (a read-only bind mount; chmod does not stop root)."""
    at.mkdir(parents=True, exist_ok=True)
    if not _run(f"mount --bind '{src}' '{at}'"):
        pytest.skip("bind mounts are not permitted here")
    try:
        if not _run(f"mount -o remount,bind,ro '{at}'"):
            pytest.skip("read-only bind mounts are not permitted here")
        yield at
    finally:
        _run(f"umount -l '{at}'")


def fill(folder: Path, leave: int = 0) -> Path:
    """Fill the file system of ``folder`` with one file, leaving about ``leave`` bytes."""
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    filler = folder / "filler.bin"
    with open(filler, "wb") as f:
        try:
            f.write(b"\0" * max(0, free - leave))
        except OSError:
            pass
    return filler
