"""The app on a team project (PostgreSQL store, a real server): labels made elsewhere show up,
and a server that goes away is said ("store unreachable — label NOT saved"), the sample stays,
and labeling resumes once the server is back."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from activelab.core.project.project import Project
from tests.core.helpers import write_text_csv
from tests.fidelity.app_fixtures import counts, open_window, shown_id


@pytest.fixture
def team_project(tmp_path, pg_own_server, monkeypatch):
    monkeypatch.setenv("ACTIVELAB_RETRAIN_IN_PROCESS", "0")
    data = write_text_csv(tmp_path / "d.csv", n=60)
    p = Project.create(tmp_path / "team", data=data, text_columns=["text"],
                       tasks=["topic=topic"], store_url=pg_own_server.url)
    yield p, pg_own_server
    p.close()


def test_app_on_postgresql_sees_others_and_survives_a_server_outage(qtbot, team_project):
    project, server = team_project
    win = open_window(qtbot, project)
    qtbot.keyClick(win, Qt.Key.Key_1)                       # lands on the server
    qtbot.waitUntil(lambda: project.labeled_count() == 1)
    # Another annotator (another process or machine) labels two samples: the window counts them.
    assert counts(win).startswith("1 / 60 labeled")
    other = Project.open(project.path)
    mine = shown_id(win)
    for sid in [s for s in ("s050", "s051", "s052") if s != mine][:2]:
        other.label(sid, "food", task="topic", annotator="other")
    other.close()
    qtbot.waitUntil(lambda: counts(win).startswith("3 / 60 labeled"), timeout=5000)
    # The server goes away: the key press is said to be NOT saved and the sample stays.
    server.stop_server()
    sample = shown_id(win)
    qtbot.keyClick(win, Qt.Key.Key_2)
    assert win.banner.isVisible()
    assert "Store unreachable — label NOT saved" in win.banner.text.text()
    assert shown_id(win) == sample
    # Back again: the same key press saves it, the banner goes, the next sample comes.
    server.start()
    qtbot.keyClick(win, Qt.Key.Key_2)
    qtbot.waitUntil(lambda: shown_id(win) != sample, timeout=10000)
    assert not win.banner.isVisible()
    assert project.labeled_count() == 4
