"""Retraining in the training process: a curve point arrives from the child, its errors are
shown, a dead child falls back to a thread without losing a label, and no child outlives the
window."""
from __future__ import annotations

import multiprocessing
import os
import shutil
import signal

import pytest
from PySide6.QtCore import Qt

from activelab.app.demo import open_or_create_demo
from activelab.app.main_window import MainWindow
from activelab.core.project.project import Project


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("template") / "digits"
    open_or_create_demo(folder).close()
    return folder


@pytest.fixture
def project(demo_template, tmp_path, monkeypatch):
    monkeypatch.delenv("ACTIVELAB_RETRAIN_IN_PROCESS", raising=False)
    target = tmp_path / "digits"
    shutil.copytree(demo_template, target)
    p = Project.open(target)
    yield p
    p.close()


def open_window(qtbot, project):
    win = MainWindow(project)
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    win.start()
    qtbot.waitUntil(lambda: win.controller.ready and not win.runner.is_running("retrain"),
                    timeout=30000)   # features loaded, cold-start queue prepared
    return win


def label(qtbot, win, n):
    for _ in range(n):
        key = getattr(Qt.Key, f"Key_{win.controller.current.sample.fields['label']}")
        qtbot.keyClick(win, key)


def no_training_child_left(pid):
    if any(p.pid == pid for p in multiprocessing.active_children()):
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_retrain_in_the_training_process_adds_a_curve_point(qtbot, project, monkeypatch):
    from activelab.core.loop import cycle as loop

    def not_here(*args, **kwargs):
        raise AssertionError("retrained in the GUI process")

    win = open_window(qtbot, project)
    assert win.runner.uses_processes()
    # The thread path would raise; the child imports its own, unpatched loop.
    monkeypatch.setattr(loop, "retrain_and_query", not_here)
    with qtbot.waitSignal(win.controller.model_updated, timeout=60000) as blocker:
        label(qtbot, win, 10)
    point = blocker.args[0]
    assert point.n_labels >= 5
    assert project.curve()[-1].n_labels == point.n_labels
    assert f"Model v{point.version}" in win.status_line.text()
    assert "in a thread" not in win.status_line.text()
    assert project.model_state() is not None, "the child's model is installed here"
    assert not win.banner.isVisible()
    pid = win.runner.training_process.pid
    assert pid is not None and pid != os.getpid()
    win.close()
    qtbot.waitUntil(lambda: no_training_child_left(pid), timeout=10000)


def test_model_error_in_the_training_process_is_shown(qtbot, project):
    # Each value is valid on its own (so the setting is accepted); sklearn refuses the pair in fit.
    project.update_settings(model_params={"penalty": "l1"})
    win = open_window(qtbot, project)
    qtbot.waitUntil(lambda: win.runner.training_process.pid is not None, timeout=30000)
    with qtbot.waitSignal(win.controller.error_occurred, timeout=60000):
        label(qtbot, win, 5)
    assert win.banner.isVisible()
    assert "supports only 'l2'" in win.banner.text.text()
    assert "Retrain failed" in win.status_line.text()
    before = project.labeled_count()
    label(qtbot, win, 1)
    assert project.labeled_count() == before + 1, "labeling continues after the error"
    win.close()


def test_dead_training_process_falls_back_to_a_thread(qtbot, project):
    win = open_window(qtbot, project)
    qtbot.waitUntil(lambda: win.runner.training_process.pid is not None, timeout=30000)
    os.kill(win.runner.training_process.pid, signal.SIGKILL)
    with qtbot.waitSignal(win.controller.model_updated, timeout=60000):
        label(qtbot, win, 5)
    assert project.labeled_count() >= 5, "no label is lost"
    assert "in a thread" in win.status_line.text()
    assert win.runner.process_problem
    win.close()
    assert not multiprocessing.active_children()


def test_retrain_now_supersedes_a_running_process_retrain(qtbot, project):
    win = open_window(qtbot, project)
    label(qtbot, win, 5)
    qtbot.waitUntil(lambda: not win.runner.is_running("retrain"), timeout=60000)
    points = []
    win.controller.model_updated.connect(points.append)
    label(qtbot, win, 1)
    win.controller.request_retrain()          # Retrain now ...
    first = win.runner._jobs["retrain"].job_id
    win.controller.request_retrain()          # ... twice: the first one is superseded
    assert win.runner._jobs["retrain"].job_id == first + 1
    qtbot.waitUntil(lambda: not win.runner.is_running("retrain"), timeout=60000)
    qtbot.wait(300)                           # a late result of the superseded job must be dropped
    assert len(points) == 1, "one model installed, not one per request"
    assert points[0].n_labels == 6
    assert not win.banner.isVisible()
    win.close()
    assert not multiprocessing.active_children()
