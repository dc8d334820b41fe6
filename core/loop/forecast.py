"""How far there is to go: an inverse power law fitted to the learning curve.

Learning curves of classifiers are well described by ``score(n) = a - b * n**(-c)`` (Figueroa
et al. 2012, "Predicting sample size required for classification performance"): ``a`` is the
level the curve tends to, ``b`` and ``c`` how fast it gets there. ``fit_learning_curve`` fits
it by least squares under bounds (level in [0, 1], b >= 0, 0.001 <= c <= 3): by variable
projection (for a fixed c the model is linear in a and b; c is found on a grid refined with
``scipy.optimize.minimize_scalar``), polished with ``scipy.optimize.curve_fit`` (bounded).
``forecast`` inverts it (labels at which the fitted curve reaches a target) and attaches a
bootstrap interval: the fit is repeated on the fitted values plus the residuals with random
signs (a wild bootstrap, which keeps the larger noise of the early, small-n points where it is),
and the interval is the spread of the resulting label counts. The refits use the projection
alone (1 ms each; curve_fit's trust region needs up to 100 ms on flat curves, where c is
poorly determined).

Pure functions over (labels, score) points; the app's curve panel, ``activelab status`` and
``simulate`` all call ``forecast``.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

MIN_POINTS = 4
INTERVAL = 0.80
N_BOOT = 200
C_MAX = 3.0
SKIP_SHARE = 0.0
"""The initial phase a fit leaves out: points below SKIP_SHARE x the last point's labels."""
WEIGHT_POWER = 1.0
"""Point weights (labels / last labels) ** WEIGHT_POWER: later points count more."""
BOOTSTRAPS = ("wild", "points")
BOOTSTRAP = "wild"
"""How the interval's refits vary the points: "wild" (the fitted values plus the residuals
with random signs; keeps each point's label count and the larger noise of the early points
where it is) or "points" (the points drawn with replacement, the last always kept)."""
HORIZON = 100.0
"""Label counts beyond HORIZON x the labels of the last point are reported as not reachable:
that far out, the fitted curve is extrapolated by orders of magnitude and says nothing."""


@dataclass(frozen=True)
class CurveFit:
    """score(n) = a - b * n**(-c), fitted on ``n_points`` points."""

    a: float
    b: float
    c: float
    n_points: int

    def predict(self, n: np.ndarray | float) -> np.ndarray:
        """Fitted score at ``n`` labels (any shape; n > 0)."""
        return self.a - self.b * np.power(np.asarray(n, dtype=np.float64), -self.c)

    def labels_to_reach(self, target: float) -> float:
        """Labels at which the fitted curve reaches ``target``; inf when it levels off at or
        below it (a <= target). (``forecast`` also counts anything beyond its horizon as inf.)"""
        if self.a <= target:
            return math.inf
        if self.b <= 0:
            return 0.0
        # In logs: a tiny c or gap gives counts beyond any float (never, in practice).
        log_n = (math.log(self.b) - math.log(self.a - target)) / self.c
        return math.exp(log_n) if log_n < 700.0 else math.inf


@dataclass(frozen=True)
class Forecast:
    """Labels needed to reach ``target``, from a fit on points up to ``current_labels``.

    labels:         total labels at which the fitted curve reaches the target (inf: never, or
                    beyond HORIZON x the labels of the last point).
    low, high:      the central ``interval`` of the bootstrap's label counts (high may be inf).
    more:           labels - current_labels (0 when the fitted curve is already there).
    level, level_low, level_high: the level the curve tends to (a) and its interval.
    reach_share:    share of bootstrap fits that reach the target at all.
    withheld:       why the forecast is not reliable enough to show as a number
                    (``forecast_trust.withhold_reason``), or None.
    """

    target: float
    current_labels: int
    labels: float
    low: float
    high: float
    interval: float
    level: float
    level_low: float
    level_high: float
    reach_share: float
    fit: CurveFit
    withheld: str | None = None

    @property
    def more(self) -> float:
        return max(0.0, self.labels - self.current_labels)

    def message(self) -> str:
        """One sentence: "about N more labels to reach X (80% interval a–b)"."""
        pct = f"{self.interval:.0%}"
        if self.withheld:
            return self.withheld
        if math.isinf(self.labels):
            return (f"the curve levels off near {self.level:.3f} ({pct} interval "
                    f"{self.level_low:.3f}–{self.level_high:.3f}): {self.target:.3f} is not "
                    f"expected within {HORIZON:.0f}x the current labels")
        lo = max(0.0, self.low - self.current_labels)
        hi = self.high - self.current_labels
        hi_text = "more than the fit can tell" if math.isinf(hi) else f"{_round(hi):,}"
        if self.more <= 0:
            return f"the fitted curve is already at {self.target:.3f}"
        return (f"about {_round(self.more):,} more labels to reach {self.target:.3f} "
                f"({pct} interval {_round(lo):,}–{hi_text})")


def _round(x: float) -> int:
    """Label counts shown to two significant digits (10 -> 10, 1234 -> 1200)."""
    if x <= 0 or not math.isfinite(x):
        return 0
    digits = max(0, int(math.floor(math.log10(x))) - 1)
    return int(round(x, -digits))


def _model(x: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    # x is n / n0 (labels relative to the first point): b is then the gap at the first point,
    # which keeps the three parameters on similar scales for the optimizer.
    return a - b * np.power(x, -c)


def _jac(x: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    p = np.power(x, -c)
    return np.column_stack([np.ones_like(x), -p, b * p * np.log(x)])


def _clean(n: Sequence[float], score: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(n, dtype=np.float64).reshape(-1)
    y = np.asarray(score, dtype=np.float64).reshape(-1)
    if x.shape != y.shape:
        raise ValueError(f"labels and scores differ in length: {x.shape} vs {y.shape}.")
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0)
    x, y = x[ok], y[ok]
    order = np.argsort(x, kind="stable")
    return x[order], y[order]


_C_GRID = np.geomspace(1e-3, C_MAX, 48)


def _given_c(xs: np.ndarray, y: np.ndarray, c: np.ndarray, top: float,
             w: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each exponent in ``c`` (shape (m,)), the weighted least-squares a and b (b >= 0,
    a <= top) of y = a - b * xs**(-c), and the weighted sum of squared residuals; each shape
    (m,). ``w``: point weights (shape (k,), default 1). With c fixed the model is linear in
    (a, b), so this is a closed-form regression."""
    w = np.ones_like(y) if w is None else w / w.sum() * len(w)
    p = np.power(xs[None, :], -c[:, None])                    # (m, k)
    sw = w.sum()
    pm, ym = (p * w).sum(axis=1) / sw, float((y * w).sum() / sw)
    var = (w * (p - pm[:, None]) ** 2).sum(axis=1)
    cov = (w * (p - pm[:, None]) * (y - ym)[None, :]).sum(axis=1)
    b = np.where(var > 0, -cov / np.where(var > 0, var, 1.0), 0.0)
    b = np.maximum(b, 0.0)
    a = ym + b * pm
    over = a > top                       # the level may not exceed the score's range
    if over.any():
        pp = (w * p * p).sum(axis=1)
        b_top = np.maximum((w * (top - y)[None, :] * p).sum(axis=1) / np.where(pp > 0, pp, 1.0),
                           0.0)
        a = np.where(over, top, a)
        b = np.where(over, b_top, b)
    sse = (w * (y[None, :] - (a[:, None] - b[:, None] * p)) ** 2).sum(axis=1)
    return a, b, sse


def _profile_fit(xs: np.ndarray, y: np.ndarray, top: float, w: np.ndarray | None = None
                 ) -> tuple[float, float, float, float]:
    """(a, b, c, sse) minimizing the squared error under the bounds by variable projection: a
    grid over c, refined by ``scipy.optimize.minimize_scalar`` between the grid neighbours of
    the best exponent, (a, b) in closed form for each c."""
    from scipy.optimize import minimize_scalar

    a, b, sse = _given_c(xs, y, _C_GRID, top, w)
    k = int(np.argmin(sse))
    lo, hi = _C_GRID[max(k - 1, 0)], _C_GRID[min(k + 1, len(_C_GRID) - 1)]
    best = (float(a[k]), float(b[k]), float(_C_GRID[k]), float(sse[k]))
    res = minimize_scalar(lambda c: float(_given_c(xs, y, np.array([c]), top, w)[2][0]),
                          bounds=(lo, hi), method="bounded", options={"xatol": 1e-5})
    if res.success and res.fun < best[3]:
        a1, b1, s1 = _given_c(xs, y, np.array([res.x]), top, w)
        best = (float(a1[0]), float(b1[0]), float(res.x), float(s1[0]))
    return best


def _weights(x: np.ndarray, power: float) -> np.ndarray:
    """Point weights (labels / last labels) ** power: later points, measured on more labels
    and nearer the part of the curve being extrapolated, count more."""
    return np.power(x / x[-1], power)


def _fit(x: np.ndarray, y: np.ndarray, n0: float, polish: bool = False,
         w: np.ndarray | None = None) -> tuple[float, float, float] | None:
    """(a, b, c) of score(n) = a - b * n**(-c) by (weighted, ``w``) least squares under the
    bounds, or None when the points cannot be fitted. ``polish``: also run
    ``scipy.optimize.curve_fit`` (bounded trust-region) from that solution and keep it when
    it fits better."""
    xs = x / n0   # labels relative to the first point: b is then the gap at that point
    top = float(max(1.0, y.max()))
    if not np.all(np.isfinite(y)):
        return None
    w = np.ones_like(y) if w is None else w / w.sum() * len(w)
    a, b, c, sse = _profile_fit(xs, y, top, w)
    if polish:
        from scipy.optimize import OptimizeWarning, curve_fit

        lower, upper = np.array([0.0, 0.0, 1e-3]), np.array([top, np.inf, C_MAX])
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)   # no covariance: not used
            try:
                popt, _ = curve_fit(_model, xs, y, p0=np.clip((a, b, c), lower, upper),
                                    sigma=1.0 / np.sqrt(w), jac=_jac, bounds=(lower, upper),
                                    max_nfev=200)
                if float((w * (y - _model(xs, *popt)) ** 2).sum()) < sse:
                    a, b, c = (float(v) for v in popt)
            except (RuntimeError, ValueError):
                pass
    return a, b * n0 ** c, c   # back to score(n) = a - b * n**(-c)


def _within_horizon(labels: float, last: float) -> float:
    return labels if labels <= HORIZON * last else math.inf


def _usable(n: Sequence[float], score: Sequence[float], skip_share: float
            ) -> tuple[np.ndarray, np.ndarray]:
    """The points a fit uses: finite, labels > 0, sorted; without the initial phase (points
    below ``skip_share`` x the last point's labels) as long as ``MIN_POINTS`` remain.
    Raises ValueError with fewer than ``MIN_POINTS`` distinct label counts."""
    x, y = _clean(n, score)
    if len(np.unique(x)) < MIN_POINTS:
        raise ValueError(f"A learning-curve forecast needs at least {MIN_POINTS} points with "
                         f"different label counts; got {len(np.unique(x))}.")
    keep = x >= skip_share * x[-1]
    if len(np.unique(x[keep])) >= MIN_POINTS:
        x, y = x[keep], y[keep]
    else:
        x, y = x[-MIN_POINTS:], y[-MIN_POINTS:]
    return x, y


def fit_learning_curve(n: Sequence[float], score: Sequence[float], *,
                       polish: bool = True, skip_share: float = SKIP_SHARE,
                       weight_power: float = WEIGHT_POWER) -> CurveFit:
    """Weighted least-squares fit of score(n) = a - b * n**(-c) to the points (labels > 0,
    finite) after the initial phase (those below ``skip_share`` x the last labels are left
    out while ``MIN_POINTS`` remain: the first models, on a handful of random labels, follow
    another curve), each weighted (labels / last labels) ** ``weight_power``.
    ``polish=False`` skips the final ``curve_fit`` (1 ms instead of up to 100 ms: for
    bootstrap refits).

    Raises ValueError with fewer than ``MIN_POINTS`` distinct label counts, or when the fit
    does not converge.
    """
    x, y = _usable(n, score, skip_share)
    got = _fit(x, y, float(x[0]), polish=polish, w=_weights(x, weight_power))
    if got is None:
        raise ValueError("The learning-curve fit did not converge.")
    return CurveFit(*got, n_points=len(x))


def forecast(n: Sequence[float], score: Sequence[float], target: float, *,
             interval: float = INTERVAL, n_boot: int = N_BOOT, seed: int = 0,
             skip_share: float = SKIP_SHARE, weight_power: float = WEIGHT_POWER,
             bootstrap: str = BOOTSTRAP, calibrated: bool = True) -> Forecast:
    """Fit the curve to (labels, score) points and say how many labels reach ``target``.

    ``n``: label counts (shape (k,)); ``score``: accuracy or macro-F1 at each (0..1); the fit
    is ``fit_learning_curve``'s (``skip_share``, ``weight_power``). The interval is the
    central ``interval`` share of ``n_boot`` bootstrap refits (seeded) over the points: each
    refit draws the points with replacement (at least ``MIN_POINTS`` distinct ones; the
    largest label count always kept, as the forecast starts from it). Fits that never reach
    the target count as infinitely many labels, so the upper end is inf when more than
    (1 - interval) / 2 of them do not. ``calibrated``: widen that spread by the factor learned
    on the dev curves (``forecast_trust.calibrated_interval``; the raw bootstrap interval held
    the actual count only ~40% of the time) and set ``withheld`` where the forecast is not
    reliable (``forecast_trust.withhold_reason``). Raises ValueError as ``fit_learning_curve`` does, or
    for an interval outside (0, 1).
    """
    if not 0.0 < interval < 1.0:
        raise ValueError(f"interval must lie strictly between 0 and 1; got {interval}.")
    if bootstrap not in BOOTSTRAPS:
        raise ValueError(f"bootstrap must be one of {BOOTSTRAPS}; got {bootstrap!r}.")
    fit = fit_learning_curve(n, score, skip_share=skip_share, weight_power=weight_power)
    x, y = _usable(n, score, skip_share)
    w = _weights(x, weight_power)
    n0 = float(x[0])
    rng = np.random.default_rng(seed)
    labels, levels = [], []
    k = len(x)
    fitted = fit.predict(x)
    resid = y - fitted
    for _ in range(int(n_boot)):
        if bootstrap == "wild":
            idx = np.arange(k)
            y_b = fitted + resid * rng.choice((-1.0, 1.0), size=k)
        else:
            idx = np.sort(np.append(rng.integers(0, k, size=k - 1), k - 1))
            if len(np.unique(idx)) < MIN_POINTS:
                continue
            y_b = y[idx]
        got = _fit(x[idx], y_b, n0, w=w[idx])
        if got is None:
            continue
        f = CurveFit(*got, n_points=len(idx))
        labels.append(_within_horizon(f.labels_to_reach(target), x[-1]))
        levels.append(f.a)
    tail = (1.0 - interval) / 2.0 * 100.0
    point = _within_horizon(fit.labels_to_reach(target), x[-1])
    if labels:
        lab = np.asarray(labels)
        # inf sorts last, so percentiles of a sample with some infs are still well defined.
        low, high = (float(np.percentile(lab, q, method="inverted_cdf"))
                     for q in (tail, 100.0 - tail))
        lev_low, lev_high = (float(np.percentile(levels, q)) for q in (tail, 100.0 - tail))
        share = float(np.mean(np.isfinite(lab)))
    else:
        low = high = point
        lev_low = lev_high = fit.a
        share = float(math.isfinite(low))
    withheld = None
    if calibrated:
        from activelab.core.loop.forecast_trust import calibrated_interval, withhold_reason

        withheld = withhold_reason(point, float(x[-1]), high)
        low, high = calibrated_interval(point, low, high)
    return Forecast(target=float(target), current_labels=int(x[-1]), labels=point, low=low,
                    high=high, interval=interval, level=fit.a, level_low=lev_low,
                    level_high=lev_high, reach_share=share, fit=fit,
                    withheld=withheld)


def default_target(n: Sequence[float], score: Sequence[float], step: float = 0.02
                   ) -> float | None:
    """The level a forecast is made for when none is given: ``step`` (two points) above where
    the curve is now (the larger of the latest score and the fitted curve at the latest label
    count, so a last point below the trend does not give a target the curve has already
    passed), or half-way to 1 when that is closer; None when that is within 0.002 of 1."""
    x, y = _clean(n, score)
    if not len(x):
        return None
    now = float(y[-1])
    try:
        now = max(now, float(fit_learning_curve(x, y).predict(x[-1])))
    except ValueError:
        pass
    room = 1.0 - now
    if room < 0.002:
        return None
    return now + min(step, room / 2.0)


def forecast_from_curve(points: Sequence[object], target: float | None = None,
                        metric: str = "cv_accuracy", **kwargs: object) -> Forecast | None:
    """``forecast`` over a project's learning curve (``CurvePoint``s or dicts with
    ``n_labels`` and ``metric``), or None with too few usable points.

    ``target`` defaults to two points (0.02) above where the curve is now (the larger of the
    latest score and the fitted curve at the latest label count, so a last point below the
    trend does not give a target the curve has already passed), or half-way to 1 when that is
    closer (None when that is within 0.002 of 1)."""
    xs, ys = [], []
    for p in points:
        get = p.get if isinstance(p, dict) else (lambda k, p=p: getattr(p, k, None))
        n_l, v = get("n_labels"), get(metric)
        if n_l is not None and v is not None and n_l > 0 and math.isfinite(float(v)):
            xs.append(float(n_l))
            ys.append(float(v))
    if len(set(xs)) < MIN_POINTS:
        return None
    if target is None:
        target = default_target(xs, ys)
        if target is None:      # already at the top of the scale: nothing to forecast
            return None
    try:
        return forecast(xs, ys, float(target), **kwargs)  # type: ignore[arg-type]
    except ValueError:
        return None
