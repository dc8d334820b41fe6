"""Apply a per-row score to (S, N, C) sample stacks over the candidates in blocks, so a
1M-row pool never needs a float64 copy of the whole stack."""
from __future__ import annotations

from typing import Callable

import numpy as np

BLOCK = 65536


def score_stack(stack: np.ndarray, candidates: np.ndarray,
                fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``fn`` gets a float64 block of shape (S, b, C) and returns b scores."""
    out = np.empty(len(candidates), dtype=np.float64)
    for s in range(0, len(candidates), BLOCK):
        block = np.asarray(stack[:, candidates[s:s + BLOCK], :], dtype=np.float64)
        out[s:s + BLOCK] = fn(block)
    return out


def xlogx(p: np.ndarray) -> np.ndarray:
    """p log p with 0 log 0 = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)


def entropy_rows(p: np.ndarray) -> np.ndarray:
    """Entropy (nats) along the last axis."""
    return -xlogx(p).sum(axis=-1)


def binary_entropy(p: np.ndarray) -> np.ndarray:
    """Entropy of independent Bernoulli(p) entries (multi-label classes)."""
    return -(xlogx(p) + xlogx(1.0 - p))
