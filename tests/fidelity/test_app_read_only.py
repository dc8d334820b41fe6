"""A project opened read-only opens read-only in the app: a persistent bar says so and why;
browsing, the history, the learning curve, the pool map and export work; label, skip, flag,
undo and redo attempt no write and point to the bar."""
from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt

from activelab.core.errors import StoreWriteError
from activelab.core.project.project import Project
from activelab.core.store.store import LabelStore
from tests.fidelity.app_fixtures import (
    copy_project, counts, history_rows, make_template, open_window, remount, shown_id, tmpfs,
)

CTRL, SHIFT, NONE = (Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier,
                     Qt.KeyboardModifier.NoModifier)
WRITES = ("append_group", "set_setting", "save_queue", "add_curve_point", "add_samples")
KEYS = {
    "label": (Qt.Key.Key_2, NONE), "enter": (Qt.Key.Key_Return, NONE), "skip": (Qt.Key.Key_Space, NONE),
    "flag": (Qt.Key.Key_F, NONE), "undo": (Qt.Key.Key_Z, CTRL), "redo": (Qt.Key.Key_Z, CTRL | SHIFT),
}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A project with 6 labels and one learning-curve point (something to browse)."""
    path = make_template(tmp_path_factory.mktemp("read-only"))
    p = Project.open(path)
    for sid, label in zip(p.ids, ["food", "sport", "tech"] * 2):
        p.label(sid, label)
    p.retrain()
    p.close()
    return path


@pytest.fixture
def read_only_project(template, tmp_path, monkeypatch):
    """The store says read-only (as a store opened read-only does) and refuses every write;
    ``attempts`` lists the writes tried."""
    monkeypatch.setenv("ACTIVELAB_RETRAIN_IN_PROCESS", "0")
    p = copy_project(template, tmp_path / "proj")
    attempts: list[str] = []

    def refuse(name):
        def write(self, *args, **kwargs):
            attempts.append(name)
            raise StoreWriteError("The project is read-only — NOT saved.", cause="read_only")
        return write

    monkeypatch.setattr(LabelStore, "read_only", True, raising=False)
    for name in WRITES:
        monkeypatch.setattr(LabelStore, name, refuse(name))
    p.attempts = attempts
    yield p
    p.close()


def test_read_only_bar_is_shown_and_persistent(qtbot, read_only_project):
    win = open_window(qtbot, read_only_project)
    assert read_only_project.read_only
    assert win.read_only_bar.isVisible()
    assert "Read-only:</b> viewing only — labels cannot be saved" in win.read_only_bar.text.text()
    assert not win.label_panel.submit_button.isEnabled()
    assert not any(b.isEnabled() for b in win.label_panel.rows[0].buttons.values())
    assert not win.settings_panel.isEnabled()
    assert read_only_project.attempts == [], "opening and warming up write nothing"
    win.close()
    assert read_only_project.attempts == [], "closing writes nothing (no position save)"


@pytest.mark.parametrize("action", list(KEYS))
def test_label_keys_attempt_no_write_and_point_to_the_bar(qtbot, read_only_project, action):
    win = open_window(qtbot, read_only_project)
    sample, before = shown_id(win), counts(win)
    assert before == "6 / 60 labeled"
    qtbot.keyClick(win, *KEYS[action])
    assert read_only_project.attempts == []
    assert shown_id(win) == sample
    assert counts(win) == before
    assert "Read-only" in win.status_line.text()
    assert win.label_panel.rows[0].selected == [], "no class looks chosen"
    assert win.read_only_bar.isVisible() and not win.banner.isVisible()
    win.close()


def test_browsing_history_curve_map_and_export_work(qtbot, read_only_project):
    win = open_window(qtbot, read_only_project)
    assert history_rows(win) == 6
    assert len(read_only_project.curve()) == 1
    assert len(win.curve_view._points) == 1 and win.curve_view.empty_hint.isHidden(), "the curve is drawn"
    first = read_only_project.ids[0]
    win.history_view.sample_id_requested.emit(first)       # a click on a history entry
    assert shown_id(win) == first
    assert "already labeled: topic=food" in win.sample_view.title.text()
    qtbot.waitUntil(lambda: win.pool_map._xy is not None, timeout=20000)
    win.pool_map.sample_requested.emit(10)                # a click on the pool map
    assert shown_id(win) == read_only_project.ids[10]
    assert win.export_action.isEnabled()
    win.export_action.trigger()
    assert win.export_dialog.isVisible()
    win.export_dialog.close()
    assert read_only_project.attempts == []
    win.close()


def test_settings_and_retrain_do_not_write(qtbot, read_only_project):
    win = open_window(qtbot, read_only_project)
    win.settings_panel.settings_changed.emit({"batch_size": 7})
    win.controller.request_retrain()                       # Model > Retrain now
    win.blind_action.setChecked(True)                      # a view preference: shown, not saved
    assert win.label_panel.blind
    assert not win.runner.is_running("retrain")
    assert read_only_project.attempts == []
    assert read_only_project.settings.batch_size == 40
    win.close()


def test_project_on_a_read_only_mount(qtbot, template, tmp_path, monkeypatch):
    """Real: the project folder on a tmpfs remounted read-only."""
    monkeypatch.setenv("ACTIVELAB_RETRAIN_IN_PROCESS", "0")
    with tmpfs(tmp_path / "mnt", "4m") as mnt:
        copy_project(template, mnt / "proj").close()
        remount(mnt, "ro")
        project = Project.open(mnt / "proj")
        assert project.read_only
        win = open_window(qtbot, project)
        assert win.read_only_bar.isVisible()
        assert re.search(r"labels cannot be saved \([^)]*read-only[^)]*\)", win.read_only_bar.text.text())
        sample = shown_id(win)
        qtbot.keyClick(win, Qt.Key.Key_1)
        assert shown_id(win) == sample and project.labeled_count() == 6
        assert history_rows(win) == 6
        win.close()
        project.close()
