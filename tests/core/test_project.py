from __future__ import annotations

import math
import shutil

import pandas as pd
import pytest

from activelab.core.errors import DataError, LabelError, ProjectError
from activelab.core.export.labels import export_labels
from activelab.core.project.project import Project
from tests.core.helpers import write_text_csv


@pytest.fixture
def project(tmp_path):
    data = write_text_csv(tmp_path / "news.csv")
    return Project.create(
        tmp_path / "proj", data=data, text_columns=["text"], tasks=["topic=topic", "tags=tags"],
        multilabel=["tags"], id_column="id",
    )


def test_create_records_spec_and_decisions(project):
    assert project.n_samples == 120
    assert [t.name for t in project.spec.tasks] == ["topic", "tags"]
    assert project.spec.task("tags").multilabel
    assert set(project.spec.task("tags").classes) == {"food", "long", "sport", "tech"}
    assert project.labeled_count() == 0
    assert any("topic" in d for d in project.decisions)


def test_cold_start_says_so_then_model_predicts(project):
    items = project.query(4)
    assert len(items) == 4 and len({i.id for i in items}) == 4
    assert all(i.reason.startswith("cold start") for i in items)
    truth = pd.read_csv(project.store.get_setting("source")["data"]).set_index("id")
    for sid in truth.index[:12]:
        project.label_sample(sid, {"topic": truth.loc[sid, "topic"], "tags": truth.loc[sid, "tags"].split("|")})
    items = project.query(5)
    assert all(not i.reason.startswith("cold start") for i in items)
    assert all(set(i.predictions) == {"topic", "tags"} for i in items if not i.audit)
    curve = project.curve()
    assert curve and curve[-1].n_labels == 12 and curve[-1].cv_accuracy is not None
    assert project.model_version == curve[-1].version


def test_label_outside_class_list_and_unknown_id(project):
    with pytest.raises(LabelError, match="not a class of task 'topic'"):
        project.label("s000", "weather", task="topic")
    with pytest.raises(LabelError, match="No sample with id 'nope'"):
        project.label("nope", "tech", task="topic")
    with pytest.raises(LabelError, match="several tasks"):
        project.label("s000", "tech")
    assert project.labeled_count() == 0


def test_add_class_then_label(project):
    project.add_class("topic", "weather")
    project.label("s000", "weather", task="topic")
    assert Project.open(project.path).labels()["topic"] == {0: "weather"}


def test_undo_redo_and_relabel_keep_history(project):
    project.label("s001", "tech", task="topic")
    project.label("s001", "food", task="topic")
    assert project.labels()["topic"][1] == "food"
    project.undo()
    assert project.labels()["topic"][1] == "tech"
    project.redo()
    assert project.labels()["topic"][1] == "food"
    kinds = [e.kind for e in project.history()]
    assert kinds == ["redo", "undo", "label", "label"]


def test_skipped_samples_leave_the_queue(project):
    first = project.query(3)[0]
    project.skip(first.id)
    assert first.id not in [i.id for i in project.query(10)]


def test_creation_is_atomic_on_bad_data(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text,topic\n1,hello world,a\n1,again here,b\n")
    with pytest.raises(DataError, match="duplicate|Duplicate"):
        Project.create(tmp_path / "p", data=bad, text_columns=["text"], tasks=["topic=topic"],
                       id_column="id")
    assert not (tmp_path / "p").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.csv"]


def test_existing_nonempty_folder_is_refused(tmp_path):
    data = write_text_csv(tmp_path / "d.csv")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "keep.txt").write_text("mine")
    with pytest.raises(ProjectError, match="not empty"):
        Project.create(tmp_path / "p", data=data, text_columns=["text"], tasks=["topic=topic"])
    assert (tmp_path / "p" / "keep.txt").read_text() == "mine"


def test_project_folder_can_be_moved(project, tmp_path):
    project.label("s002", "sport", task="topic")
    project.close()
    moved = tmp_path / "elsewhere" / "moved"
    shutil.copytree(project.path, moved)
    p2 = Project.open(moved)
    assert p2.labels()["topic"] == {2: "sport"}
    assert p2.features.model_X.shape[0] == 120


def test_import_labels_are_recorded_with_annotator_import(tmp_path):
    data = write_text_csv(tmp_path / "d.csv", n=30)
    p = Project.create(tmp_path / "p", data=data, text_columns=["text"], tasks=["topic=topic"],
                       import_labels=True)
    assert p.labeled_count() == 30
    assert {e.annotator for e in p.history(100)} == {"import"}


def test_export_has_labels_provenance_and_preannotations(project, tmp_path):
    items = project.query(6)
    truth = pd.read_csv(project.store.get_setting("source")["data"]).set_index("id")
    for it in items:
        project.label_sample(it.id, {"topic": truth.loc[it.id, "topic"], "tags": ["tech"]}, seconds=1.5)
    for sid in ("s010", "s011", "s012", "s013"):
        project.label_sample(sid, {"topic": truth.loc[sid, "topic"], "tags": ["food", "long"]})
    out = export_labels(project, tmp_path / "out.csv")
    df = pd.read_csv(out)
    assert len(df) == 10
    assert set(df["activelab__id"]) == {it.id for it in items} | {"s010", "s011", "s012", "s013"}
    row = df.set_index("activelab__id").loc[items[0].id]
    assert row["activelab__topic__label"] == truth.loc[items[0].id, "topic"]
    assert row["activelab__topic__strategy"] == items[0].strategy
    assert row["activelab__topic__seconds"] == 1.5
    assert isinstance(row["activelab__topic__annotator"], str)
    # a multi-label value in CSV is a JSON array
    assert df.set_index("activelab__id").loc["s010", "activelab__tags__label"] == '["food","long"]'
    full = pd.read_json(export_labels(project, tmp_path / "all.jsonl", include_unlabeled=True), lines=True)
    assert len(full) == 120
    unl = full[full["activelab__topic__label"].isna()]
    assert unl["activelab__topic__predicted"].notna().all()
    assert ((unl["activelab__topic__confidence"] > 0) & (unl["activelab__topic__confidence"] <= 1)).all()
    pq = pd.read_parquet(export_labels(project, tmp_path / "out.parquet"))
    assert len(pq) == 10


def test_audit_picks_record_prediction_before_label(tmp_path):
    data = write_text_csv(tmp_path / "d.csv", n=90)
    p = Project.create(tmp_path / "p", data=data, text_columns=["text"], tasks=["topic=topic"],
                       settings={"audit_rate": 0.5})
    truth = pd.read_csv(data).set_index("id")
    for sid in truth.index[:9]:
        p.label(sid, truth.loc[sid, "topic"])
    audits = []
    for _ in range(4):
        for it in p.query(6):
            if it.audit:
                audits.append(it)
                assert it.strategy == "audit:random" and it.predictions["topic"].label
            p.label(it.id, truth.loc[it.id, "topic"])
    assert audits, "with audit_rate 0.5 some picks are audits"
    p.retrain()
    point = p.curve()[-1]
    assert point.audit_n == len(audits)
    assert 0.0 <= point.audit_accuracy <= 1.0
    ev = [e for e in p.history(200) if e.audit]
    assert ev and all(e.predicted is not None for e in ev)


def test_corrupted_store_gives_clear_error(project):
    path = project.path / "project.sqlite"
    project.close()
    raw = bytearray(path.read_bytes())
    raw[:16] = b"garbage garbage!"
    path.write_bytes(bytes(raw))
    with pytest.raises(ProjectError, match="corrupted"):
        Project.open(project.path)


def test_nan_scores_never_reach_the_store(project):
    for it in project.query(3):
        project.label_sample(it.id, {"topic": "tech", "tags": ["tech"]})
    for e in project.history():
        assert e.score is None or not math.isnan(e.score)


def test_label_keeps_the_shown_items_provenance_after_the_queue_changed(project):
    item = project.query(3)[1]
    project.store.save_queue([], -1)            # a retrain replaced the queue meanwhile
    ev = project.label_sample(item.id, {"topic": "tech", "tags": ["tech"]}, item=item)[0]
    assert (ev.strategy, ev.rank, ev.model_version) == (item.strategy, item.rank, item.model_version)


def test_no_cv_estimate_from_one_example_per_class(tmp_path):
    data = write_text_csv(tmp_path / "d.csv", n=30)
    p = Project.create(tmp_path / "p", data=data, text_columns=["text"], tasks=["topic=topic"])
    for sid, topic in (("s000", "sport"), ("s001", "tech"), ("s002", "food")):
        p.label(sid, topic)
    point = p.retrain()
    assert point.cv_accuracy is None and point.cv_macro_f1 is None


def test_reopening_finds_features_and_map_without_rereading_rows(project, monkeypatch):
    xy = project.pool_projection()
    project.close()
    p2 = Project.open(project.path)

    def no_rows():
        raise AssertionError("opening a project must not parse every stored row")

    monkeypatch.setattr(p2, "frame", no_rows)
    assert p2.features.model_X.shape[0] == 120
    assert (p2.pool_projection() == xy).all()         # the cached map, same as before
