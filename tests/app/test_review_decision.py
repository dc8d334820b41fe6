"""Issue 12: a reviewer's decision in the app records only the tasks in dispute.

What a user notices: on a sample whose annotators disagree on 'topic' but agree on 'tags', the
reviewer picks a topic and submits; the log holds one review decision, for 'topic' (the tags
the annotators agreed on are not turned into a decision of the reviewer), the status bar says
what was recorded, and the sample leaves the review list."""
from __future__ import annotations

from PySide6.QtCore import Qt

from activelab.app.worker import TaskRunner
from activelab.core.project.project import Project
from activelab.core.team.annotations import team_labels
from tests.app.windows import open_window
from tests.core.helpers import write_text_csv

CLASSES = ["food", "sport", "tech"]


def test_review_records_only_the_disputed_task_and_says_so(qtbot, tmp_path):
    data = write_text_csv(tmp_path / "news.csv", n=60)
    project = Project.create(tmp_path / "team", data=data, text_columns=["text"],
                             tasks=["topic=topic", "tags=tags"], multilabel=["tags"],
                             id_column="id")
    for i in range(6):
        a = CLASSES[i % 3]
        b = a if i % 2 else CLASSES[(i + 1) % 3]       # s000, s002, s004: topic disputed
        project.label_sample(f"s{i:03d}", {"topic": a, "tags": [a]}, annotator="alice")
        project.label_sample(f"s{i:03d}", {"topic": b, "tags": [a]}, annotator="bob")
    win = open_window(qtbot, project, runner=TaskRunner(use_processes=False))
    panel = win.agreement.panel
    win.agreement.dock.show()
    win.agreement.dock.raise_()
    qtbot.waitUntil(lambda: panel.report is not None and panel.queue.count() == 3, timeout=20000)
    first = panel.queue.item(0)
    sid, task, labels = first.data(Qt.ItemDataRole.UserRole)
    assert task == "topic"
    panel.queue.setCurrentItem(first)
    panel.review_button.click()
    assert win.controller.current.sample.id == sid
    assert win.label_panel.values() == {"tags": [CLASSES[int(sid[1:]) % 3]]}, \
        "the agreed task keeps its label, the disputed one starts empty"
    before = project.store.last_seq()
    choice = labels["bob"]
    win.label_panel.press_number(CLASSES.index(choice))
    qtbot.keyClick(win, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: project.store.last_seq() > before, timeout=5000)
    new = [e for e in project.store.events(before) if e.kind == "label"]
    assert [(e.task, e.value, e.strategy) for e in new] == [("topic", choice,
                                                             "review:disagreement")]
    team = team_labels(project.store)
    assert team.keys["tags"][sid].review is None, "no decision on the task nobody disputed"
    status = win.status_line.text()
    assert "review decision" in status.lower() and f"topic = {choice}" in status and sid in status
    qtbot.waitUntil(lambda: panel.queue.count() == 2, timeout=20000)
    win.runner.shutdown()
    project.close()
