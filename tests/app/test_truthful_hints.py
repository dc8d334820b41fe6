"""The status line tells the truth about the sample on screen: why the accept key does nothing
(no model yet, or a sample queued before the current model), a hint that goes away with its
sample, and what the first model is waiting for."""
from __future__ import annotations

import csv

import pytest
from PySide6.QtCore import Qt

from activelab.app.accept import NO_MODEL_HINT, QUEUED_BEFORE_MODEL_HINT
from activelab.core.project.project import Project
from activelab.core.records import QueueItem
from tests.app.windows import open_window

TASKS = {"masterCategory": ("Accessories", "Apparel", "Footwear"),
         "gender": ("Boys", "Men", "Unisex", "Women"),
         "usage": ("Casual", "Formal", "Sports")}


@pytest.fixture
def project(tmp_path):
    """24 products, three tasks, a queue of 8 prepared before any model (no predictions)."""
    data = tmp_path / "catalogue.csv"
    with data.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "title", *TASKS])
        for i in range(24):
            w.writerow([f"p{i}", f"product {i} title"] + [c[i % len(c)] for c in TASKS.values()])
    proj = Project.create(tmp_path / "proj", data=data, id_column="id", text_columns=["title"],
                          tasks=[f"{t}={t}" for t in TASKS], import_labels=False)
    proj.update_settings(retrain_every=1000)
    queue = [QueueItem(proj.index_of(f"p{i}"), f"p{i}", "random", 0.3, i + 1, 50.0, False, {}, 0, "")
             for i in range(8)]
    proj.save_position(None, None, queue)
    proj.close()
    proj = Project.open(tmp_path / "proj")
    yield proj
    proj.close()


def test_sample_queued_before_the_model_does_not_claim_there_is_no_model(qtbot, project, monkeypatch):
    monkeypatch.setattr(project.store, "model_version", lambda: 1)   # model v1 is in the store
    win = open_window(qtbot, project)
    qtbot.keyClick(win, Qt.Key.Key_A)
    assert win.status_line.text() == QUEUED_BEFORE_MODEL_HINT
    assert "No model yet" not in win.status_line.text()
    win.close()


def test_model_installed_while_the_sample_is_on_screen(qtbot, project, monkeypatch):
    win = open_window(qtbot, project)
    qtbot.keyClick(win, Qt.Key.Key_A)
    assert win.status_line.text() == NO_MODEL_HINT          # true: there is no model yet
    shown = win.controller.current.sample.id
    monkeypatch.setattr(project.store, "model_version", lambda: 1)
    win.controller.model_installed.emit()                    # v1 lands; the sample stays
    assert win.controller.current.sample.id == shown
    qtbot.keyClick(win, Qt.Key.Key_A)
    assert win.status_line.text() == QUEUED_BEFORE_MODEL_HINT
    win.close()


def test_a_hint_leaves_with_its_sample(qtbot, project):
    win = open_window(qtbot, project)
    qtbot.waitUntil(lambda: win.controller.ready, timeout=20000)
    before = win.status_line.text()
    qtbot.keyClick(win, Qt.Key.Key_A)
    assert win.status_line.text() == NO_MODEL_HINT
    first = win.controller.current.sample.id
    qtbot.keyClick(win, Qt.Key.Key_Space)                    # skip: the next sample
    assert win.controller.current.sample.id != first
    assert win.status_line.text() != NO_MODEL_HINT
    assert win.status_line.text() == before                  # what the line said before the hint
    win.close()


def test_status_says_what_the_first_model_waits_for(qtbot, project):
    """No queue yet: the first retrain has too few labels for a model; then, with three classes
    of a task labeled, the line counts down to the next retrain (every 5 labels)."""
    project.update_settings(retrain_every=5)
    project.save_position(None, None, [])
    win = open_window(qtbot, project)
    c = win.controller
    idle = lambda: c.ready and not c.runner.is_running("retrain") and len(c.queue()) > 2  # noqa: E731
    qtbot.waitUntil(idle, timeout=30000)
    assert project.model_version == 0
    assert "not enough classes" not in win.status_line.text().lower()
    assert win.status_line.text().startswith("No model yet · 0 labeled · a model needs two classes")
    for cls in TASKS["masterCategory"]:                      # three classes of one task
        win.label_panel.rows[0].set_selected([cls])
        for row in win.label_panel.rows[1:]:
            row.set_selected([row.task.classes[0]])
        qtbot.keyClick(win, Qt.Key.Key_Return)
    qtbot.waitUntil(idle, timeout=30000)
    assert project.labeled_count() == 3 and project.model_version == 0
    assert win.status_line.text() == "No model yet · 3 labeled · first model after 2 more labels"
    win.close()
