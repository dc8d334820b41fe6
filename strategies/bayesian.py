"""Bayesian uncertainty over sampled predictions ``TaskOutput.mc_samples`` (S, N, C):
MC-dropout passes, posterior samples or deep-ensemble members.

* BALD (Houlsby et al. 2011; Gal et al. 2017): mutual information between the prediction and
  the model parameters, H[mean_s p_s] - mean_s H[p_s].
* Variation ratios (Freeman 1965): 1 - (share of samples voting for the modal class).

Multi-label tasks use per-class Bernoulli entropies / votes averaged over classes.
"""
from __future__ import annotations

import numpy as np

from activelab.core.querying.strategy_api import (
    QueryContext, TaskOutput, aggregate_task_scores, strategy,
)
from activelab.strategies._chunks import binary_entropy, entropy_rows, score_stack


def bald_block(P: np.ndarray, multilabel: bool = False) -> np.ndarray:
    """(S, b, C) -> b mutual-information values (nats, >= 0)."""
    if multilabel:
        mi = binary_entropy(P.mean(axis=0)) - binary_entropy(P).mean(axis=0)
        return np.maximum(mi, 0.0).mean(axis=1)
    mi = entropy_rows(P.mean(axis=0)) - entropy_rows(P).mean(axis=0)
    return np.maximum(mi, 0.0)


def variation_ratios_block(P: np.ndarray, multilabel: bool = False) -> np.ndarray:
    S, b, C = P.shape
    if multilabel:
        share = (P >= 0.5).mean(axis=0)
        return (1.0 - np.maximum(share, 1.0 - share)).mean(axis=1)
    votes = P.argmax(axis=2)
    flat = (np.arange(b)[None, :] * C + votes).ravel()
    counts = np.bincount(flat, minlength=b * C).reshape(b, C).astype(np.float64)
    return 1.0 - counts.max(axis=1) / S


def _per_task(block_fn):
    def score(ctx: QueryContext) -> np.ndarray:
        def one(out: TaskOutput, cand: np.ndarray):
            if out.mc_samples is None:
                return None
            return score_stack(out.mc_samples, cand, lambda P: block_fn(P, out.multilabel))
        return aggregate_task_scores(ctx, one)
    score.__doc__ = block_fn.__doc__
    return score


bald = strategy(
    "bald", "BALD: mutual information between prediction and model over sampled predictions.",
    requires={"mc_samples"})(_per_task(bald_block))
variation_ratios = strategy(
    "variation_ratios", "1 - share of sampled predictions agreeing with the modal class.",
    requires={"mc_samples"})(_per_task(variation_ratios_block))
