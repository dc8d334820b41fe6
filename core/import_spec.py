"""Deciding which columns of an imported table play which role (the DatasetSpec).

What the user said wins; what they left out is guessed from names and content, and each guess
is returned as a human-readable line so the CLI and the import dialog can show it.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd

from core.errors import DataError
from core.sniff import detect_image_column
from core.spec import DatasetSpec, ImportedTable, TaskSpec

LABEL_COLUMN_NAMES = ("label", "labels", "class", "target", "category", "y")
ID_COLUMN_NAMES = ("id", "uid", "sample_id")
TEXT_MIN_MEAN_CHARS = 30
TEXT_MIN_MEAN_WORDS = 3
MAX_CATEGORIES = 100


def label_str(value: Any) -> str | None:
    """A cell as a label/id string (1 -> "1", 1.0 -> "1"); None for missing or blank."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if value is pd.NA or value is pd.NaT:
        return None
    s = str(value).strip()
    return s or None


def sort_classes(values: set[str]) -> tuple[str, ...]:
    """Sorted class names; numerically when every name is a number (so 2 comes before 10)."""
    try:
        return tuple(sorted(values, key=float))
    except ValueError:
        return tuple(sorted(values))


def split_labels(value: Any, separator: str) -> list[str]:
    """The labels in one multi-label cell ("a|b" or a JSON list -> ["a", "b"]); [] if empty."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [s for s in (label_str(v) for v in value) if s is not None]
    s = label_str(value)
    if s is None:
        return []
    return [part.strip() for part in s.split(separator) if part.strip()]


def check_columns(table: ImportedTable, names: Sequence[str], role: str) -> None:
    """DataError naming the first unknown column and listing the available ones."""
    available = [str(c) for c in table.frame.columns]
    for name in names:
        if name not in available:
            raise DataError(
                f"{role} column '{name}' is not in {table.source}. Available columns: "
                f"{', '.join(available)}. Check the spelling (names are case-sensitive)."
            )


def infer_spec(
    table: ImportedTable,
    *,
    id_column: str | None = None,
    text_columns: Sequence[str] = (),
    image_column: str | None = None,
    feature_columns: Sequence[str] | None = None,
    tasks: Sequence[str] = (),
    multilabel: Sequence[str] = (),
    separator: str = "|",
) -> tuple[DatasetSpec, list[str]]:
    """Build the DatasetSpec from what the user said plus guesses; return (spec, decisions)."""
    frame = table.frame
    decisions: list[str] = []
    if frame is None or frame.shape[0] == 0:
        raise DataError(f"{table.source} has no rows to label. Import a table with at least one sample.")
    if id_column is not None:
        check_columns(table, [id_column], "Id")
    check_columns(table, list(text_columns), "Text")
    if image_column is not None:
        check_columns(table, [image_column], "Image")
    if feature_columns is not None:
        check_columns(table, list(feature_columns), "Feature")

    task_specs = _parse_tasks(table, tasks, set(multilabel), separator, decisions)

    if id_column is None:
        id_column = _guess_id_column(frame, decisions)
    else:
        decisions.append(f"id column: '{id_column}' (given)")

    if image_column is None:
        image_column = detect_image_column(frame)
        if image_column is not None:
            kind = "@array references" if table.image_array is not None else "image file paths"
            decisions.append(f"image column: '{image_column}' (values are {kind})")
    else:
        decisions.append(f"image column: '{image_column}' (given)")

    reserved = {t.column for t in task_specs if t.column} | {id_column, image_column} - {None}
    if text_columns:
        texts = tuple(text_columns)
        decisions.append(f"text columns: {list(texts)} (given)")
    else:
        texts = tuple(c for c in frame.columns if c not in reserved and _is_text(frame[c]))
        if texts:
            decisions.append(f"text columns: {list(texts)} (long free text)")
    reserved |= set(texts)

    if feature_columns is not None:
        features = tuple(feature_columns)
        decisions.append(f"feature columns: {len(features)} (given)")
    else:
        features = _guess_features(frame, reserved, decisions)

    overlap = set(features) & ({t.column for t in task_specs} - {None})
    if overlap:
        raise DataError(
            f"Column '{sorted(overlap)[0]}' of {table.source} is both a task's label column and a "
            "feature; a model would see the answer. Leave it out of the feature columns."
        )
    spec = DatasetSpec(
        id_column=id_column, text_columns=texts, image_column=image_column,
        feature_columns=features, tasks=tuple(task_specs),
    )
    if not spec.modalities:
        raise DataError(
            f"{table.source}: no column is left to learn from (no text, image or feature column "
            f"besides the id and the label columns). Available columns: "
            f"{', '.join(map(str, frame.columns))}. Pass --text-column, --image-column or "
            "--feature-columns."
        )
    return spec, decisions


def _parse_tasks(
    table: ImportedTable, raw: Sequence[str], multilabel: set[str], separator: str,
    decisions: list[str],
) -> list[TaskSpec]:
    frame = table.frame
    parsed: list[tuple[str, str | None, tuple[str, ...] | None]] = []
    for item in raw:
        s = str(item).strip()
        eq, colon = s.find("="), s.find(":")
        if eq > 0 and (colon < 0 or eq < colon):
            name, column = s[:eq].strip(), s[eq + 1:].strip()
            parsed.append((name, column, None))
        elif colon > 0:
            name = s[:colon].strip()
            classes = [c.strip() for c in s[colon + 1:].split(",") if c.strip()]
            if len(set(classes)) != len(classes):
                dup = next(c for c in classes if classes.count(c) > 1)
                raise DataError(f"Task '{name}' lists class '{dup}' twice in '{s}'. List each class once.")
            column = name if name in frame.columns else None
            parsed.append((name, column, tuple(classes)))
        elif s:
            parsed.append((s, s, None))
        if not s or not parsed[-1][0] or (parsed[-1][1] is not None and not parsed[-1][1]):
            raise DataError(
                f"Task '{item}' cannot be read. Write --task NAME=COLUMN (classes taken from the "
                "column) or --task NAME:a,b,c (classes given)."
            )
    if not parsed:
        guess = next(
            (str(c) for want in LABEL_COLUMN_NAMES for c in frame.columns if str(c).lower() == want),
            None,
        )
        if guess is None:
            raise DataError(
                f"No labeling task was given and {table.source} has no column named "
                f"{'/'.join(LABEL_COLUMN_NAMES)}. Pass --task NAME:a,b,c to list the classes, or "
                f"--task NAME=COLUMN to take them from a column (columns: "
                f"{', '.join(map(str, frame.columns))})."
            )
        decisions.append(f"task: '{guess}' from column '{guess}' (no task given; column name looks like labels)")
        parsed.append((guess, guess, None))
    names = [p[0] for p in parsed]
    for name in names:
        if names.count(name) > 1:
            raise DataError(f"Task '{name}' is given twice. Give each task once with a unique name.")
    for name in multilabel:
        if name not in names:
            raise DataError(
                f"--multilabel names task '{name}', but the tasks are: {', '.join(names)}. "
                "Use one of those names."
            )
    check_columns(table, [c for _, c, cl in parsed if c is not None and cl is None], "Task")
    specs = []
    for name, column, classes in parsed:
        multi = name in multilabel
        if classes is None:
            values: set[str] = set()
            for v in frame[column]:
                values.update(split_labels(v, separator) if multi else filter(None, [label_str(v)]))
            classes = sort_classes(values)
            shown = ", ".join(classes[:12]) + (", ..." if len(classes) > 12 else "")
            decisions.append(
                f"task '{name}': {len(classes)} classes from column '{column}'"
                f"{' (multi-label, split on ' + repr(separator) + ')' if multi else ''}: {shown}"
            )
            if len(classes) > MAX_CATEGORIES and len(classes) > 0.5 * frame.shape[0]:
                decisions.append(
                    f"task '{name}': warning: column '{column}' has {len(classes)} distinct values; "
                    "is it really a label column?"
                )
        else:
            decisions.append(
                f"task '{name}': classes given ({', '.join(classes)})"
                + (f"; labels can be imported from column '{column}'" if column else "")
            )
        min_classes = 1 if multi else 2
        if len(classes) < min_classes:
            where = f"column '{column}' of {table.source} has" if column else "the task lists"
            raise DataError(
                f"Task '{name}': {where} {len(classes)} class(es) ({', '.join(classes) or 'none'}); "
                f"a {'multi' if multi else 'single'}-label task needs at least {min_classes}. Pass "
                f"the classes explicitly with --task {name}:a,b,c."
            )
        specs.append(TaskSpec(name=name, classes=tuple(classes), multilabel=multi,
                              column=column, separator=separator))
    return specs


def _guess_id_column(frame: pd.DataFrame, decisions: list[str]) -> str | None:
    for c in frame.columns:
        if str(c).lower() in ID_COLUMN_NAMES:
            ids = [label_str(v) for v in frame[c]]
            if None not in ids and len(set(ids)) == len(ids):
                decisions.append(f"id column: '{c}' (unique)")
                return str(c)
            decisions.append(f"id column: none (column '{c}' has repeated or empty values); row numbers 0.. are the ids")
            return None
    decisions.append("id column: none found; row numbers 0.. are the ids")
    return None


def _string_values(col: pd.Series) -> pd.Series | None:
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return None
    return col.dropna().astype(str).str.strip().loc[lambda s: s != ""]


def _is_text(col: pd.Series) -> bool:
    values = _string_values(col)
    if values is None or values.empty:
        return False
    sample = values.head(2000)
    return (sample.str.len().mean() > TEXT_MIN_MEAN_CHARS
            or sample.str.split().str.len().mean() > TEXT_MIN_MEAN_WORDS)


def _guess_features(frame: pd.DataFrame, reserved: set, decisions: list[str]) -> tuple[str, ...]:
    numeric, categorical, skipped = [], [], []
    for c in frame.columns:
        if c in reserved:
            continue
        col = frame[c]
        if str(c).startswith("Unnamed:") or col.isna().all():
            skipped.append(f"'{c}' ({'empty' if col.isna().all() else 'unnamed index column'})")
            continue
        values = _string_values(col)
        if values is None:
            numeric.append(str(c))
            continue
        n_distinct = values.nunique()
        if n_distinct <= min(MAX_CATEGORIES, max(10, 0.5 * len(values))):
            categorical.append(str(c))
        else:
            skipped.append(f"'{c}' ({n_distinct} distinct short strings, like names or codes)")
    features = tuple(c for c in frame.columns if c in set(numeric) | set(categorical))
    if features:
        decisions.append(
            f"feature columns: {len(features)} ({len(numeric)} numeric, {len(categorical)} categorical)"
            + (f": {', '.join(map(str, features))}" if len(features) <= 20 else "")
        )
    if skipped:
        decisions.append(f"not used as features: {', '.join(skipped)}")
    return features
