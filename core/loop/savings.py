"""What active learning saved, measured on the project's own audit picks.

Audit picks are drawn uniformly at random from the unlabeled pool (``settings.audit_rate``), so
they are an unbiased sample of it. Active Testing (Kossen et al. 2021) and LURE (Farquhar et
al. 2021) estimate a model's risk from *actively* chosen test points by weighting each one by
1 / (N q(i)); for uniform draws every weight is 1 and the importance-weighted estimator is the
plain mean over the picks. The strategy's own picks cannot be weighted this way (top-k
selection gives them no sampling probability), so every number here comes from audit picks
only, each held out of every model it scores:

- **the current model's accuracy**: K folds over the audit picks; each fold is predicted by the
  project's model refitted on every other label (active and audit). Every pick is scored
  once, so the hits are a binomial count: the 95% interval is Wilson's (``audit_interval``).
- **matched**: the same folds, scored by a model fitted on the other audit picks only (m random
  labels) and by one fitted on the first m labels the strategy chose: the loop's picks against
  random picks at equal cost, on the same held-out picks; the difference has a paired
  bootstrap interval (``scipy.stats.bootstrap``).
- **random at the current count**: the random-only learning curve traced on nested subsets of
  the audit picks, extrapolated to the current label count with the inverse power law
  (``activelab.core.loop.forecast``); the difference to the current model has a bootstrap
  interval over the audit picks (each resample refits the curve). It only reflects which picks
  were drawn, not the randomness of training, so read it as a lower bound on the uncertainty.

The population is the pool as it was unlabeled when each pick was drawn: the strategy's own
picks leave it over time (a slowly easier population on which the model is judged), and a
fold's model is fitted on (K-1)/K of the audit picks plus every other label, slightly fewer
labels than the current model. With fewer than ``MIN_AUDIT`` audit picks nothing is estimated
and the record says so. Pure
functions over label arrays and a ``fit_predict`` callable;
``activelab.core.loop.savings_loop.attach_savings`` wires them to the project's ``Fitter``
during each retrain. No store, no Qt.
"""
from __future__ import annotations

import threading
import warnings
from collections import OrderedDict
from typing import Any, Callable, Sequence

import numpy as np

from activelab.core.loop.stopping import audit_interval

MIN_AUDIT = 10           # fewer audit picks: no estimate at all
MIN_AUDIT_CURVE = 20     # fewer: no random-only curve to extrapolate
FOLDS = 5
CURVE_FRACTIONS = (0.25, 0.5, 0.75, 1.0)
N_RESAMPLES = 1000
N_RESAMPLES_CURVE = 200
SAVINGS_KEY = "savings"

#: fit_predict(train_positions, test_positions) -> predicted labels of the test positions
#: (positions into the task's labeled arrays); raises ValueError when it cannot fit.
FitPredict = Callable[[np.ndarray, np.ndarray], Sequence[Any]]


def _hit(pred: Any, label: Any) -> bool:
    if isinstance(label, (list, tuple)):
        return sorted(str(v) for v in (pred or [])) == sorted(str(v) for v in label)
    return str(pred) == str(label)


def _score(fit_predict: FitPredict, train: np.ndarray, test: np.ndarray,
           values: Sequence[Any]) -> np.ndarray:
    """Hits (1.0/0.0) of a model fitted on ``train`` at ``test``; NaN when it cannot fit."""
    try:
        pred = fit_predict(train, test)
    except ValueError:
        return np.full(len(test), np.nan)
    return np.array([float(_hit(p, values[i])) for p, i in zip(pred, test)])


def audit_folds(n_audit: int, folds: int = FOLDS, seed: int = 0) -> list[np.ndarray]:
    """Positions 0..n_audit-1 split into ``min(folds, n_audit)`` shuffled folds (seeded)."""
    from sklearn.model_selection import KFold

    k = max(2, min(int(folds), int(n_audit)))
    return [te for _tr, te in KFold(k, shuffle=True, random_state=seed).split(np.zeros(n_audit))]


def current_hits(fit_predict: FitPredict, values: Sequence[Any], audit: np.ndarray,
                 folds: Sequence[np.ndarray]) -> tuple[np.ndarray, float]:
    """Out-of-fold hits of the project's model on its audit picks: each fold of ``audit``
    (positions into the labeled arrays, shape (a,)) predicted by a model fitted on every other
    labeled position. Returns (hits, shape (a,), NaN where a fold could not fit; mean number of
    training labels)."""
    n = len(values)
    hits = np.full(len(audit), np.nan)
    sizes = []
    for f in folds:
        test = audit[f]
        train = np.setdiff1d(np.arange(n), test)
        hits[f] = _score(fit_predict, train, test, values)
        sizes.append(len(train))
    return hits, float(np.mean(sizes))


def current_accuracy(hits: np.ndarray) -> dict[str, Any]:
    """{"accuracy", "low", "high", "n"}: the mean of the scored hits and its 95% Wilson
    interval. Raises ValueError when no pick was scored."""
    h = hits[~np.isnan(hits)]
    acc, low, high = audit_interval(int(h.sum()), len(h))
    return {"accuracy": acc, "low": low, "high": high, "n": int(len(h))}


def _paired_interval(a: np.ndarray, b: np.ndarray, seed: int) -> tuple[float, float]:
    """95% percentile-bootstrap interval of mean(a) - mean(b) over paired picks."""
    from scipy.stats import bootstrap

    if len(a) < 2 or np.all(a - b == (a - b)[0]):
        d = float(np.mean(a - b))
        return d, d
    res = bootstrap((a, b), lambda x, y, axis: x.mean(axis) - y.mean(axis), paired=True,
                    vectorized=True, n_resamples=N_RESAMPLES, confidence_level=0.95,
                    method="percentile", random_state=np.random.default_rng(seed))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def estimate(fit_predict: FitPredict, values: Sequence[Any], audit_mask: Sequence[bool], *,
             folds: int = FOLDS, seed: int = 0, curve: bool = True,
             memo_key: Any = None) -> dict[str, Any]:
    """The savings record of one task (JSON-able; see the module doc).

    ``values``: the task's labels in the order they were given (shape (n,)); ``audit_mask``:
    which of them were audit picks; ``curve=False`` skips the random-only curve (its
    ``len(CURVE_FRACTIONS) - 1`` extra fits per fold). ``memo_key`` (hashable; None: none)
    must identify everything the random-only and matched models depend on (model, features
    of the rows, the audit picks and the strategy's first picks, seed): their hits are then
    reused by later calls in this process with the same key. Always has "n_audit" and "need"; "current", "matched" and
    "random_at_current" are present when they could be estimated, with "notes" saying why not.
    """
    mask = np.asarray(audit_mask, dtype=bool)
    if len(mask) != len(values):
        raise ValueError(f"audit_mask has {len(mask)} entries for {len(values)} labels.")
    audit = np.flatnonzero(mask)
    active = np.flatnonzero(~mask)            # in label order: the loop's own picks
    out: dict[str, Any] = {"n_audit": int(len(audit)), "need": MIN_AUDIT,
                           "n_labels": int(len(values)), "notes": []}
    if len(audit) < MIN_AUDIT:
        return out
    fold_list = audit_folds(len(audit), folds, seed)
    out["folds"] = len(fold_list)
    hits, n_train = current_hits(fit_predict, values, audit, fold_list)
    if np.isnan(hits).all():
        out["notes"].append("the model could not be refitted without an audit fold")
        return out
    out["current"] = {**current_accuracy(hits), "train_labels": n_train}

    random_hits, sizes, active_hits, m_sizes = _remembered(
        memo_key, lambda: _random_and_matched(fit_predict, values, audit, active, fold_list,
                                              seed, curve))
    both = ~np.isnan(random_hits[1.0]) & ~np.isnan(active_hits)
    if len(active) < len(audit) - len(fold_list[0]):
        out["notes"].append(f"the strategy has chosen fewer labels ({len(active)}) than the "
                            "audit picks it would be compared with")
    elif both.sum() < MIN_AUDIT:
        out["notes"].append("too few audit picks could be scored by both matched models "
                            "(each needs two classes among its labels)")
    else:
        a, r = active_hits[both], random_hits[1.0][both]
        low, high = _paired_interval(a, r, seed)
        out["matched"] = {"labels": int(round(np.mean(m_sizes))), "active": float(a.mean()),
                          "random": float(r.mean()), "diff": float(a.mean() - r.mean()),
                          "low": low, "high": high, "n": int(both.sum())}
    rac = (_random_at_current(hits, random_hits, sizes, n_train, seed) if curve else
           "the random-only curve is not traced for this model (each point costs a refit)")
    if isinstance(rac, str):
        out["notes"].append(rac)
    else:
        out["random_at_current"] = rac
    return out


_MEMO: OrderedDict[Any, Any] = OrderedDict()
_MEMO_SIZE = 8
_MEMO_LOCK = threading.Lock()


def _remembered(key: Any, compute: Callable[[], Any]) -> Any:
    """``compute()``, remembered under ``key`` (None: never) for the process's next retrains:
    the random-only and matched models depend only on the audit picks and the strategy's
    first picks, which a retrain without a new audit pick leaves as they were."""
    if key is None:
        return compute()
    with _MEMO_LOCK:
        if key in _MEMO:
            _MEMO.move_to_end(key)
            return _MEMO[key]
    value = compute()
    with _MEMO_LOCK:
        _MEMO[key] = value
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return value


def _random_and_matched(fit_predict: FitPredict, values: Sequence[Any], audit: np.ndarray,
                        active: np.ndarray, fold_list: Sequence[np.ndarray], seed: int,
                        curve: bool) -> tuple[dict[float, np.ndarray], dict[float, list[int]],
                                              np.ndarray, list[int]]:
    """Hits at each held-out audit fold of models fitted on nested subsets of the other
    audit picks (random only) and on the strategy's first m labels, m = the other picks."""
    rng = np.random.default_rng([seed, 0x5A7])
    random_hits = {fr: np.full(len(audit), np.nan) for fr in CURVE_FRACTIONS}
    sizes = {fr: [] for fr in CURVE_FRACTIONS}
    active_hits = np.full(len(audit), np.nan)
    m_sizes = []
    for f in fold_list:
        rest = rng.permutation(np.setdiff1d(np.arange(len(audit)), f))
        for fr in CURVE_FRACTIONS:
            if fr < 1.0 and (len(audit) < MIN_AUDIT_CURVE or not curve):
                continue
            k = max(2, int(round(fr * len(rest))))
            random_hits[fr][f] = _score(fit_predict, audit[rest[:k]], audit[f], values)
            sizes[fr].append(k)
        m = len(rest)
        if len(active) >= m:
            active_hits[f] = _score(fit_predict, active[:m], audit[f], values)
            m_sizes.append(m)
    return random_hits, sizes, active_hits, m_sizes


def _curve_diff(idx: np.ndarray, hits: np.ndarray, random_hits: dict[float, np.ndarray],
                xs: np.ndarray, n_train: float, polish: bool = False) -> tuple[float, float]:
    """(random-only curve extrapolated to n_train, current - that) on the picks ``idx``."""
    from activelab.core.loop.forecast import fit_learning_curve

    with warnings.catch_warnings():     # a size none of whose picks were scored: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        ys = np.array([np.nanmean(random_hits[fr][idx]) for fr in CURVE_FRACTIONS])
        ok = np.isfinite(ys)
        fit = fit_learning_curve(xs[ok], ys[ok], polish=polish)
    r = float(np.clip(fit.predict(n_train), 0.0, 1.0))
    return r, float(np.nanmean(hits[idx])) - r


def _random_at_current(hits: np.ndarray, random_hits: dict[float, np.ndarray],
                       sizes: dict[float, list[int]], n_train: float, seed: int
                       ) -> dict[str, Any] | str:
    """The random-only curve at ``n_train`` labels with its bootstrap interval, or why not."""
    from activelab.core.loop.forecast import HORIZON, MIN_POINTS

    if any(not sizes[fr] or np.isnan(random_hits[fr]).all() for fr in CURVE_FRACTIONS):
        return (f"the random-only curve needs >= {MIN_AUDIT_CURVE} audit picks with two "
                "classes in each subset to be traced")
    xs = np.array([float(np.mean(sizes[fr])) for fr in CURVE_FRACTIONS])
    if len(np.unique(np.round(xs))) < MIN_POINTS:
        return "too few audit picks to trace the random-only curve at distinct sizes"
    if n_train > HORIZON * xs[-1]:
        return (f"the random-only curve from {xs[-1]:.0f} audit picks cannot be extrapolated to "
                f"{n_train:.0f} labels (more than {HORIZON:.0f}x)")
    scored = np.flatnonzero(~np.isnan(hits))
    try:
        r, d = _curve_diff(scored, hits, random_hits, xs, n_train, polish=True)
    except ValueError as exc:
        return f"the random-only curve could not be fitted ({exc})"
    rng = np.random.default_rng([seed, 0xB007])
    rs, ds = [], []
    for _ in range(N_RESAMPLES_CURVE):
        idx = rng.choice(scored, size=len(scored), replace=True)
        try:
            rb, db = _curve_diff(idx, hits, random_hits, xs, n_train)
        except ValueError:
            continue
        rs.append(rb)
        ds.append(db)
    if len(ds) < N_RESAMPLES_CURVE // 2:
        return "the random-only curve could not be fitted on most bootstrap resamples"
    return {"labels": int(round(n_train)), "from_labels": int(round(xs[-1])), "accuracy": r,
            "low": float(np.percentile(rs, 2.5)), "high": float(np.percentile(rs, 97.5)),
            "diff": d, "diff_low": float(np.percentile(ds, 2.5)),
            "diff_high": float(np.percentile(ds, 97.5))}


# ----------------------------------------------------------------------------- messages


def _signed(x: float) -> str:
    return f"{x:+.3f}".replace("-", "−")


def savings_lines(record: dict[str, Any] | None, audit_rate: float | None = None) -> list[str]:
    """What the record says, one sentence a line: the audit estimate, the matched comparison,
    the random-only extrapolation, or why they are missing. Empty for None."""
    if not record:
        return []
    n, need = int(record.get("n_audit", 0)), int(record.get("need", MIN_AUDIT))
    cur = record.get("current")
    if cur is None:
        why = (f"not enough audit picks yet (n={n}, need >= {need})" if n < need
               else "; ".join(record.get("notes") or ["no estimate"]))
        if audit_rate is not None and audit_rate <= 0:
            why += "; audit picks are off (set audit_rate, e.g. 0.1)"
        return [f"audit estimate: {why}"]
    lines = [f"audit estimate: accuracy {cur['accuracy']:.3f} (95% interval {cur['low']:.3f}–"
             f"{cur['high']:.3f}) on {cur['n']} audit picks, each held out of a refit on the "
             "other labels"]
    m = record.get("matched")
    if m:
        verdict = ("ahead of" if m["low"] > 0 else "behind" if m["high"] < 0
                   else "not distinguishable from")
        lines.append(f"savings: with {m['labels']} labels the strategy's picks reach "
                     f"{m['active']:.3f}, random picks alone {m['random']:.3f}: "
                     f"{_signed(m['diff'])} (95% interval {_signed(m['low'])} to "
                     f"{_signed(m['high'])}), {verdict} random")
    r = record.get("random_at_current")
    if r:
        lines.append(f"random picks alone would reach about {r['accuracy']:.3f} at {r['labels']} "
                     f"labels (95% interval {r['low']:.3f}–{r['high']:.3f}, extrapolated from "
                     f"{r['from_labels']}): this model is {_signed(r['diff'])} (95% interval "
                     f"{_signed(r['diff_low'])} to {_signed(r['diff_high'])})")
    if not (m and r):
        lines.extend(f"savings: {note}" for note in record.get("notes") or [])
    return lines


__all__ = ["MIN_AUDIT", "SAVINGS_KEY", "audit_folds", "current_accuracy", "current_hits",
           "estimate", "savings_lines"]
