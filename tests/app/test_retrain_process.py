"""Retraining in the training process: a curve point arrives from the child, its errors are
shown, a child that dies or hangs is replaced while labeling goes on, repeated failures fall
back to a thread, and quitting the app, however it is done, leaves no process of ours running."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from activelab.app.demo import open_or_create_demo
from activelab.core.loop.training_process import ProcessCall
from activelab.core.project.project import Project
from tests import training_jobs
from tests.processes import alive, descendants, require_proc, wait_gone
from tests.app.windows import open_window as shown_window

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("template") / "digits"
    open_or_create_demo(folder).close()
    return folder


@pytest.fixture
def project(demo_template, tmp_path, monkeypatch):
    require_proc()
    monkeypatch.delenv("ACTIVELAB_RETRAIN_IN_PROCESS", raising=False)
    monkeypatch.delenv("ACTIVELAB_RETRAIN_TIMEOUT_S", raising=False)
    target = tmp_path / "digits"
    shutil.copytree(demo_template, target)
    p = Project.open(target)
    yield p
    p.close()


@pytest.fixture
def ours():
    """Checks that no process started during the test is still running."""
    before = descendants()

    def left() -> set[int]:
        return wait_gone(descendants() - before, 1.0)

    return left


def open_window(qtbot, project):
    win = shown_window(qtbot, project)
    qtbot.waitUntil(lambda: win.controller.ready and not win.runner.is_running("retrain"),
                    timeout=30000)   # features loaded, cold-start queue prepared
    return win


def label(qtbot, win, n):
    for _ in range(n):
        key = getattr(Qt.Key, f"Key_{win.controller.current.sample.fields['label']}")
        qtbot.keyClick(win, key)


def next_retrains_run(monkeypatch, win, *fns):
    """The next retrains in the training process run ``fns`` (one each); later ones are real."""
    real = win.controller._process_call
    calls = iter(ProcessCall(fn) for fn in fns)
    monkeypatch.setattr(win.controller, "_process_call", lambda snapshot: next(calls, None) or real(snapshot))


def wait_running_in_child(qtbot, win):
    """A retrain has been handed to the training process (and it is busy with it)."""
    def in_child() -> bool:
        job = win.runner.current("retrain")
        return job is not None and win.runner.training_process.running_job == job.job_id

    qtbot.waitUntil(in_child, timeout=30000)
    return win.runner.training_process.pid


def test_retrain_in_the_training_process_adds_a_curve_point(qtbot, project, monkeypatch, ours):
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
    assert not alive(pid)


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
    assert win.runner.process_note is None, "a job's own error is not the process's failure"
    win.close()


def test_a_dead_training_process_is_restarted_for_the_next_retrain(qtbot, project, ours):
    win = open_window(qtbot, project)
    qtbot.waitUntil(lambda: win.runner.training_process.pid is not None, timeout=30000)
    dead = win.runner.training_process.pid
    os.kill(dead, signal.SIGKILL)
    with qtbot.waitSignal(win.controller.model_updated, timeout=60000):
        label(qtbot, win, 5)
    assert project.labeled_count() >= 5, "no label is lost"
    assert "training process restarted: the previous one was killed by SIGKILL" in win.status_line.text()
    assert "in a thread" not in win.status_line.text() and not win.runner.process_problem
    assert win.runner.training_process.pid not in (None, dead)
    win.close()
    assert ours() == set()


def test_a_child_killed_mid_retrain_fails_it_and_the_next_runs_in_a_restarted_child(qtbot, project,
                                                                                     monkeypatch, ours):
    win = open_window(qtbot, project)
    next_retrains_run(monkeypatch, win, training_jobs.hang)
    label(qtbot, win, 5)
    killed = wait_running_in_child(qtbot, win)
    with qtbot.waitSignal(win.controller.error_occurred, timeout=30000) as blocker:
        os.kill(killed, signal.SIGKILL)
    assert "was killed by SIGKILL during the retrain" in blocker.args[0]
    assert "Retrain failed — labeling continues" in win.status_line.text()
    with qtbot.waitSignal(win.controller.model_updated, timeout=60000) as blocker:
        label(qtbot, win, 5)
    assert blocker.args[0].n_labels > 5, "trained on the labels given after the failure too"
    assert win.runner.training_process.pid not in (None, killed)
    assert "training process restarted" in win.status_line.text()
    win.close()
    assert ours() == set()


def test_a_hung_retrain_is_abandoned_after_the_time_limit_and_labeling_continues(qtbot, project,
                                                                                 monkeypatch, ours):
    monkeypatch.setenv("ACTIVELAB_RETRAIN_TIMEOUT_S", "3")
    win = open_window(qtbot, project)
    process = win.runner.training_process
    qtbot.waitUntil(lambda: process.pid is not None and process.running_job is None, timeout=60000)
    hung, version = process.pid, project.model_version
    next_retrains_run(monkeypatch, win, training_jobs.hang)
    with qtbot.waitSignal(win.controller.error_occurred, timeout=60000) as blocker:
        label(qtbot, win, 5)                  # the fifth label starts the retrain that hangs
        label(qtbot, win, 2)                  # the expert labels on meanwhile
    assert project.model_version == version, "the previous model stays"
    assert project.labeled_count() == 7
    assert "took longer than 3 s (the time limit) and was abandoned" in blocker.args[0]
    assert "restarted" in blocker.args[0]
    assert win.banner.isVisible()
    assert not alive(hung)
    line = win.status_line.text()
    if win.runner.is_running("retrain"):
        # On a busy machine the labels given meanwhile came after the abandonment and
        # started the next retrain at once: the line says so and no longer counts the old one.
        assert "training process restarted" in line, line
    else:
        assert line.startswith("Retrain failed — labeling continues"), line
        qtbot.wait(500)
        assert win.status_line.text() == line, "the status line no longer counts"
    # The next retrain runs in a fresh process and its model has the labels given after the hang
    # (on a busy machine, the retrain the 2 labels given meanwhile started lands first: 7 labels).
    with qtbot.waitSignal(win.controller.model_updated, timeout=90000) as blocker:
        label(qtbot, win, 3)
    assert blocker.args[0].n_labels > 5
    assert project.labeled_count() == 10
    assert win.runner.training_process.pid not in (None, hung)
    win.close()
    assert ours() == set()


def test_repeated_failures_fall_back_to_a_thread_and_say_so(qtbot, project, monkeypatch, ours):
    win = open_window(qtbot, project)
    next_retrains_run(monkeypatch, win, *[training_jobs.crash] * 3)
    with qtbot.waitSignal(win.controller.error_occurred, timeout=30000):
        label(qtbot, win, 5)
    for _ in range(2):
        with qtbot.waitSignal(win.controller.error_occurred, timeout=30000):
            win.controller.request_retrain()
    assert "failed 3 times in a row" in win.runner.process_problem
    with qtbot.waitSignal(win.controller.model_updated, timeout=60000):
        win.controller.request_retrain()      # runs in a thread of the app now
    assert "in a thread: the training process failed 3 times in a row" in win.status_line.text()
    assert project.labeled_count() == 5, "no label is lost"
    win.close()
    assert ours() == set()


def test_retrain_now_supersedes_a_running_process_retrain(qtbot, project, ours):
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
    assert ours() == set()


def test_ctrl_q_while_a_retrain_runs_leaves_no_process(qtbot, project, monkeypatch, ours):
    win = open_window(qtbot, project)
    next_retrains_run(monkeypatch, win, training_jobs.hang)
    label(qtbot, win, 5)
    child = wait_running_in_child(qtbot, win)
    assert child in descendants()
    win.quit_action.trigger()                 # what Ctrl+Q does
    assert not win.isVisible()
    assert not alive(child), "the training process ended with the window"
    assert ours() == set(), "no child, no grandchild, no helper process is left"


APP = textwrap.dedent("""
    import json, os, sys, time
    sys.path.insert(0, {root!r})
    from PySide6.QtCore import QTimer
    from activelab.app.main import make_app, run_gui
    from activelab.app.retrain_control import RetrainControl
    from activelab.core.loop.training_process import ProcessCall
    from tests import training_jobs
    from tests.processes import descendants

    RetrainControl._process_call = lambda self, snapshot: ProcessCall(training_jobs.hang)
    app = make_app(["activelab"])
    since = []

    def tick():
        win = getattr(app._activelab_shell, "window", None)
        if win is None or not win.runner.is_running("retrain") or not win.runner.training_process.pid:
            return
        since.append(time.monotonic())
        if since[-1] - since[0] < 0.5:
            return
        timer.stop()
        print(json.dumps({{"descendants": sorted(descendants())}}), flush=True)
        if {how!r} == "ctrl+q":
            win.quit_action.trigger()
        elif {how!r} == "QApplication.quit":
            app.quit()
        # else: the test sends the signal from outside once it has read the line above

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(50)
    sys.exit(run_gui([{project!r}]))
""")


@pytest.mark.parametrize("how", ["ctrl+q", "QApplication.quit", "SIGTERM", "SIGINT"])
def test_the_app_process_ends_and_leaves_nothing_running(project, how):
    """The real app (``run_gui``) quit while a retrain hangs in its training process (Ctrl+Q,
    a quit, a ``kill``, Ctrl+C in its terminal): the process ends, and none of the processes
    it had is still running a moment later."""
    project.close()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    app = subprocess.Popen([sys.executable, "-c", APP.format(root=str(ROOT), project=str(project.path), how=how)],
                           stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        kids = set(json.loads(app.stdout.readline())["descendants"])
        assert kids, "the app had its training process when it was quit"
        if how.startswith("SIG"):
            app.send_signal(getattr(signal, how))
        assert app.wait(30) == 0
        assert wait_gone(kids, 2.0) == set(), "a process of the app outlived it"
    finally:
        if app.poll() is None:
            app.kill()
