"""The app's confidence panel and pool map of a Dask-engine project, from the query's own pass
(issue 13): the counts merged from the parts equal the embedded engine's histogram of the same
pool, and the map is a seeded uniform sample plus the labelled rows and the queue.
A LocalCluster with threads (processes=False), as CI needs.
"""
from __future__ import annotations

import numpy as np
import pytest

from activelab.core.scale.confidence import ConfidenceSummary, confidence_counts, fine_median
from activelab.core.scale.sample_map import map_shares, part_map_rows
from tests.core.scale_helpers import in_process_client, twin_projects
from tests.core.test_scale_dask import _pool

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    yield from in_process_client()


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """The same 12k-row pool in 4 parts as an embedded and a Dask project (audit picks on)."""
    root = tmp_path_factory.mktemp("panels")
    _pool(root / "pool", n=12_000, parts=4, labelled=70, seed=5)
    embedded, dask_proj, _ = twin_projects(
        root, root / "pool", settings={"audit_rate": 0.3, "seed": 3}, id_column="id",
        tasks=["label=label"], import_labels=True, strategy="least_confidence")
    return embedded, dask_proj


def _embedded_unlabelled(embedded):
    labels, conf = embedded.predictions()["label"]
    keep = np.ones(embedded.n_samples, dtype=bool)
    keep[list(embedded.labels()["label"])] = False
    return labels[keep], conf[keep]


def _panels(dask_proj, client, strategy, monkeypatch=None):
    from activelab.core.scale.query import dask_query

    made: dict = {}
    queue = dask_query(dask_proj, 20, strategy, client=client, save=False, made=made, panels=True)
    return queue, made["panels"]


@pytest.mark.parametrize("strategy", ["least_confidence", "coreset"])
def test_merged_confidence_counts_equal_the_embedded_engines_histogram(pair, client, strategy):
    embedded, dask_proj = pair
    labels, conf = _embedded_unlabelled(embedded)
    _queue, panels = _panels(dask_proj, client, strategy)
    got = panels.confidence["label"]
    assert got.n == 12_000 - 70 == len(conf)
    assert got.counts.tolist() == confidence_counts(conf).tolist()
    assert got.counts.sum() == got.n
    assert got.below == int((conf < 0.6).sum()) > 0
    want_classes = dict(zip(*np.unique(labels.astype(str), return_counts=True)))
    assert got.classes == {k: int(v) for k, v in want_classes.items()}
    assert abs(got.median - float(np.median(conf))) <= 0.0005 + 1e-9
    assert not got.median_exact


def test_panels_leave_the_queue_as_the_embedded_engine_makes_it(pair, client):
    """Every row of a part is predicted for the panels; the picks stay the embedded ones."""
    embedded, dask_proj = pair
    want = embedded.query(20, strategy="margin")
    got, _ = _panels(dask_proj, client, "margin")
    assert [(it.id, it.audit, it.predictions["label"].confidence) for it in got] == \
        [(it.id, it.audit, it.predictions["label"].confidence) for it in want]


def test_the_map_is_a_seeded_uniform_sample_plus_labelled_rows_and_the_queue(
        pair, client, monkeypatch):
    from activelab.core.scale import sample_map

    _embedded, dask_proj = pair
    monkeypatch.setattr(sample_map, "MAP_SAMPLE", 1_000)
    queue, panels = _panels(dask_proj, client, "least_confidence")
    m = panels.map
    labelled = np.asarray(sorted(dask_proj.labels()["label"]))
    assert m.sampled == 1_000 and m.pool_rows == 12_000 and m.is_sample
    assert "sample of 1,000 of 12,000 rows" in m.title()
    assert np.isin(labelled, m.positions).all()
    assert np.isin([it.idx for it in queue], m.positions).all()
    assert (np.diff(m.positions) > 0).all() and m.xy.shape == (len(m.positions), 2)
    assert np.isfinite(m.xy).all() and m.xy[:, 0].std() > 0
    sampled = np.setdiff1d(m.positions, np.r_[labelled, [it.idx for it in queue]])
    per_part = np.bincount(sampled // 3_000, minlength=4)
    assert (per_part >= 240).all()            # about 250 from each 3,000-row part
    labels, conf = m.predictions["label"]
    assert set(labels.tolist()) == {"a", "b"} and np.isfinite(conf).all()
    _, again = _panels(dask_proj, client, "least_confidence")
    assert again.map.positions.tolist() == m.positions.tolist()     # seeded: the same rows
    assert np.allclose(again.map.xy, m.xy)


def test_shares_are_proportional_and_add_up():
    assert map_shares([100, 300, 600], 10).tolist() == [1, 3, 6]
    assert map_shares([5, 5, 5], 10).sum() == 10
    assert map_shares([3, 4], 10).tolist() == [3, 4]          # a small pool: every row
    rows = part_map_rows(1_000, 50, seed=1, part=2)
    assert len(np.unique(rows)) == 50 and rows.tolist() == part_map_rows(1_000, 50, 1, 2).tolist()
    assert rows.tolist() != part_map_rows(1_000, 50, 1, 3).tolist()


def test_merged_summary_adds_counts_and_reads_the_median_from_fine_bins():
    rng = np.random.default_rng(0)
    conf = rng.beta(5, 2, size=10_001)
    whole = ConfidenceSummary.from_confidence(conf, np.where(conf > 0.7, "x", "y"))
    parts = [ConfidenceSummary.from_confidence(c, np.where(c > 0.7, "x", "y"))
             for c in np.array_split(conf, 7)]
    merged = ConfidenceSummary.merge(parts)
    assert merged.counts.tolist() == whole.counts.tolist()
    assert (merged.n, merged.below, dict(merged.classes)) == (whole.n, whole.below, dict(whole.classes))
    assert abs(merged.median - whole.median) <= 0.0005
    assert fine_median(np.zeros(1000)) is None


def test_before_the_first_model_the_map_shows_the_sample_and_the_random_queue(
        tmp_path, client, monkeypatch):
    from activelab.core.project.project import Project
    from activelab.core.scale import sample_map
    from activelab.core.scale.create import create_dask_project
    from activelab.core.scale.query import dask_query

    _pool(tmp_path / "pool", n=6_000, parts=3, labelled=0, seed=2)
    path, _ = create_dask_project(tmp_path / "p", data=str(tmp_path / "pool" / "*.parquet"),
                                  id_column="id", tasks=["label:a,b"])
    proj = Project.open(path)
    monkeypatch.setattr(sample_map, "MAP_SAMPLE", 900)
    made: dict = {}
    queue = dask_query(proj, 10, client=client, save=False, made=made, panels=True)
    panels = made["panels"]
    assert queue[0].strategy == "random" and panels.confidence == {}
    m = panels.map
    assert m.sampled == 900 and m.title().startswith("A sample of 900 of 6,000 rows")
    assert "the 0 labelled rows and the 10 queued" in m.details()
    assert np.isin([it.idx for it in queue], m.positions).all()
    assert np.isfinite(m.xy).all() and m.xy[:, 0].std() > 0
    assert m.predictions == {}                       # no model: nothing to colour by
    proj.close()
