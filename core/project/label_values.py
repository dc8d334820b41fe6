"""The label a user gives, checked against its task (no I/O here)."""
from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from activelab.core.data.export_columns import parse_multilabel_cell
from activelab.core.data.spec import TaskSpec
from activelab.core.errors import LabelError
from activelab.core.records import LABEL_INPUTS, QueueItem


def checked_value(task: TaskSpec, value: Any, project: Any) -> Any:
    """The label to store: a class (single-label) or a list of classes (multi-label).

    Surrounding spaces (and a stray ``\\r``) of each class are removed. A multi-label value
    is a list (``[]`` is the empty set: labeled, no class applies), a JSON array written
    as text (``'[]'``, ``'["red","round"]'``) or classes joined by the task's separator
    (``'red|round'``); repeated classes are kept once. Raises LabelError for an unknown
    class, an empty value, or a list given to a single-label task (``project``, the project
    folder, is named in the advice to add a class).
    """
    if task.multilabel:
        if isinstance(value, (list, tuple)):
            vals = [str(v).strip() for v in value if v is not None and str(v).strip()]
        else:
            vals = parse_multilabel_cell(value, task.separator)
        if vals is None:
            raise LabelError(
                f"No class given for the multi-label task '{task.name}'. Give classes "
                f"joined by '{task.separator}' (e.g. '{task.separator.join(task.classes[:2])}'), "
                "or [] for the empty set (labeled: none of the classes applies)."
            )
        vals = list(dict.fromkeys(vals))
        bad = [v for v in vals if v not in task.classes]
    else:
        if isinstance(value, (list, tuple)):
            raise LabelError(f"Task '{task.name}' is single-label; give one class, not {value}.")
        vals = "" if value is None else str(value).strip()
        if not vals:
            raise LabelError(f"No class given for task '{task.name}'. Its classes: "
                             f"{', '.join(task.classes)}.")
        bad = [] if vals in task.classes else [vals]
    if bad:
        raise LabelError(
            f"'{', '.join(bad)}' is not a class of task '{task.name}'. Its classes: "
            f"{', '.join(task.classes)}. Add a class with 'activelab add-class "
            f"{project} {task.name} NAME' if it is new."
        )
    return vals


def checked_inputs(inputs: Mapping[str, str] | None) -> dict[str, str]:
    """``inputs`` (task -> how its class was entered) checked against ``LABEL_INPUTS``.
    Raises LabelError naming an unknown kind."""
    out = dict(inputs or {})
    given = [k for k in LABEL_INPUTS if k != "imported"]   # only a project's creation imports
    bad = sorted({str(v) for v in out.values() if v not in given})
    if bad:
        raise LabelError(f"Unknown label input {', '.join(map(repr, bad))}; "
                         f"known: {', '.join(given)}.")
    return out


def label_rows(sample_id: str, values: Sequence[tuple[TaskSpec, Any]], item: QueueItem | None,
               annotator: str, seconds: float | None,
               inputs: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The event rows of one labeling action: one per (task, checked value), with the
    provenance of the queue ``item`` the sample was shown from (strategy, score, rank, model
    version, audit flag, the model's prediction for the task; none without an item) and,
    from ``inputs`` (task -> one of ``LABEL_INPUTS``), how each class was entered."""
    inputs = checked_inputs(inputs)
    prov: dict[str, Any] = {}
    if item is not None:
        prov = {"strategy": item.strategy or None, "rank": item.rank,
                "score": None if math.isnan(item.score) else item.score,
                "model_version": item.model_version, "audit": item.audit}
    rows = []
    for task, value in values:
        pred = item.predictions.get(task.name) if item is not None else None
        rows.append({"kind": "label", "sample_id": sample_id, "task": task.name, "value": value,
                     "annotator": annotator, "seconds": seconds, **prov,
                     "predicted": None if pred is None else pred.label,
                     "confidence": None if pred is None else pred.confidence,
                     "input": inputs.get(task.name)})
    return rows
