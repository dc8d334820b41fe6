"""Export keeps every source column's type and value, in every format.

Source columns come from ``Project.frame()`` (typed, as the pool holds them); a stand-in
project supplies them so these tests hold whatever the importer does. Parquet keeps the
type exactly, JSON Lines / JSON write JSON types (integers as integers, missing as null),
CSV writes text that reads back as the same text.
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from activelab.core.export.labels import export_labels
from activelab.core.data.spec import TaskSpec
from tests.fidelity.export_fakes import FakeProject, read_rows

IDS = ["r0", "r1", "r2", "r3"]
BIG = 2**53 + 1                      # not representable as a float
PARIS = "Europe/Paris"
NAIVE = pd.to_datetime(["2024-01-02 03:04:05", None, "1999-12-31 23:59:59.5", "2024-02-29"],
                       format="ISO8601")


def _iso(ts):
    return None if ts is None or ts is pd.NaT else ts.isoformat()


def _py(index):
    return [None if t is pd.NaT else t.to_pydatetime() for t in index]


# kind -> (source Series, Arrow type check, Python values in Parquet, values in JSON, CSV text)
KINDS = {
    "int": (pd.Series([1, -2, 3, BIG], dtype="int64"), pa.types.is_int64,
            [1, -2, 3, BIG], [1, -2, 3, BIG], ["1", "-2", "3", str(BIG)]),
    "nullable_int": (pd.Series([1, None, 3, BIG], dtype="Int64"), pa.types.is_int64,
                     [1, None, 3, BIG], [1, None, 3, BIG], ["1", "", "3", str(BIG)]),
    "bool": (pd.Series([True, False, True, False]), pa.types.is_boolean,
             [True, False, True, False], [True, False, True, False],
             ["true", "false", "true", "false"]),
    "nullable_bool": (pd.Series([True, None, False, True], dtype="boolean"), pa.types.is_boolean,
                      [True, None, False, True], [True, None, False, True],
                      ["true", "", "false", "true"]),
    "float": (pd.Series([0.1, None, 2.5, -1e-7], dtype="float64"), pa.types.is_float64,
              [0.1, None, 2.5, -1e-7], [0.1, None, 2.5, -1e-7], ["0.1", "", "2.5", "-1e-7"]),
    "timestamp": (pd.Series(NAIVE), lambda t: pa.types.is_timestamp(t) and t.tz is None,
                  _py(NAIVE), [_iso(t) for t in NAIVE],
                  [_iso(t) or "" for t in NAIVE]),
    "timestamp_tz": (pd.Series(NAIVE.tz_localize(PARIS)),
                     lambda t: pa.types.is_timestamp(t) and t.tz == PARIS,
                     _py(NAIVE.tz_localize(PARIS)),
                     [_iso(t) for t in NAIVE.tz_localize(PARIS)],
                     [_iso(t) or "" for t in NAIVE.tz_localize(PARIS)]),
    "list": (pd.Series([["a", "b"], [], None, ["c, d", 'q"']]),
             lambda t: pa.types.is_list(t) and pa.types.is_string(t.value_type),
             [["a", "b"], [], None, ["c, d", 'q"']], [["a", "b"], [], None, ["c, d", 'q"']],
             ['["a","b"]', "[]", "", '["c, d","q\\""]']),
    "list_from_parquet": (  # what pyarrow's to_pandas gives for a list<string> column
        pd.Series([np.array(["a"], dtype=object), np.array([], dtype=object), None,
                   np.array(["x", "y"], dtype=object)]),
        lambda t: pa.types.is_list(t) and pa.types.is_string(t.value_type),
        [["a"], [], None, ["x", "y"]], [["a"], [], None, ["x", "y"]],
        ['["a"]', "[]", "", '["x","y"]']),
    "list_of_ints": (pd.Series([[1, 2], [], None, [BIG]]),
                     lambda t: pa.types.is_list(t) and pa.types.is_int64(t.value_type),
                     [[1, 2], [], None, [BIG]], [[1, 2], [], None, [BIG]],
                     ["[1,2]", "[]", "", f"[{BIG}]"]),
    "categorical": (pd.Series(pd.Categorical(["lo", "hi", None, "lo"])), pa.types.is_string,
                    ["lo", "hi", None, "lo"], ["lo", "hi", None, "lo"], ["lo", "hi", "", "lo"]),
    "categorical_ints": (pd.Series(pd.Categorical([3, 1, None, 3])), pa.types.is_string,
                         ["3", "1", None, "3"], ["3", "1", None, "3"], ["3", "1", "", "3"]),
    "text": (pd.Series(["plain", "", None, "NA"], dtype=object), pa.types.is_string,
             ["plain", "", None, "NA"], ["plain", "", None, "NA"], ["plain", "", "", "NA"]),
    "record": (pd.Series([{"k": 1}, {"k": 2}, None, {"k": 3}]), pa.types.is_struct,
               [{"k": 1}, {"k": 2}, None, {"k": 3}], [{"k": 1}, {"k": 2}, None, {"k": 3}],
               ['{"k":1}', '{"k":2}', "", '{"k":3}']),
    "mixed": (pd.Series([1, "a", None, 2.5], dtype=object), pa.types.is_string,
              ["1", "a", None, "2.5"], ["1", "a", None, "2.5"], ["1", "a", "", "2.5"]),
}
FORMATS = ("parquet", "jsonl", "json", "csv")


def typed_project() -> FakeProject:
    frame = pd.DataFrame({k: v[0] for k, v in KINDS.items()})
    task = TaskSpec("t", ("x", "y"))
    return FakeProject(frame, IDS, [task], {"t": {sid: "x" for sid in IDS}})


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("typed")
    proj = typed_project()
    return {fmt: export_labels(proj, folder / f"out.{fmt}") for fmt in FORMATS}


def _same(got, want) -> bool:
    """Equal, and an integer is still an integer (not 1.0), a boolean still a boolean."""
    if want is None:
        return got is None
    if isinstance(want, (bool, int)):
        return type(got) is type(want) and got == want
    return got == want


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", list(KINDS))
def test_source_column_type_and_values_survive(exported, kind, fmt):
    series, is_type, in_parquet, in_json, in_csv = KINDS[kind]
    path = exported[fmt]
    if fmt == "parquet":
        col = pq.read_table(path).column(kind)
        assert is_type(col.type), f"{kind}: {col.type}"
    want = {"parquet": in_parquet, "jsonl": in_json, "json": in_json, "csv": in_csv}[fmt]
    got = [row[kind] for row in read_rows(path, fmt)]
    assert len(got) == len(want)
    assert all(_same(g, w) for g, w in zip(got, want)), (got, want)


@pytest.mark.parametrize("kind, dtype", [
    ("int", "int64"), ("nullable_int", "Int64"), ("bool", "bool"),
    ("nullable_bool", "boolean"), ("float", "float64"),
    ("timestamp_tz", f"datetime64[ns, {PARIS}]"),
])
def test_pandas_reads_parquet_back_with_the_source_dtype(exported, kind, dtype):
    got = pd.read_parquet(exported["parquet"])[kind]
    want = KINDS[kind][0]
    if dtype.startswith("datetime64"):
        assert str(got.dtype.tz) == PARIS and got.dtype.unit == want.dtype.unit
    else:
        assert str(got.dtype) == dtype
    pd.testing.assert_series_equal(got.reset_index(drop=True), want, check_names=False)


def test_columns_in_order_source_first_and_untouched(exported):
    cols = pq.read_table(exported["parquet"]).column_names
    assert cols[0] == "activelab__id"
    assert cols[1:1 + len(KINDS)] == list(KINDS)
    assert cols[1 + len(KINDS):] == [
        f"activelab__t__{f}" for f in ("label", "annotator", "time", "seconds", "strategy",
                                       "score", "rank", "model_version", "audit", "input")
    ] + ["activelab__skipped", "activelab__flagged"]
    # the CSV header is the same, and every cell of a text column is quoted
    header = exported["csv"].read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",")[:2] == ['"activelab__id"', '"int"']


# ----------------------------------------------------------------- activelab's own columns
def provenance_project(include_preds: bool = False) -> FakeProject:
    frame = pd.DataFrame({"text": ["a", "b", "c"]})
    task = TaskSpec("t", ("x", "y"))
    prov = {("t", "r0"): dict(rank=3, model_version=2, score=0.5, seconds=1.25,
                              strategy="entropy", audit=True, input="accepted")}
    preds = {"t": (np.array(["y", "y", "x"], dtype=object),
                   np.array([0.9, 0.87, 0.6], dtype=np.float32))} if include_preds else None
    return FakeProject(frame, ["r0", "r1", "r2"], [task], {"t": {"r0": "x", "r1": "y"}},
                       prov=prov, skipped=["r1"], flagged=["r0"], preds=preds)


OWN = {  # field -> (Arrow type, pandas dtype, [r0, r1] in JSON, [r0, r1] in CSV)
    "rank": (pa.int64(), "Int64", [3, None], ["3", ""]),
    "model_version": (pa.int64(), "Int64", [2, None], ["2", ""]),
    "score": (pa.float64(), "float64", [0.5, None], ["0.5", ""]),
    "seconds": (pa.float64(), "float64", [1.25, None], ["1.25", ""]),
    "audit": (pa.bool_(), "bool", [True, False], ["true", "false"]),
    "strategy": (pa.string(), None, ["entropy", None], ["entropy", ""]),
    "input": (pa.string(), None, ["accepted", None], ["accepted", ""]),
    "annotator": (pa.string(), None, ["ann", "ann"], ["ann", "ann"]),
    "time": (pa.timestamp("ms", tz="UTC"), "datetime64[ms, UTC]",
             ["2024-05-01T12:00:00.250+00:00"] * 2, ["2024-05-01T12:00:00.250+00:00"] * 2),
}


@pytest.mark.parametrize("field", list(OWN))
def test_provenance_columns_are_typed(tmp_path, field):
    arrow_type, dtype, in_json, in_csv = OWN[field]
    name = f"activelab__t__{field}"
    proj = provenance_project()
    pq_path = export_labels(proj, tmp_path / "o.parquet")
    assert pq.read_table(pq_path).schema.field(name).type == arrow_type
    if dtype:
        assert str(pd.read_parquet(pq_path)[name].dtype) == dtype
    assert [r[name] for r in read_rows(export_labels(proj, tmp_path / "o.jsonl"), "jsonl")] == in_json
    assert [r[name] for r in read_rows(export_labels(proj, tmp_path / "o.csv"), "csv")] == in_csv


def test_skipped_flagged_and_predictions_are_typed(tmp_path):
    proj = provenance_project(include_preds=True)
    path = export_labels(proj, tmp_path / "all.parquet", include_unlabeled=True)
    t = pq.read_table(path)
    assert t.column("activelab__skipped").to_pylist() == [False, True, False]
    assert t.column("activelab__flagged").to_pylist() == [True, False, False]
    assert t.schema.field("activelab__skipped").type == pa.bool_()
    # predictions only where there is no label; float32 confidences written as written
    assert t.column("activelab__t__predicted").to_pylist() == [None, None, "x"]
    assert t.column("activelab__t__confidence").to_pylist() == [None, None, 0.6]
    assert t.column("activelab__t__audit").to_pylist() == [True, False, None]
    assert str(pd.read_parquet(path)["activelab__t__audit"].dtype) == "boolean"
    rows = read_rows(export_labels(proj, tmp_path / "all.csv", include_unlabeled=True), "csv")
    assert [r["activelab__t__confidence"] for r in rows] == ["", "", "0.6"]
    line = json.loads((export_labels(proj, tmp_path / "all.jsonl", include_unlabeled=True))
                      .read_text().splitlines()[2])
    assert line["activelab__t__label"] is None and line["activelab__t__confidence"] == 0.6


@pytest.mark.parametrize("column", ["activelab__skipped", "activelab__flagged", "activelab__t__audit"])
def test_csv_booleans_read_back_as_the_parquet_values(tmp_path, column):
    from activelab.core.data.export_columns import parse_bool_cell

    proj = provenance_project(include_preds=True)
    parquet = export_labels(proj, tmp_path / "a.parquet", include_unlabeled=True)
    want = pq.read_table(parquet).column(column).to_pylist()
    rows = read_rows(export_labels(proj, tmp_path / "a.csv", include_unlabeled=True), "csv")
    assert [parse_bool_cell(r[column]) for r in rows] == want
