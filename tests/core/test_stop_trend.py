"""The stopping rule's default aggregate: the stop-set disagreement fitted as a trend over the
recent checks (activelab.core.loop.stop_trend), against the raw last kappas."""
from __future__ import annotations

import math

import numpy as np
import pytest

from activelab.core.loop.stop_trend import first_stable_trend, fitted_disagreement
from activelab.core.loop.stopping import (
    AGGREGATE, KAPPA_THRESHOLD, WINDOW, decision_from_curve, first_stop_from_kappas,
)


def test_an_exact_power_law_is_recovered_and_the_fit_never_looks_ahead():
    n = np.arange(20.0, 1001.0, 20.0)
    d = 0.6 * n ** -0.8
    fitted = fitted_disagreement(n, 1.0 - d)
    assert np.isnan(fitted[:4]).all()                  # fewer than 4 checks in [n/3, n]
    assert fitted[4:] == pytest.approx(d[4:], rel=1e-9)
    # Appending later checks (here: wildly different ones) never changes an earlier value.
    more = fitted_disagreement(np.append(n, [1020.0, 1040.0]), np.append(1.0 - d, [0.2, 0.3]))
    assert more[:len(n)] == pytest.approx(fitted, nan_ok=True)


def test_on_noisy_kappas_the_trend_fires_less_erratically_than_the_raw_kappas():
    # Disagreement falling as a power of the labels, with the check-to-check noise of real
    # stop sets (a factor of about e^0.8 either way): over many such runs the trend's firing
    # point varies less than that of "each of the last 3 raw kappas" at the same threshold.
    n = np.arange(20.0, 1001.0, 20.0)
    trend = 0.5 * n ** -0.7                       # crosses 1 - 0.982 = 0.018 at 120 labels
    fired: dict[str, list[float]] = {"trend": [], "each": []}
    for seed in range(100):
        kappas = 1.0 - trend * np.exp(np.random.default_rng(seed).normal(0.0, 0.8, len(n)))
        for how in fired:
            i = first_stop_from_kappas(kappas, aggregate=how, n_labels=n)
            fired[how].append(n[i] if i is not None else math.inf)
    assert AGGREGATE == "trend"
    spread = {how: np.subtract(*np.percentile(v, [90, 10])) for how, v in fired.items()}
    assert spread["trend"] < 0.8 * spread["each"]
    # It fires after the crossing (3 checks in a row), never long before it.
    assert np.percentile(fired["trend"], 10) >= 120.0


def test_an_undefined_kappa_stops_the_run_of_stable_checks():
    n = np.arange(20.0, 401.0, 20.0)
    kappas = np.full(len(n), 0.999)
    kappas[:4] = 0.9
    i = first_stable_trend(n, kappas, KAPPA_THRESHOLD, WINDOW)
    assert i is not None
    holed = kappas.copy()
    holed[i] = math.nan                                 # a constant model at that check
    assert first_stable_trend(n, holed, KAPPA_THRESHOLD, WINDOW) > i
    with pytest.raises(ValueError):
        fitted_disagreement(n, kappas[:-1])


def test_status_sentence_shows_the_trend_when_the_rule_fires():
    from activelab.core.loop.stopping import stop_set_record

    rng = np.random.default_rng(0)
    base = rng.integers(0, 3, 400)
    points = []
    for v, n_labels in enumerate(range(20, 421, 20)):
        pred = base.copy()
        flips = rng.random(400) < (0.3 if v < 6 else 0.0)
        pred[flips] = (pred[flips] + 1) % 3
        rec = stop_set_record(pred, ["a", "b", "c"], seed=1, n_pool=400, size=400)
        points.append({"n_labels": n_labels, "per_task": {"t": {"stop_set": rec}}})
    d = decision_from_curve(points)
    assert d.stop and "fitted trend 1.000, 1.000, 1.000" in d.reason
    assert d.reason.startswith("the model has stopped improving")
    first = decision_from_curve(points[:5])     # the trend exists from the 4th check on only
    assert not first.stop and first.reason.startswith("too early to tell: the trend needs 4 ")
    early = decision_from_curve(points[:8])
    assert not early.stop and early.reason.startswith("the model is still changing (kappa ")
    assert "stops when the trend is >= 0.982 at 3 checks in a row" in early.reason
