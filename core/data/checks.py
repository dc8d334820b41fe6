"""Checks of an imported table against its DatasetSpec, sample ids, and labels to import.

Run once at import (in a worker): everything a user can fix in their files is reported here,
naming the row and the file, instead of failing later during feature building or labeling.
"""
from __future__ import annotations

from pathlib import Path
from typing import Collection

from activelab.core.errors import DataError
from activelab.core.data.ids import check_ids
from activelab.core.data.images import ImageFileError, array_row, image_file_problem, is_array_ref, resolve_image
from activelab.core.data.roles import check_columns
from activelab.core.data.values import label_str, multilabel_cell
from activelab.core.progress import NULL_PROGRESS, Progress
from activelab.core.data.spec import DatasetSpec, ImportedTable

_LIST_AT_MOST = 5


def validate_table(table: ImportedTable, spec: DatasetSpec, progress: Progress | None = None) -> None:
    """Raise DataError for what would break the project later: empty table, missing or
    repeated ids, empty text columns, missing or undecodable images."""
    progress = progress or NULL_PROGRESS
    frame = table.frame
    if frame is None or frame.shape[0] == 0:
        raise DataError(f"{table.source} has no rows. Import a table with at least one sample.")
    check_columns(table, [spec.id_column] if spec.id_column else [], "Id")
    check_columns(table, list(spec.text_columns), "Text")
    check_columns(table, [spec.image_column] if spec.image_column else [], "Image")
    check_columns(table, list(spec.feature_columns), "Feature")
    check_columns(table, [t.column for t in spec.tasks if t.column], "Task")
    check_ids(table, spec.id_column)
    for c in spec.text_columns:
        if frame[c].map(label_str).isna().all():
            raise DataError(
                f"Text column '{c}' of {table.source} is empty in every row. Choose the column "
                "that holds the text (--text-column) or fill it in."
            )
    if spec.image_column:
        _check_images(table, spec.image_column, progress)


def _check_images(table: ImportedTable, column: str, progress: Progress) -> None:
    """Every image named in ``column`` decodes (see activelab.core.data.images.load_image), else one DataError
    listing the rows, files and reasons: missing files, folders, FIFOs and device files
    (never opened), empty, truncated or non-image files, decompression bombs."""
    refs = list(table.frame[column])
    n = len(refs)
    missing, broken = [], []
    n_array = None if table.image_array is None else len(table.image_array)
    for i, raw in enumerate(refs):
        if i % 500 == 0:
            progress.update(i / n, f"checking images {i}/{n}")
        ref = label_str(raw)
        if ref is None:
            raise DataError(
                f"Row {i + 1} of {table.source} has no image in column '{column}'. Fill in the "
                "image path or remove the row."
            )
        if is_array_ref(ref):
            if n_array is None:
                raise DataError(
                    f"Row {i + 1} of {table.source} refers to '{ref}' but no image array was "
                    "imported. Re-import the .npz archive."
                )
            array_row(ref, n_array)
            continue
        problem = _unreadable(resolve_image(ref, table.image_root))
        if problem is not None:
            (missing if problem.missing else broken).append((i + 1, problem))
    progress.update(1.0, f"checked {n} images")
    if missing:
        listed = "; ".join(f"row {r}: {p.path}" for r, p in missing[:_LIST_AT_MOST])
        raise DataError(
            f"{len(missing)} image file(s) named in column '{column}' of {table.source} do not "
            f"exist ({listed}{'; ...' if len(missing) > _LIST_AT_MOST else ''}). Paths are relative to "
            f"{table.image_root}. Restore the files, fix the paths, or remove those rows."
        )
    if broken:
        listed = "; ".join(f"row {r}: {p.path} {p.reason}" for r, p in broken[:_LIST_AT_MOST])
        advice = " ".join(dict.fromkeys(p.advice for _, p in broken[:_LIST_AT_MOST]))
        raise DataError(
            f"{len(broken)} image file(s) in column '{column}' of {table.source} cannot be read "
            f"({listed}{'; ...' if len(broken) > _LIST_AT_MOST else ''}). {advice}"
        )


def _unreadable(path: Path) -> ImageFileError | None:
    """Why the image at ``path`` cannot be shown, or None: the same decoding as the features
    and the app (activelab.core.data.images), so what passes here is never refused later."""
    return image_file_problem(path)


def imported_labels(table: ImportedTable, spec: DatasetSpec,
                    tasks: Collection[str] | None = None) -> list[tuple[int, str, str | list[str]]]:
    """(row position, task name, label or labels) for every filled cell of each task's column
    (of the tasks named in ``tasks``, or all). A multi-label cell holding the empty set
    (``[]`` or an empty list) is the empty-set label; an empty cell is not a label.

    A value outside the task's classes is a DataError naming the row, column and value.
    """
    out: list[tuple[int, str, str | list[str]]] = []
    for task in spec.tasks:
        if not task.column or (tasks is not None and task.name not in tasks):
            continue
        check_columns(table, [task.column], "Task")
        allowed = set(task.classes)
        for i, raw in enumerate(table.frame[task.column].tolist()):
            if task.multilabel:
                labels = multilabel_cell(raw, task.separator)
                if labels is None:
                    continue
            else:
                label = label_str(raw)
                if label is None:
                    continue
                labels = [label]
            for v in labels:
                if v not in allowed:
                    raise DataError(
                        f"Row {i + 1} of {table.source}: column '{task.column}' holds '{v}', which "
                        f"is not a class of task '{task.name}' (allowed: {', '.join(task.classes)}). "
                        "Fix the value, add the class to the task, or import without --import-labels."
                    )
            out.append((i, task.name, list(dict.fromkeys(labels)) if task.multilabel else labels[0]))
    return out
