"""Uncertainty sampling: least confidence, margin and entropy (Settles 2009, section 3.1).

Multi-label tasks score each class as an independent binary decision and average over classes.
Scores are higher for more informative samples.
"""
from __future__ import annotations

import numpy as np

from core.strategy_api import QueryContext, TaskOutput, aggregate_task_scores


def _rows(out: TaskOutput, candidates: np.ndarray) -> np.ndarray | None:
    if out.proba is None:
        return None
    return np.asarray(out.proba[candidates], dtype=np.float64)


def least_confidence_scores(p: np.ndarray, multilabel: bool = False) -> np.ndarray:
    """1 - max_c p(c|x); for multi-label the mean over classes of 1 - max(p, 1-p)."""
    if multilabel:
        return (1.0 - np.maximum(p, 1.0 - p)).mean(axis=1)
    return 1.0 - p.max(axis=1)


def margin_scores(p: np.ndarray, multilabel: bool = False) -> np.ndarray:
    """Negative gap between the two most likely classes (a small gap scores high)."""
    if multilabel:
        return -np.abs(2.0 * p - 1.0).mean(axis=1)
    if p.shape[1] < 2:
        return np.zeros(p.shape[0])
    top2 = np.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    return -(top2[:, 1] - top2[:, 0])


def entropy_scores(p: np.ndarray, multilabel: bool = False) -> np.ndarray:
    """Shannon entropy (nats) of the predictive distribution; binary per class for multi-label."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if multilabel:
            q = np.clip(p, 1e-12, 1 - 1e-12)
            return -(q * np.log(q) + (1 - q) * np.log(1 - q)).mean(axis=1)
        logp = np.where(p > 0, np.log(np.where(p > 0, p, 1.0)), 0.0)
        return -(p * logp).sum(axis=1)


def _per_task(fn):
    def score(ctx: QueryContext) -> np.ndarray:
        def one(out: TaskOutput, cand: np.ndarray):
            p = _rows(out, cand)
            return None if p is None else fn(p, out.multilabel)
        return aggregate_task_scores(ctx, one)
    score.__doc__ = fn.__doc__
    return score


least_confidence = _per_task(least_confidence_scores)
margin = _per_task(margin_scores)
entropy = _per_task(entropy_scores)
