"""Start screen: recent projects from QSettings, missing ones greyed out, the three actions."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings, Qt  # noqa: E402

from activelab.app.start_screen import StartScreen, add_recent_project, recent_projects  # noqa: E402


def test_recent_projects_listed_and_opened(qtbot, tmp_path):
    qs = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    real = tmp_path / "proj"
    real.mkdir()
    (real / "project.sqlite").write_bytes(b"")
    add_recent_project(tmp_path / "gone", qs)
    add_recent_project(real, qs)
    add_recent_project(real, qs)            # listed once, on top
    assert recent_projects(qs) == [str(real.resolve()), str((tmp_path / "gone").resolve())]

    screen = StartScreen(settings=qs)
    qtbot.addWidget(screen)
    lst = screen.recent_list
    assert lst.count() == 2 and not screen.empty_hint.isVisibleTo(screen)
    assert lst.item(0).text().startswith("proj")
    assert "(missing)" in lst.item(1).text()
    assert not (lst.item(1).flags() & Qt.ItemFlag.ItemIsEnabled)
    with qtbot.waitSignal(screen.open_requested) as sig:
        lst.itemActivated.emit(lst.item(0))
    assert sig.args == [str(real.resolve())]
    with qtbot.assertNotEmitted(screen.open_requested):
        lst.itemActivated.emit(lst.item(1))


def test_new_and_demo_buttons(qtbot, tmp_path):
    qs = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    screen = StartScreen(settings=qs)
    qtbot.addWidget(screen)
    assert screen.empty_hint.isVisibleTo(screen)
    with qtbot.waitSignal(screen.new_requested):
        qtbot.mouseClick(screen.new_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(screen.demo_requested):
        qtbot.mouseClick(screen.demo_button, Qt.MouseButton.LeftButton)
