"""Parquet pools with parts that hold no rows (as Spark and Dask writers leave) or whose every
row is labelled: the embedded engine imports the folder (noting the skipped part), and a Dask
query scores the other parts instead of failing with scikit-learn's "0 sample(s)" error."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from activelab.core.project.project import Project
from tests.core.scale_helpers import in_process_client

pytest.importorskip("distributed")


def _pool(folder, rows=(60, 0, 60, 8)):
    folder.mkdir()
    rng = np.random.default_rng(3)
    start = 0
    for p, n in enumerate(rows):
        y = np.where(np.arange(n) % 2 == 0, "x", "z")
        pd.DataFrame({"id": [f"r{start + i:04d}" for i in range(n)],
                      "a": rng.normal(size=n) + (y == "x"), "b": rng.normal(size=n),
                      "y": y}).to_parquet(folder / f"part{p}.parquet")
        start += n
    return folder


@pytest.fixture(scope="module")
def client():
    yield from in_process_client(workers=1)


def test_embedded_engine_skips_an_empty_part(tmp_path):
    pool = _pool(tmp_path / "pool")
    proj = Project.create(tmp_path / "p", data=pool, id_column="id", tasks=["y=y"])
    assert proj.n_samples == 128
    assert any("without rows skipped: part1.parquet" in d for d in proj.decisions)


@pytest.mark.parametrize("strategy", ["margin", "coreset"])
def test_dask_query_with_an_empty_part_and_a_fully_labelled_part(tmp_path, client, strategy):
    from activelab.core.scale.create import create_dask_project
    from activelab.core.scale.query import dask_query

    pool = _pool(tmp_path / "pool")
    path, _ = create_dask_project(tmp_path / "d", data=str(pool / "*.parquet"),
                                  id_column="id", tasks=["y=y"], client=client)
    proj = Project.open(path)
    last = [f"r{i:04d}" for i in range(120, 128)]   # the whole of part 3
    for sid in last + ["r0000", "r0001", "r0002", "r0003"]:
        proj.label(sid, "x" if int(sid[1:]) % 2 == 0 else "z", task="y")
    picks = dask_query(proj, 10, strategy, client=client)
    ids = [item.id for item in picks]
    assert len(ids) == 10 and len(set(ids)) == 10
    assert not set(ids) & set(last)                  # labelled rows are never picked
    assert all(int(i[1:]) < 120 for i in ids)
