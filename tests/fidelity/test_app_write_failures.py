"""Every failed write in the app is said out loud: the banner names the cause, the sample stays
on screen with the expert's choice, nothing is counted as saved, and labeling resumes once the
cause is gone (next key press, or the banner's Retry). Failures are injected at the store
boundary (our StoreWriteError, and raw sqlite3/OS errors as the last resort), and made real
on a tiny full tmpfs."""
from __future__ import annotations

import errno
import sqlite3

import pytest
from PySide6.QtCore import Qt

from activelab.core.errors import StoreWriteError
from activelab.core.project.project import Project
from activelab.core.store.store import LabelStore
from tests.fidelity.app_fixtures import (
    copy_project, counts, fill, free, history_rows, make_template, open_window, shown_id, tmpfs,
)

CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return make_template(tmp_path_factory.mktemp("write-failures"))


@pytest.fixture
def project(template, tmp_path, monkeypatch):
    monkeypatch.setenv("ACTIVELAB_RETRAIN_IN_PROCESS", "0")   # patched stores live in this process
    p = copy_project(template, tmp_path / "proj")
    yield p
    p.close()


def _store_error(cause: str):
    text = {"disk_full": "Disk full — label NOT saved. The drive holding the project has no free "
                         "space left. Free some space, then label again; saved labels are safe.",
            "read_only": "The project is read-only — label NOT saved.",
            "locked": "The project is locked by another program — label NOT saved.",
            "io": "Write error — label NOT saved (I/O error)."}[cause]
    return StoreWriteError(text, cause=cause)


# (what the store raises, what the banner must say)
FAILURES = {
    "store_disk_full": (lambda: _store_error("disk_full"), "Disk full — label NOT saved"),
    "store_locked": (lambda: _store_error("locked"), "locked by another program — label NOT saved"),
    "store_io": (lambda: _store_error("io"), "Write error — label NOT saved"),
    "raw_sqlite_full": (lambda: sqlite3.OperationalError("database or disk is full"),
                        "Disk full — label NOT saved"),
    "raw_sqlite_readonly": (lambda: sqlite3.OperationalError("attempt to write a readonly database"),
                            "The project is read-only — label NOT saved"),
    "raw_sqlite_locked": (lambda: sqlite3.OperationalError("database is locked"),
                          "locked by another program — label NOT saved"),
    "raw_os_enospc": (lambda: OSError(errno.ENOSPC, "No space left on device"),
                      "Disk full — label NOT saved"),
    "raw_os_eio": (lambda: OSError(errno.EIO, "Input/output error"), "Write error — label NOT saved"),
}


class Broken:
    """Makes one LabelStore write method raise until ``fixed`` (counts the attempts)."""

    def __init__(self, monkeypatch, method: str, make_error) -> None:
        self.attempts = 0
        self.on = True
        original = getattr(LabelStore, method)
        broken = self

        def write(self, *args, **kwargs):
            broken.attempts += 1
            if broken.on:
                raise make_error()
            return original(self, *args, **kwargs)

        monkeypatch.setattr(LabelStore, method, write)

    def fix(self) -> None:
        self.on = False


@pytest.mark.parametrize("failure", list(FAILURES))
def test_failed_label_keeps_sample_and_resumes(qtbot, project, monkeypatch, failure):
    make_error, said = FAILURES[failure]
    win = open_window(qtbot, project)
    qtbot.keyClick(win, Qt.Key.Key_1)                      # one label lands first
    assert project.labeled_count() == 1
    before_counts, before_rows = counts(win), history_rows(win)
    sample = shown_id(win)
    broken = Broken(monkeypatch, "append_group", make_error)
    for _ in range(3):
        qtbot.keyClick(win, Qt.Key.Key_2)                  # "sport", three times
    assert broken.attempts == 3, "each key press tries the write again"
    assert win.banner.isVisible()
    assert said in win.banner.text.text()
    assert win.banner.retry_button.isVisible()
    assert shown_id(win) == sample, "the same sample stays on screen"
    assert win.label_panel.rows[0].selected == ["sport"], "the expert's choice is still shown"
    assert "NOT saved" in win.status_line.text()
    assert counts(win) == before_counts == "1 / 60 labeled"
    assert history_rows(win) == before_rows
    assert project.labeled_count() == 1
    broken.fix()                                           # the cause is gone
    qtbot.keyClick(win, Qt.Key.Key_2)
    assert project.labels()["topic"][project.index_of(sample)] == "sport"
    assert not win.banner.isVisible()
    assert shown_id(win) != sample
    assert counts(win) == "2 / 60 labeled"
    assert "Saved again" in win.status_line.text()
    win.close()


def test_retry_button_saves_the_choice_on_screen(qtbot, project, monkeypatch):
    win = open_window(qtbot, project)
    sample = shown_id(win)
    broken = Broken(monkeypatch, "append_group", lambda: _store_error("disk_full"))
    qtbot.keyClick(win, Qt.Key.Key_3)
    assert "Disk full" in win.banner.text.text() and project.labeled_count() == 0
    win.banner.retry_button.click()                        # still full: said again, nothing saved
    assert win.banner.isVisible() and project.labeled_count() == 0 and broken.attempts == 2
    broken.fix()
    win.banner.retry_button.click()
    assert project.labels()["topic"][project.index_of(sample)] == "tech"
    assert not win.banner.isVisible()
    assert shown_id(win) != sample
    win.close()


@pytest.mark.parametrize("action", ["skip", "flag", "undo", "redo"])
def test_failed_skip_flag_undo_redo_are_said_and_change_nothing(qtbot, project, monkeypatch, action):
    win = open_window(qtbot, project)
    qtbot.keyClick(win, Qt.Key.Key_1)
    if action == "redo":
        qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)
    events_before = len(project.store.events())
    sample = shown_id(win)
    broken = Broken(monkeypatch, "append_group", lambda: _store_error("disk_full"))
    keys = {"skip": (Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier), "flag": (Qt.Key.Key_F, Qt.KeyboardModifier.NoModifier),
            "undo": (Qt.Key.Key_Z, CTRL), "redo": (Qt.Key.Key_Z, CTRL | SHIFT)}[action]
    qtbot.keyClick(win, *keys)
    assert broken.attempts == 1
    assert win.banner.isVisible() and "Disk full" in win.banner.text.text()
    assert shown_id(win) == sample
    assert len(project.store.events()) == events_before
    broken.fix()
    qtbot.keyClick(win, *keys)
    assert len(project.store.events()) == events_before + 1
    assert not win.banner.isVisible()
    win.close()


@pytest.mark.parametrize("method", ["add_curve_point", "save_queue"])
def test_failed_curve_or_queue_write_after_retrain_keeps_labels_and_queue(qtbot, project, monkeypatch, method):
    win = open_window(qtbot, project)
    curve_before = len(project.curve())
    broken = Broken(monkeypatch, method, lambda: _store_error("disk_full"))
    with qtbot.waitSignal(win.controller.write_failed, timeout=60000):
        for key in (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3) * 2:   # every class: a model can fit
            qtbot.keyClick(win, key)
        win.controller.request_retrain()                   # Model > Retrain now
    assert broken.attempts >= 1
    assert win.banner.isVisible() and "Disk full" in win.banner.text.text()
    assert "NOT saved" in win.status_line.text()
    assert project.labeled_count() == 6, "no label lost"
    queue = win.controller.queue()
    assert queue, "the new model's queue is used from memory"
    assert all(q.model_version == curve_before + 1 for q in queue)
    sample = shown_id(win)
    qtbot.keyClick(win, Qt.Key.Key_2)                      # labeling goes on
    assert project.labeled_count() == 7 and shown_id(win) != sample
    assert not win.banner.isVisible(), "a label that lands clears the banner"
    broken.fix()
    with qtbot.waitSignal(win.controller.model_updated, timeout=60000):
        win.controller.request_retrain()
    assert len(project.curve()) >= curve_before + 1
    win.close()


def test_failed_setting_is_said_and_not_applied(qtbot, project, monkeypatch):
    win = open_window(qtbot, project)
    broken = Broken(monkeypatch, "set_setting", lambda: _store_error("disk_full"))
    win.settings_panel.settings_changed.emit({"batch_size": 7})
    assert broken.attempts == 1
    assert win.banner.isVisible() and "Disk full" in win.banner.text.text()
    assert project.settings.batch_size == 40
    assert win.settings_panel.batch_spin.value() == 40, "the panel shows what is saved"
    assert Project.open(project.path).settings.batch_size == 40
    broken.fix()
    win.banner.retry_button.click()
    assert project.settings.batch_size == 7
    assert win.settings_panel.batch_spin.value() == 7
    assert not win.banner.isVisible()
    win.close()


def test_failed_position_save_on_close_loses_no_label(qtbot, project, monkeypatch):
    win = open_window(qtbot, project)
    for key in (Qt.Key.Key_1, Qt.Key.Key_2):
        qtbot.keyClick(win, key)
    broken = Broken(monkeypatch, "set_setting", lambda: sqlite3.OperationalError("database or disk is full"))
    Broken(monkeypatch, "save_queue", lambda: sqlite3.OperationalError("database or disk is full"))
    win.close()                                            # no traceback, the window closes
    assert broken.attempts >= 1 and not win.isVisible()
    again = Project.open(project.path)
    assert again.labeled_count() == 2
    again.close()


def test_disk_full_on_a_real_tiny_tmpfs(qtbot, template, tmp_path, monkeypatch):
    """The procedure of the case README: a project on a small tmpfs, filled; label keys."""
    monkeypatch.setenv("ACTIVELAB_RETRAIN_IN_PROCESS", "0")
    with tmpfs(tmp_path / "mnt", "2m") as mnt:
        project = copy_project(template, mnt / "proj")
        win = open_window(qtbot, project)
        fill(mnt)
        saved = 0
        for _ in range(40):     # a label may still land in the WAL's free room: press until one fails
            sample = shown_id(win)
            qtbot.keyClick(win, Qt.Key.Key_1)
            if win.banner.isVisible():
                break
            saved += 1
        assert win.banner.isVisible(), "a full disk is said out loud within 40 labels"
        assert "Disk full — label NOT saved" in win.banner.text.text()
        assert shown_id(win) == sample
        assert project.labeled_count() == saved
        assert counts(win) == f"{saved} / 60 labeled"
        qtbot.keyClick(win, Qt.Key.Key_1)                  # still full: still not saved
        assert project.labeled_count() == saved and shown_id(win) == sample
        free(mnt)
        qtbot.keyClick(win, Qt.Key.Key_1)
        assert project.labeled_count() == saved + 1
        assert project.labels()["topic"][project.index_of(sample)] == "food"
        assert not win.banner.isVisible() and shown_id(win) != sample
        win.close()
        project.close()
