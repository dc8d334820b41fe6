"""Every handed case of ../shared/cases/fidelity/README.md, run as its "how to run it" column
says, through the CLI entry point (``activelab.core.cli.main.main``), gives the README's right value.

The files are read from the shared folder (skipped with the reason when it is absent). The two
procedures of the README (disk full, copying an open project) are covered by the store and
app tests named in the module ``PROCEDURES`` below; the copy is also done here from the
app's window, as the README describes it.
"""
from __future__ import annotations

import csv
import json
import shutil
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from activelab.core.project.project import Project
from tests.fidelity.cli_helpers import FORMATS, export_all, export_rows, ok, run
from tests.fidelity.import_helpers import case_path

# The README's two procedures and the tests that run them (kept here so a rename is noticed).
PROCEDURES = {
    "disk full": [
        "tests/fidelity/test_store_write_errors.py::test_disk_full_label_via_cli_exit_1_one_paragraph",
        "tests/fidelity/test_store_write_errors.py::test_disk_full_label_via_project_names_cause_and_resumes",
        "tests/fidelity/test_app_write_failures.py::test_disk_full_on_a_real_tiny_tmpfs",
        "tests/fidelity/test_app_write_failures.py::test_failed_label_keeps_sample_and_resumes",
        "tests/fidelity/test_app_write_messages.py::test_masked_error_on_a_full_disk_says_disk_full",
    ],
    "copying an open project": [
        "tests/fidelity/test_store_durability.py::test_copying_project_sqlite_alone_keeps_every_label",
        "tests/fidelity/test_store_durability.py::test_sigkill_then_wal_deleted_keeps_labels_of_the_burst",
        "tests/fidelity/test_store_durability.py::test_backup_while_another_process_labels",
        "tests/fidelity/test_handed_cases.py::test_copy_of_project_open_in_the_app_keeps_every_label",
    ],
}


def file_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


# ----------------------------------------------------------------------------- ids_zero_padded
def test_ids_zero_padded(tmp_path, capsys):
    data = case_path("ids_zero_padded.csv")
    written = file_rows(data)
    p = tmp_path / "p"
    out = ok(capsys, "new", p, "--data", data, "--task", "y=label", "--import-labels",
             "--text-column", "text")
    assert "40 samples from 40 data rows read" in out and "(single-label: 0, 1)" in out
    assert "Saved: 0020 -> y = 1" in ok(capsys, "label", p, "0020", "1")
    labeled = {r["id"]: r["label"] for r in written if r["label"]} | {"0020": "1"}
    for fmt, path in export_all(capsys, p, tmp_path).items():
        rows = export_rows(path)
        assert [r["activelab__id"] for r in rows] == [r["id"] for r in written if r["id"] in labeled]
        for r in rows:
            assert r["id"] == r["activelab__id"], fmt                 # never overwritten
            assert r["activelab__y__label"] == labeled[r["id"]], fmt  # "0"/"1", not 0.0/1.0
            source = next(w for w in written if w["id"] == r["id"])
            # every source column as written (an empty cell is missing: "" in CSV, else null)
            assert {k: r[k] or None for k in source} == {k: v or None for k, v in source.items()}
    for fmt, path in export_all(capsys, p, tmp_path / "all", "--include-unlabeled").items():
        rows = export_rows(path)
        assert [r["activelab__id"] for r in rows] == [f"{i:04d}" for i in range(40)], fmt
        assert [r["id"] for r in rows] == [f"{i:04d}" for i in range(40)], fmt
        assert {r["activelab__y__label"] for r in rows} == {"0", "1", "" if fmt == "csv" else None}


# ----------------------------------------------------------------------------- NA-like classes
@pytest.mark.parametrize("case, task, sid, na_class", [
    ("classes_none.csv", "t=label", "n2", "None"),
    ("classes_na.csv", "t=region", "r1", "NA"),
])
def test_null_like_classes_are_values(tmp_path, capsys, case, task, sid, na_class):
    data = case_path(case)
    p = tmp_path / "p"
    out = ok(capsys, "new", p, "--data", data, "--task", task, "--import-labels")
    assert "30 samples with imported labels" in out
    status = json.loads(ok(capsys, "status", p, "--json"))
    assert status["tasks"]["t"]["classes"] == {c: 10 for c in sorted({"APAC", "EU", "NA"}
                                                if na_class == "NA" else {"Negative", "None", "Positive"})}
    assert f"Saved: {sid} -> t = {na_class}" in ok(capsys, "label", p, sid, na_class)
    for fmt, path in export_all(capsys, p, tmp_path).items():
        rows = export_rows(path)
        assert len(rows) == 30
        assert sum(r["activelab__t__label"] == na_class for r in rows) == 10, fmt
        again = tmp_path / f"again-{fmt}"
        ok(capsys, "new", again, "--data", path)
        status = json.loads(ok(capsys, "status", again, "--json"))
        assert status["tasks"]["t"]["classes"][na_class] == 10 and status["labeled"] == 30, fmt


# ----------------------------------------------------------------------------- text_null_like
def test_null_like_texts_are_kept(tmp_path, capsys):
    data = case_path("text_null_like.csv")
    written = file_rows(data)
    p = tmp_path / "p"
    ok(capsys, "new", p, "--data", data, "--text-column", "text", "--task", "s=label")
    for sid in ("x0", "x1", "x2", "x3"):
        ok(capsys, "label", p, sid, "pos")
    proj = Project.open(p)
    try:
        assert [proj.sample(i).texts["text"] for i in range(20)] == [r["text"] for r in written]
    finally:
        proj.close()
    for fmt, path in export_all(capsys, p, tmp_path).items():
        assert [r["text"] for r in export_rows(path)] == ["null", "NA", "nan", "N/A"], fmt


# ----------------------------------------------------------------------------- excel_semicolon_bom
def test_excel_semicolon_bom(tmp_path, capsys):
    data = case_path("excel_semicolon_bom.csv")
    p = tmp_path / "p"
    out = ok(capsys, "new", p, "--data", data, "--task", "s=label")
    assert "semicolon-separated" in out and "BOM dropped" in out
    assert "read as numbers (decimal comma) for the model: score" in out
    assert "24 samples from 24 data rows read" in out
    proj = Project.open(p)
    try:
        frame = proj.frame()
        assert list(frame.columns) == ["id", "text", "score", "label"]      # no BOM in 'id'
        assert frame["text"][0].endswith("\r\nsecond line; with semicolon")  # quoted newline kept
        assert frame["score"][:3].tolist() == ["0,5", "1,5", "2,5"]          # kept as written
        from activelab.core.data.values import numeric_column

        assert numeric_column(frame["score"], proj.store.get_setting("source")["decimal"]
                              ).values[:3].tolist() == [0.5, 1.5, 2.5]      # the model's numbers
    finally:
        proj.close()


# ----------------------------------------------------------------------------- header_trailing_empty
def test_header_trailing_empty(tmp_path, capsys):
    data = case_path("header_trailing_empty.csv")
    p = tmp_path / "p"
    out = ok(capsys, "new", p, "--data", data, "--task", "s=label", "--import-labels")
    assert "header row" in out and "3 columns with no name and no values dropped" in out
    assert "(single-label: neg, pos)" in out
    assert "class values are taken without surrounding spaces" in out
    status = json.loads(ok(capsys, "status", p, "--json"))
    assert status["tasks"]["s"]["classes"] == {"neg": 12, "pos": 12}
    proj = Project.open(p)
    try:
        assert list(proj.frame().columns) == ["id", "text", "label"]
        assert proj.frame()["label"][2] == " pos"          # the data itself is kept as written
    finally:
        proj.close()


# ----------------------------------------------------------------------------- unterminated_quote
def test_unterminated_quote_is_refused_with_its_line(tmp_path, capsys):
    data = case_path("unterminated_quote.csv")
    code, out, err = run(capsys, "new", tmp_path / "p", "--data", data, "--text-column", "text")
    assert code == 1
    assert "line 7: the quoted field that opens on this line" in err
    assert "Traceback" not in err and not (tmp_path / "p").exists()


# ----------------------------------------------------------------------------- multilabel_empty_sets
def _label_columns(path: Path) -> list[tuple[str, object]]:
    rows = export_rows(path)
    cells = [(r["activelab__id"], r["activelab__tags__label"]) for r in rows]
    if path.suffix == ".csv":
        return [(i, None if v == "" else json.loads(v)) for i, v in cells]
    return cells


def test_multilabel_empty_sets(tmp_path, capsys):
    data = case_path("multilabel_empty_sets.csv")
    p = tmp_path / "p"
    ok(capsys, "new", p, "--data", data, "--text-column", "text", "--task", "tags=tags",
       "--multilabel", "tags")
    given = {"m0": "[]", "m11": "[]", "m2": "round|soft", "m3": '["red","round"]', "m20": "red"}
    for sid, value in given.items():
        ok(capsys, "label", p, sid, value)
    want = {"m0": [], "m2": ["round", "soft"], "m3": ["red", "round"], "m11": [], "m20": ["red"]}
    code, _, err = run(capsys, "add-class", p, "tags", "red|round")
    assert code == 1 and "contains the task's separator '|'" in err
    first = export_all(capsys, p, tmp_path)
    again = export_all(capsys, p, tmp_path / "all", "--include-unlabeled")
    for fmt in FORMATS:
        assert dict(_label_columns(first[fmt])) == want, fmt
        full = dict(_label_columns(again[fmt]))
        assert full["m0"] == [] and full["m1"] is None, fmt      # empty set vs not labeled
        assert sum(v is None for v in full.values()) == 55, fmt
    assert str(pq.read_table(first["parquet"]).schema.field("activelab__tags__label").type) \
        == "list<element: string>"
    for fmt in FORMATS:                                           # export -> new -> export
        q = tmp_path / f"again-{fmt}"
        ok(capsys, "new", q, "--data", first[fmt], "--import-labels")
        out = tmp_path / f"second.{fmt}"
        ok(capsys, "export", q, "--out", out)
        assert _label_columns(out) == _label_columns(first[fmt]), fmt
        rows1, rows2 = export_rows(first[fmt]), export_rows(out)
        keep = [c for c in rows1[0] if not c.startswith("activelab__")] + ["activelab__id"]
        assert [{c: r[c] for c in keep} for r in rows2] == [{c: r[c] for c in keep} for r in rows1]


# ----------------------------------------------------------------------------- committee_few_labels
@pytest.mark.parametrize("strategy", ["vote_entropy", "consensus_entropy", "kl_max_disagreement",
                                      "bald", "variation_ratios"])
def test_committee_few_labels(tmp_path, capsys, strategy):
    data = case_path("committee_few_labels.csv")
    p = tmp_path / "p"
    ok(capsys, "new", p, "--data", data, "--text-column", "text", "--task", "topic=label",
       "--model", "linear_svm")
    per_class: dict[str, int] = {}
    for r in file_rows(data):
        if per_class.get(r["label"], 0) < 4:
            ok(capsys, "label", p, r["id"], r["label"])
            per_class[r["label"]] = per_class.get(r["label"], 0) + 1
    code, out, err = run(capsys, "query", p, "-n", "5", "--strategy", strategy)
    assert code == 0, err
    assert "label more samples" not in out + err


# ----------------------------------------------------------------------------- copying an open project
def test_copy_of_project_open_in_the_app_keeps_every_label(qtbot, tmp_path, monkeypatch, capsys):
    """The README's procedure: label 40 samples in the app, copy only project.sqlite while the
    window is open (after the app's checkpoint of the burst), and 'activelab backup'."""
    from PySide6.QtCore import Qt

    from tests.fidelity.app_fixtures import make_template, open_window
    from tests.fidelity.store_helpers import labels_in_file_alone

    monkeypatch.setenv("ACTIVELAB_RETRAIN_IN_PROCESS", "0")
    (tmp_path / "t").mkdir()
    project = Project.open(make_template(tmp_path / "t"))
    win = open_window(qtbot, project)
    try:
        for _ in range(40):
            qtbot.keyClick(win, Qt.Key.Key_1)
        assert project.labeled_count() == 40
        store = project.path / "project.sqlite"
        deadline = time.monotonic() + 5.0
        while labels_in_file_alone(store) < 40 and time.monotonic() < deadline:
            qtbot.wait(50)
        copy = tmp_path / "copy"
        copy.mkdir()
        shutil.copy2(store, copy / "project.sqlite")          # the store alone, no -wal
        assert labels_in_file_alone(copy / "project.sqlite") == 40
        ok(capsys, "backup", project.path, tmp_path / "backup")   # while the window is open
        backup = Project.open(tmp_path / "backup")
        try:
            assert backup.labeled_count() == 40
        finally:
            backup.close()
    finally:
        win.close()
        project.close()


@pytest.mark.parametrize("procedure", list(PROCEDURES))
def test_the_procedures_are_run_by_named_tests(procedure):
    """The README's procedures are held by these tests: each named test exists."""
    root = Path(__file__).resolve().parents[2]
    for ref in PROCEDURES[procedure]:
        path, name = ref.split("::")
        assert f"def {name}(" in (root / path).read_text(encoding="utf-8"), ref
