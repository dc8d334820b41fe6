"""Partitioned Parquet pools and the Dask engine (issue 13), on a real LocalCluster.

The cluster runs its workers as threads of the test process (processes=False), as CI needs;
the merge of per-partition results is checked against the embedded engine's picks.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from activelab.core.cli.main import main
from activelab.core.errors import DataError
from activelab.core.progress import Cancelled, Progress
from activelab.core.project.project import Project
from tests.core.scale_helpers import in_process_client, twin_projects, write_parts

pytest.importorskip("distributed")


def _pool(folder, n=24_000, parts=6, labelled=60, seed=0, missing=False):
    """A partitioned pool: 5 numeric columns, a label column filled on ``labelled`` rows."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)) * np.arange(1, 6) + np.arange(5)
    if missing:
        x[rng.random(x.shape) < 0.01] = np.nan
    y = np.where(x[:, 0] - 0.5 * np.nan_to_num(x[:, 1]) > 0, "a", "b").astype(object)
    keep = np.zeros(n, dtype=bool)
    keep[rng.choice(n, labelled, replace=False)] = True
    y[~keep] = None
    frame = pd.DataFrame(x, columns=[f"f{j}" for j in range(5)])
    frame["label"] = y
    frame["id"] = [f"r{i:06d}" for i in range(n)]
    write_parts(frame, folder, parts)
    return frame


@pytest.fixture(scope="module")
def client():
    yield from in_process_client()


@pytest.fixture(scope="module")
def pools(tmp_path_factory, client):
    """The same pool as an embedded project (audit picks off) and as a Dask project."""
    root = tmp_path_factory.mktemp("scale")
    frame = _pool(root / "pool")
    embedded, dask_proj, _ = twin_projects(
        root, root / "pool", settings={"audit_rate": 0.0}, id_column="id", tasks=["label=label"],
        import_labels=True, strategy="least_confidence", client=client)
    yield root, frame, embedded, dask_proj


def test_folder_of_parquet_parts_is_read_as_one_table(pools):
    root, frame, embedded, _ = pools
    assert embedded.n_samples == len(frame)
    assert embedded.labeled_count() == 60
    got = embedded.frame(columns=["id", "f3"], rows=[0, 4_000, 23_999])
    assert got["id"].tolist() == ["r000000", "r004000", "r023999"]
    assert np.allclose(got["f3"], frame["f3"].iloc[[0, 4_000, 23_999]])


def test_a_glob_without_parts_is_refused_with_its_reason(tmp_path):
    with pytest.raises(DataError, match="holds no Parquet files"):
        Project.create(tmp_path / "p", data=str(tmp_path / "none" / "*.parquet"))
    assert not (tmp_path / "p").exists()


def test_dask_project_keeps_ids_and_reads_single_rows_in_place(pools):
    root, frame, _, dask_proj = pools
    assert not (dask_proj.path / "pool.parquet").exists()       # nothing copied
    assert dask_proj.n_samples == len(frame)
    assert dask_proj.ids[17_123] == "r017123"
    row = dask_proj.sample(dask_proj.index_of("r017123"))
    assert row.fields["f2"] == pytest.approx(frame["f2"].iloc[17_123])
    assert dask_proj.labeled_count() == 60


@pytest.mark.parametrize("strategy", ["least_confidence", "margin", "entropy"])
def test_partition_merge_equals_the_embedded_engine_picks(pools, client, strategy):
    from activelab.core.scale.query import dask_query

    _, _, embedded, dask_proj = pools
    want = embedded.query(15, strategy=strategy)
    got = dask_query(dask_proj, 15, strategy, client=client)
    # The same scores and rows in the same order: equal scores (float32) are ordered by the
    # embedded engine's seeded draws in both engines.
    assert [it.score for it in got] == [it.score for it in want]
    assert [it.id for it in got] == [it.id for it in want]
    assert got[0].predictions["label"].label in ("a", "b")
    assert "Dask engine, 6 partitions" in got[0].reason
    assert [it.id for it in dask_proj.queue()] == [it.id for it in got]   # saved, as embedded


def test_batch_strategy_is_exact_when_the_prefilter_holds_every_candidate(pools, client,
                                                                          monkeypatch):
    """core-set: the pre-filter's uniform candidate sample holds the whole pool here, so the
    exact batch step picks what the embedded engine picks."""
    from activelab.core.scale import query as q

    _, _, embedded, dask_proj = pools
    monkeypatch.setattr(q, "BATCH_CANDIDATES", 30_000)
    want = embedded.query(8, strategy="coreset")
    got = q.dask_query(dask_proj, 8, "coreset", client=client)
    assert [it.id for it in got] == [it.id for it in want]
    assert [it.score for it in got] == pytest.approx([it.score for it in want], rel=1e-5)


def test_batch_strategy_on_a_candidate_sample_stays_within_the_stated_tolerance(pools, client,
                                                                                monkeypatch):
    """With 10,000 of 23,940 candidates in the pre-filter, each core-set pick covers a radius
    within 10% of the embedded engine's pick at the same rank (the tolerance in the README)."""
    from activelab.core.scale import query as q

    _, _, embedded, dask_proj = pools
    monkeypatch.setattr(q, "BATCH_CANDIDATES", 10_000)
    want = embedded.query(8, strategy="coreset")
    got = q.dask_query(dask_proj, 8, "coreset", client=client)
    assert len({it.id for it in got}) == 8
    assert not any(dask_proj.store.state().is_labeled(it.id) for it in got)
    ratios = [w.score / g.score for w, g in zip(want, got)]
    assert max(ratios) <= 1.10, ratios


def test_numeric_scaling_is_the_whole_pools_with_missing_values(tmp_path, client):
    """Moments merged part by part equal the embedded engine's scaling of the whole column
    (missing values filled with the median of the sample: here the sample is the pool)."""
    from activelab.core.features.numeric import column_scaling
    from activelab.core.scale.create import create_dask_project
    from activelab.core.scale.featurize import Featurizer

    frame = _pool(tmp_path / "pool", n=12_000, parts=5, missing=True)
    path, _ = create_dask_project(tmp_path / "p", data=tmp_path / "pool", id_column="id",
                                  tasks=["label=label"], client=client)
    feat = Featurizer.from_dict(Project.open(path).store.get_setting("scale_featurizer"))
    for c, f, m, s in zip(feat.numeric, feat.fills, feat.means, feat.stds):
        want = column_scaling(frame[c].to_numpy(dtype=np.float64))
        assert (f, m, s) == pytest.approx(want, rel=1e-12)


def test_merge_keeps_the_global_top_k_with_ties_by_position():
    from activelab.core.scale.scoring import local_top_k, merge_top_k

    rng = np.random.default_rng(3)
    scores = np.round(rng.random(5_000), 2)       # many ties
    parts = []
    for lo in range(0, 5_000, 700):
        pos = np.arange(lo, min(lo + 700, 5_000))
        pick = local_top_k(scores[pos], pos, 40)
        parts.append({"positions": pos[pick], "scores": scores[pos][pick]})
    merged = merge_top_k(parts, 40)
    want = np.lexsort((np.arange(5_000), -scores))[:40]
    assert merged["positions"].tolist() == want.tolist()


def test_cancelling_a_query_cancels_its_futures(pools, client):
    from activelab.core.scale import query as q

    _, _, _, dask_proj = pools
    progress = Progress()
    progress.cancel()
    with pytest.raises(Cancelled):
        q.dask_query(dask_proj, 5, "entropy", progress=progress, client=client)


def test_cli_new_and_query_with_the_dask_engine_then_scheduler_gone(tmp_path, monkeypatch, capsys):
    from activelab.core.scale import cluster

    monkeypatch.setenv("ACTIVELAB_DASK_PROCESSES", "0")
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1.0)
    _pool(tmp_path / "pool", n=3_000, parts=3, labelled=30, seed=5)
    try:
        assert main(["new", str(tmp_path / "p"), "--data", str(tmp_path / "pool" / "*.parquet"),
                     "--engine", "dask", "--id-column", "id", "--task", "label=label",
                     "--import-labels"]) == 0
        assert main(["query", str(tmp_path / "p"), "-n", "3"]) == 0
        out = capsys.readouterr().out
        first = [ln.split("\t")[0] for ln in out.splitlines() if ln.startswith("r0")]
        assert len(first) == 3
    finally:
        cluster.close_local_clusters()
    proj = Project.open(tmp_path / "p")
    proj.store.set_setting("engine", {"name": "dask", "scheduler": "tcp://127.0.0.1:9"})
    main(["label", str(tmp_path / "p"), first[0], "a"])       # the queue must be rebuilt
    capsys.readouterr()
    assert main(["query", str(tmp_path / "p"), "-n", "3"]) == 0
    out, err = capsys.readouterr()
    assert "cannot be reached" in out and "previous queue" in out
    assert [ln.split("\t")[0] for ln in out.splitlines() if ln.startswith("r0")] == first[1:]
    # With no previous queue: one paragraph, exit 1, no traceback.
    proj.store.save_queue([], -1)
    assert main(["query", str(tmp_path / "p"), "-n", "3"]) == 1
    out, err = capsys.readouterr()
    assert err.startswith("error: The Dask scheduler at tcp://127.0.0.1:9 cannot be reached")
    assert "Traceback" not in err and "no previous queue" in err


def test_a_project_with_a_scheduler_address_scores_on_that_cluster(tmp_path, client):
    """``--scheduler ADDRESS``: the project connects to that scheduler (here the test's
    cluster); a text column is hashed per partition on its workers."""
    from activelab.core.scale import cluster
    from activelab.core.scale.create import create_dask_project

    rng = np.random.default_rng(7)
    words = np.array(["good", "great", "fine", "bad", "awful", "poor", "movie", "plot"])
    texts = [" ".join(rng.choice(words, 6)) for _ in range(2_000)]
    y = np.array(["pos" if sum(w in t for w in ("good", "great", "fine")) >= 2 else "neg"
                  for t in texts], dtype=object)
    y[30:] = None
    frame = pd.DataFrame({"text": texts, "label": y})
    (tmp_path / "pool").mkdir()
    for p in range(2):
        frame.iloc[p * 1000:(p + 1) * 1000].to_parquet(tmp_path / "pool" / f"{p}.parquet")
    address = client.scheduler.address
    path, _ = create_dask_project(tmp_path / "p", data=tmp_path / "pool", scheduler=address,
                                  text_columns=["text"], tasks=["label=label"],
                                  import_labels=True, strategy="margin")
    proj = Project.open(path)
    assert proj.store.get_setting("engine") == {"name": "dask", "scheduler": address}
    before = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)
    try:
        items = proj.query(5)
    finally:
        cluster.close_local_clusters()      # its client of the test's scheduler
    after = client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)
    assert after > before                                  # the parts were scored there
    assert len(items) == 5 and "Dask engine, 2 partitions" in items[0].reason
    assert all(not proj.store.state().is_labeled(it.id) for it in items)
