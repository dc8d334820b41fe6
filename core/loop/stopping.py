"""When to stop labeling: stabilizing predictions (Bloodgood & Vijay-Shanker, 2009).

A fixed *stop set* (a seeded random sample of the pool, chosen once per project: no labels
needed) is predicted by every model version. When models agree on it almost perfectly
(Cohen's kappa, scikit-learn's ``cohen_kappa_score``) for ``WINDOW`` checks in a row, more
labels are no longer changing the model: the rule fires. Each check compares a model with the
last compared one at least ``SPAN`` (20) labels earlier (``thinned``; the app retrains every
few labels, ``simulate`` every batch), a kappa over a longer gap scaled to 20 labels
(``span_kappa``), so the threshold means the same at any retrain cadence.

The paper's setting is a threshold of 0.99 averaged over 3 checks. The default here
(``AGGREGATE`` "trend", ``activelab.core.loop.stop_trend``): the disagreement 1 - kappa is
fitted as a power of the labels over the checks since a third of the current labels, and the
fitted agreement must reach ``KAPPA_THRESHOLD`` = 0.982 at ``WINDOW`` = 3 checks in a row. On
the development curves it fired within +-15% of the plateau in 11 of 24 judged repeats
(held out: 4/19) against 8/24 (3/19) for the earlier default, "each" of the last 3 raw kappas
>= 0.985: a gain within the noise of so few repeats, and still short of the goal, because the
fitted disagreement at which a curve flattens differs 50-fold between runs (margin 0.3%-3.1%,
median 1.0%; random 0.2%-11%, median 2.2%: random picks keep flipping stop-set rows on a flat
curve). The default was the best of 132 settings on dev; its neighbours (fit share 1/4-1/2,
2-4 checks) hold 8-11/24 there, but K 0.98 or 0.985 fall to 4-9/24
(benchmarks/results/stopping_candidates.txt). Earlier, on the same curves (``simulate``, pools
of 2,000, batches of 20, budget 1,000, margin and random, 5 repeats): 60 settings of raw
kappas (0.97-0.995 x window 2-6 x each/mean) and a relative rule gave at most 8/24.

Where audit picks exist (uniformly random samples whose prediction was recorded before the
label), the rule is combined with the audit estimate: it only fires when the audit accuracy of
``window`` checks ago lies inside the current estimate's 95% interval (Wilson, from
``scipy.stats.binomtest``), i.e. the unbiased accuracy estimate has not moved measurably. At
the default audit_rate 0.1 that interval is wide: with simulated audit picks on the kept dev
curves it moved the firing point in 0.1 of 30 runs (benchmarks/results/stopping_candidates.txt).

Pure functions over predictions; no store, no Qt. The project stores each model version's
stop-set predictions in its curve point (``per_task[task]["stop_set"]``, see
``stop_set_record``); ``decision_from_curve`` reads them back.
"""
from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from activelab.core.loop.stop_trend import (
    TREND_MIN_CHECKS, first_stable_trend, fitted_disagreement,
)

STOP_SET_SIZE = 2000
KAPPA_THRESHOLD = 0.982
WINDOW = 3
SPAN = 20
"""Labels between the two models a kappa compares: versions closer than this (the app
retrains every few labels) are skipped (``thinned``), and a kappa over a longer gap is scaled
to this one (``span_kappa``), so the threshold means the same at any retrain cadence."""
_STOP_SET_STREAM = 0x5709   # a fixed sub-stream of the project's seed for the stop set
STOP_SET_KEY = "stop_set"
AGGREGATES = ("each", "mean", "trend")
AGGREGATE = "trend"


def stop_set(n_pool: int, seed: int, size: int = STOP_SET_SIZE) -> np.ndarray:
    """Sorted pool positions of the stop set: ``min(size, n_pool)`` distinct rows drawn with
    ``seed``. The same (n_pool, seed, size) always give the same rows, so every model version
    of a project is compared on the same samples without storing them. Shape (k,), int64."""
    n_pool, size = int(n_pool), int(size)
    if n_pool < 0 or size < 0:
        raise ValueError(f"n_pool and size must be >= 0; got {n_pool}, {size}.")
    rng = np.random.default_rng([int(seed), _STOP_SET_STREAM])
    k = min(size, n_pool)
    return np.sort(rng.choice(n_pool, size=k, replace=False)).astype(np.int64)


def agreement(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Cohen's kappa between two models' predictions of the same samples (shape (k,) each, or
    (k, c) 0/1 indicators for multi-label tasks, compared cell by cell).

    NaN when kappa is undefined: both models predict one and the same class for every sample
    (chance agreement is then 1). Such a constant model says nothing about stability, so NaN
    never counts as agreement. Raises ValueError when the shapes differ.
    """
    from sklearn.metrics import cohen_kappa_score

    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"The two predictions cover different samples: {a.shape} vs {b.shape}.")
    a, b = a.reshape(-1), b.reshape(-1)
    if a.size == 0:
        return math.nan
    if len(np.unique(np.concatenate([a, b]))) < 2:
        return math.nan
    return float(cohen_kappa_score(a, b))


def span_kappa(kappa: float, gap: float, span: float = SPAN) -> float:
    """A kappa between models ``gap`` labels apart, scaled to ``span`` labels: the
    disagreement (1 - kappa) taken as proportional to the labels between them, so
    1 - (1 - kappa) * span / gap when gap > span (unchanged otherwise, and for NaN)."""
    if math.isnan(kappa) or gap <= span or gap <= 0:
        return float(kappa)
    return 1.0 - (1.0 - float(kappa)) * float(span) / float(gap)


def thinned(n_labels: Sequence[float], span: float = SPAN) -> list[int]:
    """Positions of the versions the rule compares: the first, then each next one at least
    ``span`` labels after the last kept (label counts in version order). Adding versions
    never changes the earlier picks."""
    kept: list[int] = []
    for i, n in enumerate(n_labels):
        if n is None:
            continue
        if not kept or float(n) - float(n_labels[kept[-1]]) >= span:
            kept.append(i)
    return kept


def successive_agreements(predictions: Sequence[Any | None]) -> np.ndarray:
    """Kappa between each model version's stop-set predictions and the previous one's.

    ``predictions[i]`` is version i's predictions (None when unknown). Returns shape
    (len(predictions),): element 0 and every element whose own or previous predictions are
    None or of another shape (the stop set changed) are NaN.
    """
    out = np.full(len(predictions), np.nan)
    for i in range(1, len(predictions)):
        prev, cur = predictions[i - 1], predictions[i]
        if prev is None or cur is None or np.shape(prev) != np.shape(cur):
            continue
        out[i] = agreement(prev, cur)
    return out


@dataclass(frozen=True)
class StopDecision:
    """The rule's verdict for the latest model.

    stop:     True when the rule (``first_stop_from_kappas``' aggregates) holds over the last
              ``window`` checks (and the audit check, when there is one, passes).
    kappas:   the last ``window`` successive kappas (fewer when there are fewer models; NaN
              where undefined).
    audit:    (accuracy, low, high, n) of the latest audit estimate, or None.
    reason:   one sentence for the user ("the model has stopped improving (...)" or why not).
    """

    stop: bool
    kappas: tuple[float, ...]
    threshold: float
    window: int
    audit: tuple[float, float, float, int] | None
    reason: str


def audit_interval(correct: int, n: int, confidence: float = 0.95) -> tuple[float, float, float]:
    """(accuracy, low, high) of ``correct`` hits in ``n`` audit picks: the Wilson interval of
    ``scipy.stats.binomtest``. Raises ValueError when n < 1 or correct is outside 0..n."""
    from scipy.stats import binomtest

    correct, n = int(correct), int(n)
    if n < 1 or not 0 <= correct <= n:
        raise ValueError(f"Audit counts must satisfy 0 <= correct <= n and n >= 1; got {correct}/{n}.")
    ci = binomtest(correct, n).proportion_ci(confidence_level=confidence, method="wilson")
    return correct / n, float(ci.low), float(ci.high)


def _fmt_kappas(kappas: Sequence[float]) -> str:
    return ", ".join("undefined" if math.isnan(k) else f"{k:.3f}" for k in kappas)


def stabilizing_predictions(
    predictions: Sequence[Any | None], *, threshold: float = KAPPA_THRESHOLD,
    window: int = WINDOW, audit: Sequence[tuple[int, int] | None] | None = None,
    aggregate: str = AGGREGATE,
) -> StopDecision:
    """Apply the stopping rule at the latest of ``predictions`` (one entry per model version,
    oldest first; see ``successive_agreements``).

    ``audit`` (optional, aligned with ``predictions``): (correct, n) audit counts known when each
    version was trained, or None. With an estimate for the latest version and for the one
    ``window`` retrains earlier, the rule also requires that the earlier accuracy lies inside the
    latest estimate's 95% Wilson interval. ``aggregate``: see ``first_stop_from_kappas`` (the
    versions are taken as equally spaced for "trend").
    """
    kappas = successive_agreements(predictions)[1:]
    return _decide(kappas, threshold, window, audit, aggregate,
                   np.arange(2, len(kappas) + 2, dtype=np.float64))


def _stable(last: Sequence[float], threshold: float, aggregate: str) -> bool:
    """Whether a full window of kappas passes: each >= threshold, or (aggregate "mean") their
    mean; an undefined kappa never passes."""
    if not len(last) or any(math.isnan(k) for k in last):
        return False
    return (min(last) if aggregate == "each" else sum(last) / len(last)) >= threshold


def _decide(kappas: np.ndarray, threshold: float, window: int,
            audit: Sequence[tuple[int, int] | None] | None,
            aggregate: str = AGGREGATE, n_labels: np.ndarray | None = None) -> StopDecision:
    """The rule over successive kappas (kappas[i] compares versions i and i+1); ``audit`` is
    aligned with the versions (one more entry than ``kappas``); ``n_labels``: the labels of
    the newer version of each check (for "trend"; default 2, 3, ...)."""
    if window < 1 or not 0.0 < threshold <= 1.0 or aggregate not in AGGREGATES:
        raise ValueError(f"window must be >= 1, threshold in (0, 1] and aggregate in "
                         f"{AGGREGATES}; got {window}, {threshold}, {aggregate!r}.")
    last = tuple(float(k) for k in kappas[-window:])
    fitted: tuple[float, ...] = ()
    if aggregate == "trend":
        n = np.arange(2, len(kappas) + 2, dtype=np.float64) if n_labels is None else n_labels
        fitted = tuple(1.0 - float(d) for d in fitted_disagreement(n, kappas)[-window:])
        stable = len(last) == window and not any(math.isnan(k) for k in last + fitted) \
            and min(fitted) >= threshold
    else:
        stable = len(last) == window and _stable(last, threshold, aggregate)
    audit_now = None
    audit_ok = True
    if audit is not None and len(audit) == len(kappas) + 1 and audit[-1] and audit[-1][1] > 0:
        acc, low, high = audit_interval(*audit[-1])
        audit_now = (acc, low, high, int(audit[-1][1]))
        before = audit[-1 - window] if len(audit) > window else None
        if before and before[1] > 0:
            audit_ok = low <= before[0] / before[1] <= high
    stop = stable and audit_ok
    shown = f"kappa {_fmt_kappas(last)} over the last {len(last)} checks" if last else ""
    if fitted and shown:
        shown += f", fitted trend {_fmt_kappas(fitted)}"
    audit_text = ""
    if audit_now is not None:
        audit_text = (f"; audit accuracy {audit_now[0]:.3f}, 95% interval "
                      f"{audit_now[1]:.3f}–{audit_now[2]:.3f}, n={audit_now[3]}")
    if stop:
        reason = f"the model has stopped improving ({shown}{audit_text})"
    elif len(last) < window:
        reason = (f"too early to tell: the rule needs {window} successive checks of the models' "
                  f"agreement on the stop set ({len(last)} so far)")
    elif any(math.isnan(k) for k in fitted) and not any(math.isnan(k) for k in last):
        reason = (f"too early to tell: the trend needs {TREND_MIN_CHECKS} checks made since a "
                  f"third of the current labels ({shown})")
    elif not stable:
        how = {"each": f"each is >= {threshold:g}", "mean": f"their mean is >= {threshold:g}",
               "trend": f"the trend is >= {threshold:g} at {window} checks in a row"}[aggregate]
        reason = f"the model is still changing ({shown}; stops when {how}{audit_text})"
    else:
        reason = (f"predictions are stable ({shown}) but the audit accuracy moved beyond its "
                  f"95% interval{audit_text}")
    return StopDecision(stop, last, threshold, window, audit_now, reason)


def first_stop(predictions: Sequence[Any | None], *, threshold: float = KAPPA_THRESHOLD,
               window: int = WINDOW, aggregate: str = AGGREGATE) -> int | None:
    """Index (into ``predictions``) of the first model version at which the rule fires, or None
    if it never does (versions taken as equally spaced for "trend"). Used by ``simulate`` to
    compare the rule with the true plateau."""
    return first_stop_from_kappas(successive_agreements(predictions), threshold=threshold,
                                  window=window, aggregate=aggregate)


def first_stop_from_kappas(kappas: Sequence[float], *, threshold: float = KAPPA_THRESHOLD,
                           window: int = WINDOW, aggregate: str = AGGREGATE,
                           n_labels: Sequence[float] | None = None) -> int | None:
    """Index of the first version at which the rule fires, from ``successive_agreements``'
    output (kappas[i] compares versions i and i-1; NaN where undefined).

    aggregate "each": each of the last ``window`` kappas >= threshold;
    "mean": their mean >= threshold (the paper's averaging), none of them undefined;
    "trend" (the default): the agreement fitted over the recent checks
    (``stop_trend.first_stable_trend``; ``n_labels``: each version's labels, default
    1, 2, ...) >= threshold at ``window`` checks in a row.
    """
    if aggregate not in AGGREGATES:
        raise ValueError(f"aggregate must be one of {AGGREGATES}; got {aggregate!r}.")
    k = np.asarray(kappas, dtype=np.float64)
    if aggregate == "trend":
        n = np.arange(1, len(k) + 1, dtype=np.float64) if n_labels is None \
            else np.asarray(n_labels, dtype=np.float64)
        return first_stable_trend(n, k, threshold, window)
    for i in range(window, len(k)):
        last = k[i - window + 1:i + 1]
        if np.isnan(last).any():
            continue
        if (last.min() if aggregate == "each" else last.mean()) >= threshold:
            return i
    return None


# ----------------------------------------------------------------------------- stored form


def stop_set_record(predicted: np.ndarray, classes: Sequence[str], seed: int, n_pool: int,
                    size: int = STOP_SET_SIZE) -> dict[str, Any]:
    """The JSON-able record of one model version's stop-set predictions for one task.

    ``predicted``: (k,) class positions into ``classes``, or (k, c) 0/1 for multi-label. Stored
    as base64 of uint8/uint16 (about 2.7 KB for 2,000 samples), with what identifies the stop
    set (seed, pool size, size), so a changed pool is never compared with an old one.
    """
    arr = np.asarray(predicted)
    dtype = np.uint8 if len(classes) < 256 else np.uint16
    return {
        "seed": int(seed), "n_pool": int(n_pool), "size": int(size),
        "shape": list(arr.shape), "dtype": np.dtype(dtype).name,
        "classes": [str(c) for c in classes],
        "data": base64.b64encode(np.ascontiguousarray(arr, dtype=dtype).tobytes()).decode("ascii"),
    }


def decode_stop_set(record: Mapping[str, Any] | None) -> tuple[tuple[Any, ...], np.ndarray] | None:
    """(identity, predictions as labels) of a stored record, or None when absent or unreadable.

    Predictions come back as class names (object array) for single-label tasks, so versions
    whose class lists differ (a class added) still compare; multi-label ones as 0/1 indicators
    in the order of the record's classes."""
    if not isinstance(record, Mapping):
        return None
    try:
        classes = [str(c) for c in record["classes"]]
        shape = tuple(int(s) for s in record["shape"])
        raw = np.frombuffer(base64.b64decode(record["data"]), dtype=np.dtype(record["dtype"]))
        arr = raw.reshape(shape)
        ident = (int(record["seed"]), int(record["n_pool"]), int(record["size"]))
    except (KeyError, TypeError, ValueError):
        return None
    if arr.ndim == 1:
        if arr.size and int(arr.max()) >= len(classes):
            return None
        labels = np.asarray(classes, dtype=object)[arr.astype(np.int64)] if arr.size else arr
        return ident, labels
    return (*ident, tuple(classes)), arr


def stop_predictions_of(proba: np.ndarray, rows: np.ndarray, multilabel: bool) -> np.ndarray:
    """A model's stop-set predictions from its pool probabilities: (k,) argmax positions, or
    (k, c) 0/1 indicators (p >= 0.5) for multi-label tasks."""
    p = np.asarray(proba)[rows]
    if multilabel:
        return (p >= 0.5).astype(np.uint8)
    return p.argmax(axis=1)


def decision_from_curve(points: Sequence[Any], task: str | None = None, *,
                        threshold: float = KAPPA_THRESHOLD, window: int = WINDOW,
                        aggregate: str = AGGREGATE, span: float = SPAN
                        ) -> StopDecision | None:
    """The rule over a project's learning curve (points as ``CurvePoint`` or dicts, oldest
    first), for ``task`` (default: every task must have stopped; the least stable one is
    reported). None when no point holds stop-set predictions."""
    def get(p: Any, key: str) -> Any:
        return p.get(key) if isinstance(p, Mapping) else getattr(p, key, None)

    tasks: list[str] = []
    for p in points:
        for t, d in (get(p, "per_task") or {}).items():
            if isinstance(d, Mapping) and STOP_SET_KEY in d and t not in tasks:
                tasks.append(t)
    if task is not None:
        tasks = [t for t in tasks if t == task]
    if not tasks:
        return None
    audit = []
    for p in points:
        acc, n = get(p, "audit_accuracy"), get(p, "audit_n") or 0
        audit.append((int(round(acc * n)), int(n)) if acc is not None and n else None)
    decisions = []
    for t in tasks:
        recs = [decode_stop_set(((get(p, "per_task") or {}).get(t) or {}).get(STOP_SET_KEY))
                for p in points]
        have = [i for i, r in enumerate(recs) if r is not None]
        keep = [have[j] for j in thinned([float(get(points[i], "n_labels") or 0) for i in have],
                                         span)]
        kappas = np.full(max(len(keep) - 1, 0), np.nan)
        newer = np.asarray([float(get(points[i], "n_labels") or 0) for i in keep[1:]])
        for j in range(1, len(keep)):
            prev, cur = recs[keep[j - 1]], recs[keep[j]]
            # Versions predicted on different stop sets (seed or pool changed) do not compare.
            if prev[0] == cur[0] and np.shape(prev[1]) == np.shape(cur[1]):
                gap = float(get(points[keep[j]], "n_labels") or 0) \
                    - float(get(points[keep[j - 1]], "n_labels") or 0)
                kappas[j - 1] = span_kappa(agreement(prev[1], cur[1]), gap, span)
        decisions.append(_decide(kappas, threshold, window, [audit[i] for i in keep],
                                 aggregate, newer))
    if len(decisions) == 1:
        return decisions[0]
    return next((d for d in decisions if not d.stop), decisions[0])


def attach_stop_predictions(per_task: dict[str, dict[str, Any]], state: Any, n_pool: int,
                            seed: int, size: int = STOP_SET_SIZE) -> None:
    """Add each fitted task's stop-set predictions to a curve point's ``per_task`` entries
    (key ``STOP_SET_KEY``), from the model state's pool probabilities (``state.proba[task]``,
    shape (n_pool, n_classes)) and fitted tasks (``state.fitted[task].classes`` /
    ``.multilabel``). Tasks without probabilities are left as they are."""
    rows = stop_set(n_pool, seed, size)
    for task, fitted in (getattr(state, "fitted", None) or {}).items():
        proba = (getattr(state, "proba", None) or {}).get(task)
        if proba is None or task not in per_task or len(proba) != n_pool:
            continue
        pred = stop_predictions_of(proba, rows, bool(fitted.multilabel))
        per_task[task][STOP_SET_KEY] = stop_set_record(pred, fitted.classes, seed, n_pool, size)
