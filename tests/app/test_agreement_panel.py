"""The Agreement panel on a real two-annotator project: the reviewer sees kappa and alpha (the
libraries' values), the disagreements, opens one, sees each annotator's label, decides with a
class key, and the decision is recorded as review:disagreement and leaves the list."""
from __future__ import annotations

import krippendorff
import numpy as np
from PySide6.QtCore import Qt
from sklearn.metrics import cohen_kappa_score

from activelab.app.worker import TaskRunner
from activelab.core.project.project import Project
from tests.app.windows import open_window
from tests.core.helpers import write_text_csv

CLASSES = ["food", "sport", "tech"]


def test_reviewer_sees_agreement_opens_a_disagreement_and_decides(qtbot, tmp_path):
    data = write_text_csv(tmp_path / "news.csv", n=60)
    project = Project.create(tmp_path / "team", data=data, text_columns=["text"],
                             tasks=["topic=topic"], id_column="id")
    alice = [CLASSES[i % 3] for i in range(12)]
    bob = [a if i % 3 else CLASSES[(i + 1) % 3] for i, a in enumerate(alice)]   # 4 disagree
    for i in range(12):
        project.label(f"s{i:03d}", alice[i], annotator="alice")
        project.label(f"s{i:03d}", bob[i], annotator="bob")
    win = open_window(qtbot, project, runner=TaskRunner(use_processes=False))
    panel = win.agreement.panel
    win.agreement.dock.show()
    win.agreement.dock.raise_()
    qtbot.waitUntil(lambda: panel.report is not None, timeout=20000)

    kappa = cohen_kappa_score(alice, bob)
    codes = {c: k for k, c in enumerate(CLASSES)}
    alpha = krippendorff.alpha(reliability_data=np.array(
        [[codes[v] for v in alice], [codes[v] for v in bob]], float), level_of_measurement="nominal")
    text = panel.summary.text()
    assert f"Cohen's κ alice / bob: {kappa:.3f}, n=12" in text
    assert f"Krippendorff's α {alpha:.3f}" in text
    assert panel.queue.count() == 4 and "To review: 4 disagreements" in panel.queue_title.text()

    first = panel.queue.item(0)
    sid, task, labels = first.data(Qt.ItemDataRole.UserRole)
    i = int(sid[1:])
    assert labels == {"alice": alice[i], "bob": bob[i]} and alice[i] != bob[i]
    panel.queue.setCurrentItem(first)
    panel.review_button.click()
    cur = win.controller.current
    assert cur.sample.id == sid and cur.source == "review"
    why = win.label_panel.why.text()
    assert f"alice: {alice[i]}" in why and f"bob: {bob[i]}" in why
    assert win.label_panel.values() == {}, "the disputed task is not preselected"

    win.label_panel.press_number(CLASSES.index(bob[i]))     # the decision, by class key
    last = project.history(limit=1)[0]
    assert (last.sample_id, last.value, last.strategy) == (sid, bob[i], "review:disagreement")
    qtbot.waitUntil(lambda: panel.queue.count() == 3, timeout=20000)
    assert all(panel.queue.item(k).data(Qt.ItemDataRole.UserRole)[0] != sid for k in range(3))
    win.runner.shutdown()
    project.close()
