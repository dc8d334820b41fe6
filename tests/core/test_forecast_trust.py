"""The forecast's calibrated interval and its withholding, on curves with known answers."""
from __future__ import annotations

import math

import numpy as np

from activelab.core.loop.forecast import forecast
from activelab.core.loop.forecast_trust import NOT_YET, calibrated_interval, withhold_reason

N = np.arange(20, 340, 20.0)


def _noisy_power_law(seed: int) -> tuple[np.ndarray, float, float]:
    """A learning curve from a random power law a - b n^-c plus test-split noise (sd 0.005),
    and the level it reaches at twice the current labels (the truth: 640 labels)."""
    rng = np.random.default_rng(seed)
    a, b, c = rng.uniform(0.8, 0.95), rng.uniform(0.5, 1.5), rng.uniform(0.4, 0.8)
    y = a - b * N ** (-c) + rng.normal(0.0, 0.005, len(N))
    return y, a - b * (2 * N[-1]) ** (-c), 2 * N[-1]


def test_shown_80_percent_interval_holds_the_truth_about_80_percent_of_the_time():
    """Over 30 noisy curves the raw bootstrap interval holds the true label count well under
    80% of the time (~60%); the calibrated one, over the forecasts shown, at least 75%."""
    raw = cal = shown = 0
    for seed in range(30):
        y, target, truth = _noisy_power_law(seed)
        f = forecast(N, y, target, seed=seed, n_boot=60)
        g = forecast(N, y, target, seed=seed, n_boot=60, calibrated=False)
        raw += g.low <= truth <= g.high
        if f.withheld is None:
            shown += 1
            cal += f.low <= truth <= f.high
            assert "80% interval" in f.message()
    assert shown >= 12, shown
    assert cal / shown >= 0.75, (cal, shown)
    assert raw / 30 < 0.75, raw        # the uncalibrated interval would fail the line above


def test_calibration_widens_in_log_labels_and_keeps_infinite_ends():
    low, high = calibrated_interval(400.0, 360.0, 450.0)
    assert low < 360.0 and high > 450.0
    assert math.log(high / 400.0) > 1.5 * math.log(450.0 / 400.0)
    assert calibrated_interval(400.0, 390.0, math.inf)[1] == math.inf


def test_far_extrapolation_and_unsettled_curves_are_withheld():
    # An S-shaped start: flat, then a jump; the fit cannot tell where it levels off.
    n = np.arange(20, 140, 20.0)
    y = np.array([0.30, 0.31, 0.30, 0.45, 0.62, 0.70])
    f = forecast(n, y, 0.95, seed=0, n_boot=60)
    assert f.withheld is not None and f.message().startswith(NOT_YET)
    assert withhold_reason(1000.0, 200.0, 1200.0) is not None       # 5x the current labels
    assert withhold_reason(math.inf, 200.0, math.inf) is not None    # "never"
    assert withhold_reason(300.0, 200.0, 4000.0) is not None         # refits disagree > 10x
    assert withhold_reason(300.0, 200.0, 400.0) is None


def test_a_well_determined_near_forecast_is_shown_with_a_number():
    y = 0.9 - 0.8 * N ** -0.5
    f = forecast(N, y, 0.9 - 0.8 * 500 ** -0.5, seed=0, n_boot=60)
    assert f.withheld is None
    assert "more labels to reach" in f.message()
