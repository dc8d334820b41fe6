"""The export's columns for one batch of rows: typed Arrow arrays and the pandas dtypes to record.

``activelab.core.export.labels`` decides which rows go out (and in which batches); this module
turns one batch (the source rows as a DataFrame, their ids, the label state, predictions)
into named Arrow arrays (see the order in ``activelab.core.export.labels``). A column's
pandas dtype (recorded in the Parquet file so ``pandas.read_parquet`` restores nullable
integers, booleans and time zones) can depend on whether it has a missing value anywhere in
the export; a streamed export says so up front (``nullable``), since the file's schema is
written before the last batch is seen.
"""
from __future__ import annotations

import math
import os
from collections import ChainMap
from pathlib import Path
from typing import Any, Mapping, Sequence

import pyarrow as pa

from activelab.core.data.export_columns import (
    FLAGGED_COLUMN, ID_COLUMN, IMAGE_PATH_COLUMN, SKIPPED_COLUMN, parse_multilabel_cell,
    task_column,
)
from activelab.core.export.writers import json_text

PROVENANCE = ("annotator", "time", "seconds", "strategy", "score", "rank", "model_version",
              "audit", "input")
_ARROW = {
    "annotator": pa.string(), "time": pa.timestamp("ms", tz="UTC"), "seconds": pa.float64(),
    "strategy": pa.string(), "score": pa.float64(), "rank": pa.int64(),
    "model_version": pa.int64(), "audit": pa.bool_(), "confidence": pa.float64(),
    "input": pa.string(),
}
# pandas dtypes recorded in the Parquet file so that pandas.read_parquet restores them.
_PANDAS = {"time": "datetime64[ms, UTC]", "seconds": "float64", "score": "float64",
           "rank": "Int64", "model_version": "Int64", "confidence": "float64"}


class Columns:
    """Column names, Arrow arrays and the pandas dtypes to record, in order."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.arrays: list[pa.Array] = []
        self.dtypes: list[Any] = []

    def add(self, name: str, array: pa.Array, dtype: Any = object) -> None:
        self.names.append(name)
        self.arrays.append(array)
        self.dtypes.append(dtype)

    def table(self) -> pa.Table:
        return pa.Table.from_arrays(self.arrays, names=self.names)


def cell_text(v: Any) -> str | None:
    """One value as text: lists and records as JSON, missing values as None."""
    import pandas as pd

    if hasattr(v, "tolist") and not isinstance(v, str):     # numpy arrays and scalars
        v = v.tolist()
    if isinstance(v, (list, tuple, dict)):
        return json_text(v)
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    return v if isinstance(v, str) else str(v)


def _meta_dtype(array: pa.Array, original: Any, has_null: bool | None = None) -> Any:
    """The pandas dtype that reads this column back as it was (``has_null``: whether the
    whole column has a missing value; this array's own when None)."""
    nullable = bool(array.null_count) if has_null is None else has_null
    if original is not None and str(original) not in ("object", "category"):
        text = str(original)
        if nullable and text in ("bool", "int64"):   # this batch had none; others do
            return {"bool": "boolean", "int64": "Int64"}[text]
        return original
    t = array.type
    if pa.types.is_integer(t):
        return "Int64" if nullable else "int64"
    if pa.types.is_boolean(t):
        return "boolean" if nullable else "bool"
    if pa.types.is_floating(t):
        return "float64"
    return object


def source_array(series: Any, has_null: bool | None = None) -> tuple[pa.Array, Any]:
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
            arr = pa.array([cell_text(v) for v in arr.to_pylist()], pa.string())
        dtype = None
    else:
        try:
            arr = pa.array(series, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
            arr = pa.array([cell_text(v) for v in series.tolist()], pa.string())
            dtype = None
    if pa.types.is_large_string(arr.type):
        arr = arr.cast(pa.string())
    return arr, _meta_dtype(arr, dtype, has_null)


def image_paths(root: str | None, values: Sequence[Any]) -> pa.Array:
    """Each image reference as an absolute path (None for array images and empty cells)."""
    out = []
    for v in values:
        ref = cell_text(v)
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


def task_columns(cols: Columns, task: Any, st: Any, row_ids: Sequence[str],
                 rows: Sequence[int], preds: Mapping[str, Any] | None,
                 audit_nullable: bool | None = None,
                 resolved: Mapping[str, Any] | None = None) -> None:
    """The label, provenance (and with ``preds``, prediction) columns of one task;
    ``resolved`` (sample id -> the label event a team's labels resolve to) replaces the
    latest label and its provenance (``activelab.core.export.team_columns``)."""
    per = st.labels.get(task.name, {})
    provenance = st.provenance
    if resolved:
        per = ChainMap({sid: e.value for sid, e in resolved.items()}, per)
        provenance = ChainMap({(task.name, sid): e for sid, e in resolved.items()}, provenance)
    label_type = pa.list_(pa.string()) if task.multilabel else pa.string()
    labels = [_label_value(per.get(sid), task.multilabel, task.separator) for sid in row_ids]
    cols.add(task_column(task.name, "label"), pa.array(labels, label_type))
    events = [provenance.get((task.name, sid)) if sid in per else None for sid in row_ids]
    for field in PROVENANCE:
        values = [None if e is None else _provenance_value(field, e) for e in events]
        arr = _provenance_array(field, values)
        if field == "audit":
            nullable = bool(arr.null_count) if audit_nullable is None else audit_nullable
            dtype: Any = "boolean" if nullable else "bool"
        else:
            dtype = _PANDAS.get(field) or object
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


def flag_columns(cols: Columns, st: Any, row_ids: Sequence[str]) -> None:
    """``activelab__skipped`` and ``activelab__flagged``."""
    cols.add(SKIPPED_COLUMN, pa.array([sid in st.skipped for sid in row_ids], pa.bool_()), "bool")
    cols.add(FLAGGED_COLUMN, pa.array([sid in st.flagged for sid in row_ids], pa.bool_()), "bool")


def pandas_metadata(names: Sequence[str], arrays: Sequence[pa.Array], dtypes: Sequence[Any]
                    ) -> dict[bytes, bytes] | None:
    """The schema metadata pandas writes, so ``pandas.read_parquet`` restores nullable
    integers, nullable booleans and time zones; None where pandas cannot describe it."""
    import pandas as pd

    if len(set(names)) != len(names):
        return None
    try:
        empty = pd.DataFrame({n: pd.Series([], dtype=d) for n, d in zip(names, dtypes)})
        schema = pa.schema([pa.field(n, a.type) for n, a in zip(names, arrays)])
        return pa.Table.from_pandas(empty, schema=schema, preserve_index=False).schema.metadata
    except (pa.ArrowException, TypeError, ValueError):
        return None


__all__ = ["Columns", "PROVENANCE", "ID_COLUMN", "IMAGE_PATH_COLUMN", "cell_text", "source_array",
           "image_paths", "task_columns", "flag_columns", "pandas_metadata"]
