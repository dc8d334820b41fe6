"""JSON Lines and Parquet keep their own types on the way in (issue 8)."""
from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from activelab.core.errors import DataError
from activelab.core.data.read import read_table


def test_jsonl_native_types_kept(tmp_path):
    p = tmp_path / "d.jsonl"
    rows = [
        {"id": "0020", "n": 1, "x": 1.5, "ok": True, "tags": ["a", "b"], "text": "NA", "opt": 3},
        {"id": "1.10", "n": 2, "x": 2.0, "ok": False, "tags": [], "text": "null", "opt": None},
        {"id": "+7", "n": 3, "x": 3.25, "ok": True, "tags": ["c"], "text": "None"},
    ]
    p.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    table = read_table(p)
    f = table.frame
    assert f["id"].tolist() == ["0020", "1.10", "+7"]
    assert f["n"].dtype == "int64" and f["n"].tolist() == [1, 2, 3]
    assert f["x"].dtype == "float64" and f["ok"].dtype == bool
    assert f["tags"].tolist() == [["a", "b"], [], ["c"]]
    assert f["text"].tolist() == ["NA", "null", "None"]  # strings, not missing
    assert str(f["opt"].dtype) == "Int64" and f["opt"].isna().tolist() == [False, True, True]
    assert table.rows_read == 3


def test_jsonl_na_values_apply_to_strings_only(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text('{"t": "NA", "n": 1}\n{"t": "x", "n": 2}\n')
    table = read_table(p, na_values=["NA"])
    assert table.frame["t"].tolist() == [None, "x"] and table.frame["n"].tolist() == [1, 2]


@pytest.mark.parametrize("line,key,escape", [
    ('{"text": "\\ud800"}', "text", "\\ud800"),
    ('{"a": "ok", "text": "tail \\udfff"}', "text", "\\udfff"),
    ('{"tags": ["x", "\\udc00"]}', "tags", "\\udc00"),
    ('{"bad \\ud812key": 1}', "bad \ud812key", "\\ud812"),
])
def test_lone_surrogate_refused_naming_line_and_key(tmp_path, line, key, escape):
    p = tmp_path / "s.jsonl"
    p.write_text('{"text": "fine \\ud83d\\ude00 pair"}\n' + line + "\n")
    with pytest.raises(DataError) as info:
        read_table(p)
    msg = str(info.value)
    assert f"s.jsonl, line 2, key {key!r}" in msg and escape in msg and "lone surrogate" in msg


def test_surrogate_pair_is_one_character(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_text('{"text": "\\ud83d\\ude00"}\n')
    assert read_table(p).frame["text"][0] == "\U0001F600"


def test_json_line_holding_a_line_separator_character(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_text('{"text": "a\u2028b\u0085c"}\n{"text": "d"}\n', encoding="utf-8")
    table = read_table(p)
    assert table.frame["text"].tolist() == ["a\u2028b\u0085c", "d"] and table.rows_read == 2


def test_json_array_file(tmp_path):
    p = tmp_path / "d.json"
    p.write_text(json.dumps([{"id": "007", "label": "0"}, {"id": "010", "label": "1"}]))
    table = read_table(p)
    assert table.frame.to_dict("list") == {"id": ["007", "010"], "label": ["0", "1"]}


def test_parquet_types_kept(tmp_path):
    p = tmp_path / "d.parquet"
    t = pa.table({
        "id": pa.array(["0020", "1.10", None]),
        "n": pa.array([1, None, 3], pa.int32()),
        "big": pa.array([2 ** 62, 1, 2]),
        "tags": pa.array([["a"], [], None], pa.list_(pa.string())),
        "cat": pa.array(["x", "y", "x"]).dictionary_encode(),
        "flag": pa.array([True, False, True]),
        "ts": pa.array([1, 2, 3], pa.timestamp("s")),
    })
    pq.write_table(t, p)
    table = read_table(p)
    f = table.frame
    assert f["id"].tolist() == ["0020", "1.10", None]
    assert str(f["n"].dtype) == "Int32" and f["n"][0] == 1 and f["n"].isna()[1]
    assert f["big"].tolist() == [2 ** 62, 1, 2]
    assert f["tags"].tolist() == [["a"], [], None]
    assert f["cat"].tolist() == ["x", "y", "x"]
    assert f["flag"].dtype == bool and str(f["ts"].dtype).startswith("datetime64")
    assert table.rows_read == 3


def test_parquet_written_by_pandas_with_an_index(tmp_path):
    p = tmp_path / "d.parquet"
    pd.DataFrame({"text": ["a", "b"]}, index=pd.Index(["r1", "r2"], name="key")).to_parquet(p)
    assert read_table(p).frame.to_dict("list") == {"key": ["r1", "r2"], "text": ["a", "b"]}


@pytest.mark.parametrize("text,where", [
    ('{"id": "a", "label": "x"}\n{"id": "b", "label": "x", "label": "y"}\n', "d.jsonl, line 2"),
    ('[{"id": "a", "id": "b"}]', "d.jsonl: the key 'id'"),
])
def test_json_duplicate_key_refused(tmp_path, text, where):
    p = tmp_path / "d.jsonl"
    p.write_text(text)
    with pytest.raises(DataError) as info:
        read_table(p)
    assert where in str(info.value) and "appears twice" in str(info.value)


def test_parquet_duplicate_names_and_na_values(tmp_path):
    p = tmp_path / "d.parquet"
    t = pa.Table.from_arrays([pa.array(["1", "2"]), pa.array(["NA", "b"]), pa.array([5, 6])],
                             names=["x", "x", "n"])
    pq.write_table(t, p)
    table = read_table(p, na_values=["NA"])
    assert table.frame.to_dict("list") == {"x": ["1", "2"], "x_2": [None, "b"], "n": [5, 6]}
    assert any("'x' -> 'x_2'" in d for d in table.decisions)
    assert any("1 text cells equal to 'NA' read as missing" in d for d in table.decisions)
