"""What ``activelab status`` says about the road ahead: the stopping rule and the forecast.

Both are computed from the project's learning curve when status is asked for (pure functions
in ``activelab.core.loop.stopping`` and ``activelab.core.loop.forecast``); scikit-learn and
SciPy are imported only when the curve has points to judge.
"""
from __future__ import annotations

from typing import Any, Sequence

from activelab.core.loop.stopping import STOP_SET_KEY


def _points(curve: Sequence[Any]) -> list[dict[str, Any]]:
    return [p if isinstance(p, dict) else p.to_dict() for p in curve]


def outlook(curve: Sequence[Any], target: float | None = None) -> dict[str, Any]:
    """{"stopping": {...} | None, "forecast": {...} | None} for a project's curve points
    (oldest first). stopping: stop (bool), kappas, threshold, window, audit, message.
    forecast (of cross-validated accuracy): target, labels, more, low, high, level, message;
    ``target`` defaults to two points above the latest accuracy."""
    points = _points(curve)
    out: dict[str, Any] = {"stopping": None, "forecast": None}
    if any(STOP_SET_KEY in (d or {}) for p in points for d in (p.get("per_task") or {}).values()):
        from activelab.core.loop.stopping import decision_from_curve

        d = decision_from_curve(points)
        if d is not None:
            out["stopping"] = {"stop": d.stop, "kappas": list(d.kappas), "threshold": d.threshold,
                               "window": d.window, "audit": list(d.audit) if d.audit else None,
                               "message": d.reason}
    if sum(p.get("cv_accuracy") is not None for p in points) >= 4:
        from activelab.core.loop.forecast import forecast_from_curve

        f = forecast_from_curve(points, target)
        if f is not None:
            out["forecast"] = {"target": f.target, "labels": f.labels, "more": f.more,
                               "low": f.low, "high": f.high, "interval": f.interval,
                               "level": f.level, "message": f.message()}
    return out


def without_stop_sets(point: dict[str, Any] | None) -> dict[str, Any] | None:
    """A curve point's dict without the stored stop-set predictions (not for reading)."""
    if not point:
        return point
    per_task = {t: {k: v for k, v in (d or {}).items() if k != STOP_SET_KEY}
                for t, d in (point.get("per_task") or {}).items()}
    return {**point, "per_task": per_task}


def outlook_lines(o: dict[str, Any]) -> list[str]:
    """The status lines for ``outlook``'s result (none when there is nothing to say yet)."""
    lines = []
    if o.get("stopping"):
        lines.append(f"  stopping rule: {o['stopping']['message']}")
    if o.get("forecast"):
        lines.append(f"  forecast (CV accuracy): {o['forecast']['message']}")
    return lines
