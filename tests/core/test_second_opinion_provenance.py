"""Issue 12: a second opinion keeps the provenance of the sample's pick, undo or not.

What a user notices: an overlap sample picked by the loop (``margin``) that alice labeled and
then undid is, when it reaches bob (and when alice labels it again), still recorded and shown
as the loop's pick, never as ``annotator:chosen`` (a sample nobody picked by hand)."""
from __future__ import annotations

import pytest

from activelab.core.cli.main import main
from activelab.core.project.annotators import ENV_VAR
from activelab.core.project.pick_provenance import ANNOTATOR_CHOSEN
from activelab.core.project.project import Project
from activelab.core.records import QueueItem
from tests.core.helpers import write_text_csv


@pytest.fixture
def pair(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    data = write_text_csv(tmp_path / "d.csv", n=30)
    Project.create(tmp_path / "p", data=data, text_columns=["text"], tasks=["topic=topic"]).close()
    a = Project.open(tmp_path / "p")
    a.set_annotator("alice")
    a.update_settings(overlap=1.0, overlap_annotators=2)
    b = Project.open(tmp_path / "p")
    b.set_annotator("bob")
    items = [QueueItem(i, sid, "margin", 0.9, i + 1, 100.0, False, {}, 3, "test").to_dict()
             for i, sid in enumerate(a.ids)]
    a.store.save_queue(items, a.store.last_seq())
    yield a, b, tmp_path / "p"
    a.close(), b.close()


def test_an_undone_first_label_leaves_the_second_opinion_its_pick(pair, capsys):
    a, b, folder = pair
    it = a.queue()[0]
    assert a.claim(it.id)
    a.label_sample(it.id, {"topic": "food"}, item=it)
    due = b.queue()[0]
    assert (due.id, due.strategy, due.rank) == (it.id, "margin", it.rank)
    assert a.undo().sample_id == it.id
    again = a.label_sample(it.id, {"topic": "sport"})[0]          # alice, after her undo
    assert again.strategy == "margin" and again.rank == it.rank
    assert a.undo() is not None                                   # undone once more
    shown = [q for q in b.queue() if q.id == it.id]
    assert shown and shown[0].strategy != ANNOTATOR_CHOSEN
    assert main(["label", str(folder), it.id, "tech", "--annotator", "bob"]) == 0
    ev = [e for e in b.store.events(0) if e.kind == "label" and e.annotator == "bob"][-1]
    assert (ev.sample_id, ev.strategy, ev.rank) == (it.id, "margin", it.rank)
    due = a.queue()[0]                                            # alice owes a label again
    assert (due.id, due.strategy) == (it.id, "margin")
