"""Shared numeric helpers for distance-based strategies: chunked distances, never N x N.

Every helper works on float32 arrays in row blocks so peak memory stays linear in N.
"""
from __future__ import annotations

import numpy as np

from activelab.core.querying.strategy_api import QueryContext

#: Rows per block in chunked distance computations (block x reference stays a few hundred MB).
BLOCK = 8192


def representation_of(ctx: QueryContext, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(X, rows): a float32 matrix holding the candidates, and the row of each candidate in it.

    When the candidates cover most of the pool the whole pool matrix is used as is (no 1M-row
    copy); otherwise only the candidate rows are copied.
    """
    rep = ctx.representation()
    if rep.dtype != np.float32:
        rep = np.asarray(rep, dtype=np.float32)
    if len(candidates) * 2 >= rep.shape[0]:
        return rep, np.asarray(candidates, dtype=np.int64)
    return np.ascontiguousarray(rep[candidates]), np.arange(len(candidates), dtype=np.int64)


def sq_norms(X: np.ndarray) -> np.ndarray:
    """Row-wise squared norms in float32, computed blockwise."""
    out = np.empty(X.shape[0], dtype=np.float32)
    for s in range(0, X.shape[0], BLOCK * 8):
        b = X[s:s + BLOCK * 8]
        out[s:s + BLOCK * 8] = np.einsum("ij,ij->i", b, b)
    return out


def sq_dist_to_point(X: np.ndarray, norms: np.ndarray, c: np.ndarray, c_norm: float) -> np.ndarray:
    """Squared euclidean distance of every row of X to point c (O(N d), one pass)."""
    d = X @ c
    d *= -2.0
    d += norms
    d += c_norm
    np.maximum(d, 0.0, out=d)
    return d


def min_sq_dist_to_set(
    X: np.ndarray, norms: np.ndarray, rows: np.ndarray, S: np.ndarray
) -> np.ndarray:
    """For each of ``rows`` of X: the squared distance to its nearest row of S (chunked)."""
    out = np.full(len(rows), np.inf, dtype=np.float32)
    if S.shape[0] == 0:
        return out
    S = np.asarray(S, dtype=np.float32)
    s_norms = sq_norms(S)
    for s0 in range(0, S.shape[0], 2048):
        Sb, nb = S[s0:s0 + 2048], s_norms[s0:s0 + 2048]
        for r0 in range(0, len(rows), BLOCK):
            r = rows[r0:r0 + BLOCK]
            Xb = X[r]
            d = Xb @ Sb.T
            d *= -2.0
            d += norms[r][:, None]
            d += nb[None, :]
            np.minimum(out[r0:r0 + BLOCK], d.min(axis=1), out=out[r0:r0 + BLOCK])
    np.maximum(out, 0.0, out=out)
    return out


def argmax_random_tie(values: np.ndarray, rng: np.random.Generator) -> int:
    """Position of the maximum; among exact ties one is drawn from ``rng``."""
    best = values.max()
    ties = np.flatnonzero(values == best)
    if len(ties) == 1:
        return int(ties[0])
    return int(ties[rng.integers(len(ties))])


def single_thread(func):
    """Run ``func`` with one BLAS/OpenMP thread: the greedy loops do many small matrix-vector
    products, where thread start-up and contention cost more than they save (measured 3x)."""
    import functools

    from threadpoolctl import threadpool_limits

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with threadpool_limits(limits=1):
            return func(*args, **kwargs)

    return wrapper
