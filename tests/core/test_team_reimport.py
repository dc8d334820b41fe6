"""Issue 12: a team project's export, imported again, is the same team.

What a user notices: a project made from the CSV or Parquet export of a team project shows the
same Cohen's kappa and Krippendorff's alpha, the same review queue and the same resolved
labels as the project exported; each annotator's label is theirs (not the importer's), the
reviewer's decision is still a decision, and nobody's undo takes the import back."""
from __future__ import annotations

import numpy as np
import pytest

from activelab.core.export.labels import write_export
from activelab.core.project.project import Project
from activelab.core.team.agreement import project_agreement
from activelab.core.team.annotations import team_labels
from activelab.core.team.resolution import resolve_task
from activelab.core.team.review import record_review, review_queue
from tests.core.helpers import write_text_csv

CLASSES = ["food", "sport", "tech"]
N = 30
TASKS = ["topic", "tags"]


def _team(p: Project) -> None:
    """alice and bob label s000..s029, carol half of them (disagreements and ties), rita
    decides two disagreements, and bob's last label is undone."""
    rng = np.random.default_rng(5)
    for i in range(N):
        sid = f"s{i:03d}"
        a = CLASSES[i % 3]
        b = a if rng.random() < 0.6 else CLASSES[(i + 1) % 3]
        p.label(sid, a, task="topic", annotator="alice")
        p.label(sid, b, task="topic", annotator="bob")
        if i % 2 == 0:
            p.label(sid, CLASSES[int(rng.integers(3))], task="topic", annotator="carol")
        p.label(sid, [a] + (["long"] if i % 4 == 0 else []), task="tags", annotator="alice")
        if i < 12:
            p.label(sid, [b], task="tags", annotator="bob")
    p.label("s099", "tech", task="topic", annotator="bob")   # then undone
    p.set_annotator("bob")
    assert p.undo() is not None
    p.set_annotator(None)
    team = team_labels(p.store)
    queue = review_queue(team, TASKS)
    for it in [q for q in queue if q.task == "topic"][:2]:
        record_review(p, it.sample_id, {"topic": sorted(it.labels.values())[0]}, reviewer="rita")


def _picture(p: Project) -> dict:
    """What a user sees of the team: agreement, review queue, resolved labels, current labels."""
    team = team_labels(p.store)
    agreement = [a.to_dict() for a in project_agreement(team, p.spec.tasks)]
    queue = sorted((it.task, it.sample_id, tuple(sorted(it.labels.items())))
                   for it in review_queue(team, TASKS))
    resolved = {t: {sid: (r.value if not isinstance(r.value, list) else sorted(r.value), r.method,
                          None if r.confidence is None else round(r.confidence, 9))
                    for sid, r in resolve_task(team, t).items()} for t in TASKS}
    return {"agreement": agreement, "queue": queue, "resolved": resolved,
            "annotators": {t: team.annotators(t) for t in TASKS}}


def _current(p: Project) -> dict:
    """The project's current label of each (task, sample) (the latest event's)."""
    return {t: {p.ids[i]: (sorted(v) if isinstance(v, list) else v)
                for i, v in p.labels().get(t, {}).items()} for t in TASKS}


def _rounded(x):
    if isinstance(x, float):
        return round(x, 9)
    if isinstance(x, dict):
        return {k: _rounded(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_rounded(v) for v in x)
    return x


@pytest.fixture
def exported_team(tmp_path, backend, request):
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    data = write_text_csv(tmp_path / "news.csv", n=100)
    p = Project.create(tmp_path / "team", data=data, text_columns=["text"],
                       tasks=["topic=topic", "tags=tags"], multilabel=["tags"], id_column="id",
                       store_url=url)
    _team(p)
    yield p, url
    p.close()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_reimported_team_export_has_the_same_agreement_queue_and_resolution(exported_team,
                                                                           tmp_path, fmt):
    p, url = exported_team
    before = _picture(p)
    assert before["annotators"]["topic"] == ["alice", "bob", "carol"]
    methods = {m for _v, m, _c in before["resolved"]["topic"].values()}
    assert {"review", "majority", "dawid_skene"} <= methods, "the data exercise every resolution"
    assert before["queue"], "disagreements are left for review"
    out = tmp_path / f"out.{fmt}"
    write_export(p, out)
    again = Project.create(tmp_path / f"again_{fmt}", data=out, store_url=url)
    try:
        after = _picture(again)
        assert _rounded(after) == _rounded(before)
        # the new project's current label is the resolved one (the export's __label)
        assert _current(again) == {t: {s: v for s, (v, _m, _c) in per.items()}
                                   for t, per in before["resolved"].items()}
        team = team_labels(again.store)
        sid = next(s for s, (_v, m, _c) in before["resolved"]["topic"].items() if m == "review")
        decision = team.keys["topic"][sid].review
        assert decision.annotator == "rita" and decision.strategy == "review:disagreement"
        assert team.keys["topic"][sid].by_annotator["alice"].annotator == "alice"
        # the import is nobody's action: alice's undo has nothing to take back
        again.set_annotator("alice")
        assert again.undo() is None
        assert _rounded(_picture(again)) == _rounded(before)
        # alice relabels in the new project: her own label changes, the others' stay
        again.label("s001", "food", task="topic")
        assert team_labels(again.store).keys["topic"]["s001"].values["alice"] == "food"
        assert again.undo() is not None
        assert _rounded(_picture(again)) == _rounded(before)
    finally:
        again.close()


def test_one_person_export_imports_as_before(tmp_path):
    """No team columns: the labels come back from ``__label`` with their provenance."""
    data = write_text_csv(tmp_path / "news.csv", n=30)
    p = Project.create(tmp_path / "solo", data=data, text_columns=["text"], tasks=["topic=topic"],
                       id_column="id")
    for i in range(6):
        p.label(f"s{i:03d}", CLASSES[i % 3], annotator="alice")
    write_export(p, tmp_path / "solo.csv")
    again = Project.create(tmp_path / "solo_again", data=tmp_path / "solo.csv")
    try:
        ev = {e.sample_id: e for e in again.store.events(0) if e.kind == "label"}
        assert {s: e.value for s, e in ev.items()} == {f"s{i:03d}": CLASSES[i % 3] for i in range(6)}
        assert {e.annotator for e in ev.values()} == {"alice"}
        assert all(e.input != "imported" for e in ev.values())
        assert team_labels(again.store).annotators("topic") == ["alice"]
    finally:
        again.close()
        p.close()
