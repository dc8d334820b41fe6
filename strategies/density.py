"""Information density (Settles & Craven 2008): uncertainty x representativeness ** beta.

Representativeness of x is its mean similarity sim(x, x') = 1 / (1 + distance(x, x')) to
other pool samples (modAL's convention; distance is cosine or euclidean). Three ways to get it,
none of which builds an N x N matrix:

* ``exact``: mean similarity to every pool sample (the textbook definition, equal to modAL's
  ``information_density``); computed in row blocks, O(N) memory but O(N^2) time, for small pools.
* ``knn``: mean similarity to the k nearest neighbours among a reference set (the pool, or a
  seeded random subsample of ``reference_size`` pool samples at large N).
* ``centroids``: mean similarity to k-means centroids weighted by cluster size, which
  approximates the exact mean.
"""
from __future__ import annotations

from typing import Annotated

import numpy as np
from threadpoolctl import threadpool_limits

from activelab.core.errors import StrategyError
from activelab.core.querying.strategy_api import (
    Doc, QueryContext, TaskOutput, aggregate_task_scores, strategy,
)
from activelab.strategies import uncertainty

BASES = ("entropy", "least_confidence", "margin")
MODES = ("knn", "centroids", "exact")
METRICS = ("cosine", "euclidean")
SMALL_POOL = 50000


def base_uncertainty(ctx: QueryContext, base: str) -> np.ndarray:
    """Aggregated uncertainty per candidate, non-negative (margin becomes 1 - gap)."""
    fns = {
        "entropy": uncertainty.entropy_scores,
        "least_confidence": uncertainty.least_confidence_scores,
        "margin": lambda p, ml: 1.0 + uncertainty.margin_scores(p, ml),
    }
    if base not in fns:
        raise StrategyError(f"Unknown base uncertainty '{base}'; use one of {list(BASES)}.")
    fn = fns[base]

    def one(out: TaskOutput, cand: np.ndarray):
        if out.proba is None:
            return None
        return fn(np.asarray(out.proba[cand], dtype=np.float64), out.multilabel)

    return aggregate_task_scores(ctx, one)


def _prepare(X: np.ndarray, metric: str, dtype) -> tuple[np.ndarray, np.ndarray | None]:
    """Unit rows for cosine (zero rows stay zero, as in scikit-learn), or (X, squared norms)."""
    if metric == "cosine":
        norms = np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64)).astype(dtype)
        norms[norms == 0] = 1.0
        return (X / norms[:, None]).astype(dtype, copy=False), None
    if metric == "euclidean":
        return X, np.einsum("ij,ij->i", X, X, dtype=np.float64).astype(dtype)
    raise StrategyError(f"Unknown metric '{metric}'; use one of {list(METRICS)}.")


def _block_distances(A, a_norms, B, b_norms, metric: str) -> np.ndarray:
    g = A @ B.T
    if metric == "cosine":
        np.subtract(1.0, g, out=g)
        np.clip(g, 0.0, 2.0, out=g)
        return g
    g *= -2.0
    g += a_norms[:, None]
    g += b_norms[None, :]
    np.maximum(g, 0.0, out=g)
    np.sqrt(g, out=g)
    return g


def exact_density(X: np.ndarray, rows: np.ndarray, metric: str = "cosine",
                  block: int = 1024) -> np.ndarray:
    """Mean of 1/(1+distance) from each of ``rows`` to every row of X (self included)."""
    X = np.asarray(X, dtype=np.float64)
    Xp, norms = _prepare(X, metric, np.float64)
    out = np.empty(len(rows))
    for s in range(0, len(rows), block):
        r = rows[s:s + block]
        d = _block_distances(Xp[r], None if norms is None else norms[r], Xp, norms, metric)
        if metric == "euclidean":
            d[np.arange(len(r)), r] = 0.0  # exact zero self-distance, as scikit-learn does
        d += 1.0
        np.reciprocal(d, out=d)
        out[s:s + block] = d.mean(axis=1)
    return out


def _k_largest(h: np.ndarray, k: int) -> np.ndarray:
    """The k largest values of each row of h (any order); h may be overwritten.

    For small k, k argmax passes beat np.partition by about 2x (a partition copies and
    selects per row; an argmax is one vectorised pass).
    """
    if k > 16:
        return np.partition(h, h.shape[1] - k, axis=1)[:, h.shape[1] - k:]
    rows = np.arange(h.shape[0])
    out = np.empty((h.shape[0], k), dtype=h.dtype)
    for i in range(k):
        j = h.argmax(axis=1)
        out[:, i] = h[rows, j]
        h[rows, j] = -np.inf
    return out


def knn_density(X: np.ndarray, rows: np.ndarray, k: int, reference_size: int,
                rng: np.random.Generator, metric: str = "cosine", block: int = 4096) -> np.ndarray:
    """Mean similarity of each of ``rows`` to its k nearest reference samples (self excluded).

    Neighbours are found on a monotone transform of the distance, so only k values per row
    are turned into distances: the largest cosine similarities, or for euclidean the largest
    a.b - |b|^2 / 2 (|a - b|^2 = |a|^2 - 2 (a.b - |b|^2 / 2)).
    """
    n = X.shape[0]
    ref = np.arange(n) if n <= reference_size else np.sort(rng.choice(n, reference_size, replace=False))
    col_of = np.full(n, -1, dtype=np.int64)
    col_of[ref] = np.arange(len(ref))
    R = np.asarray(X[ref], dtype=np.float32)
    Rp, r_norms = _prepare(R, metric, np.float32)
    RT = np.ascontiguousarray(Rp.T)
    k = max(1, min(int(k), len(ref) - 1 if len(ref) > 1 else 1))
    out = np.empty(len(rows))
    for s in range(0, len(rows), block):
        r = rows[s:s + block]
        Ap, a_norms = _prepare(np.asarray(X[r], dtype=np.float32), metric, np.float32)
        h = Ap @ RT
        if metric == "euclidean":
            h -= 0.5 * r_norms[None, :]
        own = col_of[r]
        has = own >= 0
        h[np.flatnonzero(has), own[has]] = -np.inf
        top = _k_largest(h, k).astype(np.float64)
        if metric == "cosine":
            near = np.clip(1.0 - top, 0.0, 2.0)
        else:
            near = np.sqrt(np.maximum(a_norms.astype(np.float64)[:, None] - 2.0 * top, 0.0))
        out[s:s + block] = (1.0 / (1.0 + near)).mean(axis=1)
    return out


def centroid_density(X: np.ndarray, rows: np.ndarray, n_centroids: int,
                     rng: np.random.Generator, metric: str = "cosine",
                     block: int = 16384) -> np.ndarray:
    """Cluster-size-weighted mean similarity of each of ``rows`` to k-means centroids."""
    from sklearn.cluster import MiniBatchKMeans

    n = X.shape[0]
    sample = np.arange(n) if n <= 20000 else np.sort(rng.choice(n, 20000, replace=False))
    S, _ = _prepare(np.asarray(X[sample], dtype=np.float32), metric, np.float32)
    k = max(1, min(int(n_centroids), len(sample)))
    km = MiniBatchKMeans(n_clusters=k, n_init=1, random_state=int(rng.integers(2**31 - 1)),
                         batch_size=2048)
    labels = km.fit_predict(S)
    w = np.bincount(labels, minlength=k).astype(np.float64)
    w /= w.sum()
    C = km.cluster_centers_.astype(np.float32)
    Cp, c_norms = _prepare(C, metric, np.float32)
    out = np.empty(len(rows))
    for s in range(0, len(rows), block):
        r = rows[s:s + block]
        Ap, a_norms = _prepare(np.asarray(X[r], dtype=np.float32), metric, np.float32)
        d = _block_distances(Ap, a_norms, Cp, c_norms, metric).astype(np.float64)
        out[s:s + block] = (1.0 / (1.0 + d)) @ w
    return out


#: The ``base`` parameter of the strategies that weigh an uncertainty measure.
Base = Annotated[str, Doc("Uncertainty measure that is weighted.", choices=BASES)]


@strategy("density_weighted",
          "Uncertainty times representativeness^beta (information density, no N x N matrix).",
          requires={"proba", "features"}, optional={"embeddings"})
def density_weighted(
    ctx: QueryContext,
    base: Base = "entropy",
    beta: Annotated[float, Doc("Weight of representativeness.", minimum=0.0)] = 1.0,
    mode: Annotated[str, Doc(
        "knn: k nearest neighbours among a reference sample; centroids: k-means centroids; "
        "exact: all pool samples (small pools, O(N^2) time).", choices=MODES)] = "knn",
    metric: Annotated[str, Doc("Distance behind similarity 1/(1+d).", choices=METRICS)] = "cosine",
    k: Annotated[int, Doc("Neighbours per sample (knn mode).", minimum=1)] = 10,
    reference_size: Annotated[int, Doc(
        "Pool samples the neighbours are drawn from (knn mode; the whole pool when smaller).",
        minimum=2)] = 1000,
    n_centroids: Annotated[int, Doc("k-means centroids (centroids mode).", minimum=1)] = 50,
) -> np.ndarray:
    """Uncertainty times representativeness ** beta, per candidate."""
    u = base_uncertainty(ctx, base)
    X = ctx.representation()
    rows = np.asarray(ctx.candidates, dtype=np.int64)
    if mode not in MODES:
        raise StrategyError(f"Unknown density mode '{mode}'; use one of {list(MODES)}.")
    if mode == "exact":
        rep = exact_density(X, rows, metric)
    else:
        # Small pools: one BLAS/OpenMP thread (thread start-up and contention cost more than
        # they save: knn at 10k x d=64 took 58 ms with two threads, 43 ms with one).
        with threadpool_limits(limits=1 if len(rows) <= SMALL_POOL else None):
            if mode == "knn":
                rep = knn_density(X, rows, k, reference_size, ctx.rng, metric)
            else:
                rep = centroid_density(X, rows, n_centroids, ctx.rng, metric)
    return u * np.power(rep, beta)
