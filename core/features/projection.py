"""2-D projection of the pool for the pool map."""
from __future__ import annotations

import numpy as np


def project_2d(X: np.ndarray, seed: int = 0, fit_rows: int = 20000) -> np.ndarray:
    """PCA to two components, fitted on at most ``fit_rows`` rows and applied in chunks."""
    from sklearn.decomposition import PCA

    n = X.shape[0]
    if n == 0:
        return np.zeros((0, 2), np.float32)
    rng = np.random.default_rng(seed)
    fit_idx = np.sort(rng.choice(n, size=min(n, fit_rows), replace=False))
    k = min(2, X.shape[1], len(fit_idx))
    pca = PCA(n_components=k, random_state=seed).fit(np.asarray(X[fit_idx], dtype=np.float32))
    out = np.zeros((n, 2), np.float32)
    for s in range(0, n, 65536):
        out[s:s + 65536, :k] = pca.transform(np.asarray(X[s:s + 65536], dtype=np.float32))
    return out
