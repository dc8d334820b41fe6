"""Issue 8's "copying an open project": label 40 samples in the app, then copy only
``project.sqlite`` (not its -wal) while the window is still open. The app's store checkpoints
each labeling burst, so the copy holds every label; ``activelab backup`` gives a whole copy
of the open project with every label."""
from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt

from activelab.core.project.project import Project
from tests.fidelity.app_fixtures import copy_project, make_template, open_window
from tests.fidelity.store_helpers import cli, labels_in_file_alone


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return make_template(tmp_path_factory.mktemp("copy-open"))


def _label_40(qtbot, win) -> int:
    for _ in range(40):
        qtbot.keyClick(win, Qt.Key.Key_1)
    return len([e for e in win.controller.project.store.events() if e.kind == "label"])


@pytest.mark.slow
def test_copy_of_project_sqlite_alone_has_every_label_while_the_app_is_open(
        qtbot, template, tmp_path, monkeypatch):
    monkeypatch.setenv("ACTIVELAB_RETRAIN_IN_PROCESS", "0")
    project = copy_project(template, tmp_path / "proj")
    win = open_window(qtbot, project)
    saved = _label_40(qtbot, win)
    assert saved == 40
    store = project.path / "project.sqlite"
    # The burst checkpoint lands within about a second of the last label.
    qtbot.waitUntil(lambda: labels_in_file_alone(store) == 40, timeout=5000)
    shutil.copy2(store, tmp_path / "copied.sqlite")          # the -wal file is not copied
    assert labels_in_file_alone(tmp_path / "copied.sqlite") == 40
    win.close()


@pytest.mark.slow
def test_backup_of_the_open_project_opens_with_every_label(qtbot, template, tmp_path, monkeypatch):
    monkeypatch.setenv("ACTIVELAB_RETRAIN_IN_PROCESS", "0")
    project = copy_project(template, tmp_path / "proj")
    win = open_window(qtbot, project)
    assert _label_40(qtbot, win) == 40
    out = cli("backup", project.path, tmp_path / "backup")     # while the window is open
    assert out.returncode == 0, out.stderr
    copy = Project.open(tmp_path / "backup")
    assert copy.labeled_count() == 40
    assert copy.frame().equals(project.frame())
    copy.close()
    win.close()
