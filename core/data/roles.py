"""Deciding which columns of an imported table play which role (the DatasetSpec).

What the user said wins; what they left out is guessed from names and content, and each guess
is returned as a human-readable line so the CLI and the import dialog can show it.

Ids and class values stay text as written (see ``activelab.core.data.values``). A column that numbers
or names the rows (``Unnamed: 0``, R's row names, ``0..n-1``) is the id when there is no id
column, and never a feature. An activelab export (``activelab__`` columns) gives the id, the
tasks and their labels (``activelab.core.data.own_export``). A feature column that nearly determines a
task's labels is reported as a warning (``activelab.core.data.leakage``).
"""
from __future__ import annotations

from typing import Sequence

import pandas as pd

from activelab.core.errors import DataError
from activelab.core.data.export_columns import ID_COLUMN
from activelab.core.data.columns import (
    MAX_CATEGORIES, describe_features, guess_features, is_text, row_index_columns,
)
from activelab.core.data.ids import check_ids
from activelab.core.data.leakage import find_leaks
from activelab.core.data.own_export import (
    activelab_columns, describe_export, export_label_columns, export_task_of, holds_label_lists,
    repeated_columns,
)
from activelab.core.data.values import (  # noqa: F401  (label_str, split_labels, sort_classes re-exported)
    id_str, label_str, label_was_padded, multilabel_cell, sort_classes, split_labels,
)
from activelab.core.data.sniff import ARRAY_REF_PREFIX, IMAGE_EXTENSIONS, detect_image_column
from activelab.core.data.spec import DatasetSpec, ImportedTable, TaskSpec

LABEL_COLUMN_NAMES = ("label", "labels", "class", "target", "category", "y")
ID_COLUMN_NAMES = ("id", "uid", "sample_id")


def check_columns(table: ImportedTable, names: Sequence[str], role: str) -> None:
    """DataError naming the first unknown column and listing the available ones."""
    available = [str(c) for c in table.frame.columns]
    for name in names:
        if name not in available:
            hint = _first_row_hint(table, name) or "Check the spelling (names are case-sensitive)."
            raise DataError(
                f"{role} column '{name}' is not in {table.source}. Available columns: "
                f"{', '.join(available)}. {hint}"
            )


def _first_row_hint(table: ImportedTable, name: str) -> str | None:
    """When ``name`` stands in the first row of a table read without a header, say so."""
    frame = table.frame
    said = [d for d in table.decisions if "no header row (" in d]
    if not said or frame is None or frame.shape[0] == 0:
        return None
    first = [str(v).strip() for v in frame.iloc[0].tolist() if v is not None]
    if name not in first:
        return None
    why = said[0].split("no header row (", 1)[1].split(")", 1)[0]
    return (f"'{name}' is in the first row, which was read as data, not as the header ({why}). "
            "Pass --header to read the first row as the column names.")


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
    check_leakage: bool = True,
) -> tuple[DatasetSpec, list[str]]:
    """Build the DatasetSpec from what the user said plus guesses; return (spec, decisions).

    Decisions are human-readable lines; a line starting with ``warning:`` (or containing
    ``': warning:``) is something the user should look at (a leaking feature column, a row
    index given as a feature). Raises DataError for columns that do not exist, a label
    column also given as a feature, activelab's bookkeeping columns given as features, and
    a table with nothing to learn from.
    """
    frame = table.frame
    decimal = getattr(table, "decimal", None) or "."
    decisions: list[str] = []
    if frame is None or frame.shape[0] == 0:
        raise DataError(f"{table.source} has no rows to label. Import a table with at least one sample.")
    if id_column is not None:
        check_columns(table, [id_column], "Id")
        check_ids(table, id_column)   # a repeated id is named as itself, before any later symptom
    check_columns(table, list(text_columns), "Text")
    if image_column is not None:
        check_columns(table, [image_column], "Image")
    if feature_columns is not None:
        check_columns(table, list(feature_columns), "Feature")
    ours = set(activelab_columns(frame.columns))
    _refuse_ours_as_data(table, ours, text_columns, image_column, feature_columns)

    task_specs = _parse_tasks(table, tasks, set(multilabel), separator, decisions)
    task_columns = {t.column for t in task_specs if t.column}
    index_columns = _saved_index(table, skip=ours | task_columns | {id_column, image_column})
    for c, why in row_index_columns(frame, skip=ours | task_columns | {id_column, image_column}).items():
        index_columns.setdefault(c, why)

    if image_column is None:
        image_column = detect_image_column(frame[_maybe_image_columns(frame, ours)])
        if image_column is not None:
            kind = "@array references" if table.image_array is not None else "image file paths"
            decisions.append(f"image column: '{image_column}' (values are {kind})")
    else:
        decisions.append(f"image column: '{image_column}' (given)")

    if id_column is None:
        id_column = _guess_id_column(table, ours, index_columns, image_column, decisions)
    else:
        decisions.append(f"id column: '{id_column}' (given, ids kept exactly as written)")
    export_line = describe_export(frame.columns, id_column)
    if export_line:
        decisions.insert(0, export_line)

    reserved = task_columns | ours | {id_column, image_column} - {None}
    not_features = {c: why for c, why in index_columns.items() if c not in reserved}
    if ours:   # an export: the user's id column and first label column are not features
        for c, why in repeated_columns(frame, task_specs).items():
            if c not in reserved and c not in (feature_columns or ()) and c not in text_columns:
                not_features.setdefault(c, why)
    if text_columns:
        texts = tuple(text_columns)
        decisions.append(f"text columns: {list(texts)} (given, kept as written)")
    else:
        texts = tuple(c for c in frame.columns
                      if c not in reserved and c not in not_features and is_text(frame[c]))
        if texts:
            decisions.append(f"text columns: {list(texts)} (long free text)")
    reserved |= set(texts)

    if feature_columns is not None:
        features = tuple(feature_columns)
        decisions += describe_features(frame, features, decimal, "given")
        for c in features:
            if c in index_columns:
                decisions.append(
                    f"warning: feature column '{c}' looks like {index_columns[c]}; a row "
                    "number says nothing about a sample. Leave it out unless you mean it."
                )
    else:
        guessed, skipped = guess_features(frame, reserved | set(not_features), decimal)
        features = tuple(guessed)
        decisions += describe_features(frame, features, decimal, "")
        if skipped:
            decisions.append(f"not used as features: {', '.join(skipped)}")
    for c, why in not_features.items():
        if c not in features:
            decisions.append(f"column '{c}' is {why}: not used as a feature")

    overlap = set(features) & task_columns
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
    if check_leakage:
        decisions += [leak.message() for leak in find_leaks(frame, features, task_specs, decimal)]
    return spec, decisions


def _maybe_image_columns(frame: pd.DataFrame, skip: set[str]) -> list[str]:
    """Columns worth asking ``detect_image_column`` about: text columns with an image path
    or array reference among their first values (so a table of 2,000 numeric columns is
    not scanned column by column)."""
    out = []
    for c in frame.columns:
        if c in skip:
            continue
        head = [v.strip().lower() for v in frame[c].head(50).tolist() if isinstance(v, str)][:20]
        if any(v.endswith(IMAGE_EXTENSIONS) or v.startswith(ARRAY_REF_PREFIX) for v in head):
            out.append(c)
    return out


def _refuse_ours_as_data(table: ImportedTable, ours: set[str], text_columns: Sequence[str],
                         image_column: str | None, feature_columns: Sequence[str] | None) -> None:
    for role, names in (("text", text_columns), ("image", [image_column] if image_column else []),
                        ("feature", feature_columns or ())):
        for c in names:
            if c in ours:
                raise DataError(
                    f"Column '{c}' of {table.source} is activelab's own bookkeeping from an earlier "
                    f"export, so it cannot be a {role} column (the model would learn from labels, "
                    "predictions or provenance). Choose a column of your data instead."
                )


def _parse_tasks(
    table: ImportedTable, raw: Sequence[str], multilabel: set[str], separator: str,
    decisions: list[str],
) -> list[TaskSpec]:
    frame = table.frame
    exported = export_label_columns(frame.columns)
    parsed: list[tuple[str, str | None, tuple[str, ...] | None]] = []
    for item in raw:
        s = str(item).strip()
        eq, colon = s.find("="), s.find(":")
        if eq > 0 and (colon < 0 or eq < colon):
            name, column = s[:eq].strip(), s[eq + 1:].strip()
            parsed.append((name, _exported_instead(name, column, exported, frame, decisions), None))
        elif colon > 0:
            name = s[:colon].strip()
            classes = [c.strip() for c in s[colon + 1:].split(",") if c.strip()]
            if len(set(classes)) != len(classes):
                dup = next(c for c in classes if classes.count(c) > 1)
                raise DataError(f"Task '{name}' lists class '{dup}' twice in '{s}'. List each class once.")
            # Labels to import: an export's own column for this task first, else a same-named column.
            column = exported.get(name) or (name if name in frame.columns else None)
            parsed.append((name, column, tuple(classes)))
        elif s:
            column = s if s in frame.columns else exported.get(s, s)
            parsed.append((s, _exported_instead(s, column, exported, frame, decisions), None))
        if not s or not parsed[-1][0] or (parsed[-1][1] is not None and not parsed[-1][1]):
            raise DataError(
                f"Task '{item}' cannot be read. Write --task NAME=COLUMN (classes taken from the "
                "column) or --task NAME:a,b,c (classes given)."
            )
    if not parsed and exported:
        for name, column in exported.items():
            parsed.append((name, column, None))
        decisions.append(
            f"tasks from the export: {', '.join(f'{n!r} (column {c!r})' for n, c in exported.items())}"
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
    return [_task_spec(table, name, column, classes, name in multilabel, separator, decisions)
            for name, column, classes in parsed]


def _exported_instead(name: str, column: str, exported: dict[str, str], frame: pd.DataFrame,
                      decisions: list[str]) -> str:
    """The column to take task ``name``'s labels from: an export's own label column for a task
    of that name wins over a source column (re-running the first 'new' on an export must not
    drop the labels made or corrected in activelab), and the choice is said."""
    if name not in exported or column == exported[name] or column not in frame.columns:
        return column
    decisions.append(
        f"task '{name}': the export holds this task's labels in '{exported[name]}' (with every "
        f"label made or corrected in activelab), so they are taken from there, not from column "
        f"'{column}' (the labels as first imported); give the task another name "
        f"(--task other={column}) to take them from '{column}'"
    )
    return exported[name]


def _task_spec(table: ImportedTable, name: str, column: str | None,
               classes: tuple[str, ...] | None, multi: bool, separator: str,
               decisions: list[str]) -> TaskSpec:
    frame = table.frame
    if column is not None and not multi and export_task_of(column) and holds_label_lists(frame[column]):
        multi = True
        decisions.append(f"task '{name}': multi-label (column '{column}' holds lists of classes)")
    if classes is None:
        values: set[str] = set()
        padded = 0
        for v in frame[column].tolist():
            if multi:
                values.update(multilabel_cell(v, separator) or ())
            else:
                label = label_str(v)
                if label is not None:
                    values.add(label)
                    padded += label_was_padded(v)
        classes = sort_classes(values)
        shown = ", ".join(classes[:12]) + (", ..." if len(classes) > 12 else "")
        decisions.append(
            f"task '{name}': {len(classes)} classes from column '{column}'"
            f"{' (multi-label, split on ' + repr(separator) + ')' if multi else ''}: {shown}"
        )
        if padded:
            decisions.append(
                f"task '{name}': {padded} value(s) of column '{column}' have spaces around them; "
                "class values are taken without surrounding spaces (' pos ' is class 'pos')"
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
    if not multi and len(classes) == 1 and column is not None and export_task_of(column):
        # An export whose labels all name one class: the labels come back as they were; the
        # other classes (never used, so not in the file) are added when they are needed.
        decisions.append(
            f"task '{name}': the export's labels all name one class ({classes[0]}); add the "
            f"other classes with 'activelab add-class PROJECT {name} NAME', or pass them with "
            f"--task {name}:{classes[0]},OTHER"
        )
        min_classes = 1
    if len(classes) < min_classes:
        where = f"column '{column}' of {table.source} has" if column else "the task lists"
        raise DataError(
            f"Task '{name}': {where} {len(classes)} class(es) ({', '.join(classes) or 'none'}); "
            f"a {'multi' if multi else 'single'}-label task needs at least {min_classes}. Pass "
            f"the classes explicitly with --task {name}:a,b,c."
        )
    return TaskSpec(name=name, classes=tuple(classes), multilabel=multi, column=column,
                    separator=separator)


def _saved_index(table: ImportedTable, skip: set) -> dict[str, str]:
    """{column: why} for the columns that were the table's saved index (pandas' index in a
    Parquet file) and name every row once: the rows' names, so the id when there is none."""
    out: dict[str, str] = {}
    for c in getattr(table, "index_columns", ()) or ():
        if c in skip or c not in table.frame.columns or len(table.index_columns) > 1:
            continue
        if _unique_ids(table.frame[c]):
            out[c] = "the index pandas saved in the file, a different value on every row"
    return out


def _unique_ids(series: pd.Series) -> bool:
    ids = [id_str(v) for v in series.tolist()]
    return None not in ids and len(set(ids)) == len(ids)


def _guess_id_column(table: ImportedTable, ours: set[str], index_columns: dict[str, str],
                     image_column: str | None, decisions: list[str]) -> str | None:
    """The id column when none was given, in this order: ``activelab__id`` of an export, a
    column named id/uid/sample_id, a row-index column, the image paths of an image folder."""
    frame = table.frame
    if ID_COLUMN in ours:
        if _unique_ids(frame[ID_COLUMN]):
            decisions.append(f"id column: '{ID_COLUMN}' (activelab export; ids kept exactly as written)")
            return ID_COLUMN
        decisions.append(f"id column: not '{ID_COLUMN}' (it has repeated or empty values)")
    for c in frame.columns:
        if str(c).lower() in ID_COLUMN_NAMES and c not in ours:
            if _unique_ids(frame[c]):
                decisions.append(f"id column: '{c}' (unique; ids kept exactly as written)")
                return str(c)
            decisions.append(f"id column: not '{c}' (it has repeated or empty values)")
            break
    for c, why in index_columns.items():
        if c != image_column:
            decisions.append(f"id column: '{c}' ({why}; no id column, so it is the id)")
            return c
    if table.format == "image_folder" and image_column is not None and _unique_ids(frame[image_column]):
        decisions.append(
            f"id column: '{image_column}' (each image's path relative to the folder, e.g. "
            f"'{id_str(frame[image_column].iloc[0])}')"
        )
        return image_column
    decisions.append("id column: none found; row numbers 0.. are the ids")
    return None
