"""The audit picks of a Dask-engine query: uniformly random rows, as the embedded engine draws them.

``activelab.core.loop.cycle.make_queue`` mixes ``Binomial(n, audit_rate)`` uniformly random
candidates into each queue (their labels give the unbiased accuracy estimate). Here the same
generator draws them in the same way: ``rng.choice`` over the candidates left after the
strategy's picks, in pool order, then their slots in the queue. The candidates are never
listed (a pool of a billion rows): the ``i``-th one is found from the sorted taken rows.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from activelab.core.records import Prediction, QueueItem
from activelab.core.scale.featurize import Featurizer


def nth_free(taken: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The ``idx``-th (0-based) non-negative integers not in the sorted unique ``taken``: the
    rows of ``np.setdiff1d(np.arange(N), taken)[idx]`` without building that array."""
    taken = np.asarray(taken, dtype=np.int64)
    free_below = taken - np.arange(len(taken))        # free rows before each taken one
    idx = np.asarray(idx, dtype=np.int64)
    return idx + np.searchsorted(free_below, idx, side="right")


BLOCK_ROWS = 64


def _proba(model: Any, x: Any) -> np.ndarray:
    """(rows, C) float32 probabilities of a few rows, computed in a block of at least
    ``BLOCK_ROWS`` rows (the rows repeated): BLAS then takes its matrix-product path, as for a
    part of the pool; one or two rows go through a vector product whose rounding can differ in
    the last bit of the confidence shown."""
    n = x.shape[0]
    reps = -(-BLOCK_ROWS // max(1, n))
    block = x[np.tile(np.arange(n), reps)] if n else x
    return np.asarray(model.predict_proba(block), dtype=np.float32)[:n]


def audit_picks(proj: Any, featurizer: Featurizer, models: dict, classes: dict,
                excluded: np.ndarray, chosen: np.ndarray, n: int, n_audit: int,
                rng: np.random.Generator, version: int,
                features_out: dict | None = None) -> list[tuple[int, QueueItem]]:
    """(queue slot, item) of ``n_audit`` uniformly random audit picks among the candidates not
    chosen, by the embedded engine's rule and draws (``activelab.core.loop.cycle.make_queue``):
    ``rng.choice`` over the remaining candidates in pool order, then their slots among the
    ``n`` items; the model's predictions are computed for the few rows picked.
    ``features_out`` (a dict) receives each pick's feature row (1, d), by pool position."""
    if n_audit <= 0:
        return []
    taken = np.union1d(excluded, np.asarray(chosen, dtype=np.int64))
    rest = len(proj.pool) - len(taken)
    idx = rng.choice(rest, size=min(n_audit, rest), replace=False)
    picks = nth_free(taken, idx)
    slots = sorted(rng.choice(n, size=len(picks), replace=False))
    frame = proj.pool.frame(columns=list(featurizer.columns), rows=np.sort(picks))
    from activelab.core.scale.query import rows_features

    x = rows_features(proj, featurizer, np.sort(picks), frame)
    order = {int(r): j for j, r in enumerate(np.sort(picks))}
    probas = {t: _proba(m, x) for t, m in models.items()}
    if features_out is not None:
        features_out.update({r: x[j:j + 1] for r, j in order.items()})
    out = []
    for slot, i in zip(slots, picks):
        preds = {}
        for t, p in probas.items():
            row = p[order[int(i)]]
            j = int(np.argmax(row))
            preds[t] = Prediction(classes[t][j], float(row[j]))
        out.append((int(slot), QueueItem(
            int(i), proj.ids[int(i)], "audit:random", math.nan, 0, None, True, preds, version,
            "audit: uniformly random pick (unbiased accuracy estimate)")))
    return out
