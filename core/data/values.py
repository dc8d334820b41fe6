"""Cell values as the roles need them: ids and labels as text, feature numbers parsed.

The reader hands over text exactly as written (CSV/TSV: ``str`` or ``None`` for an empty cell)
or native values (Parquet, JSON Lines). Here each role takes what it needs:

* an id is the cell's text exactly as written (``0020``, ``1.10``, ``+7``, ``0x1F``, ``NA``);
  a native number gets its canonical text (``7`` -> ``"7"``, ``1.5`` -> ``"1.5"``);
* a class value (label) is the same text with surrounding whitespace removed (`` pos `` is
  class ``pos``); a native integral float is written without its ``.0`` (``1.0`` -> ``"1"``,
  so a label column that a Parquet writer stored as float keeps the classes ``0``/``1``);
* a tabular feature column is numeric when every non-empty value is a number written with
  the file's decimal mark (``0,5`` with ``decimal=","``, thousands grouped or not:
  ``1.234,5``); ``inf``/``-inf``/``NaN`` and missing markers (``NA``, ``#N/A``, ``null``,
  ``-``) in such a column are missing values, reported with the first row (see
  ``numeric_column``).

Only an empty cell (or a native null) is missing: ``None``, ``NA``, ``null``, ``nan`` and
``N/A`` written in a CSV are ordinary text here.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from activelab.core.data.export_columns import parse_multilabel_cell

_NONFINITE = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity",
                        "nan", "+nan", "-nan"})
# Written where a number is missing (R's NA, Excel's #N/A, SQL's NULL, a dash): in a column of
# numbers these are missing for the model (and said); everywhere else they are ordinary text.
MISSING_MARKERS = frozenset({"NA", "N/A", "n/a", "NULL", "null", "None", "none", "#N/A", "#NA",
                             "-"})
_DIGITS = r"(?:\d+(?:{d}\d*)?|{d}\d+)"
_PLAIN_NUMBER = re.compile(r"[+-]?" + _DIGITS.format(d=r"\.") + r"(?:[eE][+-]?\d+)?")
# A number as a spreadsheet writes it with the decimal mark ``d``: plain (``1234,5``) or with
# the other mark grouping thousands (``1.234,5`` / ``1,234.5``), as activelab.core.data.sniff counts them.
_GROUP = {".": ",", ",": "."}
_NUMBER = {
    d: re.compile(r"[+-]?(?:\d{{1,3}}(?:{g}\d{{3}})+(?:{d}\d*)?|{digits})(?:[eE][+-]?\d+)?".format(
        g=re.escape(_GROUP[d]), d=re.escape(d), digits=_DIGITS.format(d=re.escape(d))))
    for d in (".", ",")
}


def _to_float(s: str, decimal: str) -> float:
    """A number matched by ``_NUMBER[decimal]`` as a float (group separators removed)."""
    return float(s.replace(_GROUP[decimal], "").replace(",", "."))


def is_missing(value: Any) -> bool:
    """True for an empty cell: None, a native null (NaN, NA, NaT) or the empty string."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return value == ""
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    if isinstance(value, np.datetime64):
        return bool(np.isnat(value))
    return False


def missing_mask(series: pd.Series) -> np.ndarray:
    """``is_missing`` for every value of a column, as a boolean array."""
    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return np.asarray(series.isna(), dtype=bool)
    return np.fromiter((is_missing(v) for v in series.tolist()), dtype=bool, count=len(series))


def _native_text(value: Any, integral_float_as_int: bool) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if integral_float_as_int and float(value).is_integer():
            return str(int(value))
        return str(value) if isinstance(value, np.floating) else repr(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def id_str(value: Any) -> str | None:
    """An id cell as text exactly as written (never stripped, never parsed); None if empty.

    Native values get their canonical text: ``7`` -> ``"7"``, ``2.5`` -> ``"2.5"``,
    ``1.0`` -> ``"1.0"`` (an id is not reinterpreted).
    """
    if is_missing(value):
        return None
    if isinstance(value, str):
        return value
    return _native_text(value, integral_float_as_int=False)


def label_str(value: Any) -> str | None:
    """A class value as text: as written, surrounding whitespace removed; None if empty.

    ``"0020"`` stays ``"0020"``, ``"1.10"`` stays ``"1.10"``, ``" pos "`` is ``"pos"``;
    native numbers: ``1`` and ``1.0`` -> ``"1"``, ``0.5`` -> ``"0.5"``. A cell of only
    whitespace is empty (None).
    """
    if is_missing(value):
        return None
    s = value if isinstance(value, str) else _native_text(value, integral_float_as_int=True)
    s = s.strip()
    return s or None


def label_was_padded(value: Any) -> bool:
    """True when a text class value has surrounding whitespace that ``label_str`` removes."""
    return isinstance(value, str) and value.strip() != value and value.strip() != ""


def multilabel_cell(value: Any, separator: str = "|") -> list[str] | None:
    """The classes in one multi-label cell; None when the cell is empty (not labeled).

    A list (Parquet / JSON Lines) or a JSON array (activelab's CSV form, ``[]`` = the empty
    set) or separator-joined text (``a|b``); each class as ``label_str`` gives it.
    """
    if hasattr(value, "tolist") and not isinstance(value, (str, np.generic)):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [s for s in (label_str(v) for v in value) if s is not None]
    if is_missing(value):
        return None
    text = value if isinstance(value, str) else _native_text(value, integral_float_as_int=True)
    return parse_multilabel_cell(text, separator)


def split_labels(value: Any, separator: str) -> list[str]:
    """The classes in one multi-label cell ("a|b", a list or a JSON array); [] if empty."""
    return multilabel_cell(value, separator) or []


def is_list_cell(value: Any) -> bool:
    """True for a list value or a JSON array of strings written as text (``["a","b"]``)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return True
    if not isinstance(value, str):
        return False
    s = value.strip()
    if not (s.startswith("[") and s.endswith("]")):
        return False
    try:
        parsed = json.loads(s)
    except ValueError:
        return False
    return isinstance(parsed, list) and all(isinstance(v, str) for v in parsed)


def _number_key(value: str) -> float | None:
    return float(value) if _PLAIN_NUMBER.fullmatch(value.strip()) else None


def sort_classes(values: set[str]) -> tuple[str, ...]:
    """Sorted class names; numerically when every name is a finite number (2 before 10).

    Ties in value (``1.1`` and ``1.10``) are ordered by their text, so the order is stable.
    """
    keys = {v: _number_key(v) for v in values}
    if values and all(k is not None for k in keys.values()):
        return tuple(sorted(values, key=lambda v: (keys[v], v)))
    return tuple(sorted(values))


@dataclass(frozen=True)
class NumericColumn:
    """A feature column read as numbers: float64 values (NaN = missing), where the written
    ``inf``/``-inf``/``NaN`` cells were and where missing markers (``NA``, ``#N/A``, ``null``,
    ``-`` ...) were (0-based row positions); both are missing values."""

    values: np.ndarray
    nonfinite_rows: tuple[int, ...] = ()
    marker_rows: tuple[int, ...] = ()


def _is_text_dtype(series: pd.Series) -> bool:
    return pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)


def numeric_column(series: pd.Series, decimal: str = ".") -> NumericColumn | None:
    """The column as numbers if every non-empty value is one, else None (categorical).

    Native numeric columns are numbers (booleans are not); text must be a decimal number
    written with ``decimal`` as the decimal mark (``0,5`` when ``decimal=","``), optionally
    with the other mark grouping thousands (``1.234,5``; ``1,234.5`` when ``decimal="."``),
    optional sign and exponent, surrounding spaces allowed. Written ``inf``, ``-inf``,
    ``NaN`` (any case) and the missing markers of ``MISSING_MARKERS`` (``NA``, ``#N/A``,
    ``null``, ``-`` ...) are accepted as missing and their rows returned. A column with no
    finite number at all is not numeric. Text columns stop at the first value that is not
    a number, so most of them cost little.
    """
    if decimal not in _NUMBER:
        raise ValueError(f"decimal mark must be '.' or ',', not {decimal!r}")
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_numeric_dtype(series):
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        bad = np.flatnonzero(np.isinf(values))
        values = values.copy()
        values[bad] = np.nan
        if np.isnan(values).all():
            return None
        return NumericColumn(values, tuple(int(i) for i in bad))
    if not _is_text_dtype(series):
        return None
    match = _NUMBER[decimal].fullmatch
    values = np.full(len(series), np.nan)
    bad: list[int] = []
    markers: list[int] = []
    finite = False
    for i, v in enumerate(series.tolist()):
        if isinstance(v, str):
            s = v.strip()
            if not s:
                continue
            if match(s):
                values[i] = _to_float(s, decimal)
                finite = True
            elif s.lower() in _NONFINITE:
                bad.append(i)
            elif s in MISSING_MARKERS:
                markers.append(i)
            else:
                return None
        elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)):
            x = float(v)
            if math.isnan(x):
                continue
            if math.isinf(x):
                bad.append(i)
            else:
                values[i] = x
                finite = True
        elif not is_missing(v):
            return None          # lists, dicts, booleans, dates: not a number column
    if not finite:
        return None
    return NumericColumn(values, tuple(bad), tuple(markers))
