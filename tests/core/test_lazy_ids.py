"""Opening a project reads no sample ids and no rows: every CLI command that touches one
sample costs the same on 1,000 or 1,000,000 samples.

The ids live in the store (one indexed row per sample); ``Project.ids`` / ``index_of`` look
them up one at a time. Here reading every id (``LabelStore.sample_ids``) or every row of the
pool fails the test, so each operation below proves it does neither.
"""
from __future__ import annotations

import pickle

import pandas as pd
import pytest

from activelab.core.export.labels import export_labels
from activelab.core.errors import LabelError
from activelab.core.project.project import Project
from activelab.core.store import pool as pool_mod
from activelab.core.store import pool_writer
from activelab.core.store import samples as samples_mod
from activelab.core.store.store import LabelStore

N = 60


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lazy")
    data = folder / "d.csv"
    data.write_text("id,x,label\n" + "".join(f"id-{i:03d},{i},{'ab'[i % 2]}\n" for i in range(N)))
    mp = pytest.MonkeyPatch()
    mp.setattr(pool_writer, "ROW_GROUP_ROWS", 8)
    try:
        Project.create(folder / "p", data=data, id_column="id", feature_columns=["x"],
                       tasks=["t=label"]).close()
    finally:
        mp.undo()
    assert len(pool_mod.Pool.open(folder / "p")._starts) == 9     # 8 row groups
    return folder / "p"


@pytest.fixture
def no_full_reads(monkeypatch):
    """Reading every id, or the whole pool, raises."""
    monkeypatch.setattr(samples_mod, "_SMALL_POOL", 0)     # small pools are read at once

    def every_id(self):
        raise AssertionError("every sample id was read")

    monkeypatch.setattr(LabelStore, "sample_ids", every_id)
    real_read = pool_mod.ParquetPool.table

    def table(self, columns=None, rows=None):
        if rows is None:
            raise AssertionError("the whole pool was read")
        return real_read(self, columns, rows)

    monkeypatch.setattr(pool_mod.ParquetPool, "table", table)


def test_label_status_sample_and_export_read_no_full_table(project_dir, no_full_reads, tmp_path):
    proj = Project.open(project_dir)
    assert proj.n_samples == N and len(proj.ids) == N
    assert proj.index_of("id-041") == 41 and proj.ids[41] == "id-041"
    with pytest.raises(LabelError, match="No sample with id 'id-999'"):
        proj.index_of("id-999")
    proj.label("id-041", "a")
    proj.label("id-007", "b")
    proj.skip("id-012")
    s = proj.sample(41)
    assert s.id == "id-041" and s.fields["x"] == "41"
    assert proj.labels()["t"] == {41: "a", 7: "b"} and proj.labeled_count() == 2
    out = pd.read_csv(export_labels(proj, tmp_path / "e.csv"), dtype=str)
    assert out["activelab__id"].tolist() == ["id-007", "id-041"]
    assert out["x"].tolist() == ["7", "41"]
    proj.close()


def test_every_id_is_read_once_when_something_needs_them_all(project_dir):
    proj = Project.open(project_dir)
    assert not proj.ids.loaded
    ids = list(proj.ids)
    assert ids == [f"id-{i:03d}" for i in range(N)] and proj.ids.loaded
    assert proj.ids == ids and proj.ids[-1] == "id-059" and proj.ids[3:5] == ["id-003", "id-004"]
    # Sent to a retrain process as the plain list of ids it stands for.
    assert pickle.loads(pickle.dumps(proj.ids)) == ids
    proj.close()


def test_positions_of_many_ids_take_few_queries(project_dir, no_full_reads):
    proj = Project.open(project_dir)
    wanted = [f"id-{i:03d}" for i in range(0, N, 3)] + ["nope"]
    found = proj.ids.index.positions(wanted)
    assert found == {f"id-{i:03d}": i for i in range(0, N, 3)}
    proj.close()
