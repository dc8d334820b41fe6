"""Query-by-committee scores over ``TaskOutput.committee`` of shape (M, N, C).

* vote entropy: entropy of the members' hard votes (Dagan & Engelson 1995);
* consensus entropy: entropy of the mean committee distribution (modAL's definition);
* KL max disagreement: the largest KL divergence of a member from the consensus (McCallum &
  Nigam 1998; modAL's ``max_disagreement``).

Multi-label tasks treat each class as a binary problem and average over classes. The
committee itself is built by the loop (``activelab.core.learning.committee``), as the
``committee`` and ``n_members`` parameters ask (``activelab.core.querying.strategy_api.Committee``).
"""
from __future__ import annotations

import numpy as np

from activelab.core.querying.strategy_api import (
    QueryContext, TaskOutput, aggregate_task_scores, strategy,
)
from activelab.strategies._chunks import binary_entropy, entropy_rows, score_stack, xlogx


def vote_entropy_block(P: np.ndarray, multilabel: bool = False) -> np.ndarray:
    """(M, b, C) -> b vote entropies."""
    M, b, C = P.shape
    if multilabel:
        return binary_entropy((P >= 0.5).mean(axis=0)).mean(axis=1)
    votes = P.argmax(axis=2)  # (M, b); ties go to the first class, like predict()
    flat = (np.arange(b)[None, :] * C + votes).ravel()
    counts = np.bincount(flat, minlength=b * C).reshape(b, C).astype(np.float64)
    return entropy_rows(counts / M)


def consensus_entropy_block(P: np.ndarray, multilabel: bool = False) -> np.ndarray:
    mean = P.mean(axis=0)
    if multilabel:
        return binary_entropy(mean).mean(axis=1)
    return entropy_rows(mean)


def kl_max_block(P: np.ndarray, multilabel: bool = False) -> np.ndarray:
    """max over members of KL(member || consensus)."""
    mean = P.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        logq = np.log(np.where(mean > 0, mean, 1.0))
        if multilabel:
            log1q = np.log(np.where(mean < 1, 1.0 - mean, 1.0))
            kl = (xlogx(P) - P * logq + xlogx(1 - P) - (1 - P) * log1q).mean(axis=2)
        else:
            kl = (xlogx(P) - P * logq).sum(axis=2)
    return np.maximum(kl, 0.0).max(axis=0)


def _per_task(block_fn):
    def score(ctx: QueryContext) -> np.ndarray:
        def one(out: TaskOutput, cand: np.ndarray):
            if out.committee is None:
                return None
            return score_stack(out.committee, cand, lambda P: block_fn(P, out.multilabel))
        return aggregate_task_scores(ctx, one)
    score.__doc__ = block_fn.__doc__
    return score


# Each gets the committee parameters (kind, size) of ``Committee``: the loop builds the
# committee from them before the score is computed.
vote_entropy = strategy(
    "vote_entropy", "Query by committee: entropy of the committee members' votes.",
    requires={"committee"})(_per_task(vote_entropy_block))
consensus_entropy = strategy(
    "consensus_entropy",
    "Query by committee: entropy of the committee's mean (consensus) distribution.",
    requires={"committee"})(_per_task(consensus_entropy_block))
kl_max_disagreement = strategy(
    "kl_max_disagreement",
    "Query by committee: largest KL divergence of a member from the consensus.",
    requires={"committee"})(_per_task(kl_max_block))
