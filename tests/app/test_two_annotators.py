"""Two app windows on one project store (two annotators at once), as they would notice it:
each window is handed its own samples, Ctrl+Z undoes only that window's annotator's own last
label, and on an overlap sample the second annotator does not see the first one's label."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt

from activelab.app.main_window import MainWindow
from activelab.app.project_menu import ProjectMenu, set_annotator_name
from activelab.core.project.annotators import ENV_VAR
from activelab.core.project.project import Project
from activelab.core.records import QueueItem
from tests.core.helpers import write_text_csv

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    yield _project_folder(tmp_path)
    set_annotator_name(None)            # the machine's name is not left to other tests


def _project_folder(tmp_path):
    data = write_text_csv(tmp_path / "d.csv", n=60)
    p = Project.create(tmp_path / "p", data=data, text_columns=["text"], tasks=["topic=topic"])
    items = [QueueItem(i, sid, "margin", 1.0, i + 1, 100.0, False, {}, 0, "test").to_dict()
             for i, sid in enumerate(p.ids)]
    p.store.save_queue(items, p.store.last_seq())      # a prepared queue: no retrain needed
    p.close()
    return tmp_path / "p"


def _window(qtbot, folder, name):
    """A window opened as the app's shell opens one (``activelab.app.main``), on a machine
    whose annotator name (File > Annotator name…) is ``name``."""
    set_annotator_name(name)
    proj = Project.open(folder)
    win = MainWindow(proj)
    qtbot.addWidget(win)
    win.project_menu = ProjectMenu(win, SimpleNamespace(show_wizard=lambda: None,
                                                        open_project=lambda path: False,
                                                        window=win))
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    win.start()
    assert win.controller.annotator == name and f"Annotator: {name}" in \
        win.project_menu.annotator_label.text()
    return proj, win


def _press(qtbot, win, key, modifiers=Qt.KeyboardModifier.NoModifier):
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    qtbot.keyClick(win, key, modifiers)


def _close(*pairs):
    for proj, win in pairs:
        win.close()
        proj.close()


def test_two_windows_get_distinct_samples_and_undo_their_own(qtbot, folder):
    a_proj, a = _window(qtbot, folder, "alice")
    b_proj, b = _window(qtbot, folder, "bob")
    x, y = a.controller.current.sample.id, b.controller.current.sample.id
    assert x != y, "the sample shown to alice is not handed to bob"
    _press(qtbot, a, Qt.Key.Key_1)
    _press(qtbot, b, Qt.Key.Key_1)
    st = a_proj.label_state()
    assert set(st.labels["topic"]) == {x, y}
    assert st.provenance[("topic", x)].annotator == "alice"
    assert st.provenance[("topic", y)].annotator == "bob"
    _press(qtbot, a, Qt.Key.Key_Z, CTRL)               # alice undoes: her label, not bob's
    assert a.controller.current.sample.id == x, "undo shows alice's sample again"
    assert set(a_proj.label_state().labels["topic"]) == {y}
    _press(qtbot, b, Qt.Key.Key_Z, CTRL | SHIFT)       # bob has nothing undone to redo
    assert b.status_line.text() == "Nothing to redo."
    assert set(b_proj.label_state().labels["topic"]) == {y}
    _press(qtbot, a, Qt.Key.Key_Z, CTRL | SHIFT)       # alice's redo brings hers back
    assert set(a_proj.label_state().labels["topic"]) == {x, y}
    _close((a_proj, a), (b_proj, b))


def test_second_annotator_is_blind_to_the_first_label(qtbot, folder):
    setup = Project.open(folder)
    setup.update_settings(overlap=1.0, overlap_annotators=2)
    items = [QueueItem(i, sid, "margin", 1.0, i + 1, 100.0, False, {}, 0, "test").to_dict()
             for i, sid in enumerate(setup.ids)]
    setup.store.save_queue(items, setup.store.last_seq())   # (the change emptied the queue)
    setup.close()
    a_proj, a = _window(qtbot, folder, "alice")
    first = a.controller.current.sample.id
    _press(qtbot, a, Qt.Key.Key_2)
    qtbot.waitUntil(lambda: a.history_view.list.count() == 1)
    b_proj, b = _window(qtbot, folder, "bob")
    assert b.controller.current.sample.id == first, "the overlap sample goes to bob too"
    assert b.controller.current.existing == {}, "alice's label is not shown to bob"
    assert all(first not in b.history_view.list.item(i).text()
               for i in range(b.history_view.list.count()))
    assert b_proj.shown_labels(b.controller.current.idx) == {}
    assert sum(b.progress_panel.bar_heights().values()) == 0, "nor do the class counts tell"
    assert sum(a.progress_panel.bar_heights().values()) == 1
    _press(qtbot, b, Qt.Key.Key_1)
    assert b_proj.labels_by_annotator("topic", first).keys() == {"alice", "bob"}
    assert b_proj.shown_labels(b_proj.index_of(first)) != {}, "visible once bob labeled it"
    qtbot.waitUntil(lambda: sum(b.progress_panel.bar_heights().values()) == 1)
    qtbot.waitUntil(lambda: b.history_view.list.count() == 2)   # now alice's shows too,
    assert all("replaced" not in b.history_view.list.item(i).text()   # as a second opinion
               for i in range(2))
    _close((a_proj, a), (b_proj, b))


def test_settings_panel_sets_the_overlap(qtbot):
    from activelab.app.panels.settings_panel import SettingsPanel
    from activelab.core.loop.settings import Settings

    panel = SettingsPanel(models=["logistic_regression"])
    qtbot.addWidget(panel)
    emitted = []
    panel.settings_changed.connect(emitted.append)
    panel.set_settings(Settings(overlap=0.1, overlap_annotators=3))
    assert emitted == [] and panel.team_box.overlap_spin.value() == 10
    panel.team_box.overlap_spin.setValue(25)
    panel.team_box.annotators_spin.setValue(2)
    assert emitted == [{"overlap": 0.25}, {"overlap_annotators": 2}]
    assert Settings().updated(**emitted[0], **emitted[1]).overlap == 0.25
