"""Hybrid batch strategies: BADGE (uncertainty and diversity at once) and an exploration mix.

BADGE (Ash et al. 2020) embeds each candidate by the gradient of the loss at its predicted
label with respect to a softmax output layer: g = a (x) x with a = p - onehot(argmax p) and x
the candidate's representation, then seeds k-means++ on those embeddings. The embeddings
(C x d per sample) are never built: since ||a_i (x) x_i - a_j (x) x_j||^2 =
|a_i|^2 |x_i|^2 + |a_j|^2 |x_j|^2 - 2 (a_i . a_j)(x_i . x_j), each D^2 update costs
O(N (C + d)). Several tasks concatenate their factors a (one output layer per task on the same
x), which the same identity covers exactly; multi-label tasks use a = p - [p >= 0.5].
"""
from __future__ import annotations

from typing import Annotated

import numpy as np

from activelab.core.errors import StrategyError
from activelab.core.querying.strategy_api import (
    Doc, QueryContext, QueryResult, StrategyName, strategy, strategy_scores, top_k,
)
from activelab.strategies._geometry import argmax_random_tie, representation_of, single_thread, sq_norms


def gradient_factors(ctx: QueryContext, candidates: np.ndarray) -> np.ndarray:
    """(m, sum of classes) float32: the concatenated per-task factors a = p - onehot(pred)."""
    parts = []
    for out in ctx.tasks.values():
        if out.proba is None:
            continue
        p = np.asarray(out.proba[candidates], dtype=np.float32)
        if out.multilabel:
            parts.append(p - (p >= 0.5))
        else:
            a = p.copy()
            a[np.arange(len(a)), p.argmax(axis=1)] -= 1.0
            parts.append(a)
    if not parts:
        raise StrategyError("BADGE needs class probabilities from a fitted model for a task.")
    return np.hstack(parts) if len(parts) > 1 else parts[0]


@strategy("badge", "BADGE: k-means++ seeding on gradient embeddings (uncertain and diverse).",
          requires={"proba", "features"})
@single_thread
def badge(ctx: QueryContext, n: int) -> QueryResult:
    """k-means++ seeding over gradient embeddings; score = distance to the chosen set when
    picked (the first pick: the largest gradient norm)."""
    cand = np.asarray(ctx.candidates, dtype=np.int64)
    m = len(cand)
    X, rows = representation_of(ctx, cand)
    identity = len(rows) == X.shape[0] and bool(np.array_equal(rows, np.arange(X.shape[0])))
    A = gradient_factors(ctx, cand)
    x2 = sq_norms(X)
    x2 = x2 if identity else x2[rows]
    g2 = (np.einsum("ij,ij->i", A, A) * x2).astype(np.float64)
    D2 = np.full(m, np.inf)
    taken = np.zeros(m, dtype=bool)
    picks, scores = [], []
    j = argmax_random_tie(g2, ctx.rng)
    score = float(np.sqrt(g2[j]))
    for t in range(min(n, m)):
        picks.append(j)
        scores.append(score)
        taken[j] = True
        if t == min(n, m) - 1:
            break
        dx = X @ X[rows[j]]
        if not identity:
            dx = dx[rows]
        d2 = g2 + g2[j] - 2.0 * (A @ A[j]).astype(np.float64) * dx
        np.maximum(d2, 0.0, out=d2)
        np.minimum(D2, d2, out=D2)
        D2[taken] = 0.0
        total = D2.sum()
        if not np.isfinite(total) or total <= 0:
            free = np.flatnonzero(~taken)
            j = int(free[ctx.rng.integers(len(free))])
        else:
            cum = np.cumsum(D2)
            j = int(np.searchsorted(cum, ctx.rng.random() * cum[-1], side="right"))
            j = min(j, m - 1)
            if taken[j]:  # float edge case at the end of the cumulative sum
                free = np.flatnonzero(~taken)
                j = int(free[np.argmax(D2[free])])
        score = float(np.sqrt(D2[j]))
    return QueryResult(cand[np.asarray(picks, dtype=np.int64)], np.asarray(scores), np.sqrt(g2))


@strategy("exploration_mix",
          "A base strategy's picks with a fraction of the batch uniformly random.",
          requires={"proba"},
          # whatever the base needs: the loop computes it when the base asks for it
          optional={"features", "embeddings", "mc_samples", "committee", "by_modality", "errors",
                    "input_norms"})
def exploration_mix(
    ctx: QueryContext, n: int,
    base: Annotated[StrategyName, Doc("Score-based strategy that picks the rest.")] = "entropy",
    random_fraction: Annotated[float, Doc("Share of the batch picked at random.",
                                          minimum=0.0, maximum=1.0)] = 0.1,
) -> QueryResult:
    """The base strategy's top picks, with round(n * random_fraction) of the batch replaced by
    uniformly random candidates (listed after the base picks). The base is any registered
    score-based strategy (a plug-in too), run with its default parameters."""
    cand = np.asarray(ctx.candidates, dtype=np.int64)
    scores = strategy_scores(ctx, base)
    n_rand = int(round(n * float(random_fraction)))
    pos = top_k(scores, n - n_rand, ctx.rng)
    rest = np.ones(len(cand), dtype=bool)
    rest[pos] = False
    free = np.flatnonzero(rest)
    rand = ctx.rng.choice(free, size=min(n_rand, len(free)), replace=False)
    chosen = np.concatenate([pos, rand]).astype(np.int64)
    return QueryResult(cand[chosen], scores[chosen], scores)
