"""Guessing how a delimited text file is written: delimiter, quoting, header, decimal mark.

Users hand us files as they have them (a ``.csv`` that Excel wrote with semicolons, a TSV without
a header, no extension at all). Every guess parses the text with the ``csv`` module, so quoted
fields holding delimiters or newlines count as one field, and each guess comes with a reason
the importer reports. (Encodings are decided in :mod:`activelab.core.data.encoding`.)
"""
from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass
from itertools import islice
from typing import Iterable, Sequence

import pandas as pd

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
ARRAY_REF_PREFIX = "@array:"
DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe", " ": "space"}
DELIMITER_WORDS = {"comma": ",", "tab": "\t", "\\t": "\t", "semicolon": ";", "pipe": "|", "space": " "}
_SAMPLE_ROWS = 200
_CONSISTENT = 0.9
_NUMBER_DOT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NUMBER_COMMA = re.compile(r"[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?")
_WHOLE = re.compile(r"[+-]?\d+")


def raise_field_size_limit() -> None:
    """Let the csv module read fields of any length (its default stops at 128 KiB)."""
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:  # a C long is 32 bits on some platforms
            limit //= 2


raise_field_size_limit()


def parse_delimiter(value: str) -> str:
    """The delimiter a user typed (``;``, ``tab``, ``\\t``, ``semicolon``...) as one character.

    Raises ValueError with the accepted forms when it is not a single character.
    """
    d = DELIMITER_WORDS.get(value.strip().lower(), value) if value.strip() else value
    if len(d) != 1 or d in "\r\n\"":
        raise ValueError(
            f"'{value}' is not a delimiter: give one character such as , ; | or the words tab, "
            "comma, semicolon, pipe, space"
        )
    return d


def delimiter_name(d: str) -> str:
    return DELIMITER_NAMES.get(d, repr(d))


def records(text: str, delimiter: str, quoting: int, strict: bool = False) -> Iterable[list[str]]:
    """csv records of ``text`` (quote-aware; a quoted newline stays inside its field)."""
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting, strict=strict)


def _field_counts(text: str, delimiter: str, quoting: int) -> list[int]:
    counts = []
    try:
        for row in records(text, delimiter, quoting):
            if len(row) > 1 or any(row):
                counts.append(len(row))
                if len(counts) >= _SAMPLE_ROWS:
                    break
    except csv.Error:
        pass
    return counts


@dataclass(frozen=True)
class _Fit:
    delimiter: str
    quoting: int
    consistency: float   # share of sampled records with the most common field count
    fields: int          # that most common field count
    first_fits: bool     # the first record has that count too

    @property
    def ok(self) -> bool:
        return self.fields > 1 and self.consistency >= _CONSISTENT


def _fit(text: str, delimiter: str, quoting: int) -> _Fit:
    counts = _field_counts(text, delimiter, quoting)
    if not counts:
        return _Fit(delimiter, quoting, 0.0, 0, False)
    rows = counts[1:] or counts  # the header may differ (R writes no name for row names)
    mode = max(sorted(set(rows)), key=rows.count)
    consistency = max(counts.count(mode) / len(counts), rows.count(mode) / len(rows))
    return _Fit(delimiter, quoting, consistency, mode, counts[0] == mode)


def sniff_delimiter(text: str, hint: str | None) -> tuple[str | None, str]:
    """Pick the delimiter from the text; ``hint`` is the extension's (``,`` for .csv).

    A candidate must split (nearly) every sampled record into the same number (> 1) of fields;
    a first record (the header) with that count too, then the hint, break ties. Returns
    (None, reason) when no candidate does and there is no hint: one column of text.
    """
    fits = []
    for d in DELIMITERS:
        f = _fit(text, d, csv.QUOTE_MINIMAL)
        if d == "\t":
            f = max(f, _fit(text, d, csv.QUOTE_NONE), key=lambda x: (x.ok, x.consistency))
        fits.append(f)
    good = sorted((f for f in fits if f.ok),
                  key=lambda f: (f.first_fits, f.delimiter == hint, f.consistency, f.fields), reverse=True)
    if good:
        best = good[0]
        if best.delimiter == hint:
            return best.delimiter, "as the file extension says, and every row splits evenly on it"
        if hint is not None:
            return best.delimiter, (
                f"sniffed: the rows split evenly on it, not on the {delimiter_name(hint)} the "
                "file extension suggests"
            )
        return best.delimiter, "sniffed: every row splits into the same number of fields"
    if hint is not None:
        return hint, "from the file extension (no delimiter splits the rows evenly)"
    return None, "no delimiter splits the rows evenly"


def choose_quoting(text: str, delimiter: str) -> tuple[int, str | None]:
    """Quoting of a file: CSV quoting, except for tab-separated text that is not quoted that way.

    A TSV is read with CSV quoting only when its quotes parse cleanly as quoted fields (as
    Excel, R and pandas write them) and split its rows at least as evenly; otherwise quotes
    are ordinary characters (a message may well start with one: ``"Hi" she said``).
    """
    if delimiter != "\t" or '"' not in text:
        return csv.QUOTE_MINIMAL, None
    try:
        for _ in records(text, "\t", csv.QUOTE_MINIMAL, strict=True):
            pass
    except csv.Error:
        return csv.QUOTE_NONE, "quotes are part of the text (the fields are not quoted)"
    quoted, unquoted = _fit(text, "\t", csv.QUOTE_MINIMAL), _fit(text, "\t", csv.QUOTE_NONE)
    if quoted.consistency >= unquoted.consistency:
        return csv.QUOTE_MINIMAL, "fields are quoted"
    return csv.QUOTE_NONE, "quotes are part of the text (the fields are not quoted)"


def is_number(s: str, decimal: str = ".") -> bool:
    """Whether a cell is a number as written (``1.5``, ``-2``, ``1e3``; ``0,5`` if decimal is ``,``)."""
    s = s.strip()
    if decimal == ",":
        return bool(_NUMBER_COMMA.fullmatch(s))
    return bool(_NUMBER_DOT.fullmatch(s))


def sniff_decimal(rows: Sequence[Sequence[str]], delimiter: str) -> tuple[str, int | None, str | None]:
    """The decimal mark of numbers written as text: (mark, column index, example cell).

    ``,`` when the delimiter is not a comma and a column holds only numbers, some written
    ``d,d`` (with ``;``, any such number; with tab or pipe, one whose comma is not followed by
    exactly three digits, which would be a thousands separator). Otherwise (".", None, None).
    """
    if delimiter == ",":
        return ".", None, None
    sample = rows[:_SAMPLE_ROWS * 5]
    width = max((len(r) for r in sample), default=0)
    for j in range(width):
        values = [r[j].strip() for r in sample if j < len(r) and r[j].strip()]
        commas = [v for v in values if "," in v]
        if not commas or not all(_NUMBER_COMMA.fullmatch(v) for v in values):
            continue
        if delimiter != ";" and all(len(v.rsplit(",", 1)[1]) == 3 for v in commas):
            continue
        return ",", j, commas[0]
    return ".", None, None


def sniff_header(rows: Sequence[Sequence[str]], decimal: str = ".") -> tuple[bool, str]:
    """Decide whether the first record names the columns; return (header, reason).

    Empty cells at the end of the first record are allowed (spreadsheets write them). A first
    record of numbers only is data. Otherwise each column votes: a name over numbers, or over
    few repeating values that do not include it, is a header; a number over numbers, or a value
    repeated below, is data; a tie goes to a header of short names (a year such as ``2024``
    among the names does not make the header data).
    """
    sample = list(islice((r for r in rows if any(c.strip() for c in r)), _SAMPLE_ROWS + 1))
    if len(sample) < 2:
        return True, "only one row"
    first, later = sample[0], sample[1:]
    widths = [len(r) for r in later]
    shift = 1 if widths.count(len(first) + 1) > 0.9 * len(widths) else 0  # R's row names
    later = [r[shift:] for r in later]
    cells = [c.strip() for c in first]
    while cells and not cells[-1]:
        cells.pop()
    if cells and all(is_number(c, decimal) for c in cells if c):
        return False, "the first row has only numeric cells"
    header_votes, data_votes = 0, 0
    for j, name in enumerate(cells):
        values = [r[j].strip() for r in later if j < len(r) and r[j].strip()]
        if not values or not name:
            continue
        numbers_below = sum(is_number(v, decimal) for v in values) >= 0.8 * len(values)
        if is_number(name, decimal):
            # A number over text, or a whole number (a year: 2024) over fractions, names the
            # column; a number like those below it is data.
            whole = _WHOLE.fullmatch(name) is not None
            if not numbers_below or (whole and not any(_WHOLE.fullmatch(v) for v in values)):
                header_votes += 1
            else:
                data_votes += 1
            continue
        if numbers_below:
            header_votes += 1
            continue
        distinct = set(values)
        if len(distinct) <= max(2, len(values) // 2):
            if name in distinct:
                data_votes += 1
            else:
                header_votes += 1
    if header_votes > data_votes:
        return True, "the first row differs in kind from the rows below"
    if data_votes > header_votes:
        return False, ("the first row looks like the rows below: its values repeat there, or it "
                       "holds numbers like theirs")
    if all(len(c) <= 40 and len(c.split()) <= 4 for c in cells if c) and all(cells):
        return True, "the first row holds short names"
    return False, "the first row looks like data"


def detect_image_column(frame: pd.DataFrame) -> str | None:
    """The first column whose non-empty values are image paths or ``@array:`` references."""
    head = frame.head(400).to_numpy(dtype=object)
    for j, (name, dtype) in enumerate(zip(frame.columns, frame.dtypes)):
        if not (dtype == object or pd.api.types.is_string_dtype(dtype)):
            continue
        values = [v for v in head[:, j] if v is not None and not (isinstance(v, float) and v != v)][:200]
        if not values:
            continue
        hits = sum(isinstance(v, str) and _is_image_ref(v) for v in values)
        if hits >= 0.9 * len(values):
            return str(name)
    return None


def _is_image_ref(value: str) -> bool:
    v = value.strip().lower()
    return v.endswith(IMAGE_EXTENSIONS) or v.startswith(ARRAY_REF_PREFIX)
