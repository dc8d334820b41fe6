"""The numbers a simulation reports, per repeat and per strategy, with honest intervals.

Per repeat (``per_repeat``, written as summary.csv): the full-data model's and the
majority-class model's scores, the area under the learning curve (AULC, the trapezoid area over
the label range: a mean score over the run, 0..1), labels to reach the target (the first label
count from which the score stays at or above ``target`` x the full-data model's score until the
end of the run; censored when it never does), the true plateau (``plateau_labels``: where the
smoothed curve comes within 0.01 of the run's final level for good; censored when the run does
not show it flat), where the stopping rule fires (from the successive stop-set kappas,
kappas.csv), and the forecast made at a third of the budget of the labels to reach a level X
the run did reach (the target, or its final level - 0.01), with the labels where it did.

Per strategy (``strategy_table``, the printed table), recomputable from those rows alone:

* labels to target: the median over repeats, a censored repeat counting as more than the
  budget; shown with how many repeats reached it. When fewer than half did, the median itself
  is censored and shown as "> budget".
* ratios to random, paired per repeat (same seed, same start set): for AULC, strategy /
  random; for labels, strategy / random where both reached the target. When only one of the
  two reached it the repeat enters as a bound: the labels of the one that did over the budget
  (strategy reached: the true ratio is lower), or the budget over random's labels (random
  reached: the true ratio is higher); both pull the ratio towards 1, never away. Repeats
  where neither reached it tell nothing and are left out (their number is kept). The figure
  is the geometric mean of the per-repeat ratios with a 95% paired t interval (scipy's
  ``ttest_1samp`` on the log ratios, back-transformed).
* when to stop: the median plateau (censored when fewer than half the repeats flattened), the
  median label count where the stopping rule fired (over the repeats where it did, counted),
  how many of the repeats with a plateau it fired within +-15% of theirs, and the forecasts'
  median relative error |forecast - actual| / actual (``forecast_errors``) with how many
  repeats could be evaluated; the same over the forecasts shown as a number, not withheld
  (``forecast_shown``, ``forecast_shown_error``), and how many of those held the actual count
  in their calibrated 80% interval (``forecast_covered``).
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from activelab.core.simulation.plateau import (  # noqa: F401  (re-exported for callers)
    PLATEAU_FINAL_POINTS, PLATEAU_FLAT_SHARE, PLATEAU_SMOOTH, PLATEAU_TOLERANCE, STOP_GOAL,
    final_level, forecast_at_third, forecast_errors, interval_hits, legend, plateau_bound,
    plateau_labels, smoothed, sustained_reach,
)
from activelab.core.loop.stopping import (
    AGGREGATE, KAPPA_THRESHOLD, WINDOW, first_stop_from_kappas,
)

REFERENCE = "random"
TARGET_FRACTION = 0.95
METRICS = ("accuracy", "macro_f1")
CONFIDENCE = 0.95

REPEAT_COLUMNS = [
    "strategy", "repeat", "seed", "budget", "target_metric", "target_fraction",
    "full_accuracy", "full_macro_f1", "majority_accuracy", "majority_macro_f1", "target_value",
    "aulc_accuracy", "aulc_macro_f1", "final_accuracy", "final_macro_f1",
    "labels_to_target", "reached_target", "stop_labels", "plateau_labels", "plateau_bound",
    "forecast_from", "forecast_target", "forecast_labels", "forecast_low", "forecast_high",
    "forecast_actual", "forecast_withheld", "level_target", "level_labels", "level_actual",
]

SUMMARY_COLUMNS = [
    "strategy", "repeats", "aulc_accuracy", "aulc_accuracy_sd", "aulc_macro_f1",
    "aulc_vs_random_ratio", "aulc_vs_random_low", "aulc_vs_random_high", "aulc_vs_random_diff",
    "final_accuracy", "final_macro_f1", "labels_to_target", "labels_to_target_censored",
    "reached_target", "labels_vs_random_ratio", "labels_vs_random_low",
    "labels_vs_random_high", "labels_vs_random_pairs", "labels_vs_random_bounds",
    "stop_labels", "stop_fired", "plateau_labels", "plateau_flat", "stop_within_goal",
    "stop_evaluated", "forecast_labels", "forecast_error", "forecast_evaluated",
    "forecast_covered", "forecast_shown", "forecast_shown_error", "level_error",
    "level_evaluated",
]


# ----------------------------------------------------------------------------- one curve


def aulc(n_labels: np.ndarray, values: np.ndarray) -> float:
    """Normalized area under one learning curve (trapezoid / label range)."""
    order = np.argsort(n_labels)
    x = np.asarray(n_labels, dtype=np.float64)[order]
    v = np.asarray(values, dtype=np.float64)[order]
    if len(x) == 1 or x[-1] == x[0]:
        return float(v.mean())
    area = float(np.sum((x[1:] - x[:-1]) * (v[1:] + v[:-1]) / 2.0))
    return area / float(x[-1] - x[0])


def labels_to_reach(n_labels: np.ndarray, accuracy: np.ndarray, target: float,
                    sustained: bool = True) -> float:
    """Labels at which the score reaches ``target``; NaN when it does not within the run.

    sustained (the default): the first point from which the score stays >= target until the
    end of the run, so an early lucky spike followed by a dip (common in cold starts) does not
    count. Otherwise the first point at or above the target.
    """
    order = np.argsort(n_labels)
    ok = np.asarray(accuracy)[order] >= target
    x = np.asarray(n_labels)[order]
    if sustained:
        if not ok.size or not ok[-1]:
            return math.nan
        below = np.flatnonzero(~ok)
        return float(x[below[-1] + 1] if below.size else x[0])
    hit = np.flatnonzero(ok)
    return float(x[hit[0]]) if hit.size else math.nan


# ----------------------------------------------------------------------------- per repeat


def per_repeat(curves: pd.DataFrame, full: dict[int, tuple[float, float]],
               majority: dict[int, tuple[float, float]], kappas: pd.DataFrame | None = None,
               *, seed: int = 0, budget: int | None = None, target_metric: str = "accuracy",
               target: float = TARGET_FRACTION, kappa: float = KAPPA_THRESHOLD,
               window: int = WINDOW, aggregate: str = AGGREGATE) -> pd.DataFrame:
    """One row per (strategy, repeat): REPEAT_COLUMNS. ``full`` / ``majority``: repeat ->
    (accuracy, macro_f1). ``kappas``: successive stop-set kappas, one row per (strategy,
    repeat, n_labels) (``evaluation.KAPPA_COLUMNS``; None: the rule is not evaluated); the rule
    is ``stopping.first_stop_from_kappas`` with ``kappa``, ``window`` and ``aggregate``."""
    if target_metric not in METRICS:
        raise ValueError(f"target_metric must be one of {METRICS}; got {target_metric!r}.")
    m = METRICS.index(target_metric)
    rows = []
    by_run = {} if kappas is None else {
        key: g.sort_values("n_labels") for key, g in kappas.groupby(["strategy", "repeat"])}
    for (name, r), g in curves.groupby(["strategy", "repeat"], sort=False):
        g = g.sort_values("n_labels")
        x = g["n_labels"].to_numpy()
        score = g[target_metric].to_numpy()
        r = int(r)
        target_value = target * full[r][m]
        stop_at = math.nan
        if (name, r) in by_run:
            kr = by_run[(name, r)]
            i = first_stop_from_kappas(kr["kappa"].to_numpy(dtype=np.float64), threshold=kappa,
                                       window=window, aggregate=aggregate,
                                       n_labels=kr["n_labels"].to_numpy(dtype=np.float64))
            stop_at = float(kr["n_labels"].iloc[i]) if i is not None else math.nan
        b = int(budget if budget is not None else x.max())
        fc = forecast_at_third(x, score, b, seed=r, target=target_value)
        reached = labels_to_reach(x, score, target_value)
        rows.append({
            "strategy": name, "repeat": r, "seed": seed, "budget": b,
            "target_metric": target_metric, "target_fraction": target,
            "full_accuracy": full[r][0], "full_macro_f1": full[r][1],
            "majority_accuracy": majority[r][0], "majority_macro_f1": majority[r][1],
            "target_value": target_value,
            "aulc_accuracy": aulc(x, g["accuracy"].to_numpy()),
            "aulc_macro_f1": aulc(x, g["macro_f1"].to_numpy()),
            "final_accuracy": float(g["accuracy"].iloc[-1]),
            "final_macro_f1": float(g["macro_f1"].iloc[-1]),
            "labels_to_target": reached, "reached_target": not math.isnan(reached),
            "stop_labels": stop_at, "plateau_labels": plateau_labels(x, score),
            "plateau_bound": plateau_bound(x, score),
            **fc,
        })
    return pd.DataFrame(rows, columns=REPEAT_COLUMNS)


# ----------------------------------------------------------------------------- statistics


def geometric_interval(ratios: Sequence[float], confidence: float = CONFIDENCE
                       ) -> tuple[float, float, float]:
    """(geometric mean, low, high) of positive paired ratios: a one-sample t interval
    (``scipy.stats.ttest_1samp``) on their logs, back-transformed. With one ratio the interval
    is NaN; when every ratio is the same it is that value."""
    from scipy.stats import ttest_1samp

    logs = np.log(np.asarray(ratios, dtype=np.float64))
    if logs.size == 0:
        return (math.nan,) * 3
    mean = float(np.exp(logs.mean()))
    if logs.size == 1:
        return mean, math.nan, math.nan
    if np.ptp(logs) == 0.0:
        return mean, mean, mean
    ci = ttest_1samp(logs, 0.0).confidence_interval(confidence)
    return mean, float(np.exp(ci.low)), float(np.exp(ci.high))


def paired_label_ratios(strategy: pd.DataFrame, reference: pd.DataFrame
                        ) -> tuple[list[float], int]:
    """Per-repeat labels-to-target ratios (strategy / reference) and how many are bounds (see
    the module doc). Both frames: per-repeat rows of one strategy (REPEAT_COLUMNS)."""
    ref = reference.set_index("repeat")
    ratios, bounds = [], 0
    for row in strategy.itertuples():
        if row.repeat not in ref.index:
            continue
        other = ref.loc[row.repeat]
        budget = float(row.budget)
        s_ok, r_ok = bool(row.reached_target), bool(other["reached_target"])
        if s_ok and r_ok:
            ratios.append(row.labels_to_target / other["labels_to_target"])
        elif s_ok:
            ratios.append(row.labels_to_target / budget)
            bounds += 1
        elif r_ok:
            ratios.append(budget / other["labels_to_target"])
            bounds += 1
    return ratios, bounds


def censored_median(labels: Sequence[float], reached: Sequence[bool]) -> tuple[float, bool]:
    """(median, censored): the median of labels-to-target with unreached repeats counted as
    infinitely many labels; censored (and the value NaN) when that median is not finite."""
    vals = np.where(np.asarray(reached, dtype=bool), np.asarray(labels, dtype=np.float64), np.inf)
    if vals.size == 0:
        return math.nan, True
    srt = np.sort(vals)
    mid = len(srt) // 2
    # With an even count the median is the mean of the two middle values: censored if either is.
    med = srt[mid] if len(srt) % 2 else (srt[mid - 1] + srt[mid]) / 2.0
    if not np.isfinite(med):
        return math.nan, True
    return float(med), False


def strategy_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per strategy (in order of appearance): SUMMARY_COLUMNS, from per-repeat rows."""
    metric = str(rows["target_metric"].iloc[0]) if len(rows) else "accuracy"
    aulc_col = f"aulc_{metric}"
    ref = rows[rows["strategy"] == REFERENCE]
    out = []
    for name, g in rows.groupby("strategy", sort=False):
        g = g.sort_values("repeat")
        med, censored = censored_median(g["labels_to_target"], g["reached_target"])
        entry: dict[str, Any] = {
            "strategy": name, "repeats": len(g),
            "aulc_accuracy": g["aulc_accuracy"].mean(),
            "aulc_accuracy_sd": g["aulc_accuracy"].std(ddof=1) if len(g) > 1 else 0.0,
            "aulc_macro_f1": g["aulc_macro_f1"].mean(),
            "final_accuracy": g["final_accuracy"].mean(),
            "final_macro_f1": g["final_macro_f1"].mean(),
            "labels_to_target": med, "labels_to_target_censored": censored,
            "reached_target": int(g["reached_target"].sum()),
        }
        if len(ref):
            paired = g.merge(ref[["repeat", aulc_col]], on="repeat", suffixes=("", "_ref"))
            ratios = (paired[aulc_col] / paired[f"{aulc_col}_ref"]).to_numpy()
            diffs = (paired[aulc_col] - paired[f"{aulc_col}_ref"]).to_numpy()
            m, lo, hi = geometric_interval(ratios[np.isfinite(ratios) & (ratios > 0)])
            entry.update(aulc_vs_random_ratio=m, aulc_vs_random_low=lo, aulc_vs_random_high=hi,
                         aulc_vs_random_diff=float(diffs.mean()) if diffs.size else math.nan)
            lab, bounds = paired_label_ratios(g, ref)
            m, lo, hi = geometric_interval(lab)
            entry.update(labels_vs_random_ratio=m, labels_vs_random_low=lo,
                         labels_vs_random_high=hi, labels_vs_random_pairs=len(lab),
                         labels_vs_random_bounds=bounds)
        entry.update(_stop_and_forecast(g))
        out.append(entry)
    return pd.DataFrame(out).reindex(columns=SUMMARY_COLUMNS)


def _stop_and_forecast(g: pd.DataFrame) -> dict[str, Any]:
    """Stopping rule against the plateau and forecast error, over one strategy's repeats.

    Evaluated for the rule (``stop_evaluated``): the repeats whose curve flattened within the
    run (plateau not censored; a rule that never fired there is a miss), and the censored ones
    where the rule fired more than ``STOP_GOAL`` before even the lower bound of their plateau
    (``plateau_bound``: where the run came within the tolerance of its final level; a curve
    still rising flattens later still), a certain miss."""
    fired = g["stop_labels"].notna()
    flat = g["plateau_labels"].notna()
    bound = g["plateau_bound"] if "plateau_bound" in g else pd.Series(np.nan, index=g.index)
    early = fired & ~flat & (g["stop_labels"] < bound / (1.0 + STOP_GOAL))
    within = (np.abs(g["stop_labels"] - g["plateau_labels"]) <= STOP_GOAL * g["plateau_labels"])
    med_plateau, censored = censored_median(g["plateau_labels"].fillna(0.0), flat)
    err = forecast_errors(g)
    lev = forecast_errors(g, "level")
    shown = forecast_errors(g, shown=True)
    return {
        "stop_labels": float(g.loc[fired, "stop_labels"].median()) if fired.any() else math.nan,
        "stop_fired": int(fired.sum()),
        "plateau_labels": math.nan if censored else med_plateau,
        "plateau_flat": int(flat.sum()),
        "stop_within_goal": int((within & fired & flat).sum()),
        "stop_evaluated": int((flat | early).sum()),
        "forecast_labels": float(g["forecast_labels"].median()),
        "forecast_error": float(np.median(err)) if err.size else math.nan,
        "forecast_evaluated": int(err.size),
        "forecast_covered": interval_hits(g)[0],
        "forecast_shown": int(shown.size),
        "forecast_shown_error": float(np.median(shown)) if shown.size else math.nan,
        "level_error": float(np.median(lev)) if lev.size else math.nan,
        "level_evaluated": int(lev.size),
    }
