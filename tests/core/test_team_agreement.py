"""Issue 12, agreement and review: two annotators with known labels on one project.

What a user notices: the kappa and alpha printed are the libraries' values on the same
vectors; a disagreement is in the review queue until a reviewer decides; the export carries
each annotator's label and the resolved one (and imports again); a model trains on the
resolved label; a one-person project is untouched."""
from __future__ import annotations

import json

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from activelab.core.cli.main import main
from activelab.core.export.labels import write_export
from activelab.core.project.project import Project
from activelab.core.team.annotations import team_labels
from activelab.core.team.agreement import task_agreement
from activelab.core.team.report import team_report, team_report_from_events
from activelab.core.team.resolution import resolve_task
from activelab.core.team.review import record_review, review_queue
from tests.core.helpers import write_text_csv

CLASSES = ["food", "sport", "tech"]
N = 40


def _known_labels(seed: int = 3) -> tuple[list[str], list[str], list[str]]:
    """Alice's, Bob's and Carol's labels of samples s000..s039 (Bob differs on ~30%)."""
    rng = np.random.default_rng(seed)
    alice = [CLASSES[i % 3] for i in range(N)]
    bob = [a if rng.random() < 0.7 else CLASSES[(CLASSES.index(a) + 1) % 3] for a in alice]
    carol = [CLASSES[int(rng.integers(3))] for _ in range(N)]
    return alice, bob, carol


@pytest.fixture
def team_project(tmp_path, backend, request):
    """The three annotators' project, on SQLite and on PostgreSQL (a real server)."""
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    data = write_text_csv(tmp_path / "news.csv", n=120)
    p = Project.create(tmp_path / "proj", data=data, text_columns=["text"],
                       tasks=["topic=topic", "tags=tags"], multilabel=["tags"], id_column="id",
                       store_url=url)
    alice, bob, carol = _known_labels()
    for i in range(N):
        sid = f"s{i:03d}"
        p.label(sid, alice[i], task="topic", annotator="alice")
        p.label(sid, bob[i], task="topic", annotator="bob")
        if i < 20:                       # carol overlaps on half of them
            p.label(sid, carol[i], task="topic", annotator="carol")
        p.label(sid, [alice[i]], task="tags", annotator="alice")
        p.label(sid, [bob[i]] + (["long"] if i % 5 == 0 else []), task="tags", annotator="bob")
    yield p
    p.close()


def test_kappa_and_alpha_equal_the_libraries_on_the_same_vectors(team_project):
    alice, bob, carol = _known_labels()
    ag = task_agreement(team_labels(team_project.store), "topic")
    pairs = {(p.a, p.b): p for p in ag.pairs}
    ab, ac = pairs[("alice", "bob")], pairs[("alice", "carol")]
    assert ab.n == N and ac.n == 20
    assert ab.kappa == pytest.approx(cohen_kappa_score(alice, bob))
    assert ac.kappa == pytest.approx(cohen_kappa_score(alice[:20], carol[:20]))
    codes = {c: k for k, c in enumerate(CLASSES)}
    m = np.array([[codes[v] for v in alice], [codes[v] for v in bob],
                  [codes[v] for v in carol[:20]] + [np.nan] * (N - 20)], dtype=float)
    assert ag.alpha == pytest.approx(krippendorff.alpha(reliability_data=m,
                                                        level_of_measurement="nominal"))
    assert ag.n_samples == N and 0 < ag.n_disagree < N
    assert ab.kappa < 0.9, "the data do disagree (the check can fail)"


def test_multilabel_kappa_is_per_class_binary_averaged(team_project):
    alice, bob, _ = _known_labels()
    ag = task_agreement(team_labels(team_project.store), "tags", True,
                        team_project.spec.task("tags").classes)
    bob_sets = [[b] + (["long"] if i % 5 == 0 else []) for i, b in enumerate(bob)]
    used = ["food", "long", "sport", "tech"]
    want = np.mean([cohen_kappa_score([c == a for a in alice], [c in b for b in bob_sets])
                    for c in used])
    assert ag.pairs[0].kappa == pytest.approx(want)


def test_fewer_than_two_annotators_is_said_not_nan(tmp_path, capsys):
    data = write_text_csv(tmp_path / "news.csv", n=30)
    p = Project.create(tmp_path / "solo", data=data, text_columns=["text"], tasks=["topic=topic"])
    for i in range(6):
        p.label(f"s{i:03d}", CLASSES[i % 3], annotator="alice")
    p.close()
    assert main(["status", str(tmp_path / "solo")]) == 0
    out = capsys.readouterr().out
    assert "fewer than 2 annotators (only 'alice' labeled it)" in out and "nan" not in out.lower()
    assert main(["agreement", str(tmp_path / "solo")]) == 0
    assert "Nothing to review" in capsys.readouterr().out


def test_disagreement_is_queued_until_a_review_decision_and_undo_brings_it_back(team_project):
    tasks = ["topic", "tags"]
    queue = review_queue(team_labels(team_project.store), tasks)
    alice, bob, _ = _known_labels()
    first = next(f"s{i:03d}" for i in range(20, N) if alice[i] != bob[i])
    assert any(it.sample_id == first and it.task == "topic" for it in queue)
    item = next(it for it in queue if it.sample_id == first and it.task == "topic")
    assert item.labels == {"alice": alice[int(first[1:])], "bob": bob[int(first[1:])]}
    ev = record_review(team_project, first, {"topic": bob[int(first[1:])]}, reviewer="rita")[0]
    assert ev.strategy == "review:disagreement" and ev.annotator == "rita"
    team = team_labels(team_project.store)
    assert not any(it.sample_id == first and it.task == "topic" for it in review_queue(team, tasks))
    assert len(review_queue(team, tasks)) == len(queue) - 1
    r = resolve_task(team, "topic")[first]
    assert (r.value, r.method) == (bob[int(first[1:])], "review")
    # the reviewer is not an annotator: agreement is unchanged by the decision
    assert "rita" not in team.annotators("topic")
    team_project.undo()
    assert any(it.sample_id == first for it in review_queue(team_labels(team_project.store), tasks))
    # an annotator who labels after the decision reopens the case
    record_review(team_project, first, {"topic": bob[int(first[1:])]}, reviewer="rita")
    team_project.label(first, alice[int(first[1:])], task="topic", annotator="bob")
    assert resolve_task(team_labels(team_project.store), "topic")[first].method == "majority"


def test_resolution_majority_tie_dawid_skene_single(team_project):
    alice, bob, carol = _known_labels()
    res = resolve_task(team_labels(team_project.store), "topic")
    for i in range(N):
        r = res[f"s{i:03d}"]
        votes = [alice[i], bob[i]] + ([carol[i]] if i < 20 else [])
        top = max(set(votes), key=votes.count)
        if votes.count(top) * 2 > len(votes):
            assert (r.value, r.method) == (top, "majority")
            assert r.confidence == pytest.approx(votes.count(top) / len(votes))
        else:
            assert r.method == "dawid_skene" and r.value in votes and 0 < r.confidence <= 1
    team_project.label("s100", "tech", task="topic", annotator="alice")
    r = resolve_task(team_labels(team_project.store), "topic")["s100"]
    assert (r.value, r.method, r.confidence) == ("tech", "single", None)


def test_training_takes_the_resolved_label(team_project):
    alice, bob, carol = _known_labels()
    # s001: alice 'sport'; make bob and carol agree on another class: the majority wins
    team_project.label("s001", "food", task="topic", annotator="bob")
    team_project.label("s001", "food", task="topic", annotator="carol")
    team_project.label("s001", "sport", task="topic", annotator="alice")   # latest is alice's
    snap = team_project.training_snapshot()
    rows, values = snap.labeled["topic"]
    got = dict(zip(rows.tolist(), values))
    assert team_project.labels()["topic"][team_project.index_of("s001")] == "sport"
    assert got[team_project.index_of("s001")] == "food"


def test_single_annotator_project_trains_on_exactly_its_labels(tmp_path):
    data = write_text_csv(tmp_path / "news.csv", n=30)
    p = Project.create(tmp_path / "solo", data=data, text_columns=["text"], tasks=["topic=topic"])
    for i in range(9):
        p.label(f"s{i:03d}", CLASSES[i % 3])
    p.label("s000", "tech")
    rows, values = p.training_snapshot().labeled["topic"]
    assert dict(zip(rows.tolist(), values)) == dict(p.labels()["topic"])
    p.close()


def test_export_carries_each_annotator_and_the_resolution_and_imports_again(team_project, tmp_path):
    alice, bob, carol = _known_labels()
    res = resolve_task(team_labels(team_project.store), "topic")
    s = write_export(team_project, tmp_path / "out.csv")
    assert any("Cohen's kappa alice / bob" in line for line in s.agreement)
    df = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False).set_index("activelab__id")
    for i in range(N):
        sid = f"s{i:03d}"
        row = df.loc[sid]
        assert row["activelab__topic__by__alice"] == alice[i]
        assert row["activelab__topic__by__bob"] == bob[i]
        assert row["activelab__topic__by__carol"] == (carol[i] if i < 20 else "")
        assert row["activelab__topic__label"] == res[sid].value
        assert row["activelab__topic__resolution"] == res[sid].method
        who = row["activelab__topic__annotator"]     # the provenance is of someone who said it
        assert row[f"activelab__topic__by__{who}"] == res[sid].value
    assert set(df["activelab__topic__resolution"]) <= {"majority", "dawid_skene"}
    assert json.loads(df.loc["s000", "activelab__tags__by__bob"]) == [bob[0], "long"]
    assert json.loads(df.loc["s001", "activelab__tags__by__alice"]) == [alice[1]]
    # round trip: the export imports with the resolved labels, no annotator column as a task
    again = Project.create(tmp_path / "again", data=tmp_path / "out.csv")
    assert sorted(t.name for t in again.spec.tasks) == ["tags", "topic"]
    assert not any("__by__" in c or "resolution" in c
                   for c in (*again.spec.feature_columns, *again.spec.text_columns))
    by_id = {again.ids[i]: v for i, v in again.labels()["topic"].items()}
    assert by_id == {sid: r.value for sid, r in res.items()}
    again.close()


def test_parquet_export_keeps_the_agreement_in_its_metadata(team_project, tmp_path):
    import pyarrow.parquet as pq

    write_export(team_project, tmp_path / "out.parquet")
    meta = pq.read_schema(tmp_path / "out.parquet").metadata[b"activelab.agreement"].decode()
    assert "Krippendorff's alpha" in meta and "alice / bob" in meta


def test_cli_agreement_status_and_review(team_project, capsys):
    path = str(team_project.path)
    report = team_report(team_project)
    team_project.close()
    assert main(["agreement", path]) == 0
    out = capsys.readouterr().out
    ab = next(p for p in report.agreement[0].pairs if (p.a, p.b) == ("alice", "bob"))
    assert f"Cohen's kappa alice / bob: {ab.kappa:.3f}, n={N}" in out
    assert f"review queue: {len(report.queue)} disagreements" in out
    first = report.queue[0]
    assert f"{first.sample_id}  {first.task}" in out
    value = next(iter(first.labels.values()))
    if isinstance(value, list):
        value = "|".join(value)
    args = ["label", path, first.sample_id, value, "--task", first.task, "--review",
            "--annotator", "rita"]
    assert main(args) == 0
    assert "Saved review decision" in capsys.readouterr().out
    assert main(["agreement", path, "--json"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert len(after["review_queue"]) == len(report.queue) - 1
    assert main(["status", path]) == 0
    assert "Krippendorff's alpha" in capsys.readouterr().out


def test_report_from_the_history_equals_the_store_fold(team_project):
    events = team_project.history(limit=10 ** 9)
    a, b = team_report_from_events(events, team_project.spec.tasks), team_report(team_project)
    assert a.to_dict() == b.to_dict()


def test_ties_are_decided_by_dawid_skene_in_the_worker_not_in_the_snapshot(team_project):
    from activelab.core.team.training import resolve_ties

    snap = team_project.training_snapshot()          # UI-thread part: no Dawid-Skene
    ties = snap.label_ties["topic"]
    res = resolve_task(team_labels(team_project.store), "topic")
    want = {team_project.index_of(sid): r.value for sid, r in res.items()
            if r.method == "dawid_skene"}
    assert set(ties.rows) == set(want) and want
    rows, values = resolve_ties(snap).labeled["topic"]
    got = dict(zip(rows.tolist(), values))
    assert {r: got[r] for r in want} == want
    assert resolve_ties(snap).label_ties == {}
    point = team_project.retrain()                    # the worker job resolves, then trains
    assert point is not None and point.n_labels == N
