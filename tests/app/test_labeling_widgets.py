"""Labeling flow against the in-memory fake engine (widgets and controller in isolation)."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from activelab.app.main_window import MainWindow
from activelab.app.worker import TaskRunner
from activelab.core.data.spec import TaskSpec
from tests.app.fake_engine import FakeProject, fake_retrain
from tests.app.windows import open_window as shown_window


def open_window(qtbot, project):
    # The fake retrains in a thread (its retrain_function); no training process is started.
    return shown_window(qtbot, project, runner=TaskRunner(use_processes=False))


@pytest.fixture
def window(qtbot, tmp_path):
    win = open_window(qtbot, FakeProject(tmp_path / "fake", n=60))
    yield win
    win.runner.shutdown()


def press(qtbot, win, key, mod=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(win, key, mod)


def test_number_keys_label_and_advance(qtbot, window):
    first = window.controller.current.idx
    press(qtbot, window, Qt.Key.Key_3)
    assert window.project.labels()["digit"][first] == "3"  # digit classes keep their own key
    assert window.controller.current.idx != first
    qtbot.waitUntil(lambda: window.history_view.list.count() == 1)  # panels refresh just after
    assert "s" + str(first) in window.history_view.list.item(0).text()
    assert "1 / 60 labeled" in window.counts_line.text()


def test_title_and_shortcut_labels(window):
    assert window.windowTitle().startswith("activelab — fake")
    texts = [b.text() for b in window.label_panel.rows[0].buttons.values()]
    assert texts[0] == "0" and texts[9] == "9"


def test_two_tasks_need_both_before_enter(qtbot, tmp_path):
    tasks = (TaskSpec("kind", ("a", "b")), TaskSpec("tags", ("x", "y", "z"), multilabel=True))
    project = FakeProject(tmp_path / "two", n=20, tasks=tasks, modality="multi")
    win = open_window(qtbot, project)
    first = win.controller.current.idx
    press(qtbot, win, Qt.Key.Key_2)      # kind=b, moves to tags
    press(qtbot, win, Qt.Key.Key_Return)  # tags missing: nothing committed
    assert project.labeled_count() == 0
    assert "tags" in win.status_line.text()
    press(qtbot, win, Qt.Key.Key_1)
    press(qtbot, win, Qt.Key.Key_3)
    press(qtbot, win, Qt.Key.Key_1)      # toggle x off again
    press(qtbot, win, Qt.Key.Key_Return)
    assert project.labels()["kind"][first] == "b"
    assert project.labels()["tags"][first] == ["z"]
    win.runner.shutdown()


def test_undo_shows_sample_again_and_redo(qtbot, window):
    first = window.controller.current.idx
    press(qtbot, window, Qt.Key.Key_1)
    assert window.controller.current.idx != first
    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.controller.current.idx == first
    assert first not in window.project.labels()["digit"]
    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.project.labels()["digit"][first] == "1"
    assert window.controller.current.idx != first


def test_retrain_after_five_labels_updates_model(qtbot, window):
    with qtbot.waitSignal(window.controller.model_updated, timeout=5000) as blocker:
        for _ in range(5):
            press(qtbot, window, Qt.Key.Key_1)
    assert blocker.args[0].version == 1
    assert window.project.model_version == 1
    assert "Model v1" in window.status_line.text()


def test_worker_error_is_shown_and_labeling_continues(qtbot, window):
    window.project.update_settings(model="broken")
    with qtbot.waitSignal(window.controller.error_occurred, timeout=5000):
        window.controller.request_retrain()
    assert window.banner.isVisible()
    assert "broken on purpose" in window.banner.text.text()
    before = window.project.labeled_count()
    press(qtbot, window, Qt.Key.Key_2)
    assert window.project.labeled_count() == before + 1


def test_skip_and_flag_keys(qtbot, window):
    first = window.controller.current.idx
    press(qtbot, window, Qt.Key.Key_Space)
    second = window.controller.current.idx
    assert second != first
    press(qtbot, window, Qt.Key.Key_F)
    assert window.controller.current.idx != second
    kinds = [e.kind for e in window.project.history()]
    assert kinds[:2] == ["flag", "skip"]


def test_history_click_relabels_as_new_event(qtbot, window):
    first = window.controller.current.idx
    press(qtbot, window, Qt.Key.Key_1)
    press(qtbot, window, Qt.Key.Key_2)
    qtbot.waitUntil(lambda: window.history_view.list.count() == 2)
    item = window.history_view.list.item(1)  # the first label, older
    window.history_view.list.itemClicked.emit(item)
    assert window.controller.current.idx == first
    assert window.controller.current.existing == {"digit": "1"}
    press(qtbot, window, Qt.Key.Key_5)
    assert window.project.labels()["digit"][first] == "5"
    assert len([e for e in window.project.history() if e.kind == "label"]) == 3


def test_blind_mode_hides_suggestions(qtbot, window):
    with qtbot.waitSignal(window.controller.model_updated, timeout=5000):
        window.controller.request_retrain()
    row = window.label_panel.rows[0]
    assert "model suggests" in row.suggestion.text()
    window.blind_action.setChecked(True)
    assert row.suggestion.text() == ""
    assert window.project.settings.blind_mode is True


def test_audit_pick_hides_the_suggestion(qtbot, window):
    import dataclasses

    from activelab.app.labeling_controller import Current

    with qtbot.waitSignal(window.controller.model_updated, timeout=5000):
        window.controller.request_retrain()
    cur = window.controller.current
    row = window.label_panel.rows[0]
    assert "model suggests" in row.suggestion.text()
    audit = dataclasses.replace(cur.item, audit=True)
    window.controller.current_changed.emit(Current(cur.idx, cur.sample, audit, {}, "queue"))
    assert row.suggestion.text() == "", "an audit pick measures the model: no anchor"
    assert "audit pick" in window.label_panel.why.text()


def test_named_classes_use_keys_in_order_with_filter(qtbot, tmp_path):
    classes = tuple(f"class{i:02d}" for i in range(12))
    project = FakeProject(tmp_path / "many", n=20, tasks=(TaskSpec("kind", classes),))
    win = open_window(qtbot, project)
    row = win.label_panel.rows[0]
    assert row.filter.isVisible()
    assert row.buttons["class09"].text() == "class09   [0]"   # key 0 is the tenth
    assert row.buttons["class11"].text() == "class11"          # beyond ten: click or filter
    row.filter.setText("11")
    assert row.buttons["class11"].text() == "class11   [1]"
    first = win.controller.current.idx
    win.label_panel.press_number(0)
    assert project.labels()["kind"][first] == "class11"
    win.runner.shutdown()


def test_labels_during_a_retrain_get_a_follow_up_retrain(qtbot, tmp_path):
    import threading

    gate = threading.Event()

    def gated(snapshot, progress):
        while not gate.wait(0.01):
            progress.update(0.1, "waiting")
        return fake_retrain(snapshot, progress)

    project = FakeProject(tmp_path / "gated", n=60, retrain=gated)
    win = MainWindow(project, runner=TaskRunner(use_processes=False))
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    win.start()
    qtbot.waitUntil(lambda: win.controller._ready)
    for _ in range(10):          # 5 labels start a retrain; 5 more arrive while it runs
        press(qtbot, win, Qt.Key.Key_1)
    assert win.runner.is_running("retrain")
    versions = []
    win.controller.model_updated.connect(lambda p: versions.append(p.n_labels))
    gate.set()
    qtbot.waitUntil(lambda: len(versions) == 2, timeout=5000)
    assert versions == [5, 10], "the running retrain finished, then one follow-up on all labels"
    win.runner.shutdown()
