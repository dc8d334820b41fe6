"""Issue 12: the history dock names who labeled each row in a team project.

What a user notices: alone on a project, the history lines are as before (no names); once a
second annotator has labeled, every line ends with who acted ("· alice"); another annotator's
label of an overlap sample this window's annotator has not labeled yet is still not listed
(blind), and it appears, with its name, once they have given their own."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from activelab.app.project_menu import set_annotator_name
from activelab.core.project.annotators import ENV_VAR, is_overlap
from activelab.core.project.project import Project
from activelab.core.records import QueueItem
from tests.app.test_two_annotators import _close, _press, _project_folder, _window


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    yield _project_folder(tmp_path)
    set_annotator_name(None)            # the machine's name is not left to other tests


def _lines(win) -> list[str]:
    return [win.history_view.list.item(i).text() for i in range(win.history_view.list.count())]


def test_history_names_annotators_only_in_a_team_and_stays_blind(qtbot, folder):
    setup = Project.open(folder)
    setup.update_settings(overlap=0.5, overlap_annotators=2)
    s = setup.settings
    ov = [sid for sid in setup.ids if is_overlap(sid, s.overlap, s.seed)]
    solo = [sid for sid in setup.ids if not is_overlap(sid, s.overlap, s.seed)]
    order = [ov[0]] + solo[1:] + ov[1:]        # the overlap sample first in the queue
    items = [QueueItem(setup.index_of(sid), sid, "margin", 1.0, r + 1, 100.0, False, {}, 0,
                       "test").to_dict() for r, sid in enumerate(order)]
    setup.store.save_queue(items, setup.store.last_seq())
    setup.close()

    a_proj, a = _window(qtbot, folder, "alice")
    assert a.controller.current.sample.id == ov[0]
    _press(qtbot, a, Qt.Key.Key_2)
    qtbot.waitUntil(lambda: len(_lines(a)) == 1)
    assert "·" not in _lines(a)[0], "one annotator: the line is as before"

    carol = Project.open(folder)                # a third annotator labels a sample of her own
    carol.label(solo[0], "food", annotator="carol")
    carol.close()

    b_proj, b = _window(qtbot, folder, "bob")
    qtbot.waitUntil(lambda: len(_lines(b)) == 1)
    assert _lines(b)[0].endswith("· carol") and solo[0] in _lines(b)[0]
    assert not any(ov[0] in line for line in _lines(b)), "alice's overlap label stays hidden"
    assert b.controller.current.sample.id == ov[0]
    _press(qtbot, b, Qt.Key.Key_1)
    qtbot.waitUntil(lambda: len(_lines(b)) == 3)
    mine, alices = [line for line in _lines(b) if ov[0] in line]
    assert mine.endswith("· bob") and alices.endswith("· alice")

    a.controller.labels_changed.emit()          # alice's window refreshes (others labeled)
    qtbot.waitUntil(lambda: len(_lines(a)) == 3)
    assert [line.rsplit("· ", 1)[1] for line in _lines(a)] == ["bob", "carol", "alice"]
    _close((a_proj, a), (b_proj, b))
