"""A large export is written in batches; the file is the same as written in one go.

``--include-unlabeled`` on a pool of millions reads, assembles and writes BATCH_ROWS rows at a
time (memory bounded whatever the pool size). Here the pool has row groups of 4 rows and the
export batches of 5, so the types of a column must hold across batches even where a batch
has only empty cells, and the pandas dtypes recorded in the Parquet file must describe the
whole column (a nullable integer, a boolean column with a missing value in a later batch).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from activelab.core.export import labels as export_mod
from activelab.core.export.labels import export_batches, export_labels
from activelab.core.store import pool_writer
from tests.fidelity.import_helpers import create, frame_table

N = 23
WORDS = ["calm quiet gentle", "loud rapid sharp"]


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    late_none = [True] * N
    late_none[17] = None                    # a bool column whose only gap is in batch 4
    return pd.DataFrame({
        "id": [f"r{i:03d}" for i in range(N)],
        "text": [f"{WORDS[i % 2]} sample {i}" for i in range(N)],
        "label": ["a", "b"] * (N // 2) + ["a"],
        "count": pd.array([None if i % 6 == 0 else i for i in range(N)], dtype="Int64"),
        "ratio": [np.nan if i % 5 == 1 else float(rng.normal()) for i in range(N)],
        "flag": pd.Series(late_none, dtype=object),
        "late": pd.Series([None] * 12 + [f"v{i}" for i in range(12, N)], dtype=object),
        "when": pd.to_datetime([f"2024-01-{1 + i % 28:02d}T10:00:00Z" for i in range(N)], utc=True),
        "tags": [["x"] if i % 3 else [] for i in range(N)],
    })


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setattr(pool_writer, "ROW_GROUP_ROWS", 4)
    try:
        proj = create(tmp_path_factory.mktemp("stream"), frame_table(_frame()), id_column="id",
                      tasks=["t=label"], text_columns=["text"], feature_columns=["count", "ratio"])
    finally:
        mp.undo()
    assert pq.ParquetFile(proj.path / "pool.parquet").metadata.num_row_groups == 6
    for i in (0, 1, 2, 3, 7, 8):
        proj.label(f"r{i:03d}", "ab"[i % 2])
    proj.skip("r010")
    proj.flag("r011")
    yield proj
    proj.close()


def _export(proj, path, batch_rows, monkeypatch):
    monkeypatch.setattr(export_mod, "BATCH_ROWS", batch_rows)
    return export_labels(proj, path, include_unlabeled=True)


def test_the_export_comes_in_several_batches(project):
    tables, export = export_batches(project, include_unlabeled=True, batch_rows=5)
    sizes = [t.num_rows for t in tables]
    assert sizes == [5, 5, 5, 5, 3] and export.n_rows == N
    assert export.labeled_out == 6


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_streamed_text_files_are_byte_for_byte_the_same(project, tmp_path, monkeypatch, fmt):
    whole = _export(project, tmp_path / f"whole.{fmt}", N + 1, monkeypatch).read_bytes()
    streamed = _export(project, tmp_path / f"streamed.{fmt}", 5, monkeypatch).read_bytes()
    assert streamed == whole
    assert whole.count(b"r0") >= N


def test_streamed_parquet_has_the_same_table_types_and_dtypes(project, tmp_path, monkeypatch):
    whole = _export(project, tmp_path / "whole.parquet", N + 1, monkeypatch)
    streamed = _export(project, tmp_path / "streamed.parquet", 5, monkeypatch)
    a, b = pq.read_table(whole), pq.read_table(streamed)
    assert pq.ParquetFile(streamed).metadata.num_row_groups == 5
    assert b.schema.equals(a.schema, check_metadata=True)
    assert b.equals(a)
    pa_, pb = pd.read_parquet(whole), pd.read_parquet(streamed)
    assert pb.dtypes.astype(str).to_dict() == pa_.dtypes.astype(str).to_dict()
    assert str(pb["count"].dtype) == "Int64" and str(pb["flag"].dtype) == "boolean"
    assert pb["late"].isna().tolist() == [True] * 12 + [False] * (N - 12)
    assert pb["late"].tolist()[12] == "v12"
    pd.testing.assert_frame_equal(pa_, pb)
