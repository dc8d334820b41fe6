"""Cold-start strategies: typical and diverse first picks, before any model exists.

TypiClust (Hacohen, Dekel & Weinshall 2022, "Active Learning on a Budget: Opposite Strategies
Suit High and Low Budgets"): with few labels, pick samples that are *typical* (in a dense
region) and *diverse* (one per cluster) instead of the outliers that greedy k-center takes
first. k-means into as many clusters as there will be labels; from each cluster without a
label, largest first, the most typical sample, typicality being the inverse mean distance to
its K nearest neighbours.

Cost: k-means on at most 20,000 (+ 20 per cluster) rows, one O(N d k) assignment pass in row
blocks, and per pick a K-nearest-neighbour pass inside one cluster on at most
``TYPICALITY_SAMPLE`` of its rows, so never an N x N matrix.
"""
from __future__ import annotations

from typing import Annotated

import numpy as np

from activelab.core.querying.strategy_api import Doc, QueryContext, QueryResult, strategy
from activelab.strategies._geometry import BLOCK

#: At most this many rows of one cluster enter its nearest-neighbour pass (a random sample of
#: them when the cluster is larger): 2,000 x 2,000 distances, 16 MB.
TYPICALITY_SAMPLE = 2000
#: k-means is fitted on at most this many rows (plus 20 per cluster), sampled with ctx.rng.
KMEANS_FIT_ROWS = 20000


def kmeans_labels(X: np.ndarray, rows: np.ndarray, k: int,
                  rng: np.random.Generator) -> np.ndarray:
    """Cluster of each of ``rows`` of X (int64, shape (len(rows),)) under k-means with ``k``
    clusters, fitted on a seeded sample of at most KMEANS_FIT_ROWS + 20 k rows. Exact k-means
    (Lloyd, 3 starts) up to 50 clusters, mini-batch k-means above, as in the authors' code."""
    from sklearn.cluster import KMeans, MiniBatchKMeans

    m = len(rows)
    limit = KMEANS_FIT_ROWS + 20 * k
    fit_rows = rows if m <= limit else np.sort(rng.choice(rows, limit, replace=False))
    seed = int(rng.integers(2**31 - 1))
    km = (KMeans(n_clusters=k, n_init=3, random_state=seed) if k <= 50 else
          MiniBatchKMeans(n_clusters=k, n_init=3, batch_size=4096, random_state=seed))
    km.fit(np.asarray(X[fit_rows], dtype=np.float32))
    C = km.cluster_centers_.astype(np.float32)
    c_norms = np.einsum("ij,ij->i", C, C)
    out = np.empty(m, dtype=np.int64)
    for s in range(0, m, BLOCK):
        Xb = np.asarray(X[rows[s:s + BLOCK]], dtype=np.float32)
        d = Xb @ C.T
        d *= -2.0
        d += c_norms[None, :]
        out[s:s + BLOCK] = d.argmin(axis=1)
    return out


def typicality(Xc: np.ndarray, k_neighbours: int) -> np.ndarray:
    """Typicality of each row of ``Xc`` (m, d) within ``Xc``: 1 / (mean euclidean distance to
    its ``k_neighbours`` nearest other rows + 1e-8) (Hacohen et al. 2022, eq. 2). O(m^2 d) in
    row blocks; shape (m,). A lone row has typicality 0."""
    Xc = np.asarray(Xc, dtype=np.float32)
    m = Xc.shape[0]
    if m < 2:
        return np.zeros(m)
    k = max(1, min(int(k_neighbours), m - 1))
    norms = np.einsum("ij,ij->i", Xc, Xc)
    out = np.empty(m)
    for s in range(0, m, 1024):
        d = Xc[s:s + 1024] @ Xc.T
        d *= -2.0
        d += norms[s:s + 1024, None]
        d += norms[None, :]
        np.maximum(d, 0.0, out=d)
        d[np.arange(d.shape[0]), np.arange(s, s + d.shape[0])] = np.inf   # not its own neighbour
        near = np.partition(d, k - 1, axis=1)[:, :k]
        out[s:s + 1024] = 1.0 / (np.sqrt(near, dtype=np.float64).mean(axis=1) + 1e-8)
    return out


@strategy("typiclust",
          "TypiClust: one typical sample per cluster not yet labeled, largest clusters first "
          "(for the first labels).", requires={"features"})
def typiclust(ctx: QueryContext, n: int,
              k_neighbours: Annotated[int, Doc("Neighbours in the typicality measure.",
                                               minimum=1, maximum=200)] = 20,
              max_clusters: Annotated[int, Doc("Most clusters k-means makes (labels beyond "
                                               "that share clusters).", minimum=2,
                                               maximum=5000)] = 500) -> QueryResult:
    """TypiClust (Hacohen, Dekel & Weinshall 2022). k = min(labeled + n, max_clusters)
    k-means clusters over the labeled samples and the candidates; a cluster holding a labeled
    sample is covered. Each pick: the largest uncovered cluster (by number of rows; ties
    drawn from ctx.rng), its candidate of highest typicality (``typicality``, on at most
    TYPICALITY_SAMPLE of its rows), and the cluster becomes covered. When every cluster with
    candidates is covered, the largest clusters are visited again. Score = the pick's
    typicality. Uses model embeddings when given, else the features."""
    X = ctx.representation()
    cand = np.asarray(ctx.candidates, dtype=np.int64)
    labeled = np.asarray(ctx.labeled, dtype=np.int64)
    n = min(int(n), len(cand))
    if n <= 0:
        return QueryResult(np.empty(0, np.int64), np.empty(0), None)
    rows = np.concatenate([cand, labeled])
    k = int(max(1, min(len(labeled) + n, max_clusters, len(rows))))
    assign = kmeans_labels(X, rows, k, ctx.rng)
    cand_cluster, lab_cluster = assign[:len(cand)], assign[len(cand):]
    size = np.bincount(assign, minlength=k).astype(np.float64)
    open_cand = np.bincount(cand_cluster, minlength=k)
    covered = np.zeros(k, dtype=bool)
    covered[lab_cluster] = True
    taken = np.zeros(len(cand), dtype=bool)
    tiebreak = ctx.rng.random(k)
    picks: list[int] = []
    scores: list[float] = []
    while len(picks) < n:
        avail = open_cand > 0
        if not np.any(avail & ~covered):    # every cluster has a label: visit them again
            covered[:] = False
        order = np.lexsort((-tiebreak, -size))
        c = int(next(c for c in order if avail[c] and not covered[c]))
        members = np.flatnonzero((cand_cluster == c) & ~taken)
        ref = members
        if len(ref) > TYPICALITY_SAMPLE:
            ref = np.sort(ctx.rng.choice(members, TYPICALITY_SAMPLE, replace=False))
        typ = typicality(np.asarray(X[cand[ref]], dtype=np.float32), k_neighbours)
        j = int(ref[int(np.argmax(typ))])
        picks.append(j)
        scores.append(float(typ.max()))
        taken[j] = True
        open_cand[c] -= 1
        covered[c] = True
    return QueryResult(cand[np.asarray(picks, dtype=np.int64)], np.asarray(scores), None)
