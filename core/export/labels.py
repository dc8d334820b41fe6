"""Export the labeled data set: a pure function (project, format, path) -> file.

One row per sample (the labeled ones; all of them with ``include_unlabeled``), in project
order. The columns (names from ``activelab.core.data.export_columns``):

1. ``activelab__id``: the sample id, as text, exactly as imported;
2. every source column, unchanged and in source order, with its type (a source column is
   never renamed, overwritten or rewritten; relative image paths stay relative). A source
   column that is itself in the ``activelab__`` namespace (from an earlier export) and has
   the name of one written below is replaced by the current value;
3. ``activelab__image_path`` (image projects): the image file's absolute path;
4. per task ``activelab__<task>__label`` (text; a list of classes for a multi-label task,
   ``[]`` = labeled with no class, missing = not labeled) and the provenance of the label:
   ``annotator``, ``time`` (UTC), ``seconds``, ``strategy``, ``score``, ``rank``,
   ``model_version``, ``audit``; with ``include_unlabeled`` also ``predicted`` and
   ``confidence`` (the model's label and its confidence for the rows without a label);
5. ``activelab__skipped``, ``activelab__flagged``.

The writers (``activelab.core.export.writers``) keep these types in Parquet, write JSON types in JSON
Lines / JSON and quoted text in CSV; ``activelab.core.export.files`` checks the format against the
file name and writes atomically.
"""
from __future__ import annotations

import inspect
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import pyarrow as pa

from activelab.core.errors import ActiveLabError
from activelab.core.data.export_columns import (
    FLAGGED_COLUMN, ID_COLUMN, IMAGE_PATH_COLUMN, SKIPPED_COLUMN, parse_multilabel_cell,
    task_column,
)
from activelab.core.export.files import (
    EXTENSIONS, FORMATS, ExportError, check_destination, format_for_path, write_atomically,
)
from activelab.core.export.writers import WRITERS, json_text
from activelab.core.progress import NULL_PROGRESS, Progress
from activelab.core.store.store import STORE_NAME

__all__ = ["export_labels", "write_export", "export_table", "ExportSummary", "ExportError",
           "check_destination",
           "format_for_path", "FORMATS", "EXTENSIONS"]

_PROVENANCE = ("annotator", "time", "seconds", "strategy", "score", "rank", "model_version",
               "audit")
_ARROW = {
    "annotator": pa.string(), "time": pa.timestamp("ms", tz="UTC"), "seconds": pa.float64(),
    "strategy": pa.string(), "score": pa.float64(), "rank": pa.int64(),
    "model_version": pa.int64(), "audit": pa.bool_(), "confidence": pa.float64(),
}
# pandas dtypes recorded in the Parquet file so that pandas.read_parquet restores them.
_PANDAS = {"time": "datetime64[ms, UTC]", "seconds": "float64", "score": "float64",
           "rank": "Int64", "model_version": "Int64", "confidence": "float64"}


@dataclass(frozen=True)
class ExportSummary:
    """What ``write_export`` wrote: the file, its format, rows and columns."""

    path: Path
    format: str
    rows: int
    labeled: int
    columns: tuple[str, ...]


class _Columns:
    """Column names, Arrow arrays and the pandas dtypes to record, in order."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.arrays: list[pa.Array] = []
        self.dtypes: list[Any] = []

    def add(self, name: str, array: pa.Array, dtype: Any = object) -> None:
        self.names.append(name)
        self.arrays.append(array)
        self.dtypes.append(dtype)


def _cell_text(v: Any) -> str | None:
    """One value as text: lists and records as JSON, missing values as None."""
    import pandas as pd

    if hasattr(v, "tolist") and not isinstance(v, str):     # numpy arrays and scalars
        v = v.tolist()
    if isinstance(v, (list, tuple, dict)):
        return json_text(v)
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    return v if isinstance(v, str) else str(v)


def _meta_dtype(array: pa.Array, original: Any) -> Any:
    """The pandas dtype that reads this column back as it was."""
    if original is not None and str(original) not in ("object", "category"):
        return original
    t = array.type
    if pa.types.is_integer(t):
        return "Int64" if array.null_count else "int64"
    if pa.types.is_boolean(t):
        return "boolean" if array.null_count else "bool"
    if pa.types.is_floating(t):
        return "float64"
    return object


def source_array(series: Any) -> tuple[pa.Array, Any]:
    """One source column (a pandas Series) as an Arrow array with its type, and its dtype.

    Integers (nullable ones too), floats, booleans, timestamps (naive or with a time zone),
    text and lists keep their type; categoricals become their values as text; a column of
    mixed types that Arrow cannot hold in one type becomes text (lists and records as JSON).
    """
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        arr = pa.array(series, from_pandas=True).dictionary_decode()
        if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
            arr = pa.array([_cell_text(v) for v in arr.to_pylist()], pa.string())
        dtype = None
    else:
        try:
            arr = pa.array(series, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
            arr = pa.array([_cell_text(v) for v in series.tolist()], pa.string())
            dtype = None
    if pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    return arr, _meta_dtype(arr, dtype)


def _source_frame(proj: Any, rows: Sequence[int], all_rows: bool):
    """The source table's rows ``rows`` (index reset). A project whose ``frame`` takes
    ``rows=`` decodes only those; otherwise the whole table is read and then cut."""
    frame_fn = proj.frame
    try:
        takes_rows = "rows" in inspect.signature(frame_fn).parameters
    except (TypeError, ValueError):
        takes_rows = False
    if takes_rows and not all_rows:
        frame = frame_fn(rows=list(rows))
        expected = len(rows)
    else:
        frame = frame_fn()
        expected = len(proj.ids)
    if len(frame) != expected:
        raise ActiveLabError(
            f"The project {getattr(proj, 'path', '')} holds {len(proj.ids)} sample ids but its "
            f"imported data has {len(frame)} rows; it is damaged. Restore it from a copy.")
    if not takes_rows and not all_rows:
        frame = frame.iloc[list(rows)]
    return frame.reset_index(drop=True)


def _image_paths(proj: Any, values: Sequence[Any]) -> pa.Array:
    root = proj.image_root()
    out = []
    for v in values:
        ref = _cell_text(v)
        if ref is None or ref.startswith("@array:"):
            out.append(None)
        elif os.path.isabs(ref):
            out.append(ref)
        else:
            out.append(str(Path(root) / ref) if root else None)
    return pa.array(out, pa.string())


def _label_value(v: Any, multilabel: bool, separator: str) -> Any:
    if v is None:
        return None
    if multilabel:
        return [str(x) for x in v] if isinstance(v, (list, tuple)) else parse_multilabel_cell(
            v, separator)
    return json_text(v) if isinstance(v, (list, tuple, dict)) else str(v)


def _provenance_value(field: str, e: Any) -> Any:
    v = getattr(e, field, None)
    if v is None:
        return None
    if field == "time":
        return int(round(float(v) * 1000))
    if field in ("rank", "model_version"):
        return int(v)
    if field in ("seconds", "score"):
        v = float(v)
        return None if math.isnan(v) else v
    if field == "audit":
        return bool(v)
    return str(v)


def _provenance_array(field: str, values: list[Any]) -> pa.Array:
    if field == "time":
        return pa.array(values, pa.int64()).cast(_ARROW["time"])
    return pa.array(values, _ARROW[field])


def _task_columns(cols: _Columns, task: Any, st: Any, row_ids: Sequence[str],
                  rows: Sequence[int], preds: dict[str, Any] | None) -> None:
    per = st.labels.get(task.name, {})
    label_type = pa.list_(pa.string()) if task.multilabel else pa.string()
    labels = [_label_value(per.get(sid), task.multilabel, task.separator) for sid in row_ids]
    cols.add(task_column(task.name, "label"), pa.array(labels, label_type))
    events = [st.provenance.get((task.name, sid)) if sid in per else None for sid in row_ids]
    for field in _PROVENANCE:
        values = [None if e is None else _provenance_value(field, e) for e in events]
        arr = _provenance_array(field, values)
        dtype = _PANDAS.get(field) or (("boolean" if arr.null_count else "bool")
                                       if field == "audit" else object)
        cols.add(task_column(task.name, field), arr, dtype)
    if preds is None:
        return
    pred_labels, conf = preds.get(task.name, (None, None))
    predicted, confidence = [], []
    for sid, i in zip(row_ids, rows):
        if pred_labels is None or sid in per:
            predicted.append(None)
            confidence.append(None)
        else:
            predicted.append(_label_value(pred_labels[i], task.multilabel, task.separator))
            # float32 confidences as their shortest text (0.87, not 0.8700000047683716)
            confidence.append(float(str(conf[i])))
    cols.add(task_column(task.name, "predicted"), pa.array(predicted, label_type))
    cols.add(task_column(task.name, "confidence"), pa.array(confidence, pa.float64()),
             "float64")


def _pandas_metadata(cols: _Columns) -> dict[bytes, bytes] | None:
    """The schema metadata pandas writes, so ``pandas.read_parquet`` restores nullable
    integers, nullable booleans and time zones; None where pandas cannot describe it."""
    import pandas as pd

    if len(set(cols.names)) != len(cols.names):
        return None
    try:
        empty = pd.DataFrame({n: pd.Series([], dtype=d) for n, d in zip(cols.names, cols.dtypes)})
        schema = pa.schema([pa.field(n, a.type) for n, a in zip(cols.names, cols.arrays)])
        return pa.Table.from_pandas(empty, schema=schema, preserve_index=False).schema.metadata
    except (pa.ArrowException, TypeError, ValueError):
        return None


def export_table(project: Any, include_unlabeled: bool = False,
                 progress: Progress | None = None) -> tuple[pa.Table, int]:
    """The export as a typed Arrow table (columns in the module docstring's order) and the
    number of labeled rows in it.

    ``project`` is a ``activelab.core.project.project.Project`` (or anything with ``ids``, ``spec``,
    ``store.state()``, ``frame()``, ``image_root()`` and ``predictions()``). Only the rows
    exported are converted. Raises ActiveLabError if the project's data is damaged.
    """
    progress = progress or NULL_PROGRESS
    progress.update(0.05, "reading labels")
    st = project.store.state()
    spec = project.spec
    ids = [str(s) for s in project.ids]
    labeled = {sid for per in st.labels.values() for sid in per}
    rows = (list(range(len(ids))) if include_unlabeled
            else [i for i, sid in enumerate(ids) if sid in labeled])
    row_ids = [ids[i] for i in rows]
    preds = None
    if include_unlabeled:
        progress.update(0.15, "predicting labels for unlabeled samples")
        preds = project.predictions()
    progress.update(0.5, f"reading the data of {len(rows):,} samples")
    source = _source_frame(project, rows, include_unlabeled)

    ours = [ID_COLUMN, SKIPPED_COLUMN, FLAGGED_COLUMN]
    if spec.image_column:
        ours.append(IMAGE_PATH_COLUMN)
    fields = ("label", *_PROVENANCE) + (("predicted", "confidence") if include_unlabeled else ())
    ours += [task_column(t.name, f) for t in spec.tasks for f in fields]
    ours_set = set(ours)

    progress.update(0.6, "assembling columns")
    cols = _Columns()
    cols.add(ID_COLUMN, pa.array(row_ids, pa.string()))
    for name in source.columns:
        if str(name) in ours_set:
            continue
        arr, dtype = source_array(source[name])
        cols.add(str(name), arr, dtype)
    if spec.image_column:
        values = source[spec.image_column].tolist() if spec.image_column in source.columns \
            else [None] * len(rows)
        cols.add(IMAGE_PATH_COLUMN, _image_paths(project, values))
    for task in spec.tasks:
        progress.check()
        _task_columns(cols, task, st, row_ids, rows, preds)
    cols.add(SKIPPED_COLUMN, pa.array([sid in st.skipped for sid in row_ids], pa.bool_()), "bool")
    cols.add(FLAGGED_COLUMN, pa.array([sid in st.flagged for sid in row_ids], pa.bool_()), "bool")
    table = pa.Table.from_arrays(cols.arrays, names=cols.names)
    meta = _pandas_metadata(cols)
    if meta:
        table = table.replace_schema_metadata(meta)
    return table, sum(1 for sid in row_ids if sid in labeled)


def _refuse_project_files(proj: Any, out: Path) -> None:
    """An export never replaces the data file the project was imported from, nor its store."""
    target = out.resolve()
    get_setting = getattr(getattr(proj, "store", None), "get_setting", None)
    source = (get_setting("source", {}) if get_setting else {}) or {}
    if source.get("data") and Path(source["data"]).resolve() == target:
        raise ExportError(
            f"{out} is the data file this project was imported from; exporting over it would "
            "replace your data. Choose another file name — the export holds every source "
            "column, so nothing is lost by keeping both.", "destination")
    folder = getattr(proj, "path", None)
    if folder and target.parent == Path(folder).resolve() and target.name.startswith(STORE_NAME):
        raise ExportError(f"{out} is the project's own store. Choose another file name.",
                          "destination")


def write_export(project: Any, out_path: str | Path, format: str | None = None,
                 include_unlabeled: bool = False,
                 progress: Progress | None = None) -> ExportSummary:
    """Write the export file atomically; return what was written.

    ``project`` is a Project or a project folder path. ``format`` is one of ``FORMATS``
    (csv, parquet, jsonl, json) or None for the file name's extension; see
    ``activelab.core.export.files.format_for_path`` for the checks. Raises ExportError (bad format or
    destination, disk full, read-only; nothing is left at the destination) or another
    ActiveLabError (the project cannot be read).
    """
    from activelab.core.project.project import Project

    progress = progress or NULL_PROGRESS
    out = check_destination(out_path)
    fmt = format_for_path(out, format)
    opened = isinstance(project, (str, os.PathLike))
    proj = Project.open(project) if opened else project
    try:
        _refuse_project_files(proj, out)
        table, labeled = export_table(proj, include_unlabeled, progress.sub(0.0, 0.8))
    finally:
        if opened:
            proj.close()
    progress.update(0.8, f"writing {out.name}")
    writer = WRITERS[fmt]
    write_atomically(out, lambda f: writer(table, f, progress))
    progress.update(1.0, f"exported {table.num_rows:,} rows to {out}")
    return ExportSummary(out, fmt, table.num_rows, labeled, tuple(table.column_names))


def export_labels(project: Any, out_path: str | Path, format: str | None = None,
                  include_unlabeled: bool = False, progress: Progress | None = None) -> Path:
    """Write the export file atomically and return its path (see ``write_export``)."""
    return write_export(project, out_path, format, include_unlabeled, progress).path
