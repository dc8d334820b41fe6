"""A team export as input: each annotator's label as that annotator's event, and the
reviewer's decision as a review event.

A team project's export (``activelab.core.export.team_columns``) has, per task labeled by
two or more annotators, ``activelab__<task>__by__<annotator>`` (each annotator's latest
label), ``activelab__<task>__resolution`` (``review`` | ``majority`` | ``single`` |
``dawid_skene``) and ``activelab__<task>__label`` with the provenance of the event the
resolved label comes from (the reviewer's decision, else the latest label of an annotator who
gave the resolved answer). ``activelab new`` on such an export records, per row of such a
task:

1. one label event per filled ``by__<annotator>`` cell, by that annotator, the one whose
   provenance is in the ``__label`` columns last and with that provenance (time, strategy,
   score, ...), the others with no query provenance (the export does not carry it);
2. when the resolution is ``review``: the decision, by the reviewer named in
   ``__annotator``, with its ``review:...`` strategy, after the annotators' labels (a
   decision is current only when it is not older than every annotator's label).

Every one of these events has ``input = "imported"`` (``IMPORTED_INPUT``): it came from an
import of a team export, not from a key press, and the creation of the project is nobody's
action to undo (``LabelState`` gives such a group to the ``import`` owner). So agreement,
the review queue and the resolved labels of the new project equal the exported project's,
and its current label of a (task, sample) is the resolved one. A task with no ``by__``
column (a one-person export) is imported as before (``own_export.provenance``).
"""
from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from activelab.core.data.export_columns import PREFIX
from activelab.core.data.own_export import provenance
from activelab.core.data.values import id_str, label_str, multilabel_cell
from activelab.core.errors import DataError

__all__ = ["IMPORTED_INPUT", "REVIEW_DEFAULT", "annotator_columns", "team_label_events",
           "team_tasks"]

IMPORTED_INPUT = "imported"
"""``LabelEvent.input`` of an event re-imported from a team export (``LABEL_INPUTS``)."""
REVIEW_DEFAULT = "review:disagreement"
"""The strategy of an imported decision whose export did not say it (an older export)."""


def annotator_columns(columns: Sequence[Any], exported_task: str,
                      exported_tasks: Sequence[str] = ()) -> dict[str, str]:
    """{annotator: column} of the ``activelab__<exported_task>__by__<annotator>`` columns,
    in table order. A column that belongs to a longer task name of ``exported_tasks`` (the
    task ``a`` and the task ``a__by__x``) is that task's."""
    head = f"{PREFIX}{exported_task}__by__"
    longer = [f"{PREFIX}{t}__by__" for t in exported_tasks
              if t != exported_task and f"{PREFIX}{t}__by__".startswith(head)]
    out: dict[str, str] = {}
    for c in columns:
        name = str(c)
        if name.startswith(head) and len(name) > len(head) and not any(
                name.startswith(h) for h in longer):
            out[name[len(head):]] = name
    return out


def _value(raw: Any, task: Any, row: int, column: str, source: str) -> Any:
    """The label in one cell (None when empty); DataError for a class the task lacks."""
    if task.multilabel:
        labels = multilabel_cell(raw, task.separator)
        if labels is None:
            return None
        labels = list(dict.fromkeys(labels))
    else:
        one = label_str(raw)
        if one is None:
            return None
        labels = [one]
    for v in labels:
        if v not in task.classes:
            raise DataError(
                f"Row {row + 1} of {source}: column '{column}' holds '{v}', which is not a class "
                f"of task '{task.name}' (allowed: {', '.join(task.classes)}). Fix the value, "
                "add the class to the task, or empty the cell, and import again.")
    return labels if task.multilabel else labels[0]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return sorted(a) == sorted(b)
    return a == b


def team_label_events(frame: pd.DataFrame, tasks: Sequence[Any], exported: dict[str, str],
                      ids: Sequence[str], source: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The label events of the team tasks of an export (see the module doc), and a decision
    line per such task.

    ``tasks``: the new project's TaskSpecs; ``exported``: task name -> the task name in the
    export (for tasks read from an ``activelab__<task>__label`` column); ``ids``: the sample
    id of each row. Only tasks with at least one ``by__`` column are handled (``team_tasks``
    names them); the caller imports the others itself. Raises DataError naming the row,
    column and value for a class the task lacks or an unreadable provenance cell."""
    events: list[dict[str, Any]] = []
    lines: list[str] = []
    names = list(exported.values())
    for task in tasks:
        x = exported.get(task.name)
        people = annotator_columns(frame.columns, x, names) if x else {}
        if not people:
            continue
        method_col = f"{PREFIX}{x}__resolution"
        methods = frame[method_col].tolist() if method_col in frame.columns else [None] * len(frame)
        label_col = task.column
        n_labels = n_reviews = 0
        for row in range(len(frame)):
            given = {a: _value(frame[c].iat[row], task, row, c, source) for a, c in people.items()}
            given = {a: v for a, v in given.items() if v is not None}
            resolved = _value(frame[label_col].iat[row], task, row, label_col, source)
            prov = provenance(frame, row, x, source) if resolved is not None else {}
            review = resolved is not None and id_str(methods[row]) == "review"
            winner = prov.get("annotator")
            if review or winner not in given or not _same(given[winner], resolved):
                winner = None
            base = {"kind": "label", "sample_id": ids[row], "task": task.name,
                    "input": IMPORTED_INPUT}
            order = [a for a in given if a != winner] + ([winner] if winner else [])
            for a in order:
                extra = prov if a == winner else {}
                events.append({**base, **extra, "annotator": a, "value": given[a],
                               "input": IMPORTED_INPUT})
                n_labels += 1
            if review:
                strategy = prov.get("strategy") or ""
                events.append({**base, **prov, "value": resolved, "input": IMPORTED_INPUT,
                               "strategy": strategy if strategy.startswith("review:")
                               else REVIEW_DEFAULT})
                n_reviews += 1
            elif not given and resolved is not None:    # no annotator cell: the label alone
                events.append({**base, "annotator": "import", **prov, "value": resolved,
                               "input": IMPORTED_INPUT})
                n_labels += 1
        lines.append(
            f"task '{task.name}': {n_labels} labels of {len(people)} annotators "
            f"({', '.join(people)}) and {n_reviews} review decisions imported from the team "
            f"export's columns '{PREFIX}{x}__by__...', each as that annotator's label")
    return events, lines


def team_tasks(frame: pd.DataFrame, exported: dict[str, str]) -> set[str]:
    """The task names of ``exported`` whose export has ``by__`` columns (a team task)."""
    names = list(exported.values())
    return {t for t, x in exported.items() if annotator_columns(frame.columns, x, names)}
