"""Overlap by "every k-th pick" (``overlap_every``), on both backends: the k-th, 2k-th, ...
sample labeled project-wide goes to ``overlap_annotators`` annotators, blind to each other;
every process agrees from the event log alone; it excludes the share rule with a clear
message (``new``, ``set``)."""
from __future__ import annotations

from pathlib import Path

from activelab.core.cli.main import main
from activelab.core.project.annotators import ENV_VAR
from activelab.core.project.project import Project
from tests.core.helpers import write_text_csv
from tests.core.test_annotators import _as, _next, _queue_everything, label_everything_at_once



def _new(tmp_path: Path, store_url: str | None, *flags: str, n: int = 90) -> Path:
    data = write_text_csv(tmp_path / "d.csv", n=n)
    assert main(["new", str(tmp_path / "p"), "--data", str(data), "--text-column", "text",
                 "--task", "topic=topic", *flags]
                + (["--store", store_url] if store_url else [])) == 0
    return tmp_path / "p"


def _picks_from_the_log(proj: Project) -> dict[str, int]:
    """Pick numbers folded independently from the raw log: the n-th sample to get a first
    label (not imported) in seq order has number n."""
    picks: dict[str, int] = {}
    seen: set[str] = set()
    for e in sorted(proj.store.events(), key=lambda e: e.seq):
        if e.kind == "label" and e.sample_id not in seen:
            seen.add(e.sample_id)
            if e.annotator != "import":
                picks[e.sample_id] = len(picks) + 1
    return picks


def test_every_kth_pick_is_shared_across_three_processes(tmp_path, store_url, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    k = 4
    folder = _new(tmp_path, store_url, "--overlap-every", str(k), "--overlap-annotators", "2")
    p = Project.open(folder)
    assert p.settings.overlap_every == k and p.settings.overlap == 0
    _queue_everything(p)
    p.close()
    label_everything_at_once(folder, ("p1", "p2", "p3"), timeout=300)
    # The last process to finish may have given the first label of a k-th pick after the
    # others left: they come back for their second opinions (what a team does next morning).
    annotators = [_as(folder, name) for name in ("p1", "p2", "p3")]
    progressed = True
    while progressed:
        progressed = False
        for a in annotators:
            it = _next(a)
            if it is not None:
                a.label(it.id, "food")
                progressed = True
    p = annotators[0]
    st = p.label_state()
    n = len(st.picks)
    assert n == p.n_samples == 90
    assert st.picks == _picks_from_the_log(p), "pick numbers are the log's order"
    shared = {sid for sid in p.ids if len(st.labelers(sid)) >= 2}
    assert len(shared) == n // k == 22, f"{len(shared)} shared of {n} picks, every {k}th"
    assert shared == {sid for sid, num in st.picks.items() if num % k == 0}
    assert all(len(st.labelers(sid)) == 2 for sid in shared), "exactly overlap_annotators each"
    labels = [e for e in p.store.events() if e.kind == "label"]
    assert len(labels) == n + len(shared), "no other sample was labeled twice"
    assert len({a for sid in shared for a in st.labelers(sid)}) >= 2
    for a in annotators:
        a.close()


def test_a_kth_pick_goes_to_the_others_blind_and_status_counts_it(tmp_path, store_url,
                                                                   monkeypatch, capsys):
    monkeypatch.delenv(ENV_VAR, raising=False)
    folder = _new(tmp_path, store_url, "--overlap-every", "2", n=30)
    alice, bob = _as(folder, "alice"), _as(folder, "bob")
    _queue_everything(alice)
    firsts = []
    for _ in range(5):                       # alice's picks 1..5: 2 and 4 are overlap samples
        it = _next(alice)
        alice.label(it.id, "sport")
        firsts.append(it.id)
    due = alice.store.state().pick_number
    assert [due(s) for s in firsts] == [1, 2, 3, 4, 5]
    shown: set[str] = set()
    second = [_next(bob, shown), _next(bob, shown)]
    assert [it.id for it in second] == [firsts[1], firsts[3]], "the 2nd and 4th picks first"
    assert "overlap sample" in second[0].reason
    assert bob.shown_labels(second[0].idx) == {}, "blind: alice's label is hidden"
    assert all(e.sample_id not in (firsts[1], firsts[3]) for e in bob.history(limit=100))
    third = _next(bob, shown)
    assert third.id not in firsts, "a sample alice alone labeled is not handed to bob"
    bob.label(firsts[1], "tech")
    assert bob.shown_labels(second[0].idx) == {"topic": "tech"}
    capsys.readouterr()
    assert main(["status", str(folder), "--annotator", "bob"]) == 0
    out = capsys.readouterr().out
    assert "overlap: every 2nd sample labeled goes to 2 annotators (2 shared so far)" in out
    assert "alice: 5, bob: 1" in out
    alice.close(), bob.close()


def test_share_and_every_kth_exclude_each_other_with_a_clear_message(tmp_path, store_url,
                                                                     capsys):
    data = write_text_csv(tmp_path / "d.csv", n=12)
    args = ["new", str(tmp_path / "p"), "--data", str(data), "--text-column", "text",
            "--task", "topic=topic", "--overlap", "0.1", "--overlap-every", "5"]
    assert main(args + (["--store", store_url] if store_url else [])) != 0
    err = capsys.readouterr().err
    assert "--overlap 0.1 and --overlap-every 5 were both given" in err
    assert "Traceback" not in err and not (tmp_path / "p" / "project.sqlite").exists()
    folder = _new(tmp_path, store_url, "--overlap", "0.1", n=12)
    capsys.readouterr()
    assert main(["set", str(folder), "overlap_every=5"]) != 0
    err = capsys.readouterr().err
    assert "not both" in err and "overlap=0 overlap_every=5" in err
    assert Project.open(folder).settings.overlap_every == 0, "nothing was saved"
    assert main(["set", str(folder), "overlap=0", "overlap_every=5"]) == 0
    s = Project.open(folder).settings
    assert (s.overlap, s.overlap_every) == (0.0, 5)


def test_stored_settings_with_both_rules_keep_the_share_and_say_so():
    from activelab.core.loop.settings import Settings

    s, problems = Settings.load({"overlap": 0.1, "overlap_every": 3})
    assert (s.overlap, s.overlap_every) == (0.1, 0)
    assert len(problems) == 1 and "not both" in problems[0]


def test_imported_labels_are_no_picks(tmp_path, store_url, monkeypatch):
    import pandas as pd

    monkeypatch.delenv(ENV_VAR, raising=False)
    data = write_text_csv(tmp_path / "d.csv", n=20)
    frame = pd.read_csv(data)
    frame.loc[5:, "topic"] = None                    # s000..s004 come labeled with the data
    frame.to_csv(data, index=False)
    assert main(["new", str(tmp_path / "p"), "--data", str(data), "--text-column", "text",
                 "--task", "topic=topic", "--import-labels", "--overlap-every", "2"]
                + (["--store", store_url] if store_url else [])) == 0
    alice, bob = _as(tmp_path / "p", "alice"), _as(tmp_path / "p", "bob")
    alice.label("s000", "tech")                      # a correction of an imported label
    for sid in ("s010", "s011", "s012", "s013"):
        alice.label(sid, "food")
    st = alice.label_state()
    assert st.pick_number("s000") is None and st.pick_number("s001") is None
    assert [st.pick_number(f"s01{i}") for i in range(4)] == [1, 2, 3, 4]
    _queue_everything(bob)
    shown: set[str] = set()
    assert [_next(bob, shown).id, _next(bob, shown).id] == ["s011", "s013"]
    alice.close(), bob.close()
