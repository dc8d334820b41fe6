"""Provenance is never blank, the history marks replaced labels, and the curve's "why no
cross-validation yet" says what is missing (issue 11)."""
from __future__ import annotations

import json

import numpy as np
import pytest

from activelab.core.cli.main import main
from activelab.core.learning.cv_readiness import cv_missing, cv_readiness, plural
from activelab.core.project.history_marks import event_marks
from activelab.core.project.pick_provenance import ANNOTATOR_CHOSEN, FALLBACK_RANDOM, fallback_item
from activelab.core.project.project import Project
from tests.core.helpers import write_text_csv


@pytest.fixture
def project(tmp_path):
    data = write_text_csv(tmp_path / "news.csv", n=60)
    p = Project.create(tmp_path / "proj", data=data, text_columns=["text"],
                       tasks=["topic=topic", "tags=tags"], multilabel=["tags"], id_column="id")
    yield p
    p.close()


def _labels_of(p: Project, sid: str) -> list:
    return [e for e in reversed(p.history(limit=200)) if e.kind == "label" and e.sample_id == sid]


def test_relabel_and_label_after_undo_keep_the_original_picks_provenance(project):
    item = project.query()[0]
    assert item.strategy, "the queue item has a strategy"
    project.label_sample(item.id, {"topic": "sport", "tags": ["sport"]}, item=item)
    # a relabel from the history: no queue item is given, the sample is no longer queued
    project.label_sample(item.id, {"topic": "tech"})
    first, _tags, second = _labels_of(project, item.id)[:3]
    assert second.value == "tech"
    for field in ("strategy", "rank", "score", "model_version", "audit"):
        assert getattr(second, field) == getattr(first, field), field
    # undo the relabel, label again: still the original pick's provenance
    project.undo()
    project.label_sample(item.id, {"topic": "food"})
    last = _labels_of(project, item.id)[-1]
    assert (last.value, last.strategy, last.rank) == ("food", item.strategy, item.rank)


def test_a_sample_chosen_by_hand_and_a_fallback_pick_are_recorded_as_such(project):
    queued = {q.id for q in project.query()}
    sid = next(i for i in project.ids if i not in queued)
    project.label_sample(sid, {"topic": "sport"})
    assert _labels_of(project, sid)[0].strategy == ANNOTATOR_CHOSEN
    other = next(i for i in project.ids if i not in queued and i != sid)
    idx = project.index_of(other)
    project.label_sample(other, {"topic": "food"}, item=fallback_item(idx, other, 0))
    ev = _labels_of(project, other)[0]
    assert (ev.strategy, ev.rank, ev.score, ev.audit) == (FALLBACK_RANDOM, 0, None, False)
    # no label of the project has blank provenance
    assert all(e.strategy for e in project.history(limit=100) if e.kind == "label")


def test_history_marks_replaced_and_undone_labels_in_the_cli(project, capsys):
    a, b = project.ids[:2]
    project.label_sample(a, {"topic": "sport"})
    project.label_sample(a, {"topic": "tech"})
    project.label_sample(b, {"topic": "food"})
    project.undo()
    marks = event_marks(project.history(limit=50))
    seqs = {(e.sample_id, e.value): e.seq for e in project.history(limit=50) if e.kind == "label"}
    assert seqs[(a, "sport")] in marks.replaced and seqs[(a, "tech")] not in marks.replaced
    assert seqs[(b, "food")] in marks.undone
    path = str(project.path)
    project.close()
    assert main(["history", path]) == 0
    lines = capsys.readouterr().out.splitlines()
    line = {ln.split()[5] if "label" in ln else "": ln for ln in lines}   # by "task=value"
    assert "(replaced)" in line["topic=sport"] and "picked by annotator:chosen" in line["topic=sport"]
    assert "(replaced)" not in line["topic=tech"] and "(undone)" not in line["topic=tech"]
    assert "(undone)" in line["topic=food"]
    assert main(["history", path, "--json", "--limit", "2"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(rows) == 2 and rows[0]["kind"] == "undo" and rows[1]["undone"] is True


def test_relabel_of_a_label_pair_outside_the_window_is_not_marked(project):
    """A replaced mark needs the later label: an older label alone is not 'replaced'."""
    project.label_sample(project.ids[0], {"topic": "sport"})
    assert not event_marks(project.history(limit=50)).replaced


@pytest.mark.parametrize("counts, n, ok, words", [
    ({"a": 1}, 1, False, ["1 label,", "at least 4 labels (3 more)", "a second class (only 'a'"]),
    ({"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}, 5, False, ["5 labels", "only 1 in a, b, c, d, e"]),
    ({"a": 2, "b": 2}, 4, True, []),
    ({"a": 3, "b": 1, "c": 2}, 6, True, []),
    ({}, 0, False, ["0 labels", "two different classes"]),
])
def test_cv_missing_says_what_is_missing(counts, n, ok, words):
    msg = cv_missing("digit", False, counts, n)
    assert (msg is None) == ok
    for w in words:
        assert w in msg


def test_cv_readiness_agrees_with_the_folds_the_model_uses():
    """Whenever cv_missing says cross-validation is possible, the fitter makes folds, and
    the other way round (the per-task rule of every non-shared model)."""
    from activelab.core.data.spec import TaskSpec
    from activelab.core.learning.fitting import Fitter
    from activelab.core.learning.models import resolve_model

    fitter = Fitter(resolve_model("logistic_regression"))
    task = TaskSpec("t", tuple("abcdef"))
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.integers(0, 12))
        values = [str(v) for v in rng.choice(list("abcdef")[: int(rng.integers(1, 7))], size=n)]
        counts = {c: values.count(c) for c in set(values)}
        folds = fitter._task_folds({"t": (np.arange(n), values)}, task, 0) if n else []
        assert (cv_missing("t", False, counts, n) is None) == bool(folds), (values, counts)


def test_cv_readiness_per_task_and_plurals():
    from activelab.core.data.spec import TaskSpec

    tasks = [TaskSpec("kind", ("x", "y")), TaskSpec("tags", ("p", "q"), multilabel=True)]
    out = cv_readiness(tasks, {"kind": {"x": 2, "y": 2}, "tags": {"p": 1}}, {"kind": {1: "x"} | {i: "y" for i in range(2, 5)}, "tags": {1: ["p"]}})
    assert len(out) == 1 and out[0].startswith("tags: 1 label,") and "two different label sets" in out[0]
    assert [plural(0, "pick"), plural(1, "pick"), plural(2, "pick"), plural(1200, "label")] == \
        ["0 picks", "1 pick", "2 picks", "1,200 labels"]


def test_history_in_the_cli_says_how_each_label_was_entered(project, capsys):
    """An accepted suggestion and a typed class read differently in `activelab history`."""
    a = project.ids[0]
    project.label_sample(a, {"topic": "sport", "tags": ["sport"]},
                         inputs={"topic": "accepted", "tags": "typed"})
    path = str(project.path)
    project.close()
    assert main(["history", path]) == 0
    lines = [ln for ln in capsys.readouterr().out.splitlines() if f" {a} " in f" {ln} "]
    assert any("topic=sport" in ln and "(suggestion accepted)" in ln for ln in lines), lines
    assert any("tags=sport" in ln and "(typed)" in ln for ln in lines), lines
