"""activelab's own export as input: its id, its tasks, and its labels with provenance.

An export (see ``activelab.core.data.export_columns``) holds the source columns unchanged plus activelab's
namespaced columns. ``activelab new`` on such a table takes the id from ``activelab__id``,
one task per ``activelab__<task>__label`` column (multi-label when its values are lists or
JSON arrays) and imports those labels with the provenance written beside them (annotator,
time, seconds, strategy, score, rank, model version, audit, input) as label events, plus the
skipped/flagged marks. activelab's columns are never features and are not kept in the
project's pool: the next export writes them again.
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from activelab.core.errors import DataError
from activelab.core.data.export_columns import (
    FLAGGED_COLUMN, ID_COLUMN, IMAGE_PATH_COLUMN, SKIPPED_COLUMN, is_activelab_column,
    parse_task_column, task_column,
)
from activelab.core.records import LABEL_INPUTS
from activelab.core.data.values import id_str, is_list_cell, is_missing, label_str, multilabel_cell

PROVENANCE_FIELDS = ("annotator", "time", "seconds", "strategy", "score", "rank",
                     "model_version", "audit", "input")


def activelab_columns(columns: Sequence[Any]) -> list[str]:
    """The columns in activelab's namespace (from an earlier export), in table order."""
    return [str(c) for c in columns if is_activelab_column(c)]


def export_label_columns(columns: Sequence[Any]) -> dict[str, str]:
    """{task name: its ``activelab__<task>__label`` column}, in table order."""
    out: dict[str, str] = {}
    for c in columns:
        parsed = parse_task_column(c)
        if parsed and parsed[1] == "label":
            out.setdefault(parsed[0], str(c))
    return out


def export_task_of(column: str | None) -> str | None:
    """The exported task name when ``column`` is an ``activelab__<task>__label`` column."""
    parsed = parse_task_column(column) if column else None
    return parsed[0] if parsed and parsed[1] == "label" else None


def holds_label_lists(series: pd.Series) -> bool:
    """True when every non-empty value is a list or a JSON array (a multi-label column)."""
    seen = False
    for v in series.tolist():
        if isinstance(v, (list, tuple, np.ndarray)):
            seen = True
            continue
        if is_missing(v):
            continue
        if not is_list_cell(v):
            return False
        seen = True
    return seen


def describe_export(columns: Sequence[Any], id_column: str | None) -> str | None:
    """The decision line saying the table is an activelab export, or None if it is not."""
    ours = activelab_columns(columns)
    if not ours:
        return None
    tasks = export_label_columns(columns)
    parts = [f"an activelab export ({len(ours)} activelab__ columns)"]
    if id_column == ID_COLUMN:
        parts.append(f"ids from '{ID_COLUMN}'")
    if tasks:
        parts.append(f"labels with provenance from {', '.join(repr(c) for c in tasks.values())}")
    parts.append("activelab__ columns are not features and are not kept (an export writes them again)")
    return "; ".join(parts)


def _bad(source: str, row: int, column: str, value: Any, want: str) -> DataError:
    return DataError(
        f"Row {row + 1} of {source}: column '{column}' holds '{value}', which is not {want}. "
        "Fix the value (or empty the cell) and import again."
    )


def _time(v: Any, source: str, row: int, column: str) -> float | None:
    if is_missing(v):
        return None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    try:
        ts = pd.Timestamp(v)
    except (ValueError, TypeError):
        raise _bad(source, row, column, v, "a date and time (ISO 8601)") from None
    if ts is pd.NaT:
        return None
    if ts.tzinfo is None:
        ts = ts.tz_localize(dt.timezone.utc)
    return float(ts.timestamp())


def _number(v: Any, source: str, row: int, column: str, integer: bool) -> float | int | None:
    if is_missing(v):
        return None
    s = label_str(v)
    try:
        x = float(s) if s is not None else math.nan
    except ValueError:
        raise _bad(source, row, column, v, "a number") from None
    if math.isnan(x):
        return None
    if integer:
        if not x.is_integer():
            raise _bad(source, row, column, v, "a whole number")
        return int(x)
    return x


def _flag(v: Any, source: str, row: int, column: str) -> bool:
    if is_missing(v):
        return False
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    s = str(v).strip().lower()
    if s in ("true", "1", "yes"):
        return True
    if s in ("false", "0", "no", ""):
        return False
    raise _bad(source, row, column, v, "true or false")


def provenance(frame: pd.DataFrame, row: int, exported_task: str, source: str) -> dict[str, Any]:
    """The provenance written beside an exported label (row position ``row``) as event fields."""
    out: dict[str, Any] = {}
    for field in PROVENANCE_FIELDS:
        col = task_column(exported_task, field)
        if col not in frame.columns:
            continue
        v = frame[col].iat[row]
        if field == "time":
            out["time"] = _time(v, source, row, col)
        elif field in ("seconds", "score"):
            out[field] = _number(v, source, row, col, integer=False)
        elif field in ("rank", "model_version"):
            out[field] = _number(v, source, row, col, integer=True)
        elif field == "audit":
            out["audit"] = _flag(v, source, row, col)
        elif field == "input":   # how the label was entered; an unknown word is not kept
            text = id_str(v)
            out["input"] = text if text in LABEL_INPUTS else None
        else:
            out[field] = id_str(v)
    return {k: v for k, v in out.items() if v is not None}


def mark_events(frame: pd.DataFrame, ids: Sequence[str], source: str) -> list[dict[str, Any]]:
    """Skip and flag events for the rows an export marks ``activelab__skipped``/``flagged``."""
    events = []
    for column, kind in ((SKIPPED_COLUMN, "skip"), (FLAGGED_COLUMN, "flag")):
        if column not in frame.columns:
            continue
        for i, v in enumerate(frame[column].tolist()):
            if _flag(v, source, i, column):
                events.append({"kind": kind, "sample_id": ids[i], "annotator": "import"})
    return events


AGREEMENT = 0.75  # share of rows on which a source column must repeat the exported labels


def repeated_columns(frame: pd.DataFrame, tasks: Sequence[Any]) -> dict[str, str]:
    """{source column: why} for the columns of an activelab export that repeat its ids or the
    labels of one of its tasks: the user's own id column and the column the labels were first
    imported from. Such a column is the answer (or a name) rather than a property of the
    sample, so it is not a feature in a project made from the export.

    A column repeats the ids when its text (or, for numbers, its value) equals
    ``activelab__id`` on every row; it repeats a
    task's labels when, on the rows where both are filled, it holds the same class (set) on at
    least ``AGREEMENT`` of them (labels corrected in activelab differ from the column they were
    first imported from). ``tasks`` are the TaskSpecs whose column is an exported
    ``activelab__<task>__label`` column (others are ignored).
    """
    if not activelab_columns(frame.columns):
        return {}
    out: dict[str, str] = {}
    sources = [c for c in frame.columns if not is_activelab_column(c)]
    if ID_COLUMN in frame.columns:
        ids = [id_str(v) for v in frame[ID_COLUMN].tolist()]
        numbers = _as_numbers(ids)
        for c in sources:
            values = frame[c].tolist()
            if [id_str(v) for v in values] == ids or (
                    numbers is not None and _as_numbers(values) == numbers):
                out[str(c)] = f"the sample ids again (the same as '{ID_COLUMN}')"
    for task in tasks:
        exported = export_task_of(getattr(task, "column", None))
        if exported is None or task.column not in frame.columns:
            continue
        want = [_label_key(v, task) for v in frame[task.column].tolist()]
        for c in sources:
            if str(c) in out:
                continue
            got = [_label_key(v, task) for v in frame[c].tolist()]
            both = [(a, b) for a, b in zip(want, got) if a is not None and b is not None]
            if both and sum(a == b for a, b in both) >= AGREEMENT * len(both):
                out[str(c)] = (f"the labels of task '{task.name}' again ({sum(a == b for a, b in both)} "
                               f"of {len(both)} rows agree with '{task.column}')")
    return out


def _as_numbers(values: Sequence[Any]) -> list[float] | None:
    """The values as numbers (an id ``7`` and a float column's ``7.0`` are the same sample),
    or None when one of them is missing or not a number."""
    out = []
    for v in values:
        if is_missing(v) or isinstance(v, (bool, np.bool_)):
            return None
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            return None
    return out


def _label_key(value: Any, task: Any) -> Any:
    if task.multilabel:
        labels = multilabel_cell(value, task.separator)
        return None if labels is None else frozenset(labels)
    return label_str(value)


def image_root_from_export(frame: pd.DataFrame, image_column: str | None,
                           image_root: str | None) -> str | None:
    """The folder the export's relative image paths are relative to, from the absolute paths
    in ``activelab__image_path`` (when every row agrees); else ``image_root`` unchanged."""
    from pathlib import Path, PurePosixPath

    if not image_column or IMAGE_PATH_COLUMN not in frame.columns:
        return image_root
    roots = set()
    for rel, absolute in zip(frame[image_column].tolist(), frame[IMAGE_PATH_COLUMN].tolist()):
        if is_missing(rel) or is_missing(absolute):
            continue
        rel_s, abs_p = str(rel), Path(str(absolute))
        if Path(rel_s).is_absolute():
            continue
        parts = PurePosixPath(rel_s.replace("\\", "/")).parts
        if tuple(abs_p.parts[-len(parts):]) != tuple(parts):
            return image_root
        roots.add(str(Path(*abs_p.parts[:-len(parts)])))
    if len(roots) == 1:
        root = roots.pop()
        if image_root is None or not all(
            (Path(image_root) / str(r)).exists() for r in frame[image_column].head(5).tolist()
            if not is_missing(r)
        ):
            return root
    return image_root
