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


def test_noisy_kappas_fire_where_the_trend_crosses_not_on_a_lucky_run():
    rng = np.random.default_rng(3)
    n = np.arange(20.0, 1001.0, 20.0)
    trend = 0.5 * n ** -0.7                            # crosses 1 - 0.982 = 0.018 near 115 labels
    noisy = trend * np.exp(rng.normal(0.0, 0.6, len(n)))
    kappas = 1.0 - noisy
    crossing = float(n[np.argmax(trend <= 1.0 - KAPPA_THRESHOLD)])
    i = first_stop_from_kappas(kappas, n_labels=n)
    assert AGGREGATE == "trend" and i is not None
    assert abs(n[i] - crossing) <= 5 * 20              # within a few checks of the true trend
    # The raw rule ("each" of the last 3 kappas) on the same noisy series: it fires where three
    # quiet checks happen to fall, which is another place.
    j = first_stop_from_kappas(kappas, aggregate="each", n_labels=n)
    assert j != i


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
    assert d.stop and "their trend" in d.reason
    assert d.reason.startswith("the model has stopped improving")
    early = decision_from_curve(points[:8])
    assert not early.stop
