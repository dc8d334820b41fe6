"""The kinds of failure the round-trip tests found, each held by several members:

* JSON numbers of mixed kinds in one key (``7`` beside ``1.5``, integers beyond 64 bits) were
  made floats: id ``7`` became ``7.0``, ``12345678901234567890`` lost digits;
* a project made from an export used the user's own id and label columns as features (the
  model saw the answer), and ``--task y=label`` on an export silently took the stale source
  column instead of the labels made in activelab;
* an export whose labels all name one class could not be imported again;
* numbers written with thousands separators (``1.234,5``, ``1,234.50``) and missing markers
  in number columns (R's ``NA``, ``#N/A``, ``-``) made a numeric column "text";
* the index pandas saves in a Parquet file was dropped or not taken as the id;
* texts without a word of two letters (``5``, ``好``, emoji) could not be featurised.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from activelab.core.data.own_export import repeated_columns
from activelab.core.data.values import numeric_column
from activelab.core.data.read import read_table
from activelab.core.project.project import Project
from activelab.core.data.spec import TaskSpec
from tests.fidelity.cli_helpers import ok
from tests.fidelity.import_helpers import create, text_table

WORDS = ["lovely nice good", "bad sad poor"]


# ----------------------------------------------------------------------------- JSON numbers
@pytest.mark.parametrize("ids, texts", [
    ([7, 1.5, 3], ["7", "1.5", "3"]),
    ([12345678901234567890, 1.5, 2], ["12345678901234567890", "1.5", "2"]),
    ([2.0, 3, -4], ["2.0", "3", "-4"]),
    ([10 ** 30, 1, 0.25], ["1000000000000000000000000000000", "1", "0.25"]),
    ([12345678901234567890, 1, 2], ["12345678901234567890", "1", "2"]),
], ids=["int_and_float", "big_int_and_float", "float_first", "huge_int", "big_int_only"])
def test_json_number_ids_keep_their_text(tmp_path, capsys, ids, texts):
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"id": v, "text": f"{WORDS[i % 2]} {i}", "label": i % 2}) + "\n"
                            for i, v in enumerate(ids)))
    ok(capsys, "new", tmp_path / "p", "--data", data, "--task", "y=label", "--import-labels")
    assert f"Saved: {texts[0]} -> y = 0" in ok(capsys, "label", tmp_path / "p", texts[0], "0")
    proj = Project.open(tmp_path / "p")
    try:
        assert proj.ids == texts
    finally:
        proj.close()


def test_json_floats_alone_are_still_floats(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text('{"x": 1.5}\n{"x": 2.0}\n')
    assert read_table(data).frame["x"].dtype == "float64"


# ----------------------------------------------------------------------------- exports as input
def _export_frame(**source) -> pd.DataFrame:
    n = len(next(iter(source.values())))
    frame = pd.DataFrame({"activelab__id": [f"{i:03d}" for i in range(n)], **source,
                          "activelab__y__label": ["pos", "neg", "pos", "neg"][:n]})
    return frame


Y = TaskSpec("y", ("neg", "pos"), column="activelab__y__label")


@pytest.mark.parametrize("column, values, repeated", [
    ("id", ["000", "001", "002", "003"], "the sample ids again"),
    ("id", [0.0, 1, 2, 3], "the sample ids again"),                    # the same numbers
    ("id", [5, 6, 7, 8], None),
    ("label", ["pos", "neg", "pos", "neg"], "the labels of task 'y' again (4 of 4"),
    ("label", [" pos", "neg ", "pos", None], "the labels of task 'y' again (3 of 3"),
    ("label", ["pos", "neg", "pos", "pos"], "the labels of task 'y' again (3 of 4"),   # corrected
    ("label", ["pos", "pos", "neg", "neg"], None),                     # 2 of 4: not the labels
    ("score", [0.9, 0.1, 0.8, 0.2], None),                             # a feature
])
def test_export_columns_repeating_ids_or_labels(column, values, repeated):
    got = repeated_columns(_export_frame(**{column: values}), [Y])
    assert (got.get(column) or None) is None if repeated is None else got[column].startswith(repeated)


def test_multilabel_source_column_of_an_export_is_not_a_feature():
    frame = pd.DataFrame({"activelab__id": ["a", "b", "c"], "tags": ["red|round", "[]", "soft"],
                          "activelab__tags__label": [["red", "round"], [], ["soft"]]})
    task = TaskSpec("tags", ("red", "round", "soft"), True, "activelab__tags__label")
    assert "tags" in repeated_columns(frame, [task])


def _user_export(tmp_path, capsys, n=24):
    """A project from the user's file, one label changed in activelab, exported as CSV."""
    rows = "".join(f"u{i:02d},{WORDS[i % 2]} {i},{'pos' if i % 2 == 0 else 'neg'},{i * 0.5}\n"
                   for i in range(n))
    data = tmp_path / "d.csv"
    data.write_text("id,text,label,size\n" + rows)
    ok(capsys, "new", tmp_path / "p", "--data", data, "--task", "y=label", "--import-labels")
    ok(capsys, "label", tmp_path / "p", "u00", "neg")               # a correction
    ok(capsys, "export", tmp_path / "p", "--out", tmp_path / "e.csv")
    return tmp_path / "e.csv"


def test_reimported_export_keeps_the_users_id_and_label_columns_out_of_features(tmp_path, capsys):
    export = _user_export(tmp_path, capsys)
    said = ok(capsys, "new", tmp_path / "q", "--data", export)
    assert "column 'id' is the sample ids again (the same as 'activelab__id'): not used" in said
    assert "column 'label' is the labels of task 'y' again (23 of 24 rows agree" in said
    proj = Project.open(tmp_path / "q")
    try:
        assert proj.spec.feature_columns == ("size",)
        assert not any(d.startswith("warning: feature column 'label'") for d in proj.decisions)
    finally:
        proj.close()


@pytest.mark.parametrize("task_arg, source", [
    ("y=label", "activelab__y__label"), ("y", "activelab__y__label"), ("mine=label", "label"),
])
def test_rerunning_the_first_new_on_an_export_keeps_the_labels_made_since(
        tmp_path, capsys, task_arg, source):
    export = _user_export(tmp_path, capsys)
    said = ok(capsys, "new", tmp_path / "q", "--data", export, "--task", task_arg, "--import-labels")
    name = task_arg.split("=")[0]
    assert f"24 labels imported from column '{source}'" in said
    proj = Project.open(tmp_path / "q")
    try:
        label = proj.store.state().labels[name]["u00"]
        assert label == ("neg" if source.startswith("activelab") else "pos")
    finally:
        proj.close()
    if "=" in task_arg and source.startswith("activelab"):
        assert f"task '{name}': the export holds this task's labels in 'activelab__y__label'" in said


def test_task_named_like_a_source_column_takes_the_exports_labels(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("id,text,y\n" + "".join(f"u{i},{WORDS[i % 2]} {i},{'ab'[i % 2]}\n" for i in range(6)))
    ok(capsys, "new", tmp_path / "p", "--data", data, "--task", "y", "--import-labels")
    ok(capsys, "label", tmp_path / "p", "u0", "b")
    ok(capsys, "export", tmp_path / "p", "--out", tmp_path / "e.parquet")
    said = ok(capsys, "new", tmp_path / "q", "--data", tmp_path / "e.parquet", "--task", "y")
    assert "not from column 'y' (the labels as first imported)" in said
    proj = Project.open(tmp_path / "q")
    try:
        assert proj.store.state().labels["y"]["u0"] == "b"
    finally:
        proj.close()


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_export_whose_labels_name_one_class_imports_again(tmp_path, capsys, fmt):
    data = tmp_path / "d.csv"
    data.write_text("id,text\n" + "".join(f"{i:02d},{WORDS[i % 2]} {i}\n" for i in range(4)))
    ok(capsys, "new", tmp_path / "p", "--data", data, "--task", "y:pos,neg")
    ok(capsys, "label", tmp_path / "p", "01", "pos")
    ok(capsys, "export", tmp_path / "p", "--out", tmp_path / f"e.{fmt}")
    said = ok(capsys, "new", tmp_path / "q", "--data", tmp_path / f"e.{fmt}")
    assert "task 'y': the export's labels all name one class (pos); add the other classes" in said
    assert "Saved: 01 -> y = pos" in ok(capsys, "label", tmp_path / "q", "01", "pos")


def test_user_file_with_one_class_is_still_refused(tmp_path):
    from activelab.core.errors import DataError

    with pytest.raises(DataError, match="has 1 class\\(es\\) \\(pos\\); a single-label task needs at least 2"):
        create(tmp_path, text_table("id,text,label\n1,a b,pos\n2,c d,pos\n"), tasks=["y=label"])


# ----------------------------------------------------------------------------- numbers as written
@pytest.mark.parametrize("written, decimal, parsed", [
    (["1.234,5", "12,25", "-1.000.000,5"], ",", [1234.5, 12.25, -1000000.5]),
    (["1,234.50", "12.25", "+1,000,000"], ".", [1234.5, 12.25, 1000000.0]),
    (["1.234", "2,5"], ",", [1234.0, 2.5]),              # as activelab.core.data.sniff counts them
    (["1,23", "4"], ".", None),                          # not a thousands group
    (["1.23,4", "4"], ",", None),
    (["12,345.6.7", "1"], ".", None),
], ids=["comma_thousands_dots", "point_thousands_commas", "comma_dot_group", "bad_group_point",
        "bad_group_comma", "two_points"])
def test_numbers_with_thousands_separators(written, decimal, parsed):
    col = numeric_column(pd.Series(written, dtype=object), decimal)
    if parsed is None:
        assert col is None
    else:
        np.testing.assert_array_equal(col.values, np.array(parsed))


@pytest.mark.parametrize("marker", ["NA", "N/A", "#N/A", "null", "NULL", "None", "-"])
def test_missing_markers_in_number_columns_are_missing_numbers(tmp_path, marker):
    sizes = ["1.5", "2", marker, "3", "2.5", "1", marker, "2"]
    body = "".join(f"s{i},{sizes[i]},{WORDS[i % 2]} {i},{'ab'[i % 2]}\n" for i in range(8))
    proj = create(tmp_path, text_table("id,size,text,label\n" + body), text_columns=["text"])
    assert proj.spec.feature_columns == ("size",)
    assert (f"feature column 'size': 2 value(s) written as a missing marker ({marker}; first in "
            "row 3) are missing numbers for the model") in "\n".join(proj.decisions)
    assert proj.frame()["size"][2] == marker            # the data is kept as written
    X = proj.features.model_X
    assert np.isfinite(X.toarray() if hasattr(X, "toarray") else X).all()


def test_missing_markers_alone_are_not_a_number_column():
    assert numeric_column(pd.Series(["NA", "-", None], dtype=object)) is None


# ----------------------------------------------------------------------------- pandas' index
@pytest.mark.parametrize("index, column, is_id", [
    (pd.Index(["s0", "s1", "s2"], name="sample"), "sample", True),
    (pd.Index(["s0", "s1", "s2"]), "index", True),
    (pd.Index([10, 20, 30], name="rid"), "rid", True),
    (pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)], names=["g", "n"]), "g", False),
    (pd.RangeIndex(3), None, False),
], ids=["named", "unnamed", "integers", "multi", "range"])
def test_pandas_index_in_parquet_is_kept_and_names_the_rows(tmp_path, index, column, is_id):
    frame = pd.DataFrame({"text": ["a b c", "d e f", "g h i"], "label": ["x", "y", "x"]}, index=index)
    frame.to_parquet(tmp_path / "d.parquet")
    table = read_table(tmp_path / "d.parquet")
    if column is None:
        assert list(table.frame.columns) == ["text", "label"]
        return
    assert table.frame.columns[0] == column
    assert table.frame[column].tolist() == list(index.get_level_values(0))
    proj = create(tmp_path, table, tasks=["y=label"])
    assert (proj.spec.id_column == column) is is_id
    if is_id:                  # the rows' names; a level of a MultiIndex is ordinary data
        assert proj.ids == [str(v) for v in index] and column not in proj.spec.feature_columns


# ----------------------------------------------------------------------------- word-less texts
@pytest.mark.parametrize("texts", [
    ["0", "1.1", "5", "7"], ["好", "不", "是", "好"], ["👍", "👎", "🙂", "👍"], ["?!", "...", "+", "?"],
], ids=["digits", "single_cjk", "emoji", "punctuation"])
def test_texts_without_two_letter_words_get_features(tmp_path, texts):
    body = "".join(f"{i},{t},{'ab'[i % 2]}\n" for i, t in enumerate(texts))
    proj = create(tmp_path, text_table("id,text,label\n" + body), text_columns=["text"])
    X = proj.features.model_X
    rows = np.asarray(abs(X).sum(axis=1)).ravel()
    assert (rows > 0).all()


# ----------------------------------------------------------------------------- huge numbers
@pytest.mark.parametrize("values", [
    ["1e308", "-1e308", "1", "2", "1.7e308", "3"],
    ["1e200", "2e200", "3e200", "1", "0", "5e199"],
    ["-1.5e160", "0", "1", "2", "3", "4"],
], ids=["near_float_max", "all_huge", "one_huge"])
def test_huge_finite_numbers_give_finite_features_and_train(tmp_path, values):
    body = "".join(f"s{i},{v},good day {i},{'ab'[i % 2]}\n" for i, v in enumerate(values))
    proj = create(tmp_path, text_table("id,size,text,label\n" + body), text_columns=["text"],
                  feature_columns=["size"])
    X = proj.features.model_X
    assert np.isfinite(X.toarray() if hasattr(X, "toarray") else X).all()
    for sid, label in [("s0", "a"), ("s1", "b"), ("s2", "a"), ("s3", "b")]:
        proj.label(sid, label)
    assert proj.retrain() is not None
    proj.close()


# ----------------------------------------------------------------------------- lone carriage returns
def _lone_cr_files(d):
    """(file, the texts as written): writers that leave a lone \\r unquoted, and an old Mac
    file whose lines end with \\r."""
    texts = ["good day", "one\rtwo words", "fine\r", "\r"]
    frame = pd.DataFrame({"id": ["a", "b", "c", "d"], "text": texts, "label": ["x", "y", "x", "y"]})
    frame.to_csv(d / "pandas.csv", index=False)                           # LF line ends
    rows = ["id\ttext\tlabel"] + [f"{i}\t{t}\t{lab}" for i, t, lab in zip("abcd", texts, "xyxy")]
    (d / "tabs.tsv").write_text("\n".join(rows) + "\n", newline="")
    rows = ["id;text;label"] + [f"{i};{t};{lab}" for i, t, lab in zip("abcd", texts, "xyxy")]
    (d / "excel.csv").write_text("\r\n".join(rows) + "\r\n", newline="")  # CRLF line ends
    (d / "mac.csv").write_text("id,text,label\ra,good day,x\rb,two words,y\rc,fine,x\rd,ok,y\r",
                               newline="")
    return {"pandas.csv": texts, "tabs.tsv": texts, "excel.csv": texts,
            "mac.csv": ["good day", "two words", "fine", "ok"]}


@pytest.mark.parametrize("name", ["pandas.csv", "tabs.tsv", "excel.csv", "mac.csv"])
def test_lone_carriage_return_is_text_unless_it_ends_the_lines(tmp_path, name):
    texts = _lone_cr_files(tmp_path)[name]
    table = read_table(tmp_path / name)
    assert table.rows_read == 4 and table.frame["id"].tolist() == ["a", "b", "c", "d"]
    assert table.frame["text"].tolist() == texts
    assert table.frame["label"].tolist() == ["x", "y", "x", "y"]
    kept = any("carriage return" in d for d in table.decisions)
    assert kept is (name != "mac.csv")


# ----------------------------------------------------------------------------- a number in the header
@pytest.mark.parametrize("text, header", [
    ("id,text,2024,label\na1,good day,1.5,pos\na2,bad day,2.5,neg\na3,fine day,3.5,pos\n", True),
    ("name,2024\nann,1.5\nbob,2.5\ncid,0.5\n", True),
    ("id,2023,note\na,x y,1\nb,z w,2\nc,v u,3\n", True),                    # a year over text
    ("a1,good day,1.5,pos\na2,bad day,2.5,neg\na3,fine day,3.5,pos\na4,ok,3,neg\n", False),
    ("1,2,3\n4,5,6\n7,8,9\n", False),
    ("x,1.5,pos\ny,2.5,neg\nz,3.5,pos\n", False),
], ids=["year_over_fractions", "year_only_name_numeric", "year_over_text", "data_row_first",
        "numbers_only", "data_with_fractions"])
def test_a_number_among_the_column_names_keeps_the_header(tmp_path, text, header):
    (tmp_path / "d.csv").write_text(text)
    table = read_table(tmp_path / "d.csv")
    assert (table.frame.columns[0] != "col0") is header
    assert table.rows_read == text.count("\n") - header


def test_header_can_be_given_and_a_missing_column_says_how(tmp_path, capsys):
    from tests.fidelity.cli_helpers import run

    data = tmp_path / "years.csv"
    data.write_text("id,text,2019,2020,label\n" + "".join(
        f"a{i},{WORDS[i % 2]} {i},{i},{i + 2},{'pos' if i % 2 else 'neg'}\n" for i in range(4)))
    code, _, err = run(capsys, "new", tmp_path / "p", "--data", data, "--task", "y=label")
    assert code == 1 and "'label' is in the first row, which was read as data" in err
    assert "Pass --header to read the first row as the column names." in err
    said = ok(capsys, "new", tmp_path / "p", "--data", data, "--task", "y=label", "--header")
    assert "header row (given)" in said and "4 samples from 4 data rows read" in said
    assert list(read_table(data, header=False).frame.columns) == [f"col{i}" for i in range(5)]
