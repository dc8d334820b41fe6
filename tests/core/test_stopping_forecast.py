"""The stopping rule and the learning-curve forecast on constructed curves with known answers."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest

from activelab.core.loop.forecast import (
    HORIZON, fit_learning_curve, forecast, forecast_from_curve,
)
from activelab.core.loop.stopping import (
    STOP_SET_KEY, agreement, decision_from_curve, decode_stop_set, first_stop,
    stabilizing_predictions, stop_set, stop_set_record,
)
from activelab.core.simulation.summary import plateau_labels


# ----------------------------------------------------------------------------- forecast


@pytest.mark.parametrize("a, b, c, target", [
    (0.95, 0.5, 0.5, 0.92),     # needs (0.5 / 0.03)**2 = 278 labels
    (0.90, 0.8, 0.7, 0.88),     # 194 labels
    (0.80, 2.0, 1.0, 0.79),     # 200 labels
])
def test_forecast_recovers_an_exact_power_law_within_5_percent(a, b, c, target):
    n = np.arange(10, 110, 10)
    truth = (b / (a - target)) ** (1 / c)
    f = forecast(n, a - b * n ** (-c), target)
    assert f.labels == pytest.approx(truth, rel=0.05)
    assert f.level == pytest.approx(a, abs=0.005)
    assert f.more == pytest.approx(truth - 100, rel=0.1)
    assert f.low <= truth * 1.05 and f.high >= truth * 0.95
    assert "more labels to reach" in f.message() and "80% interval" in f.message()


def test_forecast_interval_covers_the_truth_on_noisy_curves():
    """An 80% interval should hold the true label count in most noisy draws (here >= 60% of
    20 seeded draws; the point forecast's median error stays within 25%)."""
    n = np.arange(10, 160, 10)
    a, b, c, target = 0.93, 0.6, 0.5, 0.90
    truth = (b / (a - target)) ** (1 / c)       # 400 labels
    hits, errors = 0, []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        f = forecast(n, a - b * n ** (-c) + rng.normal(0, 0.004, len(n)), target, seed=seed)
        hits += f.low <= truth <= f.high
        errors.append(abs(f.labels - truth) / truth if math.isfinite(f.labels) else math.inf)
    assert hits >= 12, hits
    assert np.median(errors) <= 0.25, errors


def test_flat_curve_is_not_forecast_to_rise():
    n = np.arange(10, 110, 10)
    f = forecast(n, np.full(len(n), 0.8), 0.9)
    assert math.isinf(f.labels)
    assert f.level == pytest.approx(0.8, abs=1e-6)
    assert "not expected" in f.message()
    # ... and a target already under the flat curve needs no more labels.
    assert forecast(n, np.full(len(n), 0.8), 0.7).more == 0


def test_forecast_beyond_the_horizon_is_not_a_number_of_labels():
    n = np.arange(10, 110, 10)
    f = forecast(n, 0.95 - 0.5 * n ** -0.5, 0.9499)   # ~25 million labels
    assert math.isinf(f.labels) and f"{HORIZON:.0f}x" in f.message()


def test_forecast_needs_four_points_and_a_sane_interval():
    with pytest.raises(ValueError, match="at least 4"):
        fit_learning_curve([10, 20, 30], [0.5, 0.6, 0.7])
    with pytest.raises(ValueError, match="interval"):
        forecast(np.arange(10, 60, 10), [0.5, 0.6, 0.65, 0.68, 0.7], 0.75, interval=1.2)
    # A curve given as project points (dicts) with a default target of 0.02 above the last.
    pts = [{"n_labels": int(k), "cv_accuracy": 0.95 - 0.5 * k ** -0.5} for k in range(10, 110, 10)]
    f = forecast_from_curve(pts)
    assert f is not None and f.target == pytest.approx(pts[-1]["cv_accuracy"] + 0.02)
    assert forecast_from_curve(pts[:3]) is None


# ----------------------------------------------------------------------------- stopping


def _versions(n_versions: int, stable_from: int, n: int = 500, seed: int = 0) -> list[np.ndarray]:
    """Predictions of successive models: every version changes 20% of its predictions until
    ``stable_from``, after which they no longer change."""
    rng = np.random.default_rng(seed)
    cur = rng.integers(0, 3, n)
    out = []
    for v in range(n_versions):
        if 0 < v <= stable_from:
            cur = cur.copy()
            flip = rng.random(n) < 0.2
            cur[flip] = (cur[flip] + 1) % 3
        out.append(cur)
    return out


def test_rule_fires_after_window_stable_retrains_from_the_start_of_the_plateau():
    preds = _versions(12, stable_from=5)
    # Versions 5, 6, 7, 8 are identical: kappas of 6/5, 7/6 and 8/7 are all 1.
    assert first_stop(preds) == 8
    assert not stabilizing_predictions(preds[:8]).stop
    d = stabilizing_predictions(preds[:9])
    assert d.stop and d.kappas == (1.0, 1.0, 1.0)
    assert d.reason.startswith("the model has stopped improving (kappa 1.000, 1.000, 1.000 "
                               "over the last 3 retrains")
    assert first_stop(preds, window=1) == 6


def test_rule_does_not_fire_while_models_change_or_predict_one_class():
    changing = _versions(10, stable_from=10)
    assert first_stop(changing) is None
    d = stabilizing_predictions(changing)
    assert not d.stop and "still changing" in d.reason
    # A model that predicts one class for everything agrees with itself trivially: no signal.
    constant = [np.zeros(200, dtype=int)] * 6
    assert math.isnan(agreement(constant[0], constant[1]))
    assert first_stop(constant) is None
    assert "too early" in stabilizing_predictions(changing[:2]).reason


def test_kappa_is_scikit_learns_and_tolerates_a_small_change():
    from sklearn.metrics import cohen_kappa_score

    rng = np.random.default_rng(1)
    a = rng.integers(0, 2, 2000)
    b = a.copy()
    b[:5] = 1 - b[:5]                      # 5 of 2,000 flipped: kappa about 0.995
    assert agreement(a, b) == pytest.approx(cohen_kappa_score(a, b))
    assert 0.99 < agreement(a, b) < 1.0
    with pytest.raises(ValueError, match="different samples"):
        agreement(a, b[:10])


def test_audit_estimate_that_moved_holds_the_rule_back():
    preds = _versions(9, stable_from=4)                 # stable kappas at versions 5..8
    steady = [None, None, None, None, None, (40, 50), (44, 55), (48, 60), (52, 65)]
    moved = [None, None, None, None, None, (20, 50), (30, 55), (40, 60), (58, 65)]
    assert stabilizing_predictions(preds, audit=steady).stop
    d = stabilizing_predictions(preds, audit=moved)
    assert not d.stop and "audit accuracy moved" in d.reason and d.audit[3] == 65


def test_stop_set_is_fixed_per_seed_and_stored_compactly():
    a, b = stop_set(10_000, 3), stop_set(10_000, 3)
    assert np.array_equal(a, b) and len(a) == 2000 and len(np.unique(a)) == 2000
    assert not np.array_equal(a, stop_set(10_000, 4))
    assert len(stop_set(150, 0)) == 150
    pred = np.random.default_rng(0).integers(0, 3, 2000)
    rec = stop_set_record(pred, ("a", "b", "c"), 3, 10_000)
    assert len(json.dumps(rec)) < 3000
    ident, labels = decode_stop_set(json.loads(json.dumps(rec)))
    assert ident == (3, 10_000, 2000) and list(labels[:5]) == list(np.array(["a", "b", "c"])[pred[:5]])
    assert decode_stop_set({"data": "broken"}) is None


def test_decision_from_curve_reads_stored_points():
    preds = _versions(8, stable_from=3)
    points = [{"n_labels": 10 * (i + 1), "audit_accuracy": None, "audit_n": 0,
               "per_task": {"topic": {"cv_accuracy": 0.8,
                                      STOP_SET_KEY: stop_set_record(p, ("x", "y", "z"), 0, 500)}}}
              for i, p in enumerate(preds)]
    # Versions 3..7 predict the same: the kappas of 4/3, 5/4 and 6/5 are 1.
    assert decision_from_curve(points[:7]).stop
    assert not decision_from_curve(points[:6]).stop
    # A point predicted on another stop set (the seed changed) does not compare with the last.
    other = dict(points[6], per_task={"topic": {STOP_SET_KEY: stop_set_record(
        preds[6], ("x", "y", "z"), 1, 500)}})
    assert not decision_from_curve(points[:6] + [other]).stop
    assert decision_from_curve([{"n_labels": 5, "per_task": {"t": {}}}]) is None


def test_plateau_is_where_the_curve_stays_within_a_point_of_its_end():
    n = np.arange(10, 210, 10)
    curve = np.minimum(0.5 + 0.004 * n, 0.9)          # rises, flat at 0.9 from 100 labels
    assert plateau_labels(n, curve) == 100            # 0.896 at 99 would be within 0.01...
    assert plateau_labels(n, np.full(len(n), 0.7)) == 10
    noisy = curve + np.where(n == 150, -0.02, 0.0)    # a dip after the plateau pushes it later
    assert plateau_labels(n, noisy) == 160
