"""Multi-label values: lists in Parquet/JSON, a JSON array in CSV; the empty set is not
"not labeled"; a class name that could not be told apart from a set of classes is refused.

Built on ../shared/cases/fidelity/multilabel_empty_sets.csv (tags such as ``red|round``,
empty cells = not labeled), copied into the test's folder.
"""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from activelab.core.cli.main import main
from activelab.core.errors import DataError, LabelError
from activelab.core.export.labels import export_labels
from activelab.core.data.export_columns import check_class_name, parse_multilabel_cell
from activelab.core.project.project import Project
from activelab.core.data.spec import DatasetSpec, TaskSpec
from tests.fidelity.export_fakes import read_rows

CASE = Path(__file__).resolve().parents[3] / "shared" / "cases" / "fidelity" / "multilabel_empty_sets.csv"
LABEL = "activelab__tags__label"
FORMATS = ("csv", "parquet", "jsonl", "json")


def _case_rows() -> str:
    if CASE.exists():
        return CASE.read_text(encoding="utf-8")
    # the same shape, should the shared folder be absent
    rows = ["id,text,tags", "m0,the this very,", "m1,an wheel globe,round",
            "m2,wheel wool cotton,round|soft", "m3,ruby coin cherry,red|round"]
    rows += [f"m{i},thing {i} with object,{'' if i > 19 else 'red'}" for i in range(4, 60)]
    return "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def tagged(tmp_path_factory):
    """The case file imported with its labels; m30 and m31 labeled with the empty set (API
    and CLI), m32 with two classes from the CLI; m33 left unlabeled."""
    folder = tmp_path_factory.mktemp("ml")
    data = folder / "multilabel_empty_sets.csv"
    data.write_text(_case_rows(), encoding="utf-8")
    proj = Project.create(folder / "p", data=data, text_columns=["text"], tasks=["tags=tags"],
                          multilabel=["tags"], id_column="id", import_labels=True)
    proj.label_sample("m30", {"tags": []})
    proj.close()
    assert main(["label", str(folder / "p"), "m31", "[]"]) == 0
    assert main(["label", str(folder / "p"), "m32", "red|round"]) == 0
    proj = Project.open(folder / "p")
    outs = {fmt: export_labels(proj, folder / f"labels.{fmt}") for fmt in FORMATS}
    outs.update({f"all.{fmt}": export_labels(proj, folder / f"all.{fmt}", include_unlabeled=True)
                 for fmt in ("csv", "parquet", "jsonl")})
    return proj, outs


def _labels(path: Path, fmt: str) -> dict[str, object]:
    rows = read_rows(path, fmt)
    if fmt == "csv":   # the CSV form: a JSON array, "" = not labeled
        return {r["activelab__id"]: parse_multilabel_cell(r[LABEL]) for r in rows}
    return {r["activelab__id"]: r[LABEL] for r in rows}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("sid, want", [
    ("m30", []),                  # the empty set, from Project.label_sample
    ("m31", []),                  # the empty set, from 'activelab label p m31 []'
    ("m32", ["red", "round"]),    # typed as red|round
    ("m2", ["round", "soft"]),    # imported from round|soft
    ("m1", ["round"]),
])
def test_label_sets_come_back_as_lists(tagged, fmt, sid, want):
    _, outs = tagged
    assert _labels(outs[fmt], fmt)[sid] == want


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_empty_set_is_not_unlabeled(tagged, fmt):
    proj, outs = tagged
    got = _labels(outs[f"all.{fmt}"], fmt)
    assert len(got) == proj.n_samples
    assert got["m30"] == [] and got["m31"] == []
    assert got["m33"] is None and got["m0"] is None     # never labeled
    # and a labeled-only export holds the empty sets but not the unlabeled rows
    assert "m30" in _labels(outs[fmt], fmt) and "m33" not in _labels(outs[fmt], fmt)


def test_csv_cells_are_json_arrays_and_empty_for_unlabeled(tagged):
    _, outs = tagged
    rows = {r["activelab__id"]: r[LABEL] for r in read_rows(outs["all.csv"], "csv")}
    assert (rows["m30"], rows["m32"], rows["m33"]) == ("[]", '["red","round"]', "")
    # the source 'tags' column is written back as it was read, not rewritten
    src = {r["activelab__id"]: r["tags"] for r in read_rows(outs["all.csv"], "csv")}
    assert src["m2"] == "round|soft"


def test_parquet_label_column_is_list_of_strings(tagged):
    _, outs = tagged
    field = pq.read_table(outs["parquet"]).schema.field(LABEL)
    assert field.type == pa.list_(pa.string())


def test_status_counts_the_empty_set_as_labeled(tagged):
    proj, _ = tagged
    assert proj.labels()["tags"][proj.index_of("m30")] == []


# ------------------------------------------------------------------ class names refused
@pytest.fixture
def ml_project(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("id,text,tags\n" + "".join(f"s{i},text number {i},{'a' if i % 2 else 'b'}\n"
                                             for i in range(12)), encoding="utf-8")
    proj = Project.create(tmp_path / "p", data=data, text_columns=["text"],
                          tasks=["tags=tags", "kind=tags"], multilabel=["tags"], id_column="id")
    return proj


@pytest.mark.parametrize("name, fragment", [
    ("red|round", "contains the task's separator '|'"),
    (" a|b ", "read back as the separate classes 'a', 'b'"),
    ("|", "contains the task's separator"),
    ("[]", "reads as a JSON array"),
    ('["x"]', "reads as a JSON array"),
    ('["x","y"]', "reads as a JSON array"),
    ("   ", "cannot be empty"),
])
def test_add_class_refuses_names_that_would_split(ml_project, name, fragment):
    with pytest.raises(LabelError, match=fragment.replace("[", r"\[").replace("|", r"\|")):
        ml_project.add_class("tags", name)
    reopened = Project.open(ml_project.path)
    assert reopened.spec.task("tags").classes == ("a", "b")     # nothing saved


@pytest.mark.parametrize("task, name, stored", [
    ("tags", "red-round", "red-round"),
    ("tags", "  soft  ", "soft"),
    ("tags", "[draft]", "[draft]"),          # brackets alone are not a JSON array
    ("kind", "a|b", "a|b"),                  # single-label: the separator means nothing
])
def test_add_class_accepts_names_that_cannot_split(ml_project, task, name, stored):
    ml_project.add_class(task, name)
    assert stored in Project.open(ml_project.path).spec.task(task).classes


def test_custom_separator_is_the_one_refused(tmp_path, ml_project):
    spec = ml_project.spec
    semi = DatasetSpec(spec.id_column, spec.text_columns, spec.image_column,
                       spec.feature_columns,
                       (TaskSpec("tags", ("a", "b"), True, "tags", ";"), spec.tasks[1]))
    ml_project.store.set_setting("spec", semi.to_dict())
    proj = Project.open(ml_project.path)
    with pytest.raises(LabelError, match="separator ';'"):
        proj.add_class("tags", "x;y")
    assert "x|y" in proj.add_class("tags", "x|y").classes
    proj.label("s0", "a;x|y", task="tags")
    assert proj.labels()["tags"][0] == ["a", "x|y"]


def test_check_class_name_raises_the_callers_error_type():
    """The one helper the --task NAME:a,b parser calls too (with DataError)."""
    with pytest.raises(DataError, match="multi-label task 'tags'"):
        check_class_name("a|b", task="tags", multilabel=True, error=DataError)
    assert check_class_name(" a ", task="tags", multilabel=True) == "a"


# ------------------------------------------------------------------ giving the empty set
@pytest.mark.parametrize("value, stored", [
    ("[]", []),
    ([], []),
    ("[ ]", []),
    ('["a","b"]', ["a", "b"]),
    ("a|b", ["a", "b"]),
    (" a | b\r", ["a", "b"]),
    ("b|a|b", ["b", "a"]),
])
def test_label_values_for_a_multilabel_task(ml_project, value, stored):
    ml_project.label("s3", value, task="tags")
    assert ml_project.labels()["tags"][3] == stored


@pytest.mark.parametrize("value, fragment", [
    ("", "or [] for the empty set"),
    ("a|nope", "'nope' is not a class of task 'tags'"),
    ('["a",1]', "is not a class"),
])
def test_bad_multilabel_values_are_refused(ml_project, value, fragment):
    with pytest.raises(LabelError, match=fragment.replace("[", r"\[").replace("|", r"\|")):
        ml_project.label("s3", value, task="tags")
    assert ml_project.labels()["tags"] == {}


def test_cli_label_help_says_how_to_give_the_empty_set(capsys):
    with pytest.raises(SystemExit):
        main(["label", "--help"])
    assert "[] for the empty set" in " ".join(capsys.readouterr().out.split())


def test_cli_empty_label_is_refused_with_the_hint(ml_project, capsys):
    assert main(["label", str(ml_project.path), "s4", "", "--task", "tags"]) == 1
    err = capsys.readouterr().err
    assert "[] for the empty set" in err and "Traceback" not in err
    assert Project.open(ml_project.path).labels()["tags"] == {}

