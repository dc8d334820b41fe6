"""The "Suspect labels" dock (issue 12), as a reviewer uses it: the search runs in the
background, the flipped labels are listed first with the model's alternative, opening one shows
the sample with its label in the label panel, and the label given there is saved with the
provenance review:suspect and leaves the list."""
from __future__ import annotations

import pandas as pd
import pytest

from activelab.app.panels.suspects_panel import SUSPECTS
from activelab.core.project.project import Project
from tests.app.windows import open_window
from tests.core.helpers import write_text_csv

FLIPS = (5, 17, 40, 77, 101)
NEXT = {"sport": "tech", "tech": "food", "food": "sport"}


@pytest.fixture
def project(tmp_path):
    """150 samples, the first 120 labeled (5 of them flipped), 30 left to label."""
    path = write_text_csv(tmp_path / "d.csv", n=150)
    df = pd.read_csv(path).drop(columns=["tags"])
    truth = {}
    for i in FLIPS:
        truth[df.loc[i, "id"]] = df.loc[i, "topic"]
        df.loc[i, "topic"] = NEXT[df.loc[i, "topic"]]
    df.loc[120:, "topic"] = None
    df.to_csv(path, index=False)
    p = Project.create(tmp_path / "p", data=path, id_column="id", text_columns=["text"],
                       tasks=["topic"], import_labels=True)
    p.truth = truth
    yield p
    p.close()


def test_suspects_are_found_in_the_background_opened_and_relabeled(qtbot, project):
    win = open_window(qtbot, project)
    panel = win.suspect_review.panel
    qtbot.waitUntil(lambda: win.controller.ready, timeout=60000)
    before = win.controller.current.sample.id
    win.suspects_dock.show()
    win.suspects_dock.raise_()          # shown the first time: the search starts by itself
    assert win.runner.is_running(SUSPECTS) and panel.table.rowCount() == 0   # not on this thread
    assert not panel.find_button.isEnabled()
    assert panel.status.text().startswith("Checking the labels out-of-fold")
    qtbot.waitUntil(lambda: panel.table.rowCount() > 0, timeout=120000)
    truth = project.truth
    listed = [panel.table.item(r, 1).text() for r in range(panel.table.rowCount())]
    assert set(listed[:4]) <= set(truth), listed
    assert panel.table.isColumnHidden(2)                      # one task: no task column
    first = panel.suspects[0]
    assert panel.table.item(0, 3).text() == NEXT[truth[first.sample_id]]      # its label
    assert panel.table.item(0, 4).text().startswith(truth[first.sample_id])   # model says
    assert "suspect label(s) among 120 checked" in panel.status.text()

    panel.open_row(0)                                          # double-click / Enter
    cur = win.controller.current
    assert cur.sample.id == first.sample_id and cur.source == "review"
    assert cur.existing == {"topic": NEXT[truth[first.sample_id]]}
    assert f"already labeled: topic={NEXT[truth[first.sample_id]]}" in win.sample_view.title.text()
    assert win.label_panel.values() == {"topic": NEXT[truth[first.sample_id]]}   # preselected
    row = win.label_panel.rows[0]
    assert "review:suspect" in win.label_panel.why.text()

    row.buttons[truth[first.sample_id]].click()      # one task: a click labels and submits
    ev = project.history(limit=1)[0]
    assert (ev.sample_id, ev.value, ev.strategy, ev.rank) == (
        first.sample_id, truth[first.sample_id], "review:suspect", 1)
    assert ev.predicted == truth[first.sample_id]
    assert project.labels()["topic"][project.index_of(first.sample_id)] == truth[first.sample_id]
    assert first.sample_id not in [s.sample_id for s in panel.suspects]   # decided: it leaves
    assert win.controller.current.sample.id == before      # back to where labeling was
    win.close()
