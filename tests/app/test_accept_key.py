"""Accepting the model's suggestion with one key, on a real three-task project (as an expert
labels the product catalogue): A / Enter accept, a corrected task plus A, audit picks and blind
mode never accept, how each class was entered is saved, and undo takes an accepted label back."""
from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import Qt

from activelab.app.accept import AUDIT_HINT, BLIND_HINT, NO_MODEL_HINT
from activelab.app.history_view import action_text, group_actions
from activelab.app.keys import PANEL_KEYS
from activelab.app.label_panel import LabelPanel
from activelab.core.data.spec import TaskSpec
from activelab.core.project.project import Project
from activelab.core.records import Prediction, QueueItem
from tests.app.windows import open_window

TASKS = {"masterCategory": ("Accessories", "Apparel", "Footwear"),
         "gender": ("Boys", "Men", "Unisex", "Women"),
         "usage": ("Casual", "Formal", "Sports")}
SUGGESTED = {"masterCategory": "Apparel", "gender": "Men", "usage": "Casual"}


@pytest.fixture
def project(tmp_path):
    """24 products with three tasks; a prepared queue of 8: items 0-5 with suggestions, item 6
    an audit pick (its prediction is recorded but must not be shown), item 7 without any."""
    data = tmp_path / "catalogue.csv"
    with data.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "title", *TASKS])
        for i in range(24):
            w.writerow([f"p{i}", f"product {i} title"] + [c[i % len(c)] for c in TASKS.values()])
    proj = Project.create(tmp_path / "proj", data=data, id_column="id", text_columns=["title"],
                          tasks=[f"{t}={t}" for t in TASKS], import_labels=False)
    proj.update_settings(retrain_every=1000)
    preds = {t: Prediction(c, 0.8) for t, c in SUGGESTED.items()}
    queue = [QueueItem(proj.index_of(f"p{i}"), f"p{i}", "margin", 0.3, i + 1, 50.0, i == 6,
                       preds if i < 7 else {}, 1, "") for i in range(8)]
    proj.save_position(None, None, queue)
    proj.close()
    proj = Project.open(tmp_path / "proj")
    yield proj
    proj.close()


def labels_of(project, sid):
    idx = project.index_of(sid)
    return {t: per[idx] for t, per in project.labels().items() if idx in per}


def inputs_of(project, sid):
    """Task -> input of the latest label event of ``sid`` (history is newest first)."""
    return {e.task: e.input for e in reversed(project.history(limit=200))
            if e.kind == "label" and e.sample_id == sid}


def key_of(win, task, cls):
    row = next(r for r in win.label_panel.rows if r.task.name == task)
    return getattr(Qt.Key, "Key_" + {c: k for k, c in row.keyed_classes().items()}[cls])


def show_queue_item(win, qtbot, i):
    """Skip until queue item ``i`` is on screen."""
    while win.controller.current.sample.id != f"p{i}":
        qtbot.keyClick(win, Qt.Key.Key_Space)


def test_one_key_accepts_every_task_and_enter_does_on_an_untouched_sample(qtbot, project):
    win = open_window(qtbot, project)
    panel = win.label_panel
    assert win.controller.current.sample.id == "p0"
    assert panel.accept_button.isVisible() and "A" in panel.accept_button.text()
    assert "Apparel" in panel.rows[0].suggestion.text()
    qtbot.keyClick(win, Qt.Key.Key_A)                       # one key, three tasks
    assert labels_of(project, "p0") == SUGGESTED
    assert inputs_of(project, "p0") == {t: "accepted" for t in TASKS}
    assert win.controller.current.sample.id == "p1"
    qtbot.keyClick(win, Qt.Key.Key_Return)                  # Enter on an untouched sample
    assert labels_of(project, "p1") == SUGGESTED
    assert inputs_of(project, "p1") == {t: "accepted" for t in TASKS}
    assert action_text(group_actions(project.history(limit=50))[0]).endswith("(suggestion accepted)")
    win.close()


def test_correcting_one_task_is_its_key_plus_accept(qtbot, project):
    win = open_window(qtbot, project)
    qtbot.keyClick(win, key_of(win, "masterCategory", "Footwear"))   # the model was wrong here
    qtbot.keyClick(win, Qt.Key.Key_A)
    assert labels_of(project, "p0") == {**SUGGESTED, "masterCategory": "Footwear"}
    assert inputs_of(project, "p0") == {"masterCategory": "typed", "gender": "accepted",
                                        "usage": "accepted"}
    # a later task: Tab to it (or click), then accept; Enter after a pick still just submits
    qtbot.keyClick(win, Qt.Key.Key_Tab)
    qtbot.keyClick(win, key_of(win, "gender", "Women"))
    qtbot.keyClick(win, Qt.Key.Key_Return)
    assert labels_of(project, "p1") == {}, "Enter after a pick submits only a complete sample"
    assert "Choose a label" in win.status_line.text()
    usage = next(r for r in win.label_panel.rows if r.task.name == "usage")
    qtbot.mouseClick(usage.buttons["Sports"], Qt.MouseButton.LeftButton)
    qtbot.keyClick(win, Qt.Key.Key_A)
    assert labels_of(project, "p1") == {"masterCategory": "Apparel", "gender": "Women",
                                        "usage": "Sports"}
    assert inputs_of(project, "p1") == {"masterCategory": "accepted", "gender": "typed",
                                        "usage": "clicked"}
    # the history says how much of each label was the accepted suggestion
    lines = [action_text(a) for a in group_actions(project.history(limit=50))]
    assert lines[0].endswith("(1 of 3 accepted)") and lines[1].endswith("(2 of 3 accepted)")
    win.close()


def test_audit_pick_never_shows_or_accepts_its_suggestion(qtbot, project):
    win = open_window(qtbot, project)
    panel = win.label_panel
    show_queue_item(win, qtbot, 6)
    assert win.controller.current.item.audit
    assert all(r.suggestion.text() == "" for r in panel.rows)
    assert not any(b.property("suggested") for r in panel.rows for b in r.buttons.values())
    assert not panel.accept_button.isVisible()
    for key in (Qt.Key.Key_A, Qt.Key.Key_Return):
        qtbot.keyClick(win, key)
        assert win.controller.current.sample.id == "p6" and labels_of(project, "p6") == {}
    qtbot.keyClick(win, Qt.Key.Key_A)
    assert win.status_line.text() == AUDIT_HINT
    # typed by hand it saves, with the audit provenance and how it was typed
    for t in TASKS:
        qtbot.keyClick(win, key_of(win, t, "Apparel" if t == "masterCategory" else
                                   "Women" if t == "gender" else "Formal"))
    qtbot.keyClick(win, Qt.Key.Key_Return)
    assert inputs_of(project, "p6") == {t: "typed" for t in TASKS}
    assert all(e.audit for e in project.history(limit=200) if e.sample_id == "p6")
    # a pick without any suggestion, before the first model
    assert win.controller.current.sample.id == "p7"
    qtbot.keyClick(win, Qt.Key.Key_A)
    assert win.status_line.text() == NO_MODEL_HINT and labels_of(project, "p7") == {}
    win.close()


def test_blind_mode_never_accepts(qtbot, project):
    win = open_window(qtbot, project)
    panel = win.label_panel
    win.blind_action.setChecked(True)
    assert not panel.accept_button.isVisible()
    assert all(r.suggestion.text() == "" for r in panel.rows)
    qtbot.keyClick(win, Qt.Key.Key_A)
    qtbot.keyClick(win, Qt.Key.Key_Return)
    assert labels_of(project, "p0") == {} and win.controller.current.sample.id == "p0"
    qtbot.keyClick(win, Qt.Key.Key_A)
    assert win.status_line.text() == BLIND_HINT
    win.blind_action.setChecked(False)
    assert panel.accept_button.isVisible()
    qtbot.keyClick(win, Qt.Key.Key_A)
    assert labels_of(project, "p0") == SUGGESTED
    win.close()


def test_undo_takes_an_accepted_label_back(qtbot, project):
    win = open_window(qtbot, project)
    qtbot.keyClick(win, Qt.Key.Key_A)
    assert labels_of(project, "p0") == SUGGESTED
    qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert labels_of(project, "p0") == {}
    assert win.controller.current.sample.id == "p0"
    # shown again after undo (not from the queue): no suggestion to accept; typed it saves
    qtbot.keyClick(win, Qt.Key.Key_A)
    assert labels_of(project, "p0") == {} and win.status_line.text() == NO_MODEL_HINT
    for t, c in (("masterCategory", "Footwear"), ("gender", "Boys"), ("usage", "Formal")):
        qtbot.keyClick(win, key_of(win, t, c))
    qtbot.keyClick(win, Qt.Key.Key_Return)
    assert labels_of(project, "p0") == {"masterCategory": "Footwear", "gender": "Boys",
                                        "usage": "Formal"}
    assert inputs_of(project, "p0") == {t: "typed" for t in TASKS}   # the latest events
    win.close()


def test_multilabel_accept_takes_the_predicted_set(qtbot):
    panel = LabelPanel()
    qtbot.addWidget(panel)
    panel.set_tasks([TaskSpec("kind", ("a", "b")), TaskSpec("tags", ("red", "round", "big"),
                                                                     multilabel=True)])
    panel.show()
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow)
    got = []
    panel.submitted.connect(got.append)
    panel.set_sample({}, {"kind": Prediction("b", 0.9), "tags": Prediction(["red", "big"], 0.7)}, "")
    qtbot.keyClick(panel, Qt.Key.Key_A)
    assert got == [{"kind": "b", "tags": ["red", "big"]}]
    assert panel.inputs() == {"kind": "accepted", "tags": "accepted"}


def test_every_panel_key_is_a_described_shortcut():
    """The hotkey overview reads these: each key of the table is bound, with its words."""
    panel = LabelPanel()
    for b in PANEL_KEYS:
        bound = panel.shortcuts[b.name]
        assert [sc.key().toString() for sc in bound] == list(b.keys)
        assert all(sc.whatsThis() == b.description and sc.objectName() == f"key_{b.name}"
                   for sc in bound)
    assert "suggestion" in panel.shortcuts["accept"][0].whatsThis()


def test_shift_tab_as_a_keyboard_sends_it_moves_back(qtbot):
    """X11 and others send Shift+Tab as Backtab with Shift held."""
    panel = LabelPanel()
    qtbot.addWidget(panel)
    panel.set_tasks([TaskSpec(t, c) for t, c in TASKS.items()])
    panel.show()
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow)
    qtbot.keyClick(panel, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert panel.active == 2
    qtbot.keyClick(panel, Qt.Key.Key_Tab, Qt.KeyboardModifier.ShiftModifier)
    assert panel.active == 1
