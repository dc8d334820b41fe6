"""Suspect labels (issue 12): on a small project with known flipped labels the flips rank at
the top, with the true class as the model's alternative; too few labels say how many more are
needed; ``activelab review --suspects`` prints the queue and records decisions as label events
with provenance ``review:suspect``."""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

from activelab.core.cli.main import main
from activelab.core.project.project import Project
from activelab.core.quality.suspects import snapshot_suspects
from tests.core.helpers import write_text_csv

FLIPS = {5: "tech", 17: "food", 40: "sport", 77: "tech", 101: "food", 110: "sport"}
NEXT = {"sport": "tech", "tech": "food", "food": "sport"}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """120 samples, every label imported; 6 topic labels (and their tags) flipped."""
    d = tmp_path_factory.mktemp("suspects")
    path = write_text_csv(d / "d.csv", n=120)
    df = pd.read_csv(path)
    truth = {}
    for i in FLIPS:
        truth[df.loc[i, "id"]] = df.loc[i, "topic"]
        df.loc[i, "topic"] = NEXT[df.loc[i, "topic"]]
        df.loc[i, "tags"] = df.loc[i, "topic"]          # the tag set loses its true topic
    df.to_csv(path, index=False)
    Project.create(d / "p", data=path, id_column="id", text_columns=["text"],
                   tasks=["topic", "tags"], multilabel=["tags"], import_labels=True).close()
    return d / "p", truth


@pytest.fixture
def project(template, tmp_path):
    shutil.copytree(template[0], tmp_path / "p")
    p = Project.open(tmp_path / "p")
    yield p
    p.close()


def test_flipped_labels_rank_at_the_top_with_the_true_class_as_alternative(project, template):
    truth = template[1]
    found = snapshot_suspects(project.training_snapshot())
    topic = found["topic"]
    assert topic.checked == 120 and topic.note is None
    top = topic.suspects[:5]
    assert {s.sample_id for s in top} <= set(truth), [s.sample_id for s in topic.suspects]
    for s in top:
        assert s.alternative == truth[s.sample_id] and s.confidence > 0.5
        assert s.label == NEXT[truth[s.sample_id]]
    assert [s.rank for s in topic.suspects] == list(range(1, len(topic.suspects) + 1))
    assert [s.quality for s in topic.suspects] == sorted(s.quality for s in topic.suspects)
    # multi-label: cleanlab's multi_label mode finds the flipped tag sets among its suspects
    tags = {s.sample_id: s for s in found["tags"].suspects}
    assert len(set(truth) & set(tags)) >= 5
    s = tags[next(iter(set(truth) & set(tags)))]
    assert isinstance(s.alternative, list) and truth[s.sample_id] in s.alternative


def test_too_few_labels_say_how_many_more_are_needed(tmp_path):
    path = write_text_csv(tmp_path / "d.csv", n=30)
    proj = Project.create(tmp_path / "p", data=path, id_column="id", text_columns=["text"],
                          tasks=["topic"], import_labels=False)
    try:
        r = snapshot_suspects(proj.training_snapshot())["topic"]
        assert r.suspects == () and "no labels yet" in r.note
        for sid, c in [("s000", "sport"), ("s003", "sport"), ("s006", "sport"), ("s001", "tech")]:
            proj.label(sid, c)
        r = snapshot_suspects(proj.training_snapshot())["topic"]
        assert r.suspects == () and r.checked == 0
        assert "label 1 more of 'tech'" in r.note and "out-of-fold" in r.note
        proj.label("s004", "tech")
        proj.label("s002", "food")      # a class labeled once: left out, and said so
        r = snapshot_suspects(proj.training_snapshot())["topic"]
        assert r.checked == 5
        assert "'food'" in r.note and "label 1 more of each" in r.note
    finally:
        proj.close()


def test_cli_prints_the_ranked_table(project, template, capsys):
    assert main(["review", str(project.path), "--suspects", "--task", "topic", "--top", "3"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("topic: ") and "among 120 checked (top 3 shown)" in lines[0]
    assert "model says" in lines[1]
    rows = [ln.split() for ln in lines[2:5]]
    assert [r[0] for r in rows] == ["1", "2", "3"]
    assert {r[1] for r in rows} <= set(template[1])
    assert all(r[3] == template[1][r[1]] for r in rows)      # the model says the true class
    assert "--relabel SAMPLE_ID LABEL" in out


def test_relabel_and_keep_are_events_with_review_provenance(project, template, capsys):
    truth = template[1]
    assert main(["review", str(project.path), "--suspects", "--task", "topic"]) == 0
    first = capsys.readouterr().out.splitlines()[2].split()
    sid = first[1]
    assert main(["review", str(project.path), "--suspects", "--relabel", sid, truth[sid],
                 "--task", "topic", "--annotator", "rev"]) == 0
    assert "relabeled" in capsys.readouterr().out
    ev = project.history(limit=1)[0]
    assert (ev.sample_id, ev.task, ev.value) == (sid, "topic", truth[sid])
    assert (ev.strategy, ev.rank, ev.input, ev.annotator) == ("review:suspect", 1, "cli", "rev")
    assert ev.predicted == truth[sid] and ev.confidence > 0.5
    assert project.labels()["topic"][project.index_of(sid)] == truth[sid]
    # keeping a label records it again, unchanged, as 'kept'
    second = [s for s in snapshot_suspects(project.training_snapshot(), "topic")["topic"].suspects]
    keep = second[0].sample_id if second[0].sample_id != sid else second[1].sample_id
    before = project.labels()["topic"][project.index_of(keep)]
    assert main(["review", str(project.path), "--suspects", "--keep", keep, "--task", "topic"]) == 0
    ev = project.history(limit=1)[0]
    assert (ev.sample_id, ev.value, ev.input, ev.strategy) == (keep, before, "kept", "review:suspect")


def test_cli_refuses_what_it_cannot_do_in_one_paragraph(project, capsys):
    assert main(["review", str(project.path), "--suspects", "--task", "nope"]) == 1
    assert "No task named 'nope'. Tasks: topic, tags." in capsys.readouterr().err
    assert main(["review", str(project.path), "--suspects", "--relabel", "s003", "food"]) == 1
    err = capsys.readouterr().err
    assert "not in the suspect queue" in err and "--suspects' first" in err
    assert "Traceback" not in err
