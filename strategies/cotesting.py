"""Co-testing: query the samples on which the modalities' own heads disagree most
(Muslea, Minton & Knoblock 2000), e.g. the image-only and the text-only view of a product.

Reads ``TaskOutput.by_modality`` (modality -> (N, C) per-modality predictions, NaN rows where
a sample lacks a modality). The score of a candidate is the mean over modality pairs of the
Jensen-Shannon divergence (or total-variation distance) between the pair's distributions;
multi-label tasks average the per-class Bernoulli divergences. Pairs where either side is
missing are left out; a candidate with no complete pair scores 0.
"""
from __future__ import annotations

from itertools import combinations
from typing import Annotated

import numpy as np

from activelab.core.errors import StrategyError
from activelab.core.querying.strategy_api import (
    Doc, QueryContext, TaskOutput, aggregate_task_scores, strategy,
)
from activelab.strategies._chunks import BLOCK


def _xlogx_ratio(p: np.ndarray, m: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / np.where(m > 0, m, 1.0)), 0.0)


def js_divergence(p: np.ndarray, q: np.ndarray, multilabel: bool = False) -> np.ndarray:
    """Row-wise Jensen-Shannon divergence (nats, in [0, ln 2])."""
    if multilabel:
        p2 = np.stack([p, 1.0 - p], axis=-1)
        q2 = np.stack([q, 1.0 - q], axis=-1)
        return js_divergence(p2.reshape(-1, 2), q2.reshape(-1, 2)).reshape(p.shape).mean(axis=1)
    m = 0.5 * (p + q)
    return 0.5 * (_xlogx_ratio(p, m).sum(axis=1) + _xlogx_ratio(q, m).sum(axis=1))


def total_variation(p: np.ndarray, q: np.ndarray, multilabel: bool = False) -> np.ndarray:
    """Row-wise total-variation distance (in [0, 1])."""
    if multilabel:
        return np.abs(p - q).mean(axis=1)
    return 0.5 * np.abs(p - q).sum(axis=1)


def disagreement_scores(
    views: list[np.ndarray], multilabel: bool = False, divergence: str = "js"
) -> np.ndarray:
    """Mean pairwise divergence between per-view (n, C) predictions; NaN rows skipped."""
    fn = js_divergence if divergence == "js" else total_variation
    n = views[0].shape[0]
    total, count = np.zeros(n), np.zeros(n)
    for a, b in combinations(views, 2):
        ok = ~(np.isnan(a).any(axis=1) | np.isnan(b).any(axis=1))
        if ok.any():
            total[ok] += fn(a[ok], b[ok], multilabel)
            count[ok] += 1
    return np.divide(total, count, out=np.zeros(n), where=count > 0)


@strategy("cross_modal_disagreement",
          "Co-testing: samples on which the image-only and text-only (per-modality) heads "
          "disagree most (multimodal model).", requires={"by_modality"})
def cross_modal_disagreement(
    ctx: QueryContext,
    divergence: Annotated[str, Doc(
        "js (Jensen-Shannon) or tv (total variation) between modality predictions",
        choices=("js", "tv"))] = "js",
) -> np.ndarray:
    """Mean pairwise divergence between the modality heads, aggregated over tasks."""
    if not any(out.by_modality for out in ctx.tasks.values()):
        raise StrategyError(
            "Cross-modal disagreement needs predictions from each modality on its own, which "
            "only the multimodal model gives. Choose the 'multimodal' model (with at least two "
            "modalities, e.g. image and text) or pick another strategy."
        )

    def one(out: TaskOutput, cand: np.ndarray):
        if not out.by_modality or len(out.by_modality) < 2:
            return None
        heads = [np.asarray(v) for v in out.by_modality.values()]
        for name, v in zip(out.by_modality, heads):
            if v.ndim != 2 or v.shape[1] != heads[0].shape[1]:
                raise StrategyError(
                    f"Per-modality predictions for '{name}' have shape {v.shape}; every "
                    "modality needs (n_pool, n_classes)."
                )
        # In candidate blocks: float64 copies of a 1M-row pool would cost hundreds of MB.
        scores = np.empty(len(cand), dtype=np.float64)
        for s in range(0, len(cand), BLOCK):
            rows = cand[s:s + BLOCK]
            views = [np.asarray(v[rows], dtype=np.float64) for v in heads]
            scores[s:s + BLOCK] = disagreement_scores(views, out.multilabel, divergence)
        return scores

    return aggregate_task_scores(ctx, one)
