"""The stop-set agreement as a trend: the disagreement between successive models (1 - kappa),
fitted over the recent checks, instead of the last few raw kappas.

Successive kappas on a stop set are noisy: one retrain flips a few borderline rows, the next
flips them back, so a rule over the raw last ``window`` kappas (Bloodgood & Vijay-Shanker
2009) fires on a lucky run of quiet checks or waits for one. The disagreement of a learner
that is converging falls roughly as a power of the labels (models trained on n and n + 20
labels differ less as n grows), so a straight line through log(1 - kappa) against log(labels)
over the checks since ``TREND_SHARE`` x the current labels averages that noise out; the rule
("trend" aggregate of ``activelab.core.loop.stopping``) then asks that the fitted agreement
1 - disagreement at the current labels reaches the threshold for ``window`` checks in a row.

Chosen on the development curves (SMS spam, AG News, TREC; benchmarks/stopping_candidates.py,
results in benchmarks/results/stopping_candidates.txt, which lists every setting tried and
the held-out numbers). Pure numpy; no store, no Qt.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

TREND_SHARE = 1.0 / 3.0
"""The fit covers the checks made at or after this share of the current labels (the wording
of ``stopping``'s sentences says "a third")."""
TREND_MIN_CHECKS = 4
"""Fewer defined kappas than this in that range: no fitted value (NaN)."""
DISAGREEMENT_FLOOR = 1e-4
"""1 - kappa is floored here before taking logs (two models that agree on every row)."""


def fitted_disagreement(n_labels: Sequence[float], kappas: Sequence[float], *,
                        share: float = TREND_SHARE, min_checks: int = TREND_MIN_CHECKS
                        ) -> np.ndarray:
    """Fitted disagreement 1 - kappa at each check, from a least-squares line through
    log(max(1 - kappa, DISAGREEMENT_FLOOR)) against log(labels) over the defined kappas of
    the checks with labels in [share x n_i, n_i] (only checks up to i: never the future).

    ``n_labels``: labels of the newer model of each check (shape (k,), increasing, > 0);
    ``kappas``: the checks' kappas (shape (k,), NaN where undefined). Returns shape (k,), NaN
    where fewer than ``min_checks`` defined kappas fall in the range or the labels in it are
    all equal. Raises ValueError when the shapes differ or ``share`` is not in (0, 1].
    """
    x = np.asarray(n_labels, dtype=np.float64).reshape(-1)
    k = np.asarray(kappas, dtype=np.float64).reshape(-1)
    if x.shape != k.shape:
        raise ValueError(f"labels and kappas differ in length: {x.shape} vs {k.shape}.")
    if not 0.0 < share <= 1.0:
        raise ValueError(f"share must lie in (0, 1]; got {share}.")
    out = np.full(len(x), np.nan)
    ok = np.isfinite(k) & np.isfinite(x) & (x > 0)
    logd = np.log(np.maximum(1.0 - np.where(ok, k, 0.0), DISAGREEMENT_FLOOR))
    logx = np.log(np.where(ok, x, 1.0))
    for i in range(len(x)):
        if not ok[i]:
            continue
        sel = ok[: i + 1] & (x[: i + 1] >= share * x[i])
        if int(sel.sum()) < min_checks:
            continue
        lx, ld = logx[: i + 1][sel], logd[: i + 1][sel]
        if np.ptp(lx) == 0.0:
            continue
        slope, icept = np.polyfit(lx, ld, 1)
        out[i] = math.exp(icept + slope * logx[i])
    return out


def first_stable_trend(n_labels: Sequence[float], kappas: Sequence[float], threshold: float,
                       window: int, *, share: float = TREND_SHARE,
                       min_checks: int = TREND_MIN_CHECKS) -> int | None:
    """Index of the first check at which the fitted agreement (1 - ``fitted_disagreement``)
    has reached ``threshold`` at each of the last ``window`` checks (whose own kappas are all
    defined: an undefined kappa never counts as agreement), or None."""
    fitted = fitted_disagreement(n_labels, kappas, share=share, min_checks=min_checks)
    k = np.asarray(kappas, dtype=np.float64).reshape(-1)
    run = 0
    for i in range(len(k)):
        good = math.isfinite(k[i]) and math.isfinite(fitted[i]) and 1.0 - fitted[i] >= threshold
        run = run + 1 if good else 0
        if run >= window:
            return i
    return None
