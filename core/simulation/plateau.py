"""Where a simulated learning curve flattened and what its forecast should have said: the
true plateau (``plateau_labels``, censored when the run does not show it), and the forecasts
made at a third of the budget against what happened (``forecast_at_third``,
``forecast_errors``). Used by ``activelab.core.simulation.summary`` (per repeat and per
strategy) and benchmarks/stopping_forecast.py; ``legend`` says what the columns mean.

What the plateau means, and its limits (checked in benchmarks/stopping_candidates.py on the
56 kept runs of benchmarks/stopping_forecast.py): it is where *this run's* curve flattens,
judged against the run's own final level, not against the full pool. It does not hinge on the
smoothing: a monotone (isotonic) fit instead of the moving average gives the same plateau
(+-20 labels, or both censored) in 49 of 56 runs. But 11 of the 34 runs called flat ended more
than 0.01 below the model trained on the whole pool (2,000 labels): they rose by less than a
point over the end of the run, yet keep rising slowly beyond it, so "flat" is a statement
about the budget that was run. Noise in the test score (1,000 rows: about 0.01) is the size
of the tolerance, so one late dip can move a plateau by a few checks."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from activelab.core.loop.forecast import MIN_POINTS, default_target, forecast

PLATEAU_TOLERANCE = 0.01     # "flat": within one point of the final level
PLATEAU_FINAL_POINTS = 5     # the final level is the mean of the last points (less noise)
PLATEAU_SMOOTH = 3           # centred moving average over this many curve points
PLATEAU_FLAT_SHARE = 0.25    # flat for at least the last quarter of the run, else censored
STOP_GOAL = 0.15             # the stopping rule should fire within +-15% of the plateau


def smoothed(values: np.ndarray, points: int = PLATEAU_SMOOTH) -> np.ndarray:
    """Centred moving average over ``points`` successive curve points (fewer at the ends), so
    one noisy test-split score does not decide where a curve flattened. Shape kept."""
    v = np.asarray(values, dtype=np.float64)
    h = max(int(points), 1) // 2
    c = np.concatenate([[0.0], np.cumsum(v)])
    lo = np.maximum(np.arange(len(v)) - h, 0)
    hi = np.minimum(np.arange(len(v)) + h + 1, len(v))
    return (c[hi] - c[lo]) / (hi - lo)


def final_level(n_labels: np.ndarray, values: np.ndarray,
                final_points: int = PLATEAU_FINAL_POINTS) -> float:
    """The level a run ends at: the mean of its last ``final_points`` scores."""
    order = np.argsort(n_labels)
    return float(np.asarray(values, dtype=np.float64)[order][-final_points:].mean())


def sustained_reach(n_labels: np.ndarray, values: np.ndarray, level: float) -> float:
    """The first label count from which the smoothed curve (``smoothed``) stays at or above
    ``level`` until the end of the run; NaN when its last point is below it."""
    order = np.argsort(n_labels)
    x = np.asarray(n_labels, dtype=np.float64)[order]
    s = smoothed(np.asarray(values, dtype=np.float64)[order])
    ok = s >= level
    if not ok.size or not ok[-1]:
        return math.nan
    below = np.flatnonzero(~ok)
    return float(x[below[-1] + 1] if below.size else x[0])


def plateau_labels(n_labels: np.ndarray, values: np.ndarray,
                   tolerance: float = PLATEAU_TOLERANCE,
                   final_points: int = PLATEAU_FINAL_POINTS,
                   flat_share: float = PLATEAU_FLAT_SHARE) -> float:
    """The true plateau of one learning curve: the first label count from which the smoothed
    curve (centred 3-point moving average) comes within ``tolerance`` (absolute; 0.01 = one
    point) of the run's final level (the mean of its last ``final_points`` scores) and stays
    at or above that until the end: later labels added less than ``tolerance``.

    Censored (NaN, shown as "> budget") when the curve has not flattened within the run: the
    plateau so found lies in the last ``flat_share`` of the run's label range, so the run
    cannot show that the curve stays flat (a curve still rising ends there by construction).
    Shapes (k,); returns a label count of the curve or NaN."""
    order = np.argsort(n_labels)
    x = np.asarray(n_labels, dtype=np.float64)[order]
    v = np.asarray(values, dtype=np.float64)[order]
    if len(x) < 2:
        return math.nan
    at = sustained_reach(x, v, final_level(x, v, final_points) - tolerance)
    if math.isnan(at) or at > x[-1] - flat_share * (x[-1] - x[0]):
        return math.nan
    return at


def plateau_bound(x: np.ndarray, v: np.ndarray) -> float:
    """Where the run came within the tolerance of its final level for good (the last label
    count when its last points dip below it): no plateau can lie before it."""
    at = sustained_reach(x, v, final_level(x, v) - PLATEAU_TOLERANCE)
    return float(np.max(x)) if math.isnan(at) else at


def forecast_at_third(n_labels: np.ndarray, values: np.ndarray, budget: int, seed: int = 0,
                      target: float | None = None, tolerance: float = PLATEAU_TOLERANCE,
                      final_points: int = PLATEAU_FINAL_POINTS, n_boot: int = 100
                      ) -> dict[str, float]:
    """The forecasts made from the points up to a third of the budget
    (``activelab.core.loop.forecast.forecast``), against what happened. Two levels X:

    * ``forecast_*``: the app's own forecast (``default_target``: two points above where the
      curve is at that moment, what ``status`` and the curve panel show);
    * ``level_*``: ``target`` (the simulation's, e.g. 95% of the full-data model's score) or,
      when the run ends below it or none is given, the level the run did reach: its final
      level minus ``tolerance``.

    Keys: forecast_from (labels at the forecast), forecast_target / level_target (X),
    forecast_labels / level_labels (forecast labels to X), forecast_low / forecast_high (its
    80% interval, calibrated), forecast_withheld (1.0 when the app would say "not enough of
    the curve yet" instead of a number, else 0.0), forecast_actual / level_actual (labels where the smoothed curve reached X
    for good, ``sustained_reach``; NaN when it did not within the run). NaNs where there are
    fewer than ``MIN_POINTS`` points before the third or the fit fails."""
    x = np.asarray(n_labels, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    early = x <= budget / 3.0
    reached_level = final_level(x, v, final_points) - tolerance
    level = reached_level if target is None else min(float(target), reached_level)
    out = dict.fromkeys(("forecast_from", "forecast_target", "forecast_labels", "forecast_low",
                         "forecast_high", "forecast_actual", "level_labels"), math.nan)
    out.update(level_target=level, level_actual=sustained_reach(x, v, level))
    if len(np.unique(x[early])) < MIN_POINTS:
        return out
    out["forecast_from"] = float(x[early].max())
    app_target = default_target(x[early], v[early])
    try:
        if app_target is not None:
            f = forecast(x[early], v[early], app_target, seed=seed, n_boot=n_boot)
            out.update(forecast_target=app_target, forecast_labels=f.labels,
                       forecast_low=f.low, forecast_high=f.high,
                       forecast_withheld=float(f.withheld is not None),
                       forecast_actual=sustained_reach(x, v, app_target))
        out["level_labels"] = forecast(x[early], v[early], level, n_boot=0).labels
    except ValueError:
        pass
    return out


def forecast_errors(g: pd.DataFrame, which: str = "forecast", shown: bool = False
                    ) -> np.ndarray:
    """Relative errors |forecast - actual| / actual of the forecasts made at a third of the
    budget (``forecast_at_third``; ``which`` "forecast": the app's, "level": to the target or
    the run's final level): forecast labels to reach level X against the labels at which the
    run's smoothed curve actually reached X for good, over the repeats where X was reached
    after the forecast was made (not reached within the run, or already before: not
    evaluable). A forecast that never gets there (or whose fit failed) counts as an infinite
    error. ``shown``: only the app's forecasts shown as a number (not withheld)."""
    if f"{which}_actual" not in g:
        return np.zeros(0)
    ok = g["forecast_from"].notna() & (g[f"{which}_actual"] > g["forecast_from"])
    if shown:
        ok &= _shown(g)
    sub = g[ok]
    pred = sub[f"{which}_labels"].to_numpy(dtype=np.float64)
    actual = sub[f"{which}_actual"].to_numpy(dtype=np.float64)
    err = np.abs(pred - actual) / actual
    return np.where(np.isnan(pred), np.inf, err)


def _shown(g: pd.DataFrame) -> pd.Series:
    if "forecast_withheld" not in g:
        return pd.Series(True, index=g.index)
    return g["forecast_withheld"].fillna(0.0) < 0.5


def withheld_count(g: pd.DataFrame) -> tuple[int, int]:
    """(repeats evaluated as in ``forecast_errors`` whose app forecast was withheld, all
    repeats so evaluated)."""
    if "forecast_actual" not in g:
        return 0, 0
    ok = g["forecast_from"].notna() & (g["forecast_actual"] > g["forecast_from"])
    return int((ok & ~_shown(g)).sum()), int(ok.sum())


def interval_hits(g: pd.DataFrame) -> tuple[int, int]:
    """(repeats whose actual labels fell inside the app forecast's 80% interval, repeats
    evaluated as in ``forecast_errors`` whose forecast was shown, not withheld)."""
    if "forecast_actual" not in g:
        return 0, 0
    ok = g["forecast_from"].notna() & (g["forecast_actual"] > g["forecast_from"]) & _shown(g)
    sub = g[ok]
    hit = (sub["forecast_low"] <= sub["forecast_actual"]) & \
        (sub["forecast_actual"] <= sub["forecast_high"])
    return int(hit.sum()), int(len(sub))


def legend() -> list[str]:
    """What the stopping and forecast columns mean (for printed tables)."""
    return [
        f"plateau: the first labels from which the smoothed curve ({PLATEAU_SMOOTH}-point moving "
        f"average) is within {PLATEAU_TOLERANCE:g} of the run's final level (mean of its last "
        f"{PLATEAU_FINAL_POINTS} scores) and stays there; '> budget' (censored, not a number) "
        f"when that lies in the last {PLATEAU_FLAT_SHARE:.0%} of the run (not shown to be "
        "flat). (flat/n): repeats whose curve flattened.",
        f"rule fires: median labels where the stopping rule fired (repeats fired). in "
        f"{STOP_GOAL:.0%}: repeats firing within +-{STOP_GOAL:.0%} of their plateau / repeats "
        "judged: those with a plateau (not firing there is a miss) and the censored ones where "
        f"the rule fired more than {STOP_GOAL:.0%} before the run even came within "
        f"{PLATEAU_TOLERANCE:g} of its final level (a certain miss).",
        "forecast err: the forecast made at a third of the budget, median |forecast labels to "
        "reach X - labels where the smoothed curve reached X for good| / the latter; X = the "
        "app's own target (two points above the curve at that moment, what status and the "
        "curve panel show); n = repeats where X was reached after the forecast (a forecast of "
        "'never' counts as an infinite error); shown err: the same over the forecasts shown as "
        "a number (the others say 'not enough of the curve yet': beyond 3x the current labels "
        "or refits disagreeing ten-fold); in 80%: shown forecasts whose actual labels fell "
        "in their 80% interval (calibrated on the dev curves). level err: the same with X = the target (95% of the "
        f"full-data model) or, if the run ends below it, its final level - {PLATEAU_TOLERANCE:g} "
        "(near a flat curve's top a small error in level is a large one in labels).",
    ]
