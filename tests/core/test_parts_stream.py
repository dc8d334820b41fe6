"""The embedded engine writes a partitioned Parquet pool into its pool file part by part
(issue 13): the project is the one joining the parts in memory made, byte for byte."""
from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pandas as pd

from activelab.core.project.project import Project


def _parts(folder: Path, sizes=(7_000, 13_000, 0, 9_567, 5_000), seed: int = 1) -> pd.DataFrame:
    """Parts of unequal sizes (row groups of the pool file cross part ends) and an empty one."""
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    frame = pd.DataFrame({
        "id": [f"k{i:05d}" for i in rng.permutation(n)],
        "x": rng.normal(size=n).astype("float32"), "z": rng.normal(size=n),
        "kind": pd.Categorical(rng.choice(["u", "v", "w"], n)),
        "count": rng.integers(0, 100, n), "note": [f"word{i % 11} other{i % 7}" for i in range(n)],
        "y": rng.choice(["a", "b", None], size=n, p=[0.01, 0.01, 0.98]),
    })
    folder.mkdir()
    start = 0
    for k, size in enumerate(sizes):
        frame.iloc[start:start + size].to_parquet(folder / f"p{k}.parquet", index=False)
        start += size
    return frame


def _create(path: Path, pool: Path) -> Project:
    return Project.create(path, data=pool, id_column="id", tasks=["y=y"], import_labels=True,
                          text_columns=["note"])


def test_streamed_pool_file_equals_the_parts_joined_in_memory(tmp_path, monkeypatch):
    from activelab.core.data import parts
    from activelab.core.project import parts_stream

    _parts(tmp_path / "pool")
    joined = []
    real = parts.read_parts
    monkeypatch.setattr(parts, "read_parts", lambda *a, **k: joined.append(1) or real(*a, **k))
    streamed = _create(tmp_path / "streamed", tmp_path / "pool")
    assert not joined                                  # no part was joined in memory
    monkeypatch.setattr(parts_stream, "stream_parts", lambda *a, **k: None)
    old = _create(tmp_path / "joined", tmp_path / "pool")
    assert joined                                      # the way it was done before
    assert filecmp.cmp(tmp_path / "streamed" / "pool.parquet", tmp_path / "joined" / "pool.parquet",
                       shallow=False)
    assert streamed.decisions == old.decisions
    assert list(streamed.ids) == list(old.ids)
    assert streamed.labeled_count() == old.labeled_count() > 0
    a, b = streamed.features.model_X, old.features.model_X
    assert (a != b).nnz == 0 if hasattr(a, "nnz") else np.array_equal(a, b)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["joined", "pool", "streamed"]


def test_parts_whose_types_differ_are_joined_in_memory_as_before(tmp_path):
    """A column of nulls only in one part: its stored type differs, the parts are joined (pandas
    resolves the type) and the pool still holds every row."""
    from activelab.core.project.parts_stream import stream_parts

    frame = _parts(tmp_path / "pool", sizes=(3_000, 3_000))
    part = pd.read_parquet(tmp_path / "pool" / "p1.parquet")
    part["note"] = None
    part.to_parquet(tmp_path / "pool" / "p1.parquet", index=False)
    assert stream_parts(tmp_path / "pool", tmp_path / "pool.parquet") is None
    assert not (tmp_path / "pool.parquet").exists()
    proj = Project.create(tmp_path / "p", data=tmp_path / "pool", id_column="id", tasks=["y=y"])
    assert proj.n_samples == len(frame)
    assert proj.pool.row(4_000)["note"] is None and proj.pool.row(10)["note"] == frame["note"][10]
