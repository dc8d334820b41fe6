"""Several annotators on one project, as they would notice it: who is recorded, undo touches
only one's own actions, no sample is handed to two people (unless overlap asks for it), the
overlap share, blindness on overlap samples, and leases that expire."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from activelab.core.cli.main import main
from activelab.core.project.annotators import ENV_VAR, is_overlap
from activelab.core.project.project import Project
from activelab.core.records import QueueItem
from tests.core.helpers import text_project, write_text_csv

ROOT = Path(__file__).resolve().parents[2]


def _queue_everything(proj: Project) -> None:
    """A prepared queue holding every sample (what a retrain would save), in pool order."""
    items = [QueueItem(i, sid, "margin", 1.0, i + 1, 100.0, False, {}, 0, "test").to_dict()
             for i, sid in enumerate(proj.ids)]
    proj.store.save_queue(items, proj.store.last_seq())


def _next(proj: Project, shown: set[str] | None = None) -> QueueItem | None:
    """What the app shows next: the first queue item this annotator can claim (and has not
    been shown yet: the app pops its queue)."""
    shown = set() if shown is None else shown
    it = next((it for it in proj.queue() if it.id not in shown and proj.claim(it.id)), None)
    if it is not None:
        shown.add(it.id)
    return it


@pytest.fixture
def folder(tmp_path, store_url):
    return text_project(tmp_path, store_url, n=90)


def _as(folder: Path, name: str, **settings) -> Project:
    p = Project.open(folder)
    p.set_annotator(name)
    if settings:
        p.update_settings(**settings)
    return p



def label_everything_at_once(folder, names, timeout: float) -> None:
    """One process per annotator in ``names``, all at once on the project ``folder``: each
    claims the next queued sample it can and labels it "food", until none is left."""
    script = textwrap.dedent(f"""
        import sys
        from activelab.core.project.project import Project
        p = Project.open({str(folder)!r})
        p.set_annotator(sys.argv[1])
        while True:
            it = next((q for q in p.queue() if p.claim(q.id)), None)
            if it is None:
                break
            p.label(it.id, "food")
        p.close()
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, name], cwd=ROOT) for name in names]
    assert [pr.wait(timeout=timeout) for pr in procs] == [0] * len(names)

def test_identity_flag_beats_env_beats_app_beats_project(folder, monkeypatch, capsys):
    monkeypatch.delenv(ENV_VAR, raising=False)
    p = Project.open(folder)
    from activelab.core.project.identity import machine_identity

    assert p.annotator == machine_identity()                    # login@host by default
    p.set_annotator("carol", source="app")
    assert p.annotator == "carol"
    monkeypatch.setenv(ENV_VAR, "bob")
    assert p.annotator == "bob"
    p.set_annotator("alice")
    assert p.annotator == "alice"
    p.close()
    ids = pd.read_csv(folder.parent / "d.csv")["id"].tolist()
    assert main(["label", str(folder), ids[0], "sport"]) == 0                      # env: bob
    assert main(["label", str(folder), ids[1], "tech", "--annotator", "alice"]) == 0
    assert main(["skip", str(folder), ids[2], "--annotator", "alice"]) == 0
    p = Project.open(folder)
    who = {e.sample_id: e.annotator for e in p.history()}
    assert who == {ids[0]: "bob", ids[1]: "alice", ids[2]: "alice"}
    p.close()
    capsys.readouterr()
    assert main(["status", str(folder), "--annotator", "alice"]) == 0
    out = capsys.readouterr().out
    assert "annotators (samples labeled): bob: 1, alice: 1; you are alice" in out
    assert main(["history", str(folder)]) == 0
    assert "by alice" in capsys.readouterr().out
    assert main(["label", str(folder), ids[3], "food", "--annotator", "a\nb"]) == 1
    assert "line break" in capsys.readouterr().err


def test_undo_and_redo_act_on_the_annotators_own_last_action(folder, monkeypatch, capsys):
    monkeypatch.delenv(ENV_VAR, raising=False)
    a, b = _as(folder, "alice"), _as(folder, "bob")
    x, y = a.ids[0], a.ids[1]
    a.label(x, "sport")
    b.label(y, "tech")
    assert a.undo().sample_id == x                    # alice's, although bob labeled last
    st = a.label_state()
    assert x not in st.labels["topic"] and st.labels["topic"][y] == "tech"
    assert b.redo() is None, "bob's redo stack is untouched by alice's undo"
    assert b.undo().sample_id == y and b.redo().sample_id == y
    assert a.redo().sample_id == x
    assert b.label_state().labels["topic"] == {x: "sport", y: "tech"}
    a.close(), b.close()
    # the command line: each --annotator undoes their own
    assert main(["undo", str(folder), "--annotator", "bob"]) == 0
    assert "Undid bob's label of " + y in capsys.readouterr().out
    p = Project.open(folder)
    assert p.label_state().labels["topic"] == {x: "sport"}
    p.close()
    assert main(["undo", str(folder), "--annotator", "carol"]) == 0
    assert "Nothing of carol's to undo." in capsys.readouterr().out


def test_two_annotators_are_handed_distinct_samples(folder, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    a, b = _as(folder, "alice"), _as(folder, "bob")
    _queue_everything(a)
    got: dict[str, list[str]] = {"alice": [], "bob": []}
    shown: dict[str, set[str]] = {"alice": set(), "bob": set()}
    for _ in range(20):                               # both windows open at once
        for p in (a, b):
            got[p.annotator].append(_next(p, shown[p.annotator]).id)
    assert not set(got["alice"]) & set(got["bob"]), "a sample handed to both"
    assert len(got["alice"]) == len(got["bob"]) == 20
    for p in (a, b):                                  # both label what they were handed
        for sid in got[p.annotator][:5]:
            p.label(sid, "sport")
    # queues are refreshed: neither gets the other's held or labeled samples
    assert not {q.id for q in a.queue()} & set(got["bob"])
    assert not {q.id for q in b.queue()} & set(got["alice"])
    assert b.claim(got["alice"][0]) is False and b.claim(got["alice"][10]) is False
    a.close(), b.close()


def test_leases_end_on_expiry_and_on_close(folder, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    a, b = _as(folder, "alice", lease_minutes=0.01), _as(folder, "bob")   # 0.6 s leases
    x, y = a.ids[0], a.ids[1]
    assert a.claim(x) and a.claim(y)
    assert not b.claim(x)
    time.sleep(0.8)
    assert b.claim(x), "an expired lease frees the sample"
    a.update_settings(lease_minutes=15.0)
    assert a.claim(y) and not b.claim(y)
    a.release_claims()                                # alice closes her window
    assert b.claim(y)
    a.close(), b.close()


def test_processes_at_once_never_label_the_same_sample(folder):
    p = Project.open(folder)
    _queue_everything(p)
    p.close()
    label_everything_at_once(folder, ("p1", "p2", "p3"), timeout=240)
    p = Project.open(folder)
    labels = [e for e in p.store.events() if e.kind == "label"]
    assert len(labels) == p.n_samples == len({e.sample_id for e in labels}), \
        "every sample labeled exactly once"
    counts = p.annotator_counts()
    assert sum(counts.values()) == p.n_samples and len(counts) >= 2
    p.close()


def test_overlap_share_is_honoured_and_labels_stay_blind(tmp_path, monkeypatch, capsys,
                                                        store_url):
    monkeypatch.delenv(ENV_VAR, raising=False)
    data = write_text_csv(tmp_path / "d.csv", n=400)
    assert main(["new", str(tmp_path / "p"), "--data", str(data), "--text-column", "text",
                 "--task", "topic=topic", "--overlap", "0.2", "--overlap-annotators", "2"]
                + (["--store", store_url] if store_url else [])) == 0
    folder = tmp_path / "p"
    a, b = _as(folder, "alice"), _as(folder, "bob")
    assert a.settings.overlap == 0.2 and a.settings.overlap_annotators == 2
    _queue_everything(a)
    truth = pd.read_csv(data).set_index("id")["topic"]
    checked_blind = False
    while True:
        progressed = False
        for p, other in ((a, b), (b, a)):
            it = _next(p)
            if it is None:
                continue
            progressed = True
            if other.annotator in p.label_state().labelers(it.id):
                # a second opinion: the first annotator's label is not shown anywhere
                assert p.shown_labels(it.idx) == {}
                assert all(e.sample_id != it.id for e in p.history(limit=1000))
                capsys.readouterr()
                assert main(["show", str(folder), it.id, "--annotator", p.annotator]) == 0
                out = capsys.readouterr().out
                assert "labels hidden" in out and "label topic =" not in out
                checked_blind = True
            p.label(it.id, truth[it.id])
            assert p.shown_labels(it.idx) == {"topic": truth[it.id]}
        if not progressed:
            break
    assert checked_blind
    st = a.label_state()
    n = a.n_samples
    both = [sid for sid in a.ids if st.labelers(sid) == {"alice", "bob"}]
    assert st.labeled_count == n and all(len(st.labelers(s)) in (1, 2) for s in a.ids)
    assert set(both) == {s for s in a.ids if is_overlap(s, 0.2, a.settings.seed)}
    share = len(both) / n
    print(f"overlap share {share:.3f} of {n} samples (asked 0.2)")
    assert abs(share - 0.2) < 0.06, share           # 3 standard errors at n=400
    # per-annotator labels stay queryable (for agreement and resolution)
    assert a.labels_by_annotator("topic", both[0]) == {"alice": truth[both[0]],
                                                       "bob": truth[both[0]]} or \
        a.labels_by_annotator("topic", both[0]) == {"bob": truth[both[0]],
                                                    "alice": truth[both[0]]}
    a.close(), b.close()


def test_a_schema_3_store_gains_claims_when_opened(folder):
    p = Project.open(folder)
    with p.store.writing("downgrade") as conn:      # what a schema-3 project holds
        conn.execute("DROP TABLE claims")
        conn.execute("UPDATE meta SET value='3' WHERE key='schema_version'")
    p.close()
    a, b = _as(folder, "alice"), _as(folder, "bob")
    assert a.claim(a.ids[0]) and not b.claim(a.ids[0])
    a.close(), b.close()
    p = Project.open(folder)
    assert p.store._conn().execute(
        "SELECT value FROM meta WHERE key='schema_version'").fetchone()[0] == "4"
    p.close()


def test_query_hands_each_annotator_their_own_samples(folder, monkeypatch, capsys):
    import json

    monkeypatch.delenv(ENV_VAR, raising=False)
    got = {}
    for name in ("alice", "bob", "alice"):         # alice asks again while bob holds his
        capsys.readouterr()
        assert main(["query", str(folder), "-n", "4", "--json", "--annotator", name]) == 0
        got.setdefault(name, []).append([d["id"] for d in json.loads(capsys.readouterr().out)])
    assert len(got["alice"][0]) == len(got["bob"][0]) == 4
    assert not set(got["alice"][0]) & set(got["bob"][0])
    assert len(got["alice"][1]) == 4 and not set(got["alice"][1]) & set(got["bob"][0])
    p = _as(folder, "carol")                      # alice's earlier samples not handed again
    dropped = set(got["alice"][0]) - set(got["alice"][1])   # are free for others
    assert all(p.claim(sid) for sid in dropped)
    assert not any(p.claim(sid) for sid in got["alice"][1] + got["bob"][0])
    p.close()
    monkeypatch.setenv(ENV_VAR, "bob")             # the environment names the annotator
    capsys.readouterr()
    assert main(["query", str(folder), "-n", "4", "--json"]) == 0
    as_env = [d["id"] for d in json.loads(capsys.readouterr().out)]
    assert len(as_env) == 4 and not set(as_env) & (set(got["alice"][1]) | dropped)
    from activelab.core.store.claims import live_claims

    p = Project.open(folder)
    held = live_claims(p.store)
    assert all(held[sid] == {"bob"} for sid in as_env)
    p.close()


def test_per_annotator_stacks_match_a_fresh_fold(folder, monkeypatch):
    """The stacks kept event by event equal those of a fold of the whole log (a reopened
    project undoes the same action as the one that stayed open)."""
    from activelab.core.store.label_state import LabelState

    monkeypatch.delenv(ENV_VAR, raising=False)
    a, b = _as(folder, "alice"), _as(folder, "bob")
    ids = a.ids
    steps = [(a, "label", 0), (b, "label", 1), (a, "label", 2), (a, "undo", None),
             (b, "skip", 3), (b, "undo", None), (a, "label", 4), (b, "redo", None),
             (a, "undo", None), (a, "undo", None), (a, "redo", None), (b, "label", 5)]
    for p, kind, i in steps:
        if kind == "label":
            p.label(ids[i], "tech")
        elif kind == "skip":
            p.skip(ids[i])
        else:
            getattr(p, kind)()
    kept = a.label_state()
    fresh = LabelState().apply(a.store.events())
    for who in ("alice", "bob", "carol"):
        assert kept.undo_target(who) == fresh.undo_target(who)
        assert kept.redo_target(who) == fresh.redo_target(who)
    assert kept.group_events(kept.redo_target("alice"))[0].sample_id == ids[4]
    assert kept.redo_target("bob") is None, "bob redid his skip: nothing left to redo"
    assert kept.group_events(kept.undo_target("bob"))[0].sample_id == ids[5]
    assert set(kept.labels["topic"]) == {ids[0], ids[1], ids[5]} and ids[3] in kept.skipped
    a.close(), b.close()
