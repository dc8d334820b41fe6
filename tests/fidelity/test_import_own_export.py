"""activelab's own export is a first-class input: ids, tasks, labels with provenance.

The export tables here are built by hand in the shape ``core/export_columns.py`` documents
(and by a small local exporter for the round trip), so the import side is tested on its own.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from activelab.core.cli.main import main
from activelab.core.errors import DataError
from activelab.core.data.export_columns import ID_COLUMN, multilabel_csv_cell, task_column
from activelab.core.data.roles import infer_spec
from activelab.core.project.project import Project
from tests.fidelity.import_helpers import create, frame_table, reader_keeps_text, text_frame, text_table

TEXTS = [f"{w} sample {i}" for i, w in enumerate(["calm quiet gentle still", "loud rapid sharp wild"] * 4)]
T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if text else ""


def _csv_export() -> str:
    """An export as CSV text: ids zero-padded, a single- and a multi-label task, provenance."""
    head = [ID_COLUMN, "text", "topic"] + [task_column("topic", f) for f in (
        "label", "annotator", "time", "seconds", "strategy", "score", "rank", "model_version",
        "audit", "predicted", "confidence")] + [task_column("tags", "label"), "activelab__skipped",
                                                "activelab__flagged"]
    lines = [",".join(head)]
    tags = ['["red","round"]', "[]", "", '["red"]', '["round"]', "", "[]", '["red","round"]']
    for i, text in enumerate(TEXTS):
        labeled = i != 5
        lab = "ab"[i % 2] if labeled else ""
        prov = [f"ann{i % 2}", (T0 + dt.timedelta(minutes=i)).isoformat(timespec="seconds"),
                f"{1.5 * i}", "entropy", f"0.{i}5", str(i), "2", "True" if i == 3 else "False"] \
            if labeled else [""] * 8
        cells = [f"{i:04d}", text, "xy"[i % 2]] + [lab] + prov + ["", ""] + \
            [_csv_cell(tags[i]), "True" if i == 5 else "False",
             "True" if i == 6 else "False"]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


@pytest.fixture
def csv_export_table():
    return text_table(_csv_export(), source="export.csv")


def test_export_is_recognised_and_said(csv_export_table):
    spec, decisions = infer_spec(csv_export_table)
    assert decisions[0].startswith("an activelab export (")
    assert spec.id_column == ID_COLUMN
    assert [(t.name, t.column, t.multilabel) for t in spec.tasks] == [
        ("topic", "activelab__topic__label", False), ("tags", "activelab__tags__label", True)]
    assert spec.task("topic").classes == ("a", "b")
    assert spec.task("tags").classes == ("red", "round")
    assert spec.text_columns == ("text",)
    assert not any(c.startswith("activelab__") for c in spec.feature_columns)


def test_export_labels_come_with_provenance_without_import_labels(tmp_path, csv_export_table):
    proj = create(tmp_path, csv_export_table)
    assert proj.ids == [f"{i:04d}" for i in range(8)]
    st = proj.store.state()
    assert {sid: v for sid, v in st.labels["topic"].items()} == {
        f"{i:04d}": "ab"[i % 2] for i in range(8) if i != 5}
    ev = st.provenance[("topic", "0003")]
    assert (ev.annotator, ev.seconds, ev.strategy, ev.score, ev.rank, ev.model_version, ev.audit) == (
        "ann1", 4.5, "entropy", 0.35, 3, 2, True)
    assert ev.time == (T0 + dt.timedelta(minutes=3)).timestamp()
    assert any("labels imported from column 'activelab__topic__label' with their provenance" in d
               for d in proj.decisions)


def test_empty_set_is_imported_distinct_from_unlabeled(tmp_path, csv_export_table):
    proj = create(tmp_path, csv_export_table)
    tags = proj.store.state().labels["tags"]
    assert tags["0001"] == [] and tags["0006"] == []          # "[]": the empty set
    assert "0002" not in tags and "0005" not in tags           # empty cell: not labeled
    assert tags["0000"] == ["red", "round"]


def test_skipped_and_flagged_are_imported(tmp_path, csv_export_table):
    st = create(tmp_path, csv_export_table).store.state()
    assert st.skipped == {"0005"} and st.flagged == {"0006"}


def test_activelab_columns_are_not_kept_in_the_pool(tmp_path, csv_export_table):
    proj = create(tmp_path, csv_export_table)
    assert list(proj.frame().columns) == ["text", "topic"]
    assert proj.frame()["topic"].tolist() == list("xy" * 4)    # the user's own 'topic' column


def test_explicit_task_wins_and_still_takes_the_exported_labels(tmp_path, csv_export_table):
    proj = create(tmp_path, csv_export_table, tasks=["topic:a,b,c"])
    assert [t.name for t in proj.spec.tasks] == ["topic"]
    assert proj.spec.task("topic").classes == ("a", "b", "c")
    assert len(proj.labels()["topic"]) == 7


def test_explicit_task_on_a_source_column_ignores_the_export_tasks(tmp_path, csv_export_table):
    spec, _ = infer_spec(csv_export_table, tasks=["mine=topic"])
    assert [(t.name, t.column) for t in spec.tasks] == [("mine", "topic")]


@pytest.mark.parametrize("role, kwargs", [
    ("feature", {"feature_columns": ["activelab__topic__score"]}),
    ("text", {"text_columns": ["activelab__topic__annotator"]}),
    ("feature", {"feature_columns": ["activelab__skipped"]}),
])
def test_activelab_columns_cannot_be_given_as_data(csv_export_table, role, kwargs):
    with pytest.raises(DataError, match=f"activelab's own bookkeeping .* cannot be a {role} column"):
        infer_spec(csv_export_table, **kwargs)


def test_bad_provenance_value_names_row_and_column(tmp_path):
    text = _csv_export().replace("2024-05-01T12:02:00+00:00", "yesterday")
    with pytest.raises(DataError, match=r"Row 3 of export.csv: column 'activelab__topic__time' holds 'yesterday'"):
        create(tmp_path, text_table(text, source="export.csv"))


def test_native_typed_export(tmp_path):
    frame = pd.DataFrame({
        ID_COLUMN: pd.Series([f"{i:04d}" for i in range(8)], dtype=object),
        "text": TEXTS,
        task_column("tags", "label"): [["red"], [], None, ["round", "red"], ["red"], None, [], ["round"]],
        task_column("tags", "time"): pd.to_datetime([T0] * 8, utc=True),
        task_column("tags", "rank"): pd.array([1, 2, None, 4, 5, None, 7, 8], dtype="Int64"),
        task_column("tags", "audit"): [False, True, False, False, False, False, False, False],
    })
    proj = create(tmp_path, frame_table(frame, source="export.parquet"))
    assert proj.spec.task("tags").multilabel
    st = proj.store.state()
    assert st.labels["tags"]["0003"] == ["round", "red"] and st.labels["tags"]["0001"] == []
    assert st.provenance[("tags", "0001")].audit and st.provenance[("tags", "0001")].rank == 2
    assert st.provenance[("tags", "0000")].time == T0.timestamp()


# ----------------------------------------------------------------------------- round trip

def _export_frame(proj: Project, fmt: str) -> pd.DataFrame:
    """A local stand-in for the exporter, following core/export_columns.py."""
    st = proj.store.state()
    out = {ID_COLUMN: proj.ids}
    src = proj.frame()
    for c in src.columns:
        out[c] = src[c].tolist()
    for t in proj.spec.tasks:
        per = st.labels.get(t.name, {})
        labels = [per.get(sid) for sid in proj.ids]
        if t.multilabel and fmt == "csv":
            labels = [multilabel_csv_cell(v) for v in labels]
        out[task_column(t.name, "label")] = labels
        prov = [st.provenance.get((t.name, sid)) for sid in proj.ids]
        out[task_column(t.name, "annotator")] = [e.annotator if e else None for e in prov]
        out[task_column(t.name, "time")] = [
            dt.datetime.fromtimestamp(e.time, dt.timezone.utc).isoformat(timespec="seconds") if e else None
            for e in prov]
        out[task_column(t.name, "seconds")] = [e.seconds if e else None for e in prov]
    out["activelab__skipped"] = [sid in st.skipped for sid in proj.ids]
    return pd.DataFrame(out)


def _write(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True, force_ascii=False)


def _source_project(tmp_path: Path) -> Project:
    ids = ["0020", "1.10", "+7", "NA", "0x1F", "12345678901234567890", "a b", "N/A"]
    body = "".join(f'"{sid}","{t}",{"ab"[i % 2]},"{["red|round", "", "red", "round"][i % 4]}"\n'
                   for i, (sid, t) in enumerate(zip(ids, TEXTS)))
    proj = create(tmp_path, text_table("id,text,kind,tags\n" + body), name="src",
                  tasks=["kind=kind", "tags=tags"], multilabel=["tags"], text_columns=["text"])
    proj.label("0020", "a", task="kind", annotator="ann", seconds=2.5)
    proj.label("NA", "b", task="kind")
    proj.label_sample("+7", {"kind": "a", "tags": []})
    proj.label_sample("12345678901234567890", {"tags": ["red", "round"]})
    proj.skip("a b")
    return proj


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_export_new_export_keeps_ids_and_labels(tmp_path, fmt):
    src = _source_project(tmp_path)
    first = _export_frame(src, fmt)
    path = tmp_path / f"export.{fmt}"
    _write(first, path, fmt)
    if fmt == "csv":
        table = text_table(path.read_text(encoding="utf-8"), source=str(path))
    elif fmt == "parquet":
        table = frame_table(pd.read_parquet(path), source=str(path))
    else:
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        table = frame_table(pd.DataFrame.from_records(records), source=str(path), fmt="jsonl")
    again = create(tmp_path, table, name="again")
    assert again.ids == src.ids
    assert again.store.state().labels == src.store.state().labels
    assert again.store.state().skipped == {"a b"}
    second = _export_frame(again, fmt)
    assert second[ID_COLUMN].tolist() == first[ID_COLUMN].tolist()
    for t in ("kind", "tags"):
        col = task_column(t, "label")
        assert second[col].tolist() == first[col].tolist()
        assert second[task_column(t, "time")].tolist() == first[task_column(t, "time")].tolist()
        assert second[task_column(t, "annotator")].tolist() == first[task_column(t, "annotator")].tolist()
    assert list(again.frame().columns) == ["id", "text", "kind", "tags"]


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"] + (["csv"] if reader_keeps_text() else []))
def test_export_as_input_via_cli(tmp_path, capsys, fmt):
    src = _source_project(tmp_path)
    path = tmp_path / f"export.{fmt}"
    _write(_export_frame(src, fmt), path, fmt)
    code = main(["new", str(tmp_path / "again"), "--data", str(path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "  - an activelab export (" in out
    again = Project.open(tmp_path / "again")
    assert again.ids == src.ids
    assert again.store.state().labels == src.store.state().labels


def test_text_frame_helper_keeps_cells_as_written():
    # The helper the CSV cases rely on: cells as written, None only for an empty cell.
    f = text_frame('a,b\n"0020", NA \n,x\n')
    assert f["a"].tolist() == ["0020", None] and f["b"].tolist() == [" NA ", "x"]


def test_exported_image_paths_are_found_from_another_folder(tmp_path):
    from PIL import Image

    images = tmp_path / "photos"
    for cls in ("cats", "dogs"):
        (images / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (8, 8), (60 * i, 90, 20)).save(images / cls / f"{i}.png")
    rel = [f"{c}/{i}.png" for c in ("cats", "dogs") for i in range(3)]
    frame = pd.DataFrame({
        ID_COLUMN: pd.Series(rel, dtype=object),
        "image": pd.Series(rel, dtype=object),                     # kept as written (relative)
        "activelab__image_path": pd.Series([str(images / r) for r in rel], dtype=object),
        task_column("animal", "label"): pd.Series([r.split("/")[0] for r in rel], dtype=object),
    })
    elsewhere = tmp_path / "downloads"
    elsewhere.mkdir()
    table = frame_table(frame, source=str(elsewhere / "export.csv"), fmt="metadata")
    table.image_root = str(elsewhere)              # where the reader looks: not where the images are
    proj = create(tmp_path, table)
    assert proj.ids == rel and proj.spec.image_column == "image"
    assert Path(proj.image_root()) == images.resolve()
    assert proj.image(0).size == (8, 8)
    assert list(proj.frame().columns) == ["image"]
