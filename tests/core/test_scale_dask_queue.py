"""The Dask engine's whole queue (picks and audit picks) equals the embedded engine's (issue 13).

Same pool, same labels, same seed: the Dask engine draws the audit picks' count, the tie-breaking
draws and the audit picks from the embedded engine's generator stream, and fits its model on
the same numbers, so the queues are equal item for item (ids, order, audit flags, scores).
A LocalCluster with threads (processes=False), as CI needs.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from tests.core.scale_helpers import in_process_client, twin_projects
from tests.core.test_scale_dask import _pool

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    yield from in_process_client()


@pytest.fixture(scope="module")
def pair(tmp_path_factory, client):
    """The same 20k-row pool in 5 parts as an embedded and a Dask project, audit picks on."""
    root = tmp_path_factory.mktemp("queue")
    _pool(root / "pool", n=20_000, parts=5, labelled=80, seed=4)
    embedded, dask_proj, _ = twin_projects(
        root, root / "pool", settings={"audit_rate": 0.3, "seed": 11}, id_column="id",
        tasks=["label=label"], import_labels=True, strategy="least_confidence",
        client=client)
    return embedded, dask_proj


def _rows(queue):
    return [(it.id, it.audit, it.strategy, None if math.isnan(it.score) else it.score,
             it.predictions["label"].label, it.predictions["label"].confidence) for it in queue]


@pytest.mark.parametrize("strategy", ["least_confidence", "margin", "entropy"])
def test_the_whole_queue_equals_the_embedded_engines(pair, client, strategy):
    from activelab.core.scale.query import dask_query

    embedded, dask_proj = pair
    want = embedded.query(20, strategy=strategy)
    got = dask_query(dask_proj, 20, strategy, client=client, save=False)
    assert sum(it.audit for it in want) >= 2          # the rate 0.3 gave audit picks here
    assert _rows(got) == _rows(want)


def test_equal_scores_are_ordered_by_the_embedded_engines_draws():
    from activelab.core.querying.strategy_api import top_k
    from activelab.core.scale.scoring import local_top_k, merge_top_k, tie_draws

    scores = np.round(np.random.default_rng(3).random(5_000), 1)     # ties everywhere
    rng = np.random.default_rng([7, 2])
    state = rng.bit_generator.state
    want = top_k(scores, 40, rng)
    parts = []
    for lo in range(0, 5_000, 700):
        pos = np.arange(lo, min(lo + 700, 5_000))
        draws = tie_draws(state, lo, len(pos))
        pick = local_top_k(scores[pos], pos, 40, draws)
        parts.append({"positions": pos[pick], "scores": scores[pos][pick],
                      "tiebreak": draws[pick]})
    assert merge_top_k(parts, 40)["positions"].tolist() == want.tolist()
    assert want.tolist() != sorted(want.tolist())       # not simply by position


def test_nth_free_row_skips_the_taken_ones():
    from activelab.core.scale.audit import nth_free

    taken = np.array([0, 3, 4, 9])
    free = np.setdiff1d(np.arange(20), taken)
    idx = np.array([0, 1, 2, 5, 15])
    assert nth_free(taken, idx).tolist() == free[idx].tolist()


def test_a_worker_lost_mid_query_is_retried_and_the_queue_stays_equal(pair):
    """A worker closed while it scores a part: Dask runs the part again on the other worker
    and the queue is still the embedded engine's."""
    from distributed import Client, LocalCluster

    from activelab.core.progress import Progress
    from activelab.core.scale.query import dask_query

    embedded, dask_proj = pair
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                           dashboard_address=":0", worker_dashboard_address=":0")
    c = Client(cluster, set_as_default=False)
    lost: list[str] = []

    def kill_a_busy_worker(fraction, _message):
        if lost or not fraction:
            return
        busy = [w for w, keys in c.processing().items()
                if any(str(k).startswith("score_part") for k in keys)]
        if busy:
            name = next(n for n, w in cluster.workers.items() if w.address == busy[0])
            c.sync(cluster.workers[name].close)
            lost.append(busy[0])

    try:
        want = embedded.query(20, strategy="entropy")
        got = dask_query(dask_proj, 20, "entropy", client=c, save=False,
                         progress=Progress(kill_a_busy_worker))
        assert lost, "no worker was scoring a part when the first part finished"
        assert lost[0] not in c.scheduler_info()["workers"]      # it is gone
        assert _rows(got) == _rows(want)
    finally:
        c.close()
        cluster.close()
