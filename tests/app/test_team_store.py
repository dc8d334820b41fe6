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


def test_two_annotators_with_claims_survive_a_server_outage(qtbot, tmp_path, pg_own_server,
                                                            monkeypatch):
    """Claims on (two windows, two annotators): while the server is away each key press says
    "label NOT saved" and keeps its sample; once it is back both save, and no sample is handed
    to both -- also when the server goes away between a label's write and the next claim."""
    from activelab.core.project.annotators import ENV_VAR
    from activelab.core.records import QueueItem
    from activelab.core.store.claims import live_claims
    from tests.app.test_two_annotators import _press, _window

    monkeypatch.setenv("ACTIVELAB_RETRAIN_IN_PROCESS", "0")
    monkeypatch.delenv(ENV_VAR, raising=False)
    data = write_text_csv(tmp_path / "d.csv", n=60)
    p = Project.create(tmp_path / "team", data=data, text_columns=["text"],
                       tasks=["topic=topic"], store_url=pg_own_server.url)
    items = [QueueItem(i, sid, "margin", 1.0, i + 1, 100.0, False, {}, 0, "test").to_dict()
             for i, sid in enumerate(p.ids)]
    p.store.save_queue(items, p.store.last_seq())
    p.update_settings(retrain_every=1000)
    p.close()
    a_proj, a = _window(qtbot, tmp_path / "team", "alice")
    b_proj, b = _window(qtbot, tmp_path / "team", "bob")
    x, y = shown_id(a), shown_id(b)
    assert x != y
    pg_own_server.stop_server()
    for win, sid in ((a, x), (b, y)):
        _press(qtbot, win, Qt.Key.Key_1)
        assert "Store unreachable — label NOT saved" in win.banner.text.text()
        assert shown_id(win) == sid
    pg_own_server.start()
    _press(qtbot, a, Qt.Key.Key_1)
    _press(qtbot, b, Qt.Key.Key_2)
    qtbot.waitUntil(lambda: shown_id(a) != x and shown_id(b) != y, timeout=10000)
    assert not a.banner.isVisible() and not b.banner.isVisible()
    st = a_proj.label_state()
    assert st.provenance[("topic", x)].annotator == "alice"
    assert st.provenance[("topic", y)].annotator == "bob"
    x2, y2 = shown_id(a), shown_id(b)
    assert x2 != y2 and live_claims(a_proj.store)[x2] == {"alice"}
    # The server goes away right after alice's label is written, before her next claim.
    real = a_proj.label_sample

    def then_outage(*args, **kw):
        out = real(*args, **kw)
        pg_own_server.stop_server()
        return out
    monkeypatch.setattr(a_proj, "label_sample", then_outage)
    _press(qtbot, a, Qt.Key.Key_3)
    monkeypatch.setattr(a_proj, "label_sample", real)
    text = a.banner.text.text()
    assert a.banner.isVisible() and "label WAS saved" in text and "NOT saved" not in text, text
    assert a.controller.current is None, "the saved sample left the screen (no second label)"
    _press(qtbot, a, Qt.Key.Key_3)                       # a key press now labels nothing
    assert a.banner.isVisible() and "label WAS saved" in a.banner.text.text()
    assert a.controller.current is None
    pg_own_server.start()
    assert a_proj.label_state().provenance[("topic", x2)].annotator == "alice"   # saved
    qtbot.mouseClick(a.banner.retry_button, Qt.MouseButton.LeftButton)   # Retry: next sample
    qtbot.waitUntil(lambda: a.controller.current is not None, timeout=10000)
    assert not a.banner.isVisible()
    x3 = shown_id(a)
    assert x3 not in (x, y, x2) and live_claims(a_proj.store)[x3] == {"alice"}
    for _ in range(3):                                   # bob goes on labeling
        _press(qtbot, b, Qt.Key.Key_1)
    _press(qtbot, a, Qt.Key.Key_1)
    st = a_proj.label_state()
    both = [s for s in st.labels["topic"] if len(st.labelers(s)) > 1]
    assert both == [], f"handed to both annotators: {both}"
    assert st.provenance[("topic", x3)].annotator == "alice"
    assert [e.sample_id for e in a_proj.store.events()].count(x2) == 1
    for proj, win in ((a_proj, a), (b_proj, b)):
        win.close()
        proj.close()
