"""The names and encodings of activelab's own columns in an export.

Every column activelab adds to an export is namespaced with the prefix ``activelab__`` so it
cannot collide with a column of the user's data (source columns are written back unchanged,
never renamed or overwritten):

* ``activelab__id``: the sample id, as text, exactly as it was imported;
* ``activelab__<task>__<field>``: per task, ``label`` and its provenance (``annotator``,
  ``time``, ``seconds``, ``strategy``, ``score``, ``rank``, ``model_version``, ``audit``,
  ``predicted``, ``confidence``);
* ``activelab__image_path``: for image samples, the absolute path of the image file (the
  source's image column itself is kept exactly as written, relative paths included);
* ``activelab__skipped``, ``activelab__flagged``: per sample.

A task name may itself contain ``__``: the field is always the part after the *last* ``__``.

Multi-label values are lists in Parquet and JSON Lines. A CSV cell cannot hold a list, so
there a multi-label value is written as a JSON array (``["red","round"]``; the empty set is
``[]``), while an empty cell means "not labeled". ``parse_multilabel_cell`` reads that form
back, and also the ``a|b`` form users write by hand. A class name that would not come back
as itself from these forms (it contains the task's separator, or reads as a JSON array) is
refused where classes are declared (``check_class_name``).

Types: in Parquet ``label``/``predicted`` are text (``list<string>`` for multi-label),
``time`` a UTC timestamp, ``seconds``/``score``/``confidence`` floats, ``rank`` and
``model_version`` nullable integers, ``audit``/``skipped``/``flagged`` booleans. JSON Lines
and JSON (``.json``: one array) use JSON types (``time`` as ISO-8601 text). In CSV every text
is quoted, an empty cell is a missing value, booleans are ``true``/``false`` (read back with
``parse_bool_cell``), ``time`` is ISO-8601 text (``2024-05-01T12:00:00.250+00:00``).

The same module is used on the way in: ``activelab new`` on an export recognises these
columns (``is_activelab_column``), takes the id and the labels from them, and never uses the
bookkeeping columns as features.
"""
from __future__ import annotations

import json
from typing import Any

PREFIX = "activelab__"
ID_COLUMN = PREFIX + "id"
SKIPPED_COLUMN = PREFIX + "skipped"
FLAGGED_COLUMN = PREFIX + "flagged"
IMAGE_PATH_COLUMN = PREFIX + "image_path"
SAMPLE_COLUMNS = (ID_COLUMN, IMAGE_PATH_COLUMN, SKIPPED_COLUMN, FLAGGED_COLUMN)
TASK_FIELDS = (
    "label", "annotator", "time", "seconds", "strategy", "score", "rank", "model_version",
    "audit", "input", "predicted", "confidence",
)


def task_column(task: str, field: str) -> str:
    """``activelab__<task>__<field>``; ``field`` must be one of ``TASK_FIELDS``."""
    if field not in TASK_FIELDS:
        raise ValueError(f"unknown export field {field!r}; known: {', '.join(TASK_FIELDS)}")
    return f"{PREFIX}{task}__{field}"


def is_activelab_column(name: Any) -> bool:
    """True for any column in activelab's namespace (ours, from an earlier export)."""
    return isinstance(name, str) and name.startswith(PREFIX)


def parse_task_column(name: Any) -> tuple[str, str] | None:
    """(task, field) for an ``activelab__<task>__<field>`` column, else None."""
    if not is_activelab_column(name) or name in SAMPLE_COLUMNS:
        return None
    rest = name[len(PREFIX):]
    task, sep, field = rest.rpartition("__")
    if not sep or not task or field not in TASK_FIELDS:
        return None
    return task, field


def multilabel_csv_cell(labels: list[str] | None) -> str | None:
    """A multi-label value as one CSV cell: a JSON array; None (empty cell) = not labeled."""
    if labels is None:
        return None
    return json.dumps(list(labels), ensure_ascii=False, separators=(",", ":"))


def parse_multilabel_cell(value: Any, separator: str = "|") -> list[str] | None:
    """The labels in one multi-label cell, or None when the cell is empty (not labeled).

    Accepts a list (Parquet / JSON Lines), a JSON array of strings (``["a","b"]``, ``[]``:
    activelab's CSV form) or separator-joined text (``a|b``). Surrounding spaces of each
    label are removed; an empty or missing cell is None, never the empty set.
    """
    if value is None:
        return None
    if hasattr(value, "tolist") and not isinstance(value, str):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    if isinstance(value, float) and value != value:  # NaN from a float column
        return None
    s = str(value).strip()
    if not s:
        return None
    if s.startswith("[") and s.endswith("]"):
        try:
            parsed = json.loads(s)
        except ValueError:
            parsed = None
        if isinstance(parsed, list) and all(isinstance(v, str) for v in parsed):
            return [v.strip() for v in parsed if v.strip()]
    return [part.strip() for part in s.split(separator) if part.strip()]


def parse_bool_cell(value: Any) -> bool | None:
    """A boolean cell of an export (``true``/``false`` in CSV, a bool elsewhere); None when
    empty or missing. Also accepts ``True``/``False``/``1``/``0`` (pandas' and spreadsheets'
    spellings); anything else raises ValueError."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, float) and value != value:
        return None
    s = str(value).strip().lower()
    if not s:
        return None
    if s in ("true", "1", "1.0"):
        return True
    if s in ("false", "0", "0.0"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def class_name_problem(name: str, separator: str = "|") -> str | None:
    """Why ``name`` cannot be a class of a multi-label task using ``separator``, else None.

    A class must come back as itself from every written form of a multi-label value: the
    ``a|b`` text users type and import (so it cannot contain the separator) and the JSON array
    of activelab's CSV export (so it cannot itself look like a JSON array of strings, e.g.
    ``[]`` or ``["x"]``). ``name`` is taken as given (callers strip it first).
    """
    if separator and separator in name:
        return (f"it contains the task's separator '{separator}', so '{name}' would be read "
                f"back as the separate classes "
                f"{', '.join(repr(p) for p in name.split(separator) if p.strip()) or 'none'}")
    if parse_multilabel_cell(name, separator) != [name]:
        return "it reads as a JSON array of classes (activelab's CSV form of a label set)"
    return None


def check_class_name(name: Any, *, task: str, multilabel: bool, separator: str = "|",
                     error: type[Exception] = ValueError) -> str:
    """The class name with surrounding spaces removed, or ``error`` (one paragraph) if refused.

    Refused: an empty name; for a multi-label task, a name containing the task's separator or
    reading as a JSON array (see ``class_name_problem``). Used wherever classes are declared:
    ``Project.add_class`` and the ``--task NAME:a,b`` parser.
    """
    text = "" if name is None else str(name).strip()
    if not text:
        raise error(f"A class name of task '{task}' cannot be empty.")
    if multilabel:
        why = class_name_problem(text, separator)
        if why:
            hint = (f"for example '{text.replace(separator, '-')}'" if separator and separator in text
                    else "without the square brackets")
            raise error(
                f"Class '{text}' cannot be added to the multi-label task '{task}': {why}. "
                f"Choose another name ({hint})."
            )
    return text
