"""Reading delimited text (comma, semicolon, tab, pipe) into a frame of cells exactly as written.

Every cell is a Python ``str`` as it stands in the file (spaces, ``0020``, ``1.10``, ``+7``
kept); only an empty cell, or one equal to a user-given missing marker, is ``None``. The file is
parsed once with the ``csv`` module in strict mode, so a quote that is never closed is refused
with the line where it opens instead of silently swallowing the rows after it.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from activelab.core.errors import DataError
from activelab.core.data.sniff import (
    choose_quoting, delimiter_name, records, sniff_decimal, sniff_delimiter, sniff_header,
)

NA_LIKE = frozenset({"NA", "N/A", "n/a", "NaN", "nan", "null", "NULL", "None", "none", "#N/A", "-"})
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_SEP_LINE = re.compile(r"sep=([^\r\n\"])", re.IGNORECASE)


@dataclass
class Delimited:
    """What :func:`read_delimited` read: the frame and what was decided on the way."""

    frame: pd.DataFrame
    delimiter: str | None           # None: one column of text, no delimiter
    decimal: str
    rows_read: int
    header: bool
    decisions: list[str] = field(default_factory=list)


def read_delimited(
    path: Path, text: str, *, hint: str | None, delimiter: str | None = None,
    decimal: str | None = None, na_values: Sequence[str] = (), header: bool | None = None,
) -> Delimited:
    """Parse ``text`` (the decoded file) into a frame of object columns holding str or None.

    ``hint`` is the delimiter the extension suggests, ``delimiter``/``decimal``/``header``
    (whether the first row names the columns) what the user gave. Raises DataError (naming
    the file and line) for an empty file, a header without rows, an unclosed quote, or a row
    with more fields than the header.
    """
    if not text.strip():
        raise DataError(
            f"{path} is empty. Choose the file that holds your data (one row per sample, "
            "with a header row naming the columns)."
        )
    notes: list[str] = []
    text, excel_sep = _excel_sep_line(text)
    text, kept_cr = _protect_bare_cr(text)
    if kept_cr:
        notes.append(f"{_n(kept_cr.count, 'carriage return')} inside fields (lines end with a line "
                     "feed) kept as part of the text, not read as line ends")
    if delimiter is not None:
        d, d_reason = delimiter, "given"
    elif excel_sep is not None:
        d, d_reason = excel_sep, "from the 'sep=' line Excel writes first; that line is skipped"
    else:
        d, d_reason = sniff_delimiter(text, hint)
    if d is None:
        rows = [(i, [line]) for i, line in enumerate(_LINE_BREAK.split(text), start=1)]
        quoting = csv.QUOTE_NONE
        notes.append(f"one column of text ({d_reason})")
    else:
        quoting, q_reason = choose_quoting(text, d)
        rows = _parse(path, text, d, quoting)
        notes.append(f"delimiter {delimiter_name(d)} ({d_reason})")
        if q_reason:
            notes.append(q_reason)
    rows, empty_lines = _drop_empty(rows)
    if empty_lines:
        notes.append(f"{_n(len(empty_lines), 'row')} with every cell empty or blank skipped "
                     f"({_lines(empty_lines)})")
    if not rows:
        raise DataError(
            f"{path} holds no data: every row is empty. Choose the file that holds your data "
            "(one row per sample, with a header row naming the columns)."
        )
    cells = [r for _, r in rows]
    mark, col, example = sniff_decimal(cells[1:], d or ",")
    given_decimal = decimal
    if decimal is None:
        decimal = mark
    if header is None:
        header, h_reason = sniff_header(cells, decimal)
    else:
        h_reason = "given"
    notes.append(("header row" if header else "no header row") + f" ({h_reason})")
    head = rows[0][1] if header else []
    data = rows[1:] if header else rows
    if header and not data:
        raise DataError(
            f"{path} has a header row ({', '.join(c.strip() for c in head)}) but no data rows. "
            "Add one row per sample below the header and import again."
        )
    width, data_cells, shape_notes = _check_widths(path, head, data, d, header)
    notes += shape_notes
    if kept_cr:
        head = [kept_cr.restore(c) for c in head]
        data_cells = [[kept_cr.restore(c) for c in row] for row in data_cells]
    names = _column_names(head, width, header, data_cells, notes)
    frame = _frame(names, data_cells, na_values, notes)
    if given_decimal is not None:
        if given_decimal != ".":
            notes.append(f"decimal mark {given_decimal!r} (given)")
    elif decimal == "," and col is not None:
        where = names[col] if col < len(names) and names[col] is not None else f"column {col + 1}"
        notes.append(f"decimal mark ',' (column '{where}' holds numbers written like '{example}'); "
                     "cells are kept as written")
    return Delimited(frame=frame, delimiter=d, decimal=decimal, rows_read=len(data_cells),
                     header=header, decisions=notes)


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _lines(numbers: Sequence[int], limit: int = 5) -> str:
    shown = ", ".join(map(str, numbers[:limit])) + (", ..." if len(numbers) > limit else "")
    return f"line{'s' if len(numbers) > 1 else ''} {shown}"


def _parse(path: Path, text: str, d: str, quoting: int) -> list[tuple[int, list[str]]]:
    """(first line, fields) of every record; a csv error becomes a DataError naming the line."""
    reader = records(text, d, quoting, strict=quoting != csv.QUOTE_NONE)
    out = []
    start = 1
    try:
        for row in reader:
            out.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise _quote_error(path, text, d, start, reader.line_num, exc) from exc
    return out


def _quoted_spans(lines: Sequence[str], d: str) -> list[tuple[int, int | None]]:
    """(line index where a quoted field opens, line index where it closes or None)."""
    spans: list[tuple[int, int | None]] = []
    in_quote, at_start, opened = False, True, 0
    for i, line in enumerate(lines):
        k = 0
        while k < len(line):
            ch = line[k]
            if in_quote:
                if ch == '"':
                    if line[k + 1:k + 2] == '"':
                        k += 2
                        continue
                    in_quote, at_start = False, False
                    spans.append((opened, i))
            elif ch == '"' and at_start:
                in_quote, at_start, opened = True, False, i
            else:
                at_start = ch == d or ch in "\r\n"
            k += 1
    if in_quote:
        spans.append((opened, None))
    return spans


def _quote_error(path: Path, text: str, d: str, start: int, end: int, exc: csv.Error) -> DataError:
    lines = io.StringIO(text, newline="").readlines()
    spans = _quoted_spans(lines[start - 1:end], d)
    multi = [s for s in spans if s[1] is None or s[1] > s[0]]
    if multi:
        opened, closed = multi[-1]
        line = start + opened
        shown = lines[line - 1].rstrip("\r\n")[:80]
        ran = "the end of the file" if closed is None else f"line {start + closed}"
        return DataError(
            f"{path}, line {line}: the quoted field that opens on this line ({shown!r}) is not "
            f"closed properly: its closing quote is missing or followed by other text, so the "
            f"rows after it would be read into it (the parser ran on to {ran}). Close the quote "
            'on that line (write a quote inside a field as two quotes "") and import again.'
        )
    shown = lines[end - 1].rstrip("\r\n")[:80] if 0 < end <= len(lines) else ""
    return DataError(
        f"{path}, line {end}: a quoted field is followed by other text after its closing quote "
        f"({shown!r}; {exc}). Quote the whole field and write a quote inside it as two quotes "
        '(""), then import again.'
    )


def _drop_empty(rows: list[tuple[int, list[str]]]) -> tuple[list[tuple[int, list[str]]], list[int]]:
    """Records with at least one non-empty cell, and the lines of skipped all-empty ones.

    A blank line is not a row at all; a row of only delimiters (``;;;``, as spreadsheets write
    empty rows) or of only spaces is skipped and reported.
    """
    kept, empty = [], []
    for line, row in rows:
        if not row or row == [""]:
            continue
        if any(c.strip() for c in row):
            kept.append((line, row))
        else:
            empty.append(line)
    return kept, empty


@dataclass(frozen=True)
class _KeptCR:
    """Carriage returns that are text, replaced by ``mark`` while the csv module parses."""

    mark: str
    count: int

    def restore(self, cell: str) -> str:
        return cell.replace(self.mark, "\r") if self.mark in cell else cell


_BARE_CR = re.compile(r"\r(?!\n)")


def _protect_bare_cr(text: str) -> tuple[str, _KeptCR | None]:
    """A lone carriage return is text when the file's lines end with a line feed.

    pandas' ``to_csv`` (and Python's csv writer with ``lineterminator="\\n"``) leave a field
    holding a lone ``\\r`` unquoted; the csv module would end the record there and split one
    row into two. When line feeds (``\\n``, ``\\r\\n``) are at least as many as the lone
    carriage returns, the file's lines end with line feeds and each lone ``\\r`` is replaced
    by a character absent from the text (restored in the cells afterwards). A file of lone
    carriage returns only (old Mac line ends) is left as it is.
    """
    lone = len(_BARE_CR.findall(text))
    if not lone or text.count("\n") < lone:
        return text, None
    mark = next(chr(c) for c in range(0xE000, 0xF900) if chr(c) not in text)
    return _BARE_CR.sub(mark, text), _KeptCR(mark, lone)


def _excel_sep_line(text: str) -> tuple[str, str | None]:
    """A first line ``sep=;`` (Excel's delimiter hint) blanked out, and its delimiter."""
    first, newline, rest = text.partition("\n")
    m = _SEP_LINE.fullmatch(first.rstrip("\r"))
    if m is None:
        return text, None
    return newline + rest, m.group(1)  # the line stays, empty, so line numbers do not move


def _check_widths(
    path: Path, head: list[str], data: list[tuple[int, list[str]]], d: str | None, header: bool,
) -> tuple[int, list[list[str]], list[str]]:
    """Rows padded to the header's width; DataError on a row with more (non-empty) fields."""
    notes: list[str] = []
    width = len(head) if header else max(len(data[0][1]), 1)
    if header and data and all(len(r) == width + 1 for _, r in data):
        head.insert(0, "")
        width += 1
        notes.append("the header has one name fewer than every row (as R writes row names): "
                     "the first column has no name")
    out, short, trimmed = [], 0, 0
    for line, row in data:
        if len(row) > width:
            if any(row[width:]):
                what = "the header" if header else "the first row"
                raise DataError(
                    f"{path}, line {line}: this row has {len(row)} fields but {what} has {width} "
                    f"(split on {delimiter_name(d or ',')}). A field probably contains an unquoted "
                    "delimiter: quote that field, remove the extra delimiter, or delete the row, "
                    "then import again."
                )
            row = row[:width]
            trimmed += 1
        elif len(row) < width:
            row = row + [""] * (width - len(row))
            short += 1
        out.append(row)
    if short:
        notes.append(f"{_n(short, 'row')} {'has' if short == 1 else 'have'} fewer than {width} "
                     "fields; the missing fields are empty")
    if trimmed:
        notes.append(f"{_n(trimmed, 'row')} {'ends' if trimmed == 1 else 'end'} in extra empty "
                     f"fields beyond the {width} columns; ignored")
    return width, out, notes


def _column_names(
    head: list[str], width: int, header: bool, data: list[list[str]], notes: list[str],
) -> list[str | None]:
    """Names per column position; None marks a nameless, empty column to drop."""
    if not header:
        names: list[str | None] = [f"col{i}" for i in range(width)]
        notes.append(f"columns named {names[0]}" + (f"..{names[-1]}" if width > 1 else ""))
        return names
    raw = head + [""] * (width - len(head))
    stripped = [c.strip() for c in raw]
    changed = [c for c, s in zip(raw, stripped) if c != s and s]
    if changed:
        notes.append(f"spaces around column names removed: {', '.join(repr(c) for c in changed[:5])}")
    names, dropped, named = [], [], []
    for j, name in enumerate(stripped):
        if name:
            names.append(name)
        elif any(row[j] for row in data):
            names.append(f"Unnamed: {j}")
            named.append(f"'Unnamed: {j}'")
        else:
            names.append(None)
            dropped.append(str(j + 1))
    if dropped:
        notes.append(f"{_n(len(dropped), 'column')} with no name and no values dropped "
                     f"(column{'s' if len(dropped) > 1 else ''} {', '.join(dropped[:10])})")
    if named:
        notes.append(f"columns with no name in the header but with values named {', '.join(named)}")
    return unique_names(names, notes)


def unique_names(names: list[str | None], notes: list[str]) -> list[str | None]:
    """Repeated names become ``x``, ``x_2``, ``x_3`` (never clashing with another name);
    None entries (columns to drop) are kept as they are. The renaming is said in ``notes``."""
    taken = {n for n in names if n is not None}
    seen: set[str] = set()
    out: list[str | None] = []
    renamed = []
    for n in names:
        if n is None or n not in seen:
            out.append(n)
            if n is not None:
                seen.add(n)
            continue
        k = 2
        while f"{n}_{k}" in taken or f"{n}_{k}" in seen:
            k += 1
        new = f"{n}_{k}"
        seen.add(new)
        out.append(new)
        renamed.append(f"'{n}' -> '{new}'")
    if renamed:
        notes.append(f"repeated column names made unique: {', '.join(renamed[:10])}")
    return out


def _frame(names: list[str | None], rows: list[list[str]], na_values: Sequence[str],
           notes: list[str]) -> pd.DataFrame:
    """One object column per kept name: the cell's text, or None when empty / a missing marker."""
    na = set(na_values)
    columns: dict[str, np.ndarray] = {}
    na_hits: dict[str, int] = {}
    na_like: dict[str, set[str]] = {}
    for j, values in enumerate(zip(*rows)):
        name = names[j]
        if name is None:
            continue
        col = np.array(values, dtype=object)
        missing = col == ""
        marked = na.intersection(values) if na else set()
        if marked:
            hit = np.fromiter((v in marked for v in values), dtype=bool, count=len(values))
            na_hits[name] = int(hit.sum())
            missing |= hit
        like = NA_LIKE.intersection(values) - marked
        if like:
            na_like[name] = like
        col[missing] = None
        columns[name] = col
    if na:
        hit = ", ".join(f"'{c}' ({n})" for c, n in na_hits.items()) or "none found"
        notes.append(f"cells equal to {', '.join(repr(v) for v in sorted(na))} read as missing "
                     f"(--na-values): {hit}")
    if na_like:
        shown = "; ".join(f"'{c}': {', '.join(sorted(v))}" for c, v in list(na_like.items())[:5])
        notes.append(f"values other tools read as missing are kept as text ({shown}); pass "
                     "--na-values to treat them as missing")
    return pd.DataFrame(columns, dtype=object)
