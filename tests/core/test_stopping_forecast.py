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
    SPAN, STOP_SET_KEY, WINDOW, agreement, decision_from_curve, decode_stop_set, first_stop,
    span_kappa, stabilizing_predictions, stop_set, stop_set_record, thinned,
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
    # "never" was wrong on most dev curves where the fit said so: withheld, not shown.
    assert f.message().startswith("not enough of the curve yet")
    assert "not expected" in forecast(n, np.full(len(n), 0.8), 0.9, calibrated=False).message()
    # ... and a target already under the flat curve needs no more labels.
    assert forecast(n, np.full(len(n), 0.8), 0.7).more == 0


def test_forecast_beyond_the_horizon_is_not_a_number_of_labels():
    n = np.arange(10, 110, 10)
    f = forecast(n, 0.95 - 0.5 * n ** -0.5, 0.9499, calibrated=False)   # ~25 million labels
    assert math.isinf(f.labels) and f"{HORIZON:.0f}x" in f.message()
    assert forecast(n, 0.95 - 0.5 * n ** -0.5, 0.9499).message().startswith("not enough")


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
    preds = _versions(14, stable_from=5)
    # Versions 5, 6, 7, 8 are identical: kappas of 6/5, 7/6 and 8/7 are all 1.
    assert first_stop(preds, window=3) == 8
    assert not stabilizing_predictions(preds[:8], window=3).stop
    d = stabilizing_predictions(preds[:9], window=3)
    assert d.stop and d.kappas == (1.0, 1.0, 1.0)
    assert d.reason.startswith("the model has stopped improving (kappa 1.000, 1.000, 1.000 "
                               "over the last 3 checks")
    assert first_stop(preds, window=1) == 6
    assert first_stop(preds) == 5 + WINDOW          # the defaults: WINDOW checks in a row


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
    assert stabilizing_predictions(preds, audit=steady, window=3).stop
    d = stabilizing_predictions(preds, audit=moved, window=3)
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


def _points(preds: list[np.ndarray], step: int) -> list[dict]:
    return [{"n_labels": step * (i + 1), "audit_accuracy": None, "audit_n": 0,
             "per_task": {"topic": {"cv_accuracy": 0.8,
                                    STOP_SET_KEY: stop_set_record(p, ("x", "y", "z"), 0, 500)}}}
            for i, p in enumerate(preds)]


def test_decision_from_curve_reads_stored_points():
    preds = _versions(8, stable_from=3)
    points = _points(preds, SPAN)
    # Versions 3..7 predict the same: the kappas of 4/3, 5/4 and 6/5 are 1.
    assert decision_from_curve(points[:7], window=3).stop
    assert not decision_from_curve(points[:6], window=3).stop
    # A point predicted on another stop set (the seed changed) does not compare with the last.
    other = dict(points[6], per_task={"topic": {STOP_SET_KEY: stop_set_record(
        preds[6], ("x", "y", "z"), 1, 500)}})
    assert not decision_from_curve(points[:6] + [other], window=3).stop
    assert decision_from_curve([{"n_labels": 5, "per_task": {"t": {}}}]) is None


def test_retrains_closer_than_the_span_are_compared_span_labels_apart():
    """The app retrains every few labels: a model is compared with the one SPAN labels before,
    so a model that changes a little at every retrain is not taken as stable."""
    rng = np.random.default_rng(0)
    cur, preds = rng.integers(0, 3, 2000), []
    for _ in range(40):                       # 40 retrains, 5 labels apart
        cur = cur.copy()
        flip = rng.random(len(cur)) < 0.004   # 0.4% of predictions change per retrain
        cur[flip] = (cur[flip] + 1) % 3
        preds.append(cur)
    # Successive kappas are about 0.994: the paper's rule would fire on 5-label retrains.
    assert first_stop(preds, threshold=0.99, window=3) is not None
    # 20 labels apart (4 retrains) about 1.6% change, kappa about 0.976 < 0.99: it does not.
    d = decision_from_curve(_points(preds, 5), threshold=0.99, window=3)
    assert not d.stop and len(d.kappas) == 3 and all(0.96 < k < 0.985 for k in d.kappas)
    assert thinned([5, 10, 20, 25, 40, 45, 60]) == [0, 3, 5]     # 5, 25, 45
    # A kappa over 40 labels is scaled to 20: half the disagreement.
    assert span_kappa(0.96, 40) == pytest.approx(0.98)
    assert span_kappa(0.96, 20) == 0.96 and math.isnan(span_kappa(math.nan, 40))


def test_plateau_is_where_the_smoothed_curve_stays_within_a_point_of_its_end():
    n = np.arange(10, 410, 10)
    curve = np.minimum(0.5 + 0.004 * n, 0.9)          # rises, flat at 0.9 from 100 labels
    # Smoothed over 3 points, the curve is within 0.01 of 0.9 from 110 labels on (at 100:
    # (0.86 + 0.9 + 0.9) / 3 = 0.887).
    assert plateau_labels(n, curve) == 110
    assert plateau_labels(n, np.full(len(n), 0.7)) == 10
    one_dip = curve + np.where(n == 250, -0.02, 0.0)  # one bad test score: smoothed away
    assert plateau_labels(n, one_dip) == 110
    dip = curve + np.where((n >= 240) & (n <= 260), -0.03, 0.0)   # a real dip counts
    assert plateau_labels(n, dip) == 280
    # Above the final level is not "off the plateau": only falling short of it is.
    overshoot = curve + np.where((n >= 150) & (n <= 200), 0.03, 0.0)
    assert plateau_labels(n, overshoot) == 110


def test_a_curve_still_rising_at_the_end_of_the_run_is_censored():
    n = np.arange(10, 410, 10)
    assert math.isnan(plateau_labels(n, 0.5 + 0.001 * n))              # rising throughout
    late = np.minimum(0.5 + 0.0013 * n, 0.9)                          # flat from ~310 labels
    assert math.isnan(plateau_labels(n, late))                        # in the last quarter
    early = np.minimum(0.5 + 0.0015 * n, 0.9)                         # flat from ~270 labels
    assert plateau_labels(n, early) == pytest.approx(270, abs=10)
