"""The road ahead of a project, from its learning curve: the stopping rule, the forecast, and
what active learning saved (the audit picks' estimates).

``activelab status`` prints it and the app's curve panel shows it (``Project.outlook``). The
stopping rule and forecast are computed when asked for (pure functions in
``activelab.core.loop.stopping`` and ``activelab.core.loop.forecast``; scikit-learn and SciPy
are imported only when the curve has points to judge); the savings were measured by the
retrain that made the latest point (``activelab.core.loop.savings``) and are only read here.
"""
from __future__ import annotations

from typing import Any, Sequence

from activelab.core.learning.cv_readiness import plural
from activelab.core.loop.savings import MIN_AUDIT, SAVINGS_KEY, savings_lines
from activelab.core.loop.stopping import STOP_SET_KEY
from activelab.core.progress import NULL_PROGRESS, Progress

MIN_FORECAST_POINTS = 4


def _points(curve: Sequence[Any]) -> list[dict[str, Any]]:
    return [p if isinstance(p, dict) else p.to_dict() for p in curve]


def _savings(points: list[dict[str, Any]], audit_rate: float | None) -> dict[str, Any] | None:
    """Per task, the latest point's savings record and its lines; None before any retrain."""
    if not points:
        return None
    latest = points[-1]
    tasks = {t: d[SAVINGS_KEY] for t, d in (latest.get("per_task") or {}).items()
             if isinstance(d, dict) and isinstance(d.get(SAVINGS_KEY), dict)}
    if not tasks:
        n = int(latest.get("audit_n") or 0)
        tasks = {"": {"n_audit": n, "need": MIN_AUDIT, "notes": []}} if n < MIN_AUDIT else {}
    if not tasks:
        return None
    out: dict[str, Any] = {"tasks": tasks, "messages": [], "notes": []}
    for t, rec in tasks.items():
        prefix = f"[{t}] " if t and len(tasks) > 1 else ""
        out["messages"].extend(prefix + line for line in savings_lines(rec, audit_rate))
        cv = ((latest.get("per_task") or {}).get(t) or {}).get("cv_accuracy")
        cur = rec.get("current")
        if cur and cv is not None and not cur["low"] <= cv <= cur["high"]:
            side, why = (("below", "harder") if cv < cur["low"] else ("above", "easier"))
            out["notes"].append(
                f"{prefix}cross-validated accuracy {cv:.3f} lies {side} the audit interval: the "
                f"labeled samples are {why} than the pool, so the CV curve (and its forecast) "
                f"{'understates' if side == 'below' else 'overstates'} the model")
    out["messages"].extend(f"note: {n}" for n in out["notes"])
    return out


def outlook(curve: Sequence[Any], target: float | None = None,
            audit_rate: float | None = None) -> dict[str, Any]:
    """{"stopping": {...} | None, "forecast": {...} | None, "savings": {...} | None, "cv": ...}
    for a project's curve points (oldest first).

    stopping: stop (bool), kappas, threshold, window, audit, message.
    forecast (of cross-validated accuracy): target, labels, more, low, high, level, withheld
    (why no number is shown, or None), message;
    ``target`` defaults to two points above the latest accuracy.
    savings: tasks (task -> the record of ``activelab.core.loop.savings.estimate``) and
    messages (its lines; ``audit_rate`` 0 adds that audit picks are off).
    cv: why there is no cross-validated accuracy yet (a sentence), or None when there is one
    (or no point at all).
    """
    points = _points(curve)
    out: dict[str, Any] = {"stopping": None, "forecast": None, "savings": None, "cv": None}
    if any(STOP_SET_KEY in (d or {}) for p in points for d in (p.get("per_task") or {}).values()):
        from activelab.core.loop.stopping import decision_from_curve

        d = decision_from_curve(points)
        if d is not None:
            out["stopping"] = {"stop": d.stop, "kappas": list(d.kappas), "threshold": d.threshold,
                               "window": d.window, "audit": list(d.audit) if d.audit else None,
                               "message": d.reason}
    with_cv = sum(p.get("cv_accuracy") is not None for p in points)
    if with_cv >= MIN_FORECAST_POINTS:
        from activelab.core.loop.forecast import forecast_from_curve

        f = forecast_from_curve(points, target)
        latest = next(p["cv_accuracy"] for p in reversed(points) if p.get("cv_accuracy") is not None)
        if f is None and target is None and latest >= 0.998:
            out["forecast_wait"] = (f"the cross-validated accuracy is already {latest:.3f}: "
                                    "nothing left to forecast")
        if f is not None:
            out["forecast"] = {"target": f.target, "labels": f.labels, "more": f.more,
                               "low": f.low, "high": f.high, "interval": f.interval,
                               "level": f.level, "withheld": f.withheld,
                               "message": f.message()}
    elif points:
        out["forecast_wait"] = (f"the forecast needs {MIN_FORECAST_POINTS} retrains with a "
                                f"cross-validated accuracy ({with_cv} so far)")
    if points and points[-1].get("cv_accuracy") is None:
        n_labels = int(points[-1].get('n_labels', 0) or 0)
        out["cv"] = (f"no cross-validated accuracy yet on {plural(n_labels, 'label')}: "
                     "it needs at least 4 labels and two examples of most classes, so that each "
                     "held-out fold is tested on classes its model has seen")
    out["savings"] = _savings(points, audit_rate)
    return out


def outlook_task(curve: Sequence[Any], audit_rate: float | None = None,
                 progress: Progress = NULL_PROGRESS) -> dict[str, Any]:
    """``outlook`` as a worker job (the app's ``TaskRunner``: plain data in and out; the
    forecast's bootstrap makes it take up to a second)."""
    progress.update(None, "forecasting the learning curve")
    return outlook(curve, None, audit_rate=audit_rate)


def without_stop_sets(point: dict[str, Any] | None) -> dict[str, Any] | None:
    """A curve point's dict without the stored stop-set predictions and savings records (they
    are shown elsewhere in the status)."""
    if not point:
        return point
    per_task = {t: {k: v for k, v in (d or {}).items() if k not in (STOP_SET_KEY, SAVINGS_KEY)}
                for t, d in (point.get("per_task") or {}).items()}
    return {**point, "per_task": per_task}


def outlook_lines(o: dict[str, Any]) -> list[str]:
    """The status lines for ``outlook``'s result (none when there is nothing to say yet)."""
    lines = []
    if o.get("cv"):
        lines.append(f"  {o['cv']}")
    for m in (o.get("savings") or {}).get("messages", []):
        lines.append(f"  {m}")
    if o.get("stopping"):
        lines.append(f"  stopping rule: {o['stopping']['message']}")
    if o.get("forecast"):
        lines.append(f"  forecast (CV accuracy): {o['forecast']['message']}")
    elif o.get("forecast_wait"):
        lines.append(f"  forecast: {o['forecast_wait']}")
    return lines
