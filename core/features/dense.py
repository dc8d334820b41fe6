"""The dense view of the features: at most ``dense_dim`` float32 columns.

Strategies that need distances (k-means, core-set, density) and the pool map work on this
view. Narrow dense features are used as they are; wider ones are reduced by PCA (dense) or
truncated SVD (sparse); several modalities are reduced block by block.
"""
from __future__ import annotations

import os

import numpy as np
import scipy.sparse as sp


def dense_view_of_parts(parts: list[np.ndarray | sp.csr_matrix], dense_dim: int) -> np.ndarray:
    """Dense view of several scaled blocks: each reduced on its own, then side by side.

    One SVD of [sparse text | dense pixels] would run the pixels through slow sparse
    products (a minute for 10,000 products); per block, each uses its fast route. The width
    is shared out equally; a block narrower than its share keeps all its columns and leaves
    the rest to the others.
    """
    if len(parts) == 1:
        return dense_view(parts[0], dense_dim)
    widths = [p.shape[1] for p in parts]
    if sum(widths) <= dense_dim and not any(sp.issparse(p) for p in parts):
        return np.ascontiguousarray(np.hstack([_unit_variance(p) for p in parts]), dtype=np.float32)
    share = [0] * len(parts)
    left, open_ = dense_dim, sorted(range(len(parts)), key=lambda i: widths[i])
    while open_:
        budget = max(1, left // len(open_))
        i = open_.pop(0)
        share[i] = min(widths[i], budget)
        left -= share[i]
    reduced = [_unit_variance(dense_view(p, k)) for p, k in zip(parts, share)]
    return np.ascontiguousarray(np.hstack(reduced), dtype=np.float32)


def _unit_variance(block: np.ndarray) -> np.ndarray:
    """Scale a reduced block to total variance 1, so every modality weighs the same in
    distances and in the pool map (else one standardized tabular column can outweigh a whole
    text or image block)."""
    block = np.asarray(block, dtype=np.float32)
    total = float(block.var(axis=0).sum()) if block.shape[0] > 1 else 0.0
    return block / np.sqrt(total) if total > 0 else block


def _blas_threads() -> int:
    """BLAS threads for the decompositions: 1 on a 2-core machine, else 2.

    Measured on 2 cores with other work running (the GUI, a retrain): OpenBLAS with 2
    threads made truncated SVD of SMS spam 9x slower (17.7 s vs 2.0 s) and PCA 4x slower.
    """
    return 1 if (os.cpu_count() or 1) <= 2 else 2


def dense_view(X: np.ndarray | sp.csr_matrix, dense_dim: int) -> np.ndarray:
    """At most ``dense_dim`` float32 columns that keep most of the variance of ``X``."""
    from threadpoolctl import threadpool_limits

    n, d = X.shape
    if not sp.issparse(X) and d <= dense_dim:
        return X
    if sp.issparse(X) and d <= dense_dim:
        return np.asarray(X.toarray(), dtype=np.float32)
    if n < 2:  # nothing to decompose; keep the first columns
        return np.asarray(X[:, :dense_dim].toarray() if sp.issparse(X) else X[:, :dense_dim],
                          dtype=np.float32)
    k = max(1, min(dense_dim, n - 1, d - 1))
    with threadpool_limits(limits=_blas_threads()):
        if sp.issparse(X):
            from sklearn.decomposition import TruncatedSVD

            svd = TruncatedSVD(n_components=k, algorithm="randomized", random_state=0)
            return np.ascontiguousarray(svd.fit_transform(X), dtype=np.float32)
        return _pca(X, k)


def _pca(X: np.ndarray, k: int) -> np.ndarray:
    """PCA fitted on a random sample of rows (plenty to estimate the axes), applied to all.

    Up to 1,024 columns (28x28 or 32x32 grey pixels) the exact covariance route is fastest
    (60,000 x 784 -> 256 in about 1.5 s); wider (RGB pixels) randomized PCA on fewer rows
    is 10x faster than the covariance route.
    """
    from sklearn.decomposition import PCA

    n, d = X.shape
    if d <= 1024:
        pca, fit_rows = PCA(n_components=k, svd_solver="covariance_eigh"), 20_000
    else:
        pca, fit_rows = PCA(n_components=k, svd_solver="randomized", random_state=0), 10_000
    pca.set_params(n_components=max(1, min(k, min(n, fit_rows) - 1)))
    if n > fit_rows:
        rows = np.sort(np.random.default_rng(0).choice(n, fit_rows, replace=False))
        pca.fit(np.asarray(X[rows], dtype=np.float32))
    else:
        pca.fit(np.asarray(X, dtype=np.float32))
    out = np.empty((n, pca.n_components_), dtype=np.float32)
    for start in range(0, n, 16384):
        out[start:start + 16384] = pca.transform(np.asarray(X[start:start + 16384], dtype=np.float32))
    return out
