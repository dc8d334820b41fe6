"""Encode an export table (a typed ``pyarrow.Table``) as Parquet, CSV, JSON Lines or JSON.

* Parquet keeps every Arrow type as it is (integers, nullable integers, booleans, timestamps
  with their time zone, ``list<string>``, ...).
* JSON Lines / JSON write JSON types: integers as integers, booleans as ``true``/``false``,
  missing values as ``null``, lists as arrays; timestamps, dates, times and decimals as
  ISO-8601 / exact text.
* CSV is text: every text value is quoted (so ``NA``, ``null``, leading spaces, commas,
  quotes and newlines come back exactly), a missing value is an empty *unquoted* cell,
  numbers and booleans (``true``/``false``) are unquoted, timestamps are ISO-8601, and lists
  and records are JSON (a multi-label value ``["red","round"]``, the empty set ``[]``).

Each writer takes the table (or an iterable of tables of one schema: a streamed export,
written batch by batch so memory stays bounded) and a binary file opened for writing, and
checks ``progress`` for cancellation between batches.
"""
from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
from typing import IO, Any, Callable, Iterable, Union

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from activelab.core.progress import NULL_PROGRESS, Progress

BATCH_ROWS = 20_000


def _json_default(o: Any) -> Any:
    if isinstance(o, (dt.datetime, dt.date, dt.time)):
        return o.isoformat()
    if isinstance(o, decimal.Decimal):
        return str(o)
    if isinstance(o, (bytes, bytearray)):
        return base64.b64encode(bytes(o)).decode("ascii")
    if isinstance(o, dt.timedelta):
        return o.total_seconds()
    if hasattr(o, "item"):          # numpy / pandas scalars
        return o.item()
    return str(o)


def json_text(value: Any) -> str:
    """``value`` (list, dict, scalar) as compact JSON text, unicode kept as is."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def _iso(value: Any, timespec: str) -> str | None:
    if value is None:
        return None
    if timespec != "auto" and isinstance(value, dt.datetime):
        return value.isoformat(timespec=timespec)
    return value.isoformat()


_TIMESPEC = {"s": "seconds", "ms": "milliseconds", "us": "auto", "ns": "auto"}


def _text_array(arr: pa.ChunkedArray | pa.Array, fn: Callable[[Any], str | None]) -> pa.Array:
    return pa.array([fn(v) for v in arr.to_pylist()], type=pa.string())


def _as_json_column(col: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """Column types JSON cannot hold natively, as text; the rest unchanged."""
    t = col.type
    if pa.types.is_timestamp(t):
        spec = _TIMESPEC.get(t.unit, "auto")
        return _text_array(col, lambda v: _iso(v, spec))
    if pa.types.is_date(t) or pa.types.is_time(t) or pa.types.is_decimal(t):
        return col.cast(pa.string())
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return _text_array(col, lambda v: None if v is None else _json_default(v))
    if pa.types.is_duration(t):
        return _text_array(col, lambda v: None if v is None else str(v.total_seconds()))
    return col


def _as_csv_column(col: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """Column types a CSV cell cannot hold, as text (lists and records as JSON)."""
    t = col.type
    if pa.types.is_dictionary(t):
        return _as_csv_column(pa.chunked_array([c.dictionary_decode() for c in col.chunks],
                                               type=t.value_type))
    if (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)
            or pa.types.is_struct(t) or pa.types.is_map(t)):
        return _text_array(col, lambda v: None if v is None else json_text(v))
    if pa.types.is_large_string(t):
        return col.cast(pa.string())
    if pa.types.is_null(t):
        return pa.nulls(len(col), pa.string())
    return _as_json_column(col)


def _convert(table: pa.Table, fn: Callable[[pa.ChunkedArray], Any]) -> pa.Table:
    arrays = [fn(table.column(i)) for i in range(table.num_columns)]
    return pa.Table.from_arrays(arrays, names=table.column_names)


Tables = Union[pa.Table, Iterable[pa.Table]]
"""What a writer takes: one table, or batches of one schema (a streamed export)."""


def _tables(tables: Tables) -> Iterable[pa.Table]:
    return [tables] if isinstance(tables, pa.Table) else tables


def write_parquet(tables: Tables, f: IO[bytes], progress: Progress = NULL_PROGRESS) -> None:
    """The table(s) as Parquet, types as they are (pandas metadata included, if any); each
    batch becomes one or more row groups."""
    writer = None
    try:
        for table in _tables(tables):
            progress.check()
            if writer is None:
                writer = pq.ParquetWriter(f, table.schema)
            writer.write_table(table, row_group_size=max(1, min(table.num_rows, 1_000_000)))
    finally:
        if writer is not None:
            writer.close()


def write_csv(tables: Tables, f: IO[bytes], progress: Progress = NULL_PROGRESS) -> None:
    """The table(s) as UTF-8 CSV (comma, one header row, ``\\n`` line ends), see the module
    docstring."""
    writer = None
    try:
        for table in _tables(tables):
            text = _convert(table, _as_csv_column)
            progress.check()
            if writer is None:
                writer = pa_csv.CSVWriter(f, text.schema, write_options=pa_csv.WriteOptions(
                    include_header=True, batch_size=BATCH_ROWS, quoting_style="needed"))
            writer.write_table(text)
    finally:
        if writer is not None:
            writer.close()


def _rows(tables: Tables, progress: Progress):
    for table in _tables(tables):
        table = _convert(table, _as_json_column)
        for batch in table.to_batches(max_chunksize=BATCH_ROWS):
            progress.check()
            yield from batch.to_pylist()


# Characters that str.splitlines() and other line readers take as line breaks, which
# json.dumps(ensure_ascii=False) leaves raw inside strings: escaped so one object is one line.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _json_line(row: dict[str, Any]) -> bytes:
    text = json.dumps(row, ensure_ascii=False, default=_json_default)
    return text.translate(_LINE_BREAKS).encode("utf-8")


def write_jsonl(tables: Tables, f: IO[bytes], progress: Progress = NULL_PROGRESS) -> None:
    """One JSON object per line (UTF-8), keys in column order; no raw line-break character
    (U+0085, U+2028, U+2029 are written escaped) inside a line."""
    for row in _rows(tables, progress):
        f.write(_json_line(row))
        f.write(b"\n")


def write_json(tables: Tables, f: IO[bytes], progress: Progress = NULL_PROGRESS) -> None:
    """One JSON array of objects (UTF-8), one object per line, keys in column order."""
    f.write(b"[")
    first = True
    for row in _rows(tables, progress):
        f.write(b"\n" if first else b",\n")
        f.write(_json_line(row))
        first = False
    f.write(b"\n]\n")


WRITERS: dict[str, Callable[[Tables, IO[bytes], Progress], None]] = {
    "csv": write_csv, "parquet": write_parquet, "jsonl": write_jsonl, "json": write_json,
}
