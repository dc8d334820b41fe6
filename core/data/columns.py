"""What a column is, judged from its name and content: row index, free text, feature.

Used by ``activelab.core.data.roles.infer_spec`` for the guesses it makes when the user did not say.
Each function returns plain data plus the human-readable reason that ``activelab new`` and
the wizard show.
"""
from __future__ import annotations

import re
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from activelab.core.data.values import id_str, is_missing, missing_mask, numeric_column

TEXT_MIN_MEAN_CHARS = 30
TEXT_MIN_MEAN_WORDS = 3
MAX_CATEGORIES = 100
_INDEX_MIN_ROWS = 3
# Names given to a column without a header (pandas' "Unnamed: 0", readr's "...1", an empty
# name) and R's row names.
_INDEX_NAME = re.compile(r"(?:|Unnamed: \d+|\.\.\.\d+|rownames|row\.names|row_names)", re.I)
_INDEX_LIKE_NAME = re.compile(r"(?:index|idx|level_0|row|rownum|row_?number|row_?no|#)", re.I)
_INTEGER = re.compile(r"[+-]?\d+")


def is_unnamed(name: object) -> bool:
    """True for a column whose header is empty or was filled in by a reader or R."""
    return bool(_INDEX_NAME.fullmatch(str(name).strip()))


def _increasing_integers(col: pd.Series) -> np.ndarray | None:
    """The values as int64 if every one is an integer and they strictly increase, else None."""
    if pd.api.types.is_bool_dtype(col):
        return None
    if pd.api.types.is_integer_dtype(col):
        if col.isna().any():
            return None
        values = col.to_numpy(dtype=np.int64)
    elif pd.api.types.is_float_dtype(col):   # vectorized: a 1M-row float column in ms
        v = col.to_numpy(dtype=np.float64, na_value=np.nan)
        if not (np.isfinite(v).all() and (v == np.floor(v)).all()
                and (np.abs(v) < 2.0 ** 63).all()):
            return None
        values = v.astype(np.int64)
    else:
        out: list[int] = []
        for v in col.tolist():
            if isinstance(v, str) and _INTEGER.fullmatch(v):
                x = int(v)
            elif isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
                x = int(v)
            elif isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer():
                x = int(v)
            else:
                return None
            if out and x <= out[-1]:
                return None
            out.append(x)
        try:
            values = np.array(out, dtype=np.int64)
        except OverflowError:
            return None
    if len(values) >= 2 and not (np.diff(values) > 0).all():
        return None
    return values


def row_index_columns(frame: pd.DataFrame, skip: Iterable[str] = ()) -> dict[str, str]:
    """{column: why it is a row index} for columns that number or name the rows.

    A row index is a column of consecutive integers ``0..n-1`` or ``1..n`` (at least three
    rows), a column named like an index (``index``, ``idx``, ``row``, ...) of strictly
    increasing integers, or a column without a header name (pandas' ``Unnamed: 0``, an
    empty name, R's ``rownames``) whose values are unique.
    """
    skip = set(skip)
    out: dict[str, str] = {}
    n = len(frame)
    for name in frame.columns:
        if name in skip:
            continue
        col = frame[name]
        if missing_mask(col).any():
            continue
        unnamed = is_unnamed(name)
        index_named = bool(_INDEX_LIKE_NAME.fullmatch(str(name).strip()))
        values = _increasing_integers(col) if n >= _INDEX_MIN_ROWS or unnamed or index_named else None
        consecutive = values is not None and values[0] in (0, 1) and values[-1] - values[0] == n - 1
        if values is not None and (consecutive or unnamed or index_named):
            out[str(name)] = f"a row index ({values[0]}..{values[-1]})"
        elif unnamed:
            texts = [id_str(v) for v in col.tolist()]
            if len(set(texts)) == n:
                shown = "an empty header" if not str(name).strip() else f"header '{name}'"
                out[str(name)] = f"row names ({shown}, a different value on every row)"
    return out


def _string_values(col: pd.Series, limit: int | None = None) -> list[str] | None:
    """The non-empty values as stripped text (at most ``limit``), or None for number columns."""
    if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return None
    out: list[str] = []
    for v in col.tolist():
        if is_missing(v):
            continue
        s = (v if isinstance(v, str) else id_str(v) or "").strip()
        if s:
            out.append(s)
            if limit is not None and len(out) >= limit:
                break
    return out


def is_text(col: pd.Series) -> bool:
    """True for free text: long values or several words on average (first 2,000 values)."""
    values = _string_values(col, limit=2000)
    if not values:
        return False
    return bool(sum(map(len, values)) / len(values) > TEXT_MIN_MEAN_CHARS
                or sum(len(v.split()) for v in values) / len(values) > TEXT_MIN_MEAN_WORDS)


def guess_features(frame: pd.DataFrame, reserved: set, decimal: str) -> tuple[list[str], list[str]]:
    """(feature columns, reasons for the columns left out) among the unreserved columns.

    Numeric columns (every non-empty value a number) and categorical ones (few distinct
    values) are features; empty columns, columns without a header name and columns of many
    distinct short strings (names, codes) are not.
    """
    features, skipped = [], []
    for c in frame.columns:
        if c in reserved:
            continue
        col = frame[c]
        if missing_mask(col).all():
            skipped.append(f"'{c}' (empty)")
            continue
        if is_unnamed(c):
            skipped.append(f"'{c}' (no header name)")
            continue
        if numeric_column(col, decimal) is not None:
            features.append(str(c))
            continue
        values = _string_values(col)
        n_distinct = len(set(values)) if values is not None else 0
        if values is not None and n_distinct <= min(MAX_CATEGORIES, max(10, 0.5 * len(values))):
            features.append(str(c))
        else:
            skipped.append(f"'{c}' ({n_distinct} distinct short strings, like names or codes)")
    return features, skipped


def describe_features(frame: pd.DataFrame, features: Sequence[str], decimal: str,
                      how: str) -> list[str]:
    """Decision lines for the feature columns: how many are numeric / categorical, which
    were read as numbers from text, and where ``inf``/``NaN`` were written (made missing)."""
    numeric, categorical, from_text, notes = [], [], [], []
    for c in features:
        col = frame[c]
        num = numeric_column(col, decimal)
        if num is None:
            categorical.append(c)
            continue
        numeric.append(c)
        if not pd.api.types.is_numeric_dtype(col):
            from_text.append(c)
        if num.nonfinite_rows:
            rows = num.nonfinite_rows
            notes.append(
                f"feature column '{c}': {len(rows)} value(s) written as inf, -inf or NaN (first "
                f"in row {rows[0] + 1}, '{id_str(col.iloc[rows[0]])}') are treated as missing"
            )
        if num.marker_rows:
            rows = num.marker_rows
            written = sorted({str(col.iloc[r]).strip() for r in rows})
            notes.append(
                f"feature column '{c}': {len(rows)} value(s) written as a missing marker "
                f"({', '.join(written[:5])}; first in row {rows[0] + 1}) are missing numbers "
                "for the model; the data itself is kept as written"
            )
    if not features:
        return []
    shown = f": {', '.join(map(str, features))}" if len(features) <= 20 else ""
    lines = [f"feature columns: {len(features)} ({len(numeric)} numeric, {len(categorical)} "
             f"categorical){' (' + how + ')' if how else ''}{shown}"]
    if from_text:
        mark = "decimal comma" if decimal == "," else "decimal point"
        listed = ", ".join(from_text[:20]) + (", ..." if len(from_text) > 20 else "")
        lines.append(f"read as numbers ({mark}) for the model: {listed}; the data itself is kept as written")
    return lines + notes
