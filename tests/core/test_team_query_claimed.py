"""A team member's query while others hold the stored queue: the command finds other
unlabeled samples instead of saying "nothing left", and when every sample left is held by
someone else it says so (and when to try again), on both stores."""
from __future__ import annotations

from pathlib import Path

import pytest

from activelab.core.cli.main import main
from activelab.core.project.annotators import ENV_VAR
from activelab.core.project.project import Project
from activelab.core.records import QueueItem
from tests.core.helpers import text_project


@pytest.fixture
def folder(tmp_path, store_url, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    return text_project(tmp_path, store_url, n=40)


def _as(folder: Path, name: str) -> Project:
    p = Project.open(folder)
    p.set_annotator(name)
    return p


def _seed(folder: Path, hold: bool = True) -> tuple[Project, list[str]]:
    """alice labels six samples; a stored queue of five is saved; bob labels one more
    (so a command serves that queue) and (``hold``) holds all five of its samples."""
    alice, bob = _as(folder, "alice"), _as(folder, "bob")
    ids = alice.ids
    for k, sid in enumerate(ids[:6]):
        alice.label(sid, ["sport", "tech", "food"][k % 3], task="topic")
    queued = ids[10:15]
    items = [QueueItem(alice.index_of(sid), sid, "margin", 1.0, r + 1, 100.0, False, {}, 0,
                       "test").to_dict() for r, sid in enumerate(queued)]
    alice.store.save_queue(items, alice.store.last_seq())
    bob.label(ids[6], "tech", task="topic")
    if hold:
        assert all(bob.claim(sid) for sid in queued)
    alice.close()
    return bob, queued


def test_stored_queue_held_by_others_still_gives_unclaimed_samples(folder, capsys, monkeypatch):
    bob, queued = _seed(folder, hold=False)
    from activelab.core.project import team

    counted = team.held_by_others
    calls = []

    def bob_claims_right_after_carol_counted(proj):
        n = counted(proj)
        if not calls:        # several processes at once: bob's query takes the queue's top
            calls.append(n)
            assert all(bob.claim(sid) for sid in queued)
        return n

    monkeypatch.setattr(team, "held_by_others", bob_claims_right_after_carol_counted)
    assert main(["query", str(folder), "-n", "2", "--annotator", "carol"]) == 0
    out = capsys.readouterr().out
    assert "Nothing left" not in out and "No sample for you" not in out
    shown = [line.split("\t")[0] for line in out.splitlines() if "\t" in line]
    assert len(shown) == 2 and not set(shown) & set(queued)
    bob.close()


def test_every_sample_left_held_by_others_is_said_with_when_to_retry(folder, capsys):
    bob, _queued = _seed(folder)
    st = bob.store.state()
    for sid in bob.ids:
        if not st.is_labeled(sid):
            assert bob.claim(sid)
    assert main(["query", str(folder), "-n", "2", "--annotator", "carol"]) == 0
    out = capsys.readouterr().out
    assert "Nothing left" not in out
    assert "33 sample(s) are still unlabeled" in out and "33 of them are claimed" in out
    assert "Try again in 15 minute(s)" in out
    bob.close()
