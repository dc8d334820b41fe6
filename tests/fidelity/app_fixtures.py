"""Shared set-up of the app's write-failure, read-only and damaged-cache tests: a tiny real text
project (60 samples, classes food/sport/tech on keys 1-3), the window on it, a small tmpfs."""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from activelab.app.main_window import MainWindow
from activelab.core.project.project import Project
from tests.core.helpers import write_text_csv


def make_template(folder: Path) -> Path:
    """A project on disk whose queue and learning curve exist (one retrain done), with the
    features and the pool-map projection cached: as a user finds it after a first session."""
    data = write_text_csv(folder / "data.csv", n=60)
    p = Project.create(folder / "proj", data=data, text_columns=["text"], tasks=["topic=topic"],
                       id_column="id")
    # Few retrains during a test: failures are injected between the expert's key presses.
    p.update_settings(retrain_every=1000, batch_size=40)
    p.retrain()
    p.pool_projection()
    path = p.path
    p.close()
    return path


def copy_project(template: Path, dest: Path) -> Project:
    shutil.copytree(template, dest)
    return Project.open(dest)


def open_window(qtbot, project, *, wait_ready: bool = True) -> MainWindow:
    """The labeling window, shown and started like the app does; waits for the features."""
    win = MainWindow(project)
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    win.start()
    if wait_ready:
        qtbot.waitUntil(lambda: win.controller.ready and not win.runner.is_running("retrain"),
                        timeout=60000)
    win.history_dock.raise_()   # the history list is refreshed only while it is visible
    return win


def shown_id(win) -> str:
    """The sample id as the window's title line shows it ("Sample s012 ...")."""
    return win.sample_view.title.text().split()[1]


def counts(win) -> str:
    """What the status bar says about progress, after the throttled refresh ran."""
    win._refresh_panels()
    return win.counts_line.text()


def history_rows(win) -> int:
    win._refresh_panels()
    return win.history_view.list.count()


# ----- a small real file system ---------------------------------------------------------
@contextlib.contextmanager
def tmpfs(folder: Path, size: str = "2m"):
    """Mount a tmpfs of ``size`` at ``folder`` (root only); skip the test when not permitted."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root and mount(8); the injected-error tests cover this")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)   # busy: lazily


def remount(folder: Path, mode: str) -> None:
    """``mode`` "ro" or "rw"."""
    subprocess.run(["mount", "-o", f"remount,{mode}", str(folder)], check=True, capture_output=True)


def fill(folder: Path) -> Path:
    """Write a file until the file system is full; returns it (delete it to free the space)."""
    filler = folder / "filler.bin"
    chunk = b"\0" * 65536
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    with contextlib.suppress(OSError), open(folder / "filler-tail.bin", "wb", buffering=0) as f:
        while True:   # the last few KiB
            f.write(b"\0" * 512)
    return filler


def free(folder: Path) -> None:
    for name in ("filler.bin", "filler-tail.bin"):
        with contextlib.suppress(FileNotFoundError):
            (folder / name).unlink()
