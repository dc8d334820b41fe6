"""Reading a user's data into an ImportedTable: tables, image folders and NumPy archives.

One entry point, :func:`read_table`, takes a path as the user has it and records every guess
(format, delimiter, header, encoding, image column) in ``ImportedTable.decisions`` so the CLI
and the import dialog can show what was assumed. Problems are DataErrors naming the file and
the line or column.
"""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import DataError
from core.sniff import (
    ARRAY_REF_PREFIX, IMAGE_EXTENSIONS, check_field_counts, decode_text, detect_image_column,
    sniff_dialect,
)
from core.spec import ImportedTable

FORMATS = ("csv", "tsv", "parquet", "jsonl", "image_folder", "metadata", "npz")
_EXTENSION_FORMATS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".npz": "npz",
}


def read_table(
    path: str | Path,
    format: str | None = None,
    encoding: str | None = None,
    image_column: str | None = None,
) -> ImportedTable:
    """Read a table, image folder or .npz archive; every guess goes into ``decisions``."""
    p = Path(path).expanduser()
    if not p.exists():
        where = p.parent if str(p.parent) else Path(".")
        raise DataError(
            f"{p} does not exist. Check the path (folder {where}"
            f"{' exists' if where.exists() else ' does not exist either'}) and import again."
        )
    if format is not None and format not in FORMATS:
        raise DataError(
            f"Unknown import format '{format}' for {p}. Use one of: {', '.join(FORMATS)}, "
            "or leave the format out to detect it from the file."
        )
    decisions: list[str] = []
    if p.is_dir():
        if format not in (None, "image_folder"):
            raise DataError(
                f"{p} is a folder, but format '{format}' needs a file. Give the file itself, "
                "or use format image_folder for a folder of images."
            )
        return _read_image_folder(p)
    fmt = None if format == "metadata" else format
    if fmt is None:
        fmt = _EXTENSION_FORMATS.get(p.suffix.lower())
        if fmt is None:
            fmt = _sniff_format(p, decisions)
    if fmt == "image_folder":
        raise DataError(f"{p} is a file; format image_folder needs a folder of images.")
    if fmt == "npz":
        return _read_npz(p)
    if fmt == "parquet":
        frame = _read_parquet(p)
    elif fmt == "jsonl":
        frame = _read_jsonl(p, encoding, decisions)
    else:
        default_delim = {"csv": ",", "tsv": "\t"}.get(fmt)
        frame, fmt = _read_delimited(p, encoding, default_delim, decisions)
    frame.columns = _clean_column_names(frame.columns)
    table = ImportedTable(frame=frame, source=str(path), format=fmt, decisions=decisions)
    column = image_column or detect_image_column(frame)
    if image_column is not None and image_column not in frame.columns:
        raise DataError(
            f"Image column '{image_column}' is not in {p}. Available columns: "
            f"{', '.join(map(str, frame.columns))}."
        )
    if column is not None:
        table.format = "metadata"
        table.image_root = str(p.resolve().parent)
        how = "given" if image_column else "detected: values are image file names"
        decisions.append(
            f"{p.name}: image column '{column}' ({how}); paths are relative to {table.image_root}"
        )
    return table


def _clean_column_names(columns: pd.Index) -> list[str]:
    out, seen = [], set()
    for i, c in enumerate(columns):
        name = str(c).strip() or f"col{i}"
        while name in seen:
            name = f"{name}_{i}"
        seen.add(name)
        out.append(name)
    return out


def _sniff_format(p: Path, decisions: list[str]) -> str:
    """Format of a file with no known extension: by its first bytes."""
    with open(p, "rb") as fh:
        head = fh.read(4096)
    kind = "no extension" if not p.suffix else f"unknown extension '{p.suffix}'"
    if head.startswith(b"PAR1"):
        decisions.append(f"{p.name}: {kind}; Parquet magic bytes found")
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        try:
            with np.load(p, allow_pickle=False) as z:
                z.files  # noqa: B018 - opening proves it is an .npz
            decisions.append(f"{p.name}: {kind}; read as a NumPy .npz archive")
            return "npz"
        except (OSError, ValueError):
            pass
    stripped = head.lstrip()
    if stripped.startswith(b"{"):
        first = stripped.split(b"\n", 1)[0]
        try:
            if isinstance(json.loads(first), dict):
                decisions.append(f"{p.name}: {kind}; lines are JSON objects, read as JSON lines")
                return "jsonl"
        except ValueError:
            pass
    return "delimited"


def _read_delimited(
    p: Path, encoding: str | None, default_delim: str | None, decisions: list[str]
) -> tuple[pd.DataFrame, str]:
    """CSV/TSV/other delimited text, with sniffed dialect, checked field counts."""
    raw = p.read_bytes()
    text, used = decode_text(p, raw, encoding)
    if not text.strip():
        raise DataError(
            f"{p} is empty. Choose the file that holds your data (one row per sample, "
            "with a header row naming the columns)."
        )
    dialect = sniff_dialect(text, default_delim)
    try:
        expected, short = check_field_counts(p, text, dialect)
    except DataError:
        if default_delim is not None or "\t" in text:
            raise
        # A sniffed delimiter that splits rows unevenly in a tab-free file: free text, one column.
        dialect = sniff_dialect(text, "\t")
        expected, short = check_field_counts(p, text, dialect)
        decisions.append(f"{p.name}: rows split unevenly on the sniffed delimiter; read as one column of text")
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=dialect.delimiter, quoting=dialect.quoting,
            header=0 if dialect.header else None, skip_blank_lines=True,
            on_bad_lines="error", engine="c", low_memory=False,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(
            f"{p} cannot be read as a {dialect.delimiter_name}-separated table: {exc}. "
            "Check the delimiter and quoting, or pass the format explicitly."
        ) from exc
    if not dialect.header:
        frame.columns = [f"col{i}" for i in range(frame.shape[1])]
    if frame.shape[0] == 0:
        raise DataError(
            f"{p} has a header row ({', '.join(map(str, frame.columns))}) but no data rows. "
            "Add one row per sample below the header and import again."
        )
    fmt = {",": "csv", "\t": "tsv"}.get(dialect.delimiter, "csv")
    kind = "no extension" if not p.suffix else (
        f"extension {p.suffix}" if p.suffix.lower() in (".csv", ".tsv", ".tab") else f"unknown extension '{p.suffix}'"
    )
    names = "col0" if frame.shape[1] == 1 else f"col0..col{frame.shape[1] - 1}"
    header = "with a header row" if dialect.header else f"without a header row (columns named {names})"
    decisions.append(
        f"{p.name}: {kind}; read as {dialect.delimiter_name}-separated {header}, encoding {used}"
    )
    decisions.append(f"{p.name}: " + "; ".join(dialect.reasons))
    if short:
        decisions.append(f"{p.name}: {short} rows have fewer than {expected} fields; the missing fields are empty")
    return frame, fmt


def _read_parquet(p: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(p)
    except Exception as exc:  # pyarrow raises many types (ArrowInvalid, OSError, ...)
        raise DataError(
            f"{p} cannot be read as a Parquet file ({type(exc).__name__}: {exc}). It may be "
            "damaged or not Parquet at all: export it again, or save the table as CSV."
        ) from exc
    if frame.shape[0] == 0:
        raise DataError(f"{p} has columns ({', '.join(map(str, frame.columns))}) but no rows. Import a table with data.")
    return frame.reset_index(drop=frame.index.name is None)


def _read_jsonl(p: Path, encoding: str | None, decisions: list[str]) -> pd.DataFrame:
    """One JSON object per line (or a .json file holding one list of objects)."""
    text, used = decode_text(p, p.read_bytes(), encoding)
    if not text.strip():
        raise DataError(f"{p} is empty. Choose the file that holds your data (one JSON object per line).")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            records = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{p}, line {exc.lineno}: invalid JSON ({exc.msg}). Fix that line and import again."
            ) from exc
        decisions.append(f"{p.name}: a JSON list of {len(records)} objects, encoding {used}")
        lines = [(i + 1, r) for i, r in enumerate(records)]
    else:
        lines = []
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                lines.append((lineno, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise DataError(
                    f"{p}, line {lineno}: invalid JSON ({exc.msg} at character {exc.colno}). Each "
                    "line must be one JSON object such as {\"text\": \"...\", \"label\": \"...\"}. "
                    "Fix or delete that line and import again."
                ) from exc
        decisions.append(f"{p.name}: JSON lines, {len(lines)} objects, encoding {used}")
    for lineno, rec in lines:
        if not isinstance(rec, dict):
            raise DataError(
                f"{p}, line {lineno}: expected a JSON object ({{...}}) but found "
                f"{type(rec).__name__}. Each line must be one object mapping column names to values."
            )
    if not lines:
        raise DataError(f"{p} holds no JSON objects. Put one object per line and import again.")
    return pd.DataFrame.from_records([r for _, r in lines])


def _read_image_folder(root: Path) -> ImportedTable:
    """Every image file below ``root``; a ``label`` column when images sit in class folders."""
    paths: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith("."):
                paths.append(Path(dirpath, name).relative_to(root).as_posix())
    if not paths:
        raise DataError(
            f"The folder {root} holds no image files ({', '.join(IMAGE_EXTENSIONS)}). Choose the "
            "folder with your images, or one sub-folder per class with the images inside."
        )
    decisions = [f"{root.name}: folder of {len(paths)} images"]
    frame = pd.DataFrame({"image": paths})
    top = [p.split("/", 1)[0] if "/" in p else None for p in paths]
    if all(t is not None for t in top):
        classes = sorted(set(top))
        frame["label"] = top
        decisions.append(
            f"{root.name}: images sit in {len(classes)} sub-folders; column 'label' = sub-folder "
            f"name ({', '.join(classes[:10])}{', ...' if len(classes) > 10 else ''})"
        )
    elif any(t is not None for t in top):
        decisions.append(
            f"{root.name}: some images sit directly in the folder, so sub-folder names are not used as labels"
        )
    return ImportedTable(
        frame=frame, source=str(root), format="image_folder",
        image_root=str(root.resolve()), decisions=decisions,
    )


def _read_npz(p: Path) -> ImportedTable:
    """A NumPy archive with X/X_train (images or features) and optional y/y_train labels."""
    try:
        archive = np.load(p, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(
            f"{p} cannot be read as a NumPy .npz archive ({exc}). Save it with numpy.savez "
            "(no pickled objects) and import again."
        ) from exc
    with archive:
        keys = list(archive.files)
        x_key = next((k for k in ("X", "X_train", "x", "x_train") if k in keys), None)
        if x_key is None:
            raise DataError(
                f"{p} has no array named X or X_train (it holds: {', '.join(keys) or 'nothing'}). "
                "Save the images or features as X (and labels as y) and import again."
            )
        y_key = next((k for k in ("y", "y_train", "Y", "Y_train") if k in keys), None)
        try:
            x = archive[x_key]
            y = archive[y_key] if y_key else None
        except ValueError as exc:
            raise DataError(
                f"{p}: array {x_key} or {y_key} holds Python objects, which are not loaded for "
                "safety. Save plain numeric arrays and import again."
            ) from exc
    n = x.shape[0] if x.ndim else 0
    if n == 0:
        raise DataError(f"{p}: array {x_key} is empty. Import an archive with at least one sample.")
    if y is not None and (y.ndim != 1 or y.shape[0] != n):
        raise DataError(
            f"{p}: labels {y_key} have shape {y.shape} but {x_key} has {n} rows. Save one label "
            "per row (a 1-D array of the same length) and import again."
        )
    decisions = []
    ignored = [k for k in keys if k not in (x_key, y_key)]
    table = ImportedTable(frame=None, source=str(p), format="npz", decisions=decisions)
    if x.ndim == 3 or (x.ndim == 4 and x.shape[-1] in (1, 3, 4)):
        table.image_array = x
        frame = pd.DataFrame({"image": [f"{ARRAY_REF_PREFIX}{i}" for i in range(n)]})
        decisions.append(f"{p.name}: {x_key} {tuple(x.shape)} {x.dtype} read as {n} images (column 'image' = @array:<row>)")
    elif x.ndim == 2:
        frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])])
        decisions.append(f"{p.name}: {x_key} {tuple(x.shape)} read as {x.shape[1]} numeric feature columns f0..f{x.shape[1] - 1}")
    else:
        raise DataError(
            f"{p}: array {x_key} has shape {x.shape}; expected (N, features), (N, H, W) or "
            "(N, H, W, channels). Reshape it and import again."
        )
    if y is not None:
        frame["label"] = y
        decisions.append(f"{p.name}: {y_key} read as column 'label'")
    if ignored:
        decisions.append(f"{p.name}: ignored arrays {', '.join(ignored)}")
    table.frame = frame
    return table


# The rest of the import API lives in smaller modules; callers import it all from here.
from core.import_checks import imported_labels, sample_ids, validate_table  # noqa: E402
from core.import_spec import infer_spec  # noqa: E402

__all__ = [
    "read_table", "detect_image_column", "infer_spec", "sample_ids", "validate_table",
    "imported_labels", "IMAGE_EXTENSIONS", "ARRAY_REF_PREFIX", "FORMATS",
]
