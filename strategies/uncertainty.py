"""Uncertainty sampling: least confidence, margin and entropy (Settles 2009, section 3.1).

Multi-label tasks score each class as an independent binary decision and average over classes.
Scores are higher for more informative samples.
"""
from __future__ import annotations

import numpy as np

from activelab.core.querying.strategy_api import (
    QueryContext, TaskOutput, aggregate_task_scores, strategy,
)


def _rows(out: TaskOutput, candidates: np.ndarray) -> np.ndarray | None:
    """The candidates' probabilities in their own dtype (float32 stays float32: at 1M rows a
    float64 copy costs more than the scores)."""
    if out.proba is None:
        return None
    return np.take(np.asarray(out.proba), candidates, axis=0)


def _by_class(p: np.ndarray) -> np.ndarray:
    """(C, m) contiguous copy of (m, C) probabilities (float32 or float64).

    Reductions over a short last axis are slow in NumPy (a 500k x 10 max took 43 ms); over
    the first axis of a (C, m) array they are elementwise passes over rows (about 5x faster).
    """
    p = np.asarray(p)
    if p.dtype not in (np.float32, np.float64):
        p = p.astype(np.float64)
    return np.ascontiguousarray(p.T)


def least_confidence_scores(p: np.ndarray, multilabel: bool = False) -> np.ndarray:
    """1 - max_c p(c|x); for multi-label the mean over classes of 1 - max(p, 1-p)."""
    if multilabel:
        return (1.0 - np.maximum(p, 1.0 - p)).mean(axis=1)
    return 1.0 - _by_class(p).max(axis=0)


def margin_scores(p: np.ndarray, multilabel: bool = False) -> np.ndarray:
    """Negative gap between the two most likely classes (a small gap scores high)."""
    if multilabel:
        return -np.abs(2.0 * p - 1.0).mean(axis=1)
    if p.shape[1] < 2:
        return np.zeros(p.shape[0])
    pc = _by_class(p)
    best = np.maximum(pc[0], pc[1])
    second = np.minimum(pc[0], pc[1])
    for row in pc[2:]:  # running top two over classes: O(C) passes, no sort
        np.maximum(second, np.minimum(best, row), out=second)
        np.maximum(best, row, out=best)
    return -(best - second)


def entropy_scores(p: np.ndarray, multilabel: bool = False) -> np.ndarray:
    """Shannon entropy (nats) of the predictive distribution; binary per class for multi-label."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if multilabel:
            q = np.clip(p, 1e-12, 1 - 1e-12)
            return -(q * np.log(q) + (1 - q) * np.log(1 - q)).mean(axis=1)
        pc = _by_class(p)
        logp = np.zeros_like(pc)
        np.log(pc, out=logp, where=pc > 0)
        logp *= pc
        return -logp.sum(axis=0)


def _per_task(fn):
    """A score strategy applying ``fn(proba, multilabel)`` to each task's candidates."""
    def score(ctx: QueryContext) -> np.ndarray:
        def one(out: TaskOutput, cand: np.ndarray):
            p = _rows(out, cand)
            return None if p is None else fn(p, out.multilabel)
        return aggregate_task_scores(ctx, one)
    score.__doc__ = fn.__doc__
    return score


least_confidence = strategy(
    "least_confidence", "Samples whose most likely class has the lowest probability.",
    requires={"proba"})(_per_task(least_confidence_scores))
margin = strategy(
    "margin", "Samples with the smallest gap between the two most likely classes.",
    requires={"proba"})(_per_task(margin_scores))
entropy = strategy(
    "entropy", "Samples with the highest entropy of the predicted class distribution.",
    requires={"proba"})(_per_task(entropy_scores))
