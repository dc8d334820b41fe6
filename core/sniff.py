"""Guessing how a delimited text file is written: encoding, delimiter, quoting, header.

Users hand us files as they have them (no extension, Latin-1, TSV without a header). Each
guess here is returned together with a human-readable reason so the importer can report it.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from core.errors import DataError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
ARRAY_REF_PREFIX = "@array:"
DELIMITERS = (",", "\t", ";", "|")
DELIMITER_NAMES = {",": "comma", "\t": "tab", ";": "semicolon", "|": "pipe"}
_SAMPLE_ROWS = 200


def decode_text(path: Path, raw: bytes, encoding: str | None) -> tuple[str, str]:
    """Decode ``raw``; return (text, encoding name used). Binary data gives DataError.

    An explicit ``encoding`` wins; otherwise UTF-8 (with or without BOM), then cp1252, then
    Latin-1 (which never fails, so binary data is rejected before by a control-byte check).
    """
    if encoding:
        try:
            return raw.decode(encoding), encoding
        except LookupError as exc:
            raise DataError(
                f"Unknown text encoding '{encoding}' given for {path}. Use a Python codec name "
                "such as utf-8, latin-1 or cp1252, or leave the encoding out to let it be guessed."
            ) from exc
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{path} cannot be decoded as {encoding}: byte {exc.start} "
                f"({raw[exc.start:exc.start + 1]!r}) is invalid. Check the encoding the file was "
                "saved with, or leave the encoding out to let it be guessed."
            ) from exc
    _reject_binary(path, raw)
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw.decode("utf-8-sig"), "UTF-8 with BOM"
    try:
        return raw.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252 (Latin-1 compatible; the file is not valid UTF-8)"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "Latin-1 (the file is not valid UTF-8)"


def _reject_binary(path: Path, raw: bytes) -> None:
    """Raise DataError when ``raw`` does not look like text (NUL bytes or many control bytes)."""
    sample = raw[:65536]
    if not sample:
        return
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(
            f"{path} is UTF-16 encoded. Save it as UTF-8 (or pass the encoding explicitly, "
            "e.g. --encoding utf-16) and import it again."
        )
    control = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    if b"\x00" in sample or control > 0.01 * len(sample):
        raise DataError(
            f"{path} does not look like a text table: it contains binary bytes "
            f"({control} control characters in the first {len(sample)} bytes). Import a CSV, "
            "TSV, JSON-lines, Parquet or .npz file, or a folder of images."
        )


@dataclass(frozen=True)
class Dialect:
    """How to split a delimited text file."""

    delimiter: str
    quoting: int
    header: bool
    reasons: tuple[str, ...]

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))


def sniff_delimiter(text: str, default: str | None) -> tuple[str, str]:
    """Pick the delimiter from a sample; return (delimiter, reason).

    A candidate must split (nearly) every sample row into the same number of fields (> 1);
    otherwise the file is read as one column of text.
    """
    if default is not None:
        return default, "from the file extension"
    lines = [ln for ln in text.splitlines()[:_SAMPLE_ROWS] if ln.strip()]
    try:
        sniffed = csv.Sniffer().sniff("\n".join(lines), delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    best, best_score = None, 0.0
    for d in ([sniffed] if sniffed else []) + [d for d in DELIMITERS if d != sniffed]:
        quoting = csv.QUOTE_NONE if d == "\t" else csv.QUOTE_MINIMAL
        counts = [len(r) for r in csv.reader(lines, delimiter=d, quoting=quoting)]
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        score = counts.count(mode) / len(counts) if mode > 1 else 0.0
        if score >= 0.9 and (d == sniffed or score > best_score):
            if d == sniffed:
                return d, "sniffed"
            best, best_score = d, score
    if best is None:
        return "\t", "no delimiter splits the rows evenly; read as a single column"
    return best, "sniffed (same number of fields on every line)"


def choose_quoting(text: str, delimiter: str) -> tuple[int, str | None]:
    """TSV is usually unquoted (a message may start with a quote); CSV uses standard quoting."""
    if delimiter != "\t":
        return csv.QUOTE_MINIMAL, None
    sample = text.splitlines()[:2000]
    counts = {len(r) for r in csv.reader(sample, delimiter="\t", quoting=csv.QUOTE_NONE)}
    if len(counts) <= 1:
        return csv.QUOTE_NONE, None
    try:
        rows = list(csv.reader(io.StringIO(text[:1_000_000]), delimiter="\t", strict=True))
    except csv.Error:
        return csv.QUOTE_NONE, None
    if len({len(r) for r in rows[:2000]}) == 1:
        return csv.QUOTE_MINIMAL, "fields are quoted"
    return csv.QUOTE_NONE, None


def _is_number(s: str) -> bool:
    s = s.strip()
    if not s or s.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        return False
    try:
        float(s)
    except ValueError:
        return False
    return True


def sniff_header(text: str, delimiter: str, quoting: int) -> tuple[bool, str]:
    """Decide whether the first row names the columns; return (header, reason)."""
    rows = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, quoting=quoting)
    for row in reader:
        if row and any(c.strip() for c in row):
            rows.append(row)
        if len(rows) > _SAMPLE_ROWS:
            break
    if len(rows) < 2:
        return True, "only one row"
    first, later = rows[0], rows[1:]
    cells = [c.strip() for c in first]
    if any(not c for c in cells) or any(_is_number(c) for c in cells):
        return False, "the first row has empty or numeric cells"
    if len(set(cells)) != len(cells):
        return False, "the first row has repeated values"
    header_votes, data_votes = 0, 0
    for j, name in enumerate(cells):
        values = [r[j].strip() for r in later if j < len(r) and r[j].strip()]
        if not values:
            continue
        if sum(_is_number(v) for v in values) >= 0.8 * len(values):
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
        return False, "the first row's values repeat in the rows below"
    if all(len(c) <= 40 and len(c.split()) <= 4 for c in cells):
        return True, "the first row holds short names"
    return False, "the first row looks like data"


def sniff_dialect(text: str, default_delimiter: str | None) -> Dialect:
    """Delimiter, quoting and header of a delimited text, with the reasons."""
    delimiter, d_reason = sniff_delimiter(text, default_delimiter)
    quoting, q_reason = choose_quoting(text, delimiter)
    header, h_reason = sniff_header(text, delimiter, quoting)
    reasons = [f"delimiter {DELIMITER_NAMES.get(delimiter, repr(delimiter))} ({d_reason})"]
    if q_reason:
        reasons.append(q_reason)
    reasons.append(("header row" if header else "no header row") + f" ({h_reason})")
    return Dialect(delimiter, quoting, header, tuple(reasons))


def check_field_counts(path: Path, text: str, dialect: Dialect) -> tuple[int, int]:
    """Raise DataError on a row with more fields than the first row.

    Returns (expected field count, number of rows with fewer fields). Line numbers in the
    message are 1-based lines of the file, as an editor shows them.
    """
    reader = csv.reader(io.StringIO(text), delimiter=dialect.delimiter, quoting=dialect.quoting)
    expected = None
    short = 0
    try:
        for row in reader:
            if not row or not any(c.strip() for c in row):
                continue
            if expected is None:
                expected = len(row)
                continue
            if len(row) > expected:
                what = "the header" if dialect.header else "the first row"
                raise DataError(
                    f"{path}, line {reader.line_num}: this row has {len(row)} fields but {what} "
                    f"has {expected} (split on {dialect.delimiter_name}). A field probably "
                    "contains an unquoted delimiter: quote that field, remove the extra "
                    "delimiter, or delete the row, then import again."
                )
            if len(row) < expected:
                short += 1
    except csv.Error as exc:
        raise DataError(
            f"{path}, line {reader.line_num}: the row cannot be parsed ({exc}). Check for an "
            "unclosed quote on that line or the lines before it, fix it and import again."
        ) from exc
    return expected or 0, short


def detect_image_column(frame: pd.DataFrame) -> str | None:
    """The first column whose non-empty values are image paths or ``@array:`` references."""
    for name in frame.columns:
        col = frame[name]
        if not (col.dtype == object or pd.api.types.is_string_dtype(col)):
            continue
        values = col.dropna().astype(str).head(200)
        if values.empty:
            continue
        lower = values.str.strip().str.lower()
        hits = lower.str.endswith(IMAGE_EXTENSIONS) | lower.str.startswith(ARRAY_REF_PREFIX)
        if hits.mean() >= 0.9:
            return str(name)
    return None
