"""``activelab new --engine dask`` reads its parts on the workers (issue 13): the project is the
one the driver used to make reading every part itself, and a repeated id is refused with both
parts named."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from activelab.core.errors import DataError
from activelab.core.project.project import Project
from tests.core.scale_helpers import in_process_client, write_parts


@pytest.fixture(scope="module")
def client():
    yield from in_process_client()


def _pool(folder: Path, n: int = 6_000, parts: int = 6, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "id": [f"s{i:05d}" for i in rng.permutation(n)],
        "a": rng.normal(size=n), "b": rng.integers(0, 9, n).astype(float),
        "label": rng.choice(["x", "y", None], size=n, p=[0.1, 0.1, 0.8]),
    })
    frame.loc[rng.choice(n, 40, replace=False), "a"] = np.nan
    frame.loc[n - 3, "label"] = "rare"      # a class seen only in the last part
    write_parts(frame, folder, parts)
    return frame


def test_new_reads_the_parts_on_the_workers_and_keeps_ids_order_and_part_starts(tmp_path, client):
    from distributed import get_task_stream

    from activelab.core.scale.create import create_dask_project
    from activelab.core.scale.featurize import Featurizer, PoolMoments
    from activelab.core.store.samples import SampleIds

    frame = _pool(tmp_path / "pool")
    with get_task_stream(client=client) as stream:
        path, _ = create_dask_project(tmp_path / "p", data=str(tmp_path / "pool"),
                                      id_column="id", tasks=["label=label"], import_labels=True,
                                      client=client)
    ran = [t["key"] if isinstance(t["key"], str) else t["key"][0] for t in stream.data]
    assert sum(k.startswith("part_ids") for k in ran) == 6
    assert sum(k.startswith("part_sample") for k in ran) == 6
    proj = Project.open(path)
    assert list(SampleIds(proj.store)) == frame["id"].tolist()
    pool = proj.store.get_setting("pool")
    assert pool["starts"] == [0, 1000, 2000, 3000, 4000, 5000, 6000]
    assert proj.labeled_count() == int(frame["label"].notna().sum())
    assert "rare" in [c for t in proj.spec.tasks for c in t.classes]
    # the moments merged from the workers' shares equal one process adding part after part
    feat = Featurizer.from_dict(proj.store.get_setting("scale_featurizer"))
    seq = PoolMoments()
    for p in range(6):
        seq.add(frame.iloc[p * 1000:(p + 1) * 1000].reset_index(drop=True), ["a", "b"])
    want = Featurizer.from_dict({**feat.to_dict()})
    assert feat.means == seq.fitted(want).means and feat.stds == seq.fitted(want).stds


def test_an_id_in_two_parts_is_refused_naming_both_parts(tmp_path, client):
    """Rows outside the sample (the sample's own id check cannot see them): the store's unique
    index refuses the later part, and the message names both parts and rows."""
    from activelab.core.scale.create import create_dask_project
    from activelab.core.scale.featurize import sample_rows

    frame = _pool(tmp_path / "pool", n=60_000, parts=3)
    picks = sample_rows([20_000] * 3)
    r0 = int(np.setdiff1d(np.arange(20_000), picks[0])[10])
    r2 = int(np.setdiff1d(np.arange(20_000), picks[2])[20])
    first = frame.loc[r0, "id"]
    frame.loc[40_000 + r2, "id"] = first
    write_parts(frame, tmp_path / "again", 3)
    with pytest.raises(DataError) as err:
        create_dask_project(tmp_path / "p", data=str(tmp_path / "again"), id_column="id",
                            tasks=["label=label"], client=client)
    msg = str(err.value)
    assert f"'{first}'" in msg
    assert f"row {r0 + 1} of part" in msg and "part-00.parquet" in msg
    assert f"row {r2 + 1} of part" in msg and "part-02.parquet" in msg
    assert not (tmp_path / "p").exists()


def test_an_id_twice_in_one_part_is_refused_naming_its_rows(tmp_path, client):
    from activelab.core.scale.create import create_dask_project
    from activelab.core.scale.featurize import sample_rows

    frame = _pool(tmp_path / "pool", n=60_000, parts=2)
    free = np.setdiff1d(np.arange(30_000), sample_rows([30_000] * 2)[1])
    a, b = int(free[5]), int(free[50])
    frame.loc[30_000 + b, "id"] = frame.loc[30_000 + a, "id"]
    write_parts(frame, tmp_path / "again", 2)
    with pytest.raises(DataError, match=rf"rows {a + 1} and {b + 1} of part .*part-01\.parquet"):
        create_dask_project(tmp_path / "p", data=str(tmp_path / "again"), id_column="id",
                            client=client)


def test_a_part_that_is_not_parquet_is_named(tmp_path, client):
    from activelab.core.scale.create import create_dask_project

    _pool(tmp_path / "pool", n=2_000, parts=2)
    (tmp_path / "pool" / "part-01.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match=r"Part .*part-01\.parquet cannot be read"):
        create_dask_project(tmp_path / "p", data=str(tmp_path / "pool"), id_column="id",
                            client=client)
    assert not (tmp_path / "p").exists()


def test_a_scheduler_gone_during_new_is_one_paragraph_and_leaves_no_folder(tmp_path):
    from activelab.core.scale.cluster import SchedulerGoneError
    from activelab.core.scale.create import create_dask_project

    _pool(tmp_path / "pool", n=2_000, parts=2)
    helper = in_process_client(workers=1)
    gone = next(helper)
    gone.cluster.close()
    with pytest.raises(SchedulerGoneError, match="cannot be reached.*was not created"):
        create_dask_project(tmp_path / "p", data=str(tmp_path / "pool"), id_column="id",
                            client=gone)
    assert not (tmp_path / "p").exists()
    helper.close()
