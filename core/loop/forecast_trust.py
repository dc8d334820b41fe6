"""How far a learning-curve forecast can be trusted: its calibrated interval, and when to say
"not enough of the curve yet" instead of a number.

The wild bootstrap of ``activelab.core.loop.forecast`` only sees the noise around the fitted
curve, not that the inverse power law itself is a guess about the part of the curve not yet
seen: on the dev sets' curves (benchmarks/stopping_forecast.py; SMS spam, AG News, TREC;
forecasts from 20%, 27%, 33%, 40% and 50% of a 1,000-label run) its "80%" interval held the
actual label count about 40% of the time. The interval is therefore widened in log-label space
by a factor learned there, in the manner of split-conformal prediction (Vovk et al. 2005;
Papadopoulos et al. 2002, "inductive conformal prediction"): each side's log half-width
``log(high / point)`` (resp. ``log(point / low)``) is floored at ``LOG_FLOOR`` and multiplied by
``SCALE``, the 80th percentile, over the dev forecasts that are shown, of
``|log(actual / point)| / max(half-width, LOG_FLOOR)``. The factor holds for the 80% interval
only; other interval shares are widened by the same factor, without that calibration.

benchmarks/forecast_calibration.py recomputes the factor and the coverage it gives on the
held-out sets (benchmarks/results/forecast_calibration.txt).

A forecast is withheld (``withhold_reason``) when the dev curves showed it to be unreliable:
the point lies more than ``MAX_EXTRAPOLATION`` x the current labels ahead (or never), or the
bootstrap's upper end is unbounded or more than ``MAX_SPREAD`` x the point (the curve does not
yet pin down its own level: an early, not yet concave, S-shaped start looks like this).
"""
from __future__ import annotations

import math

SCALE = 1.95
"""Multiplier on the bootstrap's log half-widths (split-conformal, dev sets, 80% interval)."""
LOG_FLOOR = 0.10
"""Smallest log half-width the multiplier applies to (a bootstrap that is nearly certain)."""
MAX_EXTRAPOLATION = 3.0
"""Forecasts beyond this many times the current labels are withheld."""
MAX_SPREAD = 10.0
"""Forecasts whose bootstrap upper end exceeds this many times the point are withheld."""
NOT_YET = "not enough of the curve yet to forecast reliably"


def calibrated_interval(point: float, low: float, high: float, scale: float = SCALE,
                        floor: float = LOG_FLOOR) -> tuple[float, float]:
    """(low, high) label counts of the calibrated interval around ``point`` (labels, > 0):
    ``point * exp(-scale * max(log(point / low), floor))`` and
    ``point * exp(scale * max(log(high / point), floor))``. An infinite ``high`` or ``point``
    stays infinite (so does the interval); a ``low`` of 0 gives 0."""
    if not math.isfinite(point) or point <= 0:
        return low, high
    down = math.log(point / low) if low > 0 else math.inf
    up = math.log(high / point) if math.isfinite(high) and high > 0 else math.inf
    new_low = point * math.exp(-scale * max(down, floor)) if math.isfinite(down) else 0.0
    new_high = point * math.exp(scale * max(up, floor)) if math.isfinite(up) else math.inf
    return min(new_low, point), max(new_high, point)


def withhold_reason(point: float, current: float, raw_high: float,
                    max_extrapolation: float = MAX_EXTRAPOLATION,
                    max_spread: float = MAX_SPREAD) -> str | None:
    """Why a forecast of ``point`` labels made at ``current`` labels (bootstrap upper end
    ``raw_high``, before calibration) should not be shown as a number, or None when it may.
    Label counts; ``point`` may be inf (never reached)."""
    if not math.isfinite(point) or point > max_extrapolation * current:
        return (f"{NOT_YET}: the fitted curve would have to be extrapolated beyond "
                f"{max_extrapolation:g}x the current labels")
    if not math.isfinite(raw_high) or raw_high > max_spread * max(point, 1.0):
        return (f"{NOT_YET}: the curve does not yet pin down its level (refits on the same "
                "points disagree by more than "
                f"{max_spread:g}-fold)")
    return None
