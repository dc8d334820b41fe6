"""The features of a pool: one block per modality, what models train on, the dense view.

``FeatureSet.blocks`` holds each modality's matrix once (``image`` pixels, ``text`` TF-IDF or
embeddings, ``tabular`` standardized / one-hot columns). ``model_X`` is what classifiers
train on: with one modality that block itself (no copy); with several, the blocks side by
side after scaling each so that its rows have a norm of about 1 (image rows L2-normalized,
text rows already are, the standardized tabular block divided by sqrt(its width)), so no
modality dominates just because it has more columns. That combination is made in memory the
first time ``model_X`` is asked for and never stored: an image pool keeps its pixels once on
disk (before, the dense block and a sparse copy inside ``model_X`` were both cached).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

_MODALITY_ORDER = ("image", "text", "tabular")


class FeatureSet:
    """The features of every sample, one row per sample in pool order.

    ``model_X`` (N, D) dense float32 or CSR (see the module doc); ``dense`` (N, <= dense_dim)
    float32; ``blocks`` {modality: matrix}; ``image_shape`` (C, H, W) or None; ``fingerprint``
    what they were computed from; ``names`` {modality: width}. ``recipes`` {block name: how
    it is recomputed from the pool instead of being stored} (see ``activelab.core.features.numeric``).
    """

    def __init__(self, model_X: Any = None, dense: Any = None,
                 blocks: dict[str, Any] | None = None,
                 image_shape: tuple[int, int, int] | None = None, fingerprint: str = "",
                 names: dict[str, int] | None = None,
                 recipes: dict[str, dict[str, Any]] | None = None) -> None:
        self.blocks = dict(blocks or {})
        self._model_X = model_X
        if model_X is None and len(self.blocks) == 1:
            self._model_X = next(iter(self.blocks.values()))
        self.dense = dense
        self.image_shape = image_shape
        self.fingerprint = fingerprint
        self.names = dict(names or {name: int(b.shape[1]) for name, b in self.blocks.items()})
        self.recipes = dict(recipes or {})

    @property
    def model_X(self) -> np.ndarray | sp.csr_matrix:
        """What models train on (combined from the blocks on first use when several)."""
        if self._model_X is None:
            self._model_X = combine_blocks(scaled_blocks(self.blocks))
        return self._model_X

    @property
    def combined(self) -> bool:
        """True when ``model_X`` is made from several blocks (and so not stored)."""
        return len(self.blocks) > 1

    @property
    def n_samples(self) -> int:
        if self.dense is not None:
            return int(self.dense.shape[0])
        return int(next(iter(self.blocks.values())).shape[0])

    def __repr__(self) -> str:
        return (f"FeatureSet({self.n_samples} samples, blocks {self.names}, "
                f"fingerprint {self.fingerprint[:16]})")


def _l2_rows(X: np.ndarray) -> np.ndarray:
    norms = np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64)).astype(np.float32)
    norms[norms == 0] = 1.0
    return X / norms[:, None]


def scaled_blocks(blocks: dict[str, np.ndarray | sp.csr_matrix]) -> list[np.ndarray | sp.csr_matrix]:
    """The blocks in a fixed order, each scaled to a row norm of about 1 (see module doc)."""
    if len(blocks) == 1:
        return list(blocks.values())
    parts = []
    for name in _MODALITY_ORDER:
        if name not in blocks:
            continue
        b = blocks[name]
        if name == "image":
            b = _l2_rows(np.asarray(b, dtype=np.float32))
        elif name == "tabular":
            b = np.asarray(b, dtype=np.float32) / np.float32(np.sqrt(max(b.shape[1], 1)))
        parts.append(b)
    return parts


def combine_blocks(parts: list[np.ndarray | sp.csr_matrix]) -> np.ndarray | sp.csr_matrix:
    """One matrix for the model: the only block as is, or the scaled blocks side by side."""
    if len(parts) == 1:
        return parts[0]
    if any(sp.issparse(p) for p in parts):
        return sp.hstack([sp.csr_matrix(p) for p in parts], format="csr", dtype=np.float32)
    return np.ascontiguousarray(np.hstack(parts), dtype=np.float32)
