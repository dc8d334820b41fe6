"""Diversity batch strategies: core-set (greedy k-center), cluster-based, and ranked batch.

All three keep one running "distance to the chosen set" per candidate and update it with one
O(N d) pass per pick, so a batch of b costs O(b N d) time and O(N) memory (no N x N matrix).
"""
from __future__ import annotations

from typing import Annotated

import numpy as np

from activelab.core.querying.strategy_api import Doc, QueryContext, QueryResult, strategy
from activelab.strategies._geometry import (
    BLOCK, argmax_random_tie, min_sq_dist_to_set, representation_of, single_thread,
    sq_dist_to_point, sq_norms,
)
from activelab.strategies.density import BASES, base_uncertainty


class _Greedy:
    """Candidates' squared distance to the labeled set plus everything picked so far."""

    def __init__(self, ctx: QueryContext):
        cand = np.asarray(ctx.candidates, dtype=np.int64)
        self.X, self.rows = representation_of(ctx, cand)
        self.norms = sq_norms(self.X)
        self.identity = len(self.rows) == self.X.shape[0] and bool(
            np.array_equal(self.rows, np.arange(self.X.shape[0])))
        labeled = np.asarray(ctx.labeled, dtype=np.int64)
        self.n_labeled = len(labeled)
        L = np.asarray(ctx.representation()[labeled], dtype=np.float32)
        self.min_sq = min_sq_dist_to_set(self.X, self.norms, self.rows, L)
        self.taken = np.zeros(len(cand), dtype=bool)

    def add(self, j: int) -> None:
        r = self.rows[j]
        d = sq_dist_to_point(self.X, self.norms, self.X[r], float(self.norms[r]))
        if not self.identity:
            d = d[self.rows]
        np.minimum(self.min_sq, d, out=self.min_sq)
        self.taken[j] = True

    def open_values(self, values: np.ndarray) -> np.ndarray:
        return np.where(self.taken, -np.inf, values)


@strategy("coreset",
          "Greedy k-center: each pick is the candidate farthest from labeled and chosen ones.",
          requires={"features"}, optional={"embeddings"})
@single_thread
def coreset(ctx: QueryContext, n: int) -> QueryResult:
    """Greedy k-center (Sener & Savarese 2018): repeatedly take the candidate farthest from
    the labeled and already-chosen samples. Score = that distance at the moment of picking.

    Distances are taken in ``ctx.representation()``: the loop gives it a learned (the
    model's) or pretrained (MiniLM, EfficientNet) representation when there is one; on raw
    TF-IDF / pixels / table columns the pick's reason says so (measured in
    benchmarks/results/strategy_families.txt: below random on AG News, above on TREC, and
    not better on MiniLM embeddings with logistic regression)."""
    g = _Greedy(ctx)
    cand_scores = np.sqrt(g.min_sq).astype(np.float64) if g.n_labeled else None
    picks, scores = [], []
    for t in range(n):
        if t == 0 and g.n_labeled == 0:
            j = int(ctx.rng.integers(len(g.rows)))
            g.add(j)
            picks.append(j)
            scores.append(float(np.sqrt(g.min_sq.max())))  # the radius this first pick covers
            continue
        vals = g.open_values(g.min_sq)
        j = argmax_random_tie(vals, ctx.rng)
        picks.append(j)
        scores.append(float(np.sqrt(max(vals[j], 0.0))))
        g.add(j)
    idx = ctx.candidates[np.asarray(picks, dtype=np.int64)]
    return QueryResult(idx.astype(np.int64), np.asarray(scores), cand_scores)


@strategy("ranked_batch",
          "Ranked batch (Cardoso et al.): uncertainty blended with distance to labeled+chosen.",
          requires={"proba", "features"})
@single_thread
def ranked_batch(ctx: QueryContext, n: int, base: Annotated[
        str, Doc("Uncertainty measure.", choices=BASES)] = "least_confidence") -> QueryResult:
    """Ranked batch-mode sampling (Cardoso et al. 2017), as in modAL but without N x N:
    score = alpha (1 - sim to labeled+selected) + (1 - alpha) uncertainty, with
    sim = 1 / (1 + euclidean distance) and alpha = |unlabeled| / (|unlabeled| + |labeled|)."""
    u = base_uncertainty(ctx, base)
    g = _Greedy(ctx)
    n_cand = len(g.rows)
    picks, scores = [], []
    if g.n_labeled == 0:
        # Cold start: the candidate nearest the candidates' mean (modAL: the most central one).
        mean = np.zeros(g.X.shape[1], dtype=np.float64)
        for s in range(0, n_cand, BLOCK * 8):
            mean += g.X[g.rows[s:s + BLOCK * 8]].sum(axis=0, dtype=np.float64)
        mean = (mean / max(n_cand, 1)).astype(np.float32)
        d = sq_dist_to_point(g.X, g.norms, mean, float(mean @ mean))
        d = d if g.identity else d[g.rows]
        j = argmax_random_tie(-d, ctx.rng)
        picks.append(j)
        scores.append(1.0)  # alpha = 1 and nothing to be similar to: the maximal score
        g.add(j)
    for t in range(len(picks), n):
        n_unl = n_cand - t
        alpha = n_unl / (n_unl + g.n_labeled + t)
        sim = 1.0 / (1.0 + np.sqrt(g.min_sq, dtype=np.float64))
        s = g.open_values(alpha * (1.0 - sim) + (1.0 - alpha) * u)
        j = argmax_random_tie(s, ctx.rng)
        picks.append(j)
        scores.append(float(s[j]))
        g.add(j)
    idx = ctx.candidates[np.asarray(picks, dtype=np.int64)]
    return QueryResult(idx.astype(np.int64), np.asarray(scores), u)


@strategy("cluster",
          "k-means over the candidates; the most uncertain per cluster (nearest the centroid "
          "without a model).", requires={"features"}, optional={"proba"})
@single_thread
def cluster(ctx: QueryContext, n: int, base: Annotated[
        str, Doc("Uncertainty used within a cluster.", choices=BASES)] = "entropy") -> QueryResult:
    """k-means with n clusters over the candidates; from each cluster the most uncertain
    candidate (or, without model predictions, the one closest to its centroid)."""
    from sklearn.cluster import MiniBatchKMeans

    cand = np.asarray(ctx.candidates, dtype=np.int64)
    rep = ctx.representation()
    m = len(cand)
    k = max(1, min(int(n), m))
    fit_rows = cand if m <= 20000 + 20 * k else np.sort(
        ctx.rng.choice(cand, 20000 + 20 * k, replace=False))
    km = MiniBatchKMeans(n_clusters=k, n_init=1, batch_size=4096,
                         random_state=int(ctx.rng.integers(2**31 - 1)))
    km.fit(np.asarray(rep[fit_rows], dtype=np.float32))
    C = km.cluster_centers_.astype(np.float32)
    c_norms = np.einsum("ij,ij->i", C, C)
    labels = np.empty(m, dtype=np.int64)
    dist = np.empty(m, dtype=np.float64)
    for s in range(0, m, BLOCK * 4):
        Xb = np.asarray(rep[cand[s:s + BLOCK * 4]], dtype=np.float32)
        d = Xb @ C.T
        d *= -2.0
        d += c_norms[None, :]
        d += np.einsum("ij,ij->i", Xb, Xb)[:, None]
        labels[s:s + BLOCK * 4] = d.argmin(axis=1)
        dist[s:s + BLOCK * 4] = np.sqrt(np.maximum(d.min(axis=1), 0.0))
    has_proba = any(t.proba is not None for t in ctx.tasks.values())
    score = base_uncertainty(ctx, base) if has_proba else -dist
    tiebreak = ctx.rng.random(m)
    order = np.lexsort((-tiebreak, -score, labels))
    first = np.ones(m, dtype=bool)
    first[1:] = labels[order][1:] != labels[order][:-1]
    chosen = order[first]
    if len(chosen) < n:  # empty clusters: fill with the best remaining candidates
        rest = np.setdiff1d(np.arange(m), chosen)
        fill = rest[np.lexsort((-tiebreak[rest], -score[rest]))][: n - len(chosen)]
        chosen = np.concatenate([chosen, fill])
    chosen = chosen[np.lexsort((-tiebreak[chosen], -score[chosen]))][:n]
    return QueryResult(cand[chosen], score[chosen].astype(np.float64), score.astype(np.float64))
