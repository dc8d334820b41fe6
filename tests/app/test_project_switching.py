"""File > New / Open / Open recent switch projects in one process; the annotator's name is set
in the app and recorded; the dock layout comes back on reopening (activelab.app.project_menu)."""
from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QTabBar

from activelab.app import project_menu
from activelab.app.main import AppShell
from activelab.core.project.project import Project
from tests.core.helpers import write_text_csv


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """Two small text projects told apart by their task's name and their texts."""
    tmp = tmp_path_factory.mktemp("templates")
    Project.create(tmp / "digits", data=write_text_csv(tmp / "a.csv", n=40),
                   text_columns=["text"], tasks=["topic=topic"]).close()
    Project.create(tmp / "topics", data=write_text_csv(tmp / "b.csv", n=30, seed=1),
                   text_columns=["text"], tasks=["theme=topic"]).close()
    return tmp


@pytest.fixture
def folders(templates, tmp_path):
    """Fresh copies of the two projects, and clean machine settings."""
    for name in ("digits", "topics"):
        shutil.copytree(templates / name, tmp_path / name)
    qs = QSettings("activelab", "activelab")
    for key in ("recent_projects", project_menu.ANNOTATOR_KEY, project_menu.GEOMETRY_KEY,
                project_menu.STATE_KEY):
        qs.remove(key)
    qs.sync()
    return tmp_path / "digits", tmp_path / "topics"


@pytest.fixture
def shell(qapp):
    shell = AppShell(qapp)
    yield shell
    if shell.window is not None:
        shell.window.close()
        shell.window.project.close()
    shell.runner.shutdown()


def labeled(path) -> int:
    p = Project.open(path)
    try:
        return p.labeled_count()
    finally:
        p.close()


def focus(qtbot, win):
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)


def test_file_open_switches_projects_and_labels_land_in_the_second(qtbot, shell, folders, monkeypatch):
    digits, topics = folders
    assert shell.open_project(str(digits))
    first = shell.window
    assert first.controller.current.sample.id in first.project.ids
    monkeypatch.setattr(project_menu, "choose_project_folder", lambda parent: str(topics))
    first.project_menu.open_action.trigger()

    win = shell.window
    assert win is not first and not first.isVisible(), "the first window closed, the app did not quit"
    assert win.isVisible() and win.windowTitle() == "activelab — topics"
    shown = win.controller.current.sample
    second = Project.open(topics)
    assert shown.fields["text"] == second.sample(second.index_of(shown.id)).fields["text"]
    second.close()
    assert [r.task.name for r in win.label_panel.rows] == ["theme"], "the second project's task"
    focus(qtbot, win)
    qtbot.keyClick(win, Qt.Key.Key_1)
    assert win.controller.current.sample.id != shown.id
    assert win.project.labels()["theme"][win.project.index_of(shown.id)]
    win.close()
    win.project.close()
    shell.window = None
    assert labeled(topics) == 1, "the label is in the second project's store"
    assert labeled(digits) == 0, "none in the first"


def test_open_rejects_a_folder_that_is_not_a_project(qtbot, shell, folders, monkeypatch, tmp_path):
    digits, _ = folders
    shell.open_project(str(digits))
    win = shell.window
    warnings = []
    monkeypatch.setattr(project_menu.QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    (tmp_path / "plain").mkdir()
    assert not win.project_menu.open_path(str(tmp_path / "plain"))
    assert shell.window is win and win.isVisible()
    assert "is not an activelab project folder" in warnings[0]
    assert not win.project_menu.open_path(str(digits)), "the open project is not reopened"
    assert "already open" in win.status_line.text()


def test_open_recent_lists_projects_most_recent_first_and_switches(qtbot, shell, folders, tmp_path):
    digits, topics = folders
    gone = tmp_path / "gone"
    shutil.copytree(digits, gone)
    shell.open_project(str(gone))
    shell.open_project(str(digits))
    shutil.rmtree(gone)
    shell.open_project(str(topics))
    menu = shell.window.project_menu
    menu.refresh_recent()
    entries = [a for a in menu.recent_menu.actions() if a.data()]
    assert [a.data() for a in entries] == [str(topics.resolve()), str(digits.resolve()), str(gone.resolve())]
    assert entries[0].isChecked(), "the open project is marked"
    assert "(missing)" in entries[2].text() and not entries[2].isEnabled()
    entries[1].trigger()
    assert shell.window.project.path == digits.resolve()
    assert shell.window.windowTitle() == "activelab — digits"


def test_annotator_name_is_set_in_the_app_and_recorded(qtbot, shell, folders, monkeypatch):
    digits, _ = folders
    shell.open_project(str(digits))
    win = shell.window
    login = win.project.default_annotator()       # this computer's login@host
    assert "@" in login
    assert win.project_menu.annotator_label.text() == f"Annotator: {login} (this computer)"
    monkeypatch.setattr(project_menu.QInputDialog, "getText", lambda *a: ("  Dr. Ada Byron ", True))
    win.project_menu.annotator_action.trigger()
    assert win.project_menu.annotator_label.text() == "Annotator: Dr. Ada Byron"
    focus(qtbot, win)
    qtbot.keyClick(win, Qt.Key.Key_2)
    qtbot.keyClick(win, Qt.Key.Key_Space)   # a skip records who skipped, too
    events = win.project.history(limit=5)
    assert {(e.kind, e.annotator) for e in events} == {("label", "Dr. Ada Byron"), ("skip", "Dr. Ada Byron")}
    # Remembered on this machine: the next project's window records the same name.
    assert project_menu.annotator_name() == "Dr. Ada Byron"


def test_a_bad_annotator_name_says_why_and_keeps_the_old_one(qtbot, shell, folders, monkeypatch):
    digits, _ = folders
    project_menu.set_annotator_name("Ada")
    shell.open_project(str(digits))
    win = shell.window
    answers = iter([("two\nlines", True), ("", False)])
    monkeypatch.setattr(project_menu.QInputDialog, "getText", lambda *a: next(answers))
    warnings = []
    monkeypatch.setattr(project_menu.QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    win.project_menu.annotator_action.trigger()
    assert "line break" in warnings[0]
    assert project_menu.annotator_name() == "Ada" and win.controller.annotator == "Ada"


def raised_tabs(win) -> set[str]:
    """The titles of the docks on top of their tab group. Qt keeps the tab bar of an earlier
    state of a group (two of its three tabs) alive; the bar with the whole group counts."""
    bars = [(bar, {bar.tabText(i) for i in range(bar.count())}) for bar in win.findChildren(QTabBar)]
    return {bar.tabText(bar.currentIndex()) for bar, tabs in bars
            if tabs and not any(tabs < other for _b, other in bars)}


def test_dock_layout_and_raised_tabs_are_restored_on_reopen(qtbot, shell, folders):
    digits, topics = folders
    shell.open_project(str(digits))
    win = shell.window
    qtbot.waitUntil(lambda: "Progress" in raised_tabs(win))
    assert raised_tabs(win) == {"Progress", "Pool map"}
    win.history_dock.raise_()
    win.histogram_dock.raise_()
    win.curve_dock.close()
    QApplication.processEvents()
    assert raised_tabs(win) == {"History", "Confidence"}
    shell.open_project(str(topics))      # closing the first window saves its layout
    again = shell.window
    qtbot.waitUntil(lambda: raised_tabs(again) == {"History", "Confidence"}, timeout=3000)
    assert again.curve_dock.isHidden(), "a closed dock stays closed"
    assert not again.history_dock.isHidden()


def test_file_new_project_opens_the_wizard_over_the_window(qtbot, shell, folders):
    digits, _ = folders
    shell.open_project(str(digits))
    win = shell.window
    win.project_menu.new_action.trigger()
    from activelab.app.wizard import NewProjectWizard

    assert isinstance(shell.wizard, NewProjectWizard) and shell.wizard.isVisible()
    assert shell.wizard.parent() is win
    shell.wizard.reject()
    assert shell.window is win and win.isVisible(), "cancelling keeps the project open"
