"""Reading typed tables: JSON Lines / a JSON array of objects, and Parquet.

These formats carry their own types, and those are kept: JSON ints, floats, booleans, strings and
lists stay what they are (null is None); Parquet's Arrow types stay too (integers with nulls are
pandas' nullable integers rather than floats, strings are ``str`` or None, lists are lists).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from activelab.core.errors import DataError

_SURROGATE = re.compile("[\ud800-\udfff]")
_INT64 = (-(2 ** 63), 2 ** 63 - 1)


def read_json_records(
    path: Path, text: str, na_values: Sequence[str], decisions: list[str], encoding: str,
) -> tuple[pd.DataFrame, int]:
    """One JSON object per line, or one JSON array of objects; returns (frame, objects read).

    Raises DataError naming the line for invalid JSON, a value that is not an object, or a
    lone surrogate escape (``"\\ud800"``), which is no character and could never be saved.
    """
    if not text.strip():
        raise DataError(f"{path} is empty. Choose the file that holds your data (one JSON object per line).")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            records = json.loads(stripped, object_pairs_hook=_no_duplicate_keys)
        except _DuplicateKey as dup:
            raise DataError(
                f"{path}: the key {dup.key!r} appears twice in one object; JSON readers would "
                "silently keep only the last value. Rename or remove one of them and import again."
            ) from None
        except json.JSONDecodeError as exc:
            line = exc.lineno + text[:len(text) - len(stripped)].count("\n")
            raise DataError(
                f"{path}, line {line}: invalid JSON ({exc.msg}). Fix that line and import again."
            ) from exc
        if not isinstance(records, list):
            records = [records]
        lines = [(i + 1, r) for i, r in enumerate(records)]
        decisions.append(f"{path.name}: a JSON array of {len(records)} objects, encoding {encoding}")
        where = "object"
    else:
        lines = []
        for lineno, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                lines.append((lineno, json.loads(line, object_pairs_hook=_no_duplicate_keys)))
            except _DuplicateKey as dup:
                raise DataError(
                    f"{path}, line {lineno}: the key {dup.key!r} appears twice in one object; "
                    "JSON readers would silently keep only the last value. Rename or remove one "
                    "of them and import again."
                ) from None
            except json.JSONDecodeError as exc:
                raise DataError(
                    f"{path}, line {lineno}: invalid JSON ({exc.msg} at character {exc.colno}). Each "
                    "line must be one JSON object such as {\"text\": \"...\", \"label\": \"...\"}. "
                    "Fix or delete that line and import again."
                ) from exc
        decisions.append(f"{path.name}: JSON lines, {len(lines)} objects, encoding {encoding}")
        where = "line"
    for lineno, rec in lines:
        if not isinstance(rec, dict):
            raise DataError(
                f"{path}, {where} {lineno}: expected a JSON object ({{...}}) but found "
                f"{type(rec).__name__}. Each {where} must be one object mapping column names to values."
            )
        _check_surrogates(path, where, lineno, rec)
    if not lines:
        raise DataError(f"{path} holds no JSON objects. Put one object per line and import again.")
    return _typed_frame([r for _, r in lines], set(na_values), decisions, path), len(lines)


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    out: dict = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


def _check_surrogates(path: Path, where: str, lineno: int, rec: dict) -> None:
    def bad(v: Any) -> str | None:
        if isinstance(v, str):
            m = _SURROGATE.search(v)
            return f"\\u{ord(m.group()):04x}" if m else None
        if isinstance(v, list):
            return next((b for b in map(bad, v) if b), None)
        if isinstance(v, dict):
            return next((b for b in map(bad, list(v) + list(v.values())) if b), None)
        return None

    for key, value in rec.items():
        found = bad(key) or bad(value)
        if found:
            raise DataError(
                f"{path}, {where} {lineno}, key {key!r}: the value holds a lone surrogate escape "
                f"({found}), half of a UTF-16 pair that is not a character, so it can be neither "
                "stored nor exported as UTF-8. Fix the escape (a complete pair such as "
                "\\ud83d\\ude00 is fine) or remove it, then import again."
            )


def _typed_frame(rows: list[dict], na: set[str], decisions: list[str], path: Path) -> pd.DataFrame:
    """Columns in first-seen key order; a missing key or null is None; types kept."""
    keys: dict[str, None] = {}
    for r in rows:
        for k in r:
            keys.setdefault(k, None)
    columns = {}
    na_hits = 0
    for i, k in enumerate(keys):
        values = []
        for r in rows:
            v = r.get(k)
            if isinstance(v, str) and v in na:
                v, na_hits = None, na_hits + 1
            values.append(v)
        columns[k if k != "" else f"Unnamed: {i}"] = _typed_column(values)
    if na:
        decisions.append(f"{path.name}: {na_hits} string values equal to "
                         f"{', '.join(repr(v) for v in sorted(na))} read as missing (--na-values)")
    return pd.DataFrame(columns)


def _typed_column(values: list[Any]) -> pd.Series:
    """One JSON key's values as a column: booleans, integers (nullable ones too) and floats get
    their dtype; anything else, and a key mixing integers with floats, keeps the Python values
    as parsed (object), so an id or label ``7`` stays ``7`` beside ``1.5`` instead of becoming
    ``7.0``, and an integer beyond 64 bits keeps all its digits."""
    present = [v for v in values if v is not None]
    has_null = len(present) < len(values)
    if present and all(isinstance(v, bool) for v in present) and not has_null:
        return pd.Series(values, dtype=bool)
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        if all(_INT64[0] <= v <= _INT64[1] for v in present):
            return pd.Series(values, dtype="Int64" if has_null else "int64")
    elif present and not has_null and all(isinstance(v, float) for v in present):
        return pd.Series(values, dtype="float64")
    return pd.Series(values, dtype=object)


def read_parquet(path: Path, na_values: Sequence[str] = (), decisions: list[str] | None = None,
                 index_columns: list[str] | None = None) -> pd.DataFrame:
    """A Parquet file with its Arrow types kept; DataError when it cannot be read or is empty.

    Text cells equal to a ``na_values`` entry become None; repeated column names are made
    unique (``x``, ``x_2``); both are said in ``decisions``. An index that pandas saved in
    the file (``DataFrame.to_parquet`` of a frame indexed by sample names, named or not) is
    kept as the first column(s), named as pandas names them on ``reset_index`` (``index``
    when unnamed); their names are appended to ``index_columns``. A plain row-number index
    (pandas keeps only its range, no column) is not a column.
    """
    from activelab.core.data.delimited import unique_names

    notes: list[str] = [] if decisions is None else decisions
    na = set(na_values)
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(path).read()
        # One block per column: no 2-D copy of the numeric columns (see store.pool._to_frame).
        frame = table.to_pandas(split_blocks=True)
    except Exception as exc:  # pyarrow raises many types (ArrowInvalid, OSError, ...)
        raise DataError(
            f"{path} cannot be read as a Parquet file ({type(exc).__name__}: {exc}). It may be "
            "damaged or not Parquet at all: export it again, or save the table as CSV."
        ) from exc
    if frame.shape[0] == 0:
        raise DataError(f"{path} has columns ({', '.join(map(str, frame.columns))}) but no rows. "
                        "Import a table with data.")
    meta = table.schema.pandas_metadata or {}
    stored = [c for c in meta.get("index_columns", []) if isinstance(c, str)]
    levels = frame.index.nlevels
    if stored or any(n is not None for n in frame.index.names):
        frame = frame.reset_index()
        kept = [str(c) for c in frame.columns[:levels]]
        if index_columns is not None:
            index_columns += kept
        notes.append(f"{path.name}: the pandas index saved in the file is kept as column"
                     f"{'s' if len(kept) > 1 else ''} {', '.join(repr(c) for c in kept)}")
    else:
        frame = frame.reset_index(drop=True)
    schema = {f.name: f.type for f in table.schema}
    columns = {}
    said: list[str] = []
    raw_names = [str(c) if str(c) != "" else f"Unnamed: {i}" for i, c in enumerate(frame.columns)]
    names = unique_names(raw_names, said)
    na_hits = 0
    for i, name in enumerate(frame.columns):
        s = frame.iloc[:, i]
        typ = schema.get(name) if list(frame.columns).count(name) == 1 else None
        if typ is not None and pa.types.is_dictionary(typ):
            typ = typ.value_type
        if typ is not None and pa.types.is_integer(typ) and s.isna().any():
            unsigned = "U" if pa.types.is_unsigned_integer(typ) else ""
            s = pd.Series(table.column(name).to_pylist(), dtype=f"{unsigned}Int{typ.bit_width}")
        elif typ is not None and (pa.types.is_list(typ) or pa.types.is_large_list(typ)):
            s = pd.Series([v.tolist() if isinstance(v, np.ndarray) else v for v in s], dtype=object)
        elif isinstance(s.dtype, (pd.CategoricalDtype, pd.StringDtype)):
            # Python str values, None for a missing one (vectorized: 1M ids in a fraction of
            # a second, where a Python loop over the cells took two).
            s = s.astype(object).where(~s.isna().to_numpy(), None)
        if na and s.dtype == object:
            hit = s.map(lambda v: isinstance(v, str) and v in na).to_numpy(dtype=bool)
            if hit.any():
                na_hits += int(hit.sum())
                s = s.where(~hit, None)
        columns[names[i]] = s.reset_index(drop=True)
    notes += [f"{path.name}: {n}" for n in said]
    if na:
        notes.append(f"{path.name}: {na_hits} text cells equal to "
                     f"{', '.join(repr(v) for v in sorted(na))} read as missing (--na-values)")
    return pd.DataFrame(columns, copy=False)


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)
