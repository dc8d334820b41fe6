"""Ids and labels are text exactly as written; only an empty cell is missing.

Each quirky input is one case. The tables are handed over as the reader's contract says
(CSV cells as ``str``, ``None`` for an empty cell), so these tests hold whatever reader is
installed; the ``*_via_cli`` tests read the handed files with the real reader and are
skipped while it still parses numbers.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from activelab.core.cli.main import main
from activelab.core.errors import DataError, LabelError
from activelab.core.data.values import id_str, label_str
from tests.fidelity.import_helpers import (
    case_path, case_table, create, frame_table, reader_keeps_text, text_table,
)

WORDS = ["calm quiet gentle slow still", "loud rapid sharp wild fast"]


def _texts(n: int) -> list[str]:
    return [f"{WORDS[i % 2]} sample number {i}" for i in range(n)]


def _run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


# ----------------------------------------------------------------------------- ids

ID_CASES = {
    "zero_padded": ["0020", "0007", "0100", "20"],
    "decimal_looking": ["1.10", "1.1", "1.100", "2.0"],
    "leading_plus": ["+7", "7", "+07", "-7"],
    "hex": ["0x1F", "0x1f", "31", "0X1F"],
    "twenty_digits": ["12345678901234567890", "12345678901234567891", "00000000000000000001",
                      "99999999999999999999"],
    "null_like": ["NA", "None", "null", "nan"],
    "spaces_kept": [" a", "a", "a ", "N/A"],
    "exponent_looking": ["1e3", "1000", "1E3", "1e03"],
}


@pytest.mark.parametrize("ids", list(ID_CASES.values()), ids=list(ID_CASES))
def test_ids_are_kept_exactly_as_written(tmp_path, capsys, ids):
    rows = "".join(f'"{sid}",{text},{"ab"[i % 2]}\n' for i, (sid, text) in enumerate(zip(ids, _texts(4))))
    proj = create(tmp_path, text_table("id,text,label\n" + rows), tasks=["t=label"])
    assert proj.ids == ids
    assert proj.frame()["id"].tolist() == ids          # the source column too
    proj.close()
    # The CLI finds each sample by its id as written, and history shows it so.
    for sid in ids:
        code, out, err = _run(capsys, "label", tmp_path / "p", sid, "a")
        assert code == 0, err
        assert f"Saved: {sid} -> t = a" in out
    from activelab.core.project.project import Project

    proj = Project.open(tmp_path / "p")
    assert [e.sample_id for e in proj.history()][::-1] == ids
    assert set(proj.labels()["t"]) == {0, 1, 2, 3}
    proj.close()


def test_ids_zero_padded_case_file(tmp_path):
    proj = create(tmp_path, case_table("ids_zero_padded.csv"), tasks=["y=label"],
                  import_labels=True, text_columns=["text"])
    assert proj.ids[:3] == ["0000", "0001", "0002"] and len(proj.ids) == 40
    assert proj.spec.task("y").classes == ("0", "1")
    ev = proj.label("0020", "1")
    assert ev.sample_id == "0020" and ev.value == "1"
    items = proj.query(5)
    assert all(it.id in set(proj.ids) and len(it.id) == 4 for it in items)
    assert proj.frame()["label"].dropna().isin(["0", "1"]).all()   # labels not 0.0/1.0


def test_row_numbers_are_ids_when_there_is_no_id_column(tmp_path):
    rows = "".join(f"{t},{'ab'[i % 2]}\n" for i, t in enumerate(_texts(5)))
    proj = create(tmp_path, text_table("text,label\n" + rows))
    assert proj.ids == ["0", "1", "2", "3", "4"]
    assert any("row numbers 0.. are the ids" in d for d in proj.decisions)


@pytest.mark.parametrize("value, expected", [
    (np.int64(7), "7"), (7, "7"), (2.5, "2.5"), (np.float64(1.0), "1.0"), ("0020", "0020"),
    (" x ", " x "), ("", None), (None, None), (float("nan"), None), (pd.NA, None),
])
def test_id_text_of_native_values(value, expected):
    assert id_str(value) == expected


# ----------------------------------------------------------------------------- labels

LABEL_CASES = {
    # values written in the label column -> the classes and the label of each row
    "zero_one": (["0", "1", "0", "1"], ("0", "1"), ["0", "1", "0", "1"]),
    "decimal_text_not_merged": (["1.10", "1.1", "1.10", "1.1"], ("1.1", "1.10"), ["1.10", "1.1", "1.10", "1.1"]),
    "zero_padded": (["007", "7", "007", "7"], ("007", "7"), ["007", "7", "007", "7"]),
    "surrounding_spaces": ([" pos", "neg ", "pos ", " neg "], ("neg", "pos"), ["pos", "neg", "pos", "neg"]),
    "none_is_a_class": (["None", "yes", "None", "yes"], ("None", "yes"), ["None", "yes", "None", "yes"]),
    "na_variants": (["NA", "N/A", "null", "nan"], ("N/A", "NA", "nan", "null"), ["NA", "N/A", "null", "nan"]),
    "empty_is_unlabeled": (["a", "", "b", "a"], ("a", "b"), ["a", None, "b", "a"]),
}


@pytest.mark.parametrize("written, classes, labels", list(LABEL_CASES.values()), ids=list(LABEL_CASES))
def test_labels_are_text_as_written(tmp_path, written, classes, labels):
    rows = "".join(f's{i},{t},"{w}"\n' for i, (t, w) in enumerate(zip(_texts(4), written)))
    proj = create(tmp_path, text_table("id,text,label\n" + rows), tasks=["t=label"], import_labels=True)
    assert proj.spec.task("t").classes == classes
    got = proj.labels()["t"]
    assert [got.get(i) for i in range(4)] == labels
    assert proj.frame()["label"].tolist() == [w or None for w in written]   # data kept as written


def test_spaces_around_classes_are_said_with_a_count(tmp_path):
    proj = create(tmp_path, case_table("header_trailing_empty.csv"), tasks=["s=label"],
                  import_labels=True)
    assert proj.spec.task("s").classes == ("neg", "pos")
    said = [d for d in proj.decisions if "spaces around them" in d]
    assert said and said[0].startswith("task 's': 9 value(s) of column 'label'")
    assert proj.frame()["label"].tolist()[2] == " pos"     # the data itself is unchanged


@pytest.mark.parametrize("values, classes", [
    (pd.array([0, 1, 0, 1], dtype="int64"), ("0", "1")),
    (pd.array([0.0, 1.0, 0.0, 1.0], dtype="float64"), ("0", "1")),
    (pd.array([1, None, 2, 1], dtype="Int64"), ("1", "2")),
    (pd.array([True, False, True, False], dtype="bool"), ("False", "True")),
], ids=["int64", "integral_float", "nullable_int", "bool"])
def test_native_label_columns_get_canonical_text(tmp_path, values, classes):
    frame = pd.DataFrame({"text": _texts(4), "label": values})
    proj = create(tmp_path, frame_table(frame), tasks=["t=label"], import_labels=True)
    assert proj.spec.task("t").classes == classes
    assert all(isinstance(v, str) for v in proj.labels()["t"].values())


@pytest.mark.parametrize("value, expected", [
    ("0", "0"), ("1.10", "1.10"), (" pos ", "pos"), ("  ", None), (1, "1"), (1.0, "1"),
    (0.5, "0.5"), (np.float32(0.1), "0.1"), ("None", "None"), ("nan", "nan"),
])
def test_label_text_of_values(value, expected):
    assert label_str(value) == expected


# ----------------------------------------------------------------------------- NA-like values

@pytest.mark.parametrize("case, task, column, na_class", [
    ("classes_none.csv", "t", "label", "None"),
    ("classes_na.csv", "t", "region", "NA"),
])
def test_null_like_classes_case_files(tmp_path, case, task, column, na_class):
    proj = create(tmp_path, case_table(case), tasks=[f"{task}={column}"], import_labels=True)
    assert len(proj.spec.task(task).classes) == 3 and na_class in proj.spec.task(task).classes
    assert len(proj.labels()[task]) == 30
    assert proj.class_counts()[task][na_class] == 10
    proj.label(proj.ids[2], na_class)      # typed as a label, it is a class


@pytest.mark.parametrize("null_like", ["None", "NA", "null", "nan", "N/A", "NULL", "#N/A", "-"])
def test_null_like_class_inline(tmp_path, null_like):
    rows = "".join(f"n{i},{t},{['pos', 'neg', null_like][i % 3]}\n" for i, t in enumerate(_texts(9)))
    proj = create(tmp_path, text_table("id,text,label\n" + rows), tasks=["t=label"], import_labels=True)
    assert null_like in proj.spec.task("t").classes and len(proj.spec.task("t").classes) == 3
    assert len(proj.labels()["t"]) == 9
    ev = proj.label("n2", null_like)
    assert ev.value == null_like


@pytest.mark.parametrize("text", ["null", "NA", "nan", "N/A", "None", "NaN", "  spaced  "])
def test_null_like_texts_are_kept(tmp_path, text):
    rows = "".join(f"x{i},{text if i % 2 == 0 else WORDS[0]},{'ab'[i % 2]}\n" for i in range(6))
    proj = create(tmp_path, text_table("id,text,label\n" + rows), text_columns=["text"], tasks=["s=label"])
    assert proj.sample(0).texts == {"text": text}
    assert proj.frame()["text"].tolist()[0] == text


def test_text_null_like_case_file(tmp_path):
    proj = create(tmp_path, case_table("text_null_like.csv"), text_columns=["text"], tasks=["s=label"])
    assert [proj.sample(i).texts["text"] for i in range(4)] == ["null", "NA", "nan", "N/A"]


# ----------------------------------------------------------------------------- CLI, real reader

text_reader = pytest.mark.skipif(
    not reader_keeps_text(), reason="the installed reader still parses CSV cells (h1-read not merged)")


@text_reader
def test_ids_zero_padded_via_cli(tmp_path, capsys):
    data = case_path("ids_zero_padded.csv")
    code, out, err = _run(capsys, "new", tmp_path / "p", "--data", data, "--task", "y=label",
                          "--import-labels", "--text-column", "text")
    assert code == 0, err
    assert "40 samples from 40 data rows read" in out
    code, out, err = _run(capsys, "label", tmp_path / "p", "0020", "1")
    assert code == 0 and "Saved: 0020 -> y = 1" in out


@text_reader
@pytest.mark.parametrize("case, task", [("classes_none.csv", "t=label"), ("classes_na.csv", "t=region")])
def test_null_like_classes_via_cli(tmp_path, capsys, case, task):
    code, out, err = _run(capsys, "new", tmp_path / "p", "--data", case_path(case), "--task", task,
                          "--import-labels")
    assert code == 0, err
    assert "30 samples with imported labels" in out
    sid = "n2" if case == "classes_none.csv" else "r1"
    code, out, err = _run(capsys, "label", tmp_path / "p", sid, "None" if sid == "n2" else "NA")
    assert code == 0, err


def test_unknown_id_is_refused_by_its_text(tmp_path, capsys):
    rows = "".join(f"{i:04d},{t},{'ab'[i % 2]}\n" for i, t in enumerate(_texts(4)))
    create(tmp_path, text_table("id,text,label\n" + rows)).close()
    code, out, err = _run(capsys, "label", tmp_path / "p", "2", "a")
    assert code == 1 and "No sample with id '2'" in err


def test_repeated_ids_are_refused_not_merged(tmp_path):
    rows = "".join(f"{sid},{t},a\n" for sid, t in zip(["1.10", "1.1", "1.10"], _texts(3)))
    with pytest.raises(DataError, match=r"Id '1.10' appears 2 times .* \(rows 2, 4\)"):
        create(tmp_path, text_table("id,text,label\nx,y,b\n" + rows), id_column="id")


def _cli(tmp_path, *args):
    """The installed ``activelab`` command run as a user would: (exit code, stdout, stderr)."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "activelab.app.launcher", *map(str, args)],
                       capture_output=True, text=True, cwd=tmp_path, timeout=120)
    return r.returncode, r.stdout, r.stderr


@pytest.mark.parametrize("more", [[], ["--text-column", "text"]], ids=["nothing_else", "with_text"])
def test_a_repeated_id_is_named_before_anything_else(tmp_path, more):
    """``id;kind`` with id 1 twice: the message names the id, the column, the file and its
    rows (not a later symptom such as "no column is left to learn from")."""
    head, rows = ("id;kind;text", "1;a;x y\n1;b;y z\n") if more else ("id;kind", "1;a\n1;b\n")
    (tmp_path / "dup.csv").write_text(f"{head}\n{rows}")
    code, out, err = _cli(tmp_path, "new", "p", "--data", "dup.csv", "--task", "kind=kind",
                          "--id-column", "id", *more)
    assert code == 1
    assert "Traceback" not in out + err
    assert err.strip().count("\n") == 0, err    # one paragraph
    assert "Id '1' appears 2 times in column 'id' of dup.csv (rows 1, 2)" in err
    assert "Ids must be unique" in err
    assert not (tmp_path / "p").exists()


def test_only_an_id_and_a_task_column_says_nothing_is_left_to_learn(tmp_path):
    (tmp_path / "ok.csv").write_text("id;kind\n1;a\n2;b\n")
    code, out, err = _cli(tmp_path, "new", "p", "--data", "ok.csv", "--task", "kind=kind",
                          "--id-column", "id")
    assert code == 1
    assert "Traceback" not in out + err
    assert "no column is left to learn from" in err and "appears" not in err


def test_label_not_a_class_is_refused(tmp_path):
    proj = create(tmp_path, case_table("classes_none.csv"), tasks=["t=label"])
    with pytest.raises(LabelError, match="'none' is not a class"):
        proj.label("n2", "none")     # case matters: 'None' is the class
