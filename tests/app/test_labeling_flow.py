"""Whole labeling flows on the real engine (the digits demo project), as a user does them."""
from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt

from activelab.app.demo import open_or_create_demo
from activelab.core.project.project import Project
from tests.app.windows import open_window


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("template") / "digits"
    open_or_create_demo(folder).close()
    return folder


@pytest.fixture
def project(demo_template, tmp_path):
    target = tmp_path / "digits"
    shutil.copytree(demo_template, target)
    p = Project.open(target)
    yield p
    p.close()


def truth_key(win):
    """The number key of the shown digit's true class (kept in the demo's 'label' column)."""
    return getattr(Qt.Key, f"Key_{win.controller.current.sample.fields['label']}")


def test_label_twenty_by_keyboard(qtbot, project):
    win = open_window(qtbot, project)
    shown = []
    for _ in range(20):
        shown.append(win.controller.current.sample.id)
        qtbot.keyClick(win, truth_key(win))
    assert len(set(shown)) == 20, "every key press shows a new sample"
    assert project.labeled_count() == 20
    labels = project.labels()["digit"]
    for sid in shown:
        idx = project.index_of(sid)
        assert labels[idx] == project.sample(idx).fields["label"]
    qtbot.waitUntil(lambda: win.history_view.list.count() == 20)
    assert "20 / 1,797 labeled" in win.counts_line.text()
    win.close()


def test_undo_and_redo_by_keyboard(qtbot, project):
    win = open_window(qtbot, project)
    first = win.controller.current.sample.id
    qtbot.keyClick(win, Qt.Key.Key_3)
    assert win.controller.current.sample.id != first
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert win.controller.current.sample.id == first, "undo shows that sample again"
    assert project.labeled_count() == 0
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert project.labels()["digit"][project.index_of(first)] == "3"
    assert win.controller.current.sample.id != first
    win.close()


def test_retrain_adds_curve_point_and_suggestions(qtbot, project):
    win = open_window(qtbot, project)
    qtbot.waitUntil(lambda: not win.runner.is_running("retrain"), timeout=20000)  # cold-start queue
    with qtbot.waitSignal(win.controller.model_updated, timeout=30000) as blocker:
        for _ in range(10):
            qtbot.keyClick(win, truth_key(win))
    point = blocker.args[0]
    assert point.n_labels >= 5
    assert len(project.curve()) == 1
    assert f"Model v{point.version}" in win.status_line.text()
    # Once classes have a few examples each, retrains bring cross-validated points to the curve.
    for _ in range(8):
        if any(p.cv_accuracy is not None for p in project.curve()):
            break
        with qtbot.waitSignal(win.controller.model_updated, timeout=30000):
            for _ in range(5):
                qtbot.keyClick(win, truth_key(win))
    with_cv = lambda: sum(p.cv_accuracy is not None for p in project.curve())  # noqa: E731
    assert with_cv() >= 1
    qtbot.waitUntil(lambda: win.curve_view.series("cv_accuracy")[0].size == with_cv(), timeout=10000)
    # the refreshed queue carries the model's suggestions, shown unless in blind mode
    qtbot.waitUntil(lambda: any("model suggests" in r.suggestion.text() for r in win.label_panel.rows)
                    or win.controller.current.item is None, timeout=5000)
    win.close()


def test_worker_error_is_shown_and_survived(qtbot, project, monkeypatch):
    from sklearn.linear_model import LogisticRegression

    def broken_fit(self, X, y, sample_weight=None):
        raise ValueError("this model cannot fit (broken on purpose)")

    monkeypatch.setenv("ACTIVELAB_RETRAIN_IN_PROCESS", "0")  # the patched fit lives in this process
    win = open_window(qtbot, project)
    qtbot.waitUntil(lambda: not win.runner.is_running("retrain"), timeout=20000)
    monkeypatch.setattr(LogisticRegression, "fit", broken_fit)
    with qtbot.waitSignal(win.controller.error_occurred, timeout=30000):
        for _ in range(5):
            qtbot.keyClick(win, truth_key(win))
    assert win.banner.isVisible()
    assert "broken on purpose" in win.banner.text.text()
    assert "Retrain failed" in win.status_line.text()
    before = project.labeled_count()
    qtbot.keyClick(win, truth_key(win))
    assert project.labeled_count() == before + 1, "labeling continues after the error"
    win.close()


def test_reopen_restores_sample_queue_settings_curve(qtbot, project):
    win = open_window(qtbot, project)
    qtbot.waitUntil(lambda: not win.runner.is_running("retrain"), timeout=20000)
    with qtbot.waitSignal(win.controller.model_updated, timeout=30000):
        for _ in range(5):
            qtbot.keyClick(win, truth_key(win))
    qtbot.waitUntil(lambda: not win.runner.is_running("retrain"), timeout=20000)
    win.settings_panel.settings_changed.emit({"batch_size": 7, "blind_mode": True})
    # A new batch size prepares a new queue (the old one no longer matches the settings).
    qtbot.waitUntil(lambda: not win.runner.is_running("retrain"), timeout=20000)
    shown = win.controller.current.sample.id
    queue = [q.id for q in win.controller.queue()]
    n_curve = len(project.curve())
    path = project.path
    win.close()
    project.close()

    again = Project.open(path)
    win2 = open_window(qtbot, again)
    assert win2.controller.current.sample.id == shown
    assert [q.id for q in win2.controller.queue()] == queue
    assert again.settings.batch_size == 7 and again.settings.blind_mode is True
    assert win2.blind_action.isChecked()
    assert all(r.suggestion.text() == "" for r in win2.label_panel.rows)
    assert len(again.curve()) == n_curve
    assert win2.curve_view.series("cv_accuracy")[0].size == sum(
        p.cv_accuracy is not None for p in again.curve())
    win2.close()
    again.close()


def test_demo_is_reopened_not_recreated(tmp_path):
    folder = tmp_path / "demo"
    first = open_or_create_demo(folder)
    assert first.n_samples == 1797
    assert [t.name for t in first.spec.tasks] == ["digit"]
    first.label(first.ids[0], "3")
    first.close()
    again = open_or_create_demo(folder)
    assert again.labeled_count() == 1
    again.close()


def test_run_gui_opens_project_and_ctrl_q_quits(qtbot, qapp, project):
    from PySide6.QtCore import QTimer

    from activelab.app.main import run_gui

    seen = {}

    def poke():
        win = qapp._activelab_shell.window
        seen["title"] = win.windowTitle()
        seen["sample"] = win.controller.current is not None
        win.activateWindow()
        qtbot.waitUntil(win.isActiveWindow)
        qtbot.keyClick(win, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
        seen["closed"] = not win.isVisible()

    QTimer.singleShot(200, poke)
    QTimer.singleShot(15000, qapp.quit)  # never hang the suite if Ctrl+Q did nothing
    assert run_gui([], project_path=str(project.path)) == 0
    assert seen == {"title": "activelab — digits", "sample": True, "closed": True}
