"""Reading a user's data into an ImportedTable: tables, image folders and NumPy archives.

One entry point, :func:`read_table`, takes a path as the user has it and records every guess
(format, delimiter, header, encoding, image column) in ``ImportedTable.decisions`` so the CLI
and the import dialog can show what was assumed. Problems are DataErrors naming the file and
the line or column.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from activelab.core.errors import DataError
from activelab.core.data.delimited import Delimited, read_delimited
from activelab.core.data.typed import read_json_records, read_parquet
from activelab.core.data.sniff import (
    ARRAY_REF_PREFIX, IMAGE_EXTENSIONS, delimiter_name, detect_image_column, parse_delimiter,
)
from activelab.core.data.spec import ImportedTable
from activelab.core.data.encoding import decode_text

FORMATS = ("csv", "tsv", "parquet", "jsonl", "image_folder", "metadata", "npz")
_EXTENSION_FORMATS = {
    ".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".parquet": "parquet", ".pq": "parquet",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".npz": "npz",
}
DECIMAL_MARKS = (".", ",")


def read_table(
    path: str | Path,
    format: str | None = None,
    encoding: str | None = None,
    image_column: str | None = None,
    *,
    delimiter: str | None = None,
    decimal: str | None = None,
    na_values: Sequence[str] = (),
    header: bool | None = None,
) -> ImportedTable:
    """Read a table, image folder or .npz archive as written; every guess goes into ``decisions``.

    Delimited text: every cell a ``str`` exactly as written, only an empty cell (or one equal to
    a ``na_values`` entry) None; ``delimiter`` (``;``, ``tab``...), ``decimal`` (``.`` or ``,``),
    ``encoding`` and ``header`` (True: the first row names the columns; False: it is data)
    override the detection. JSON and Parquet keep their own types. The table's
    ``rows_read`` is the number of data rows (records) read. Raises DataError naming the file
    and line or column for anything that cannot be read faithfully.
    """
    from activelab.core.data.parts import is_parquet_folder, is_partitioned_source, read_parts

    p = Path(path).expanduser()
    if (format in (None, "parquet") and not p.is_file() and is_partitioned_source(path)
            and (not p.is_dir() or is_parquet_folder(p))):
        decisions_parts: list[str] = []
        frame = read_parts(path, tuple(str(v) for v in na_values if str(v)), decisions_parts)
        table = ImportedTable(frame=frame, source=str(path), format="parquet",
                              decisions=decisions_parts, rows_read=len(frame))
        _parts_image_root(table, path, image_column)
        return table
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
    if delimiter is not None:
        try:
            delimiter = parse_delimiter(delimiter)
        except ValueError as exc:
            raise DataError(f"{exc}. Fix --delimiter and import {p} again.") from exc
    if decimal is not None and decimal not in DECIMAL_MARKS:
        raise DataError(f"Decimal mark '{decimal}' is not supported: use '.' or ','.")
    if isinstance(na_values, str):
        na_values = [na_values]
    na = tuple(dict.fromkeys(str(v) for v in na_values if str(v) != ""))
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
        fmt = _EXTENSION_FORMATS.get(p.suffix.lower()) or _sniff_binary_format(p, decisions)
    if fmt == "image_folder":
        raise DataError(f"{p} is a file; format image_folder needs a folder of images.")
    if fmt == "npz":
        return _read_npz(p)
    rows_read, mark, index_columns = None, ".", []
    if fmt == "parquet":
        frame = read_parquet(p, na, decisions, index_columns)
        rows_read = len(frame)
    else:
        decoded = decode_text(p, p.read_bytes(), encoding)
        if fmt is None:
            fmt = _sniff_text_format(p, decoded.text, decisions)
        if fmt == "jsonl":
            frame, rows_read = read_json_records(p, decoded.text, na, decisions, decoded.description)
        else:
            hint = {"csv": ",", "tsv": "\t"}.get(fmt)
            read = read_delimited(p, decoded.text, hint=hint, delimiter=delimiter, decimal=decimal,
                                  na_values=na, header=header)
            frame, rows_read, mark = read.frame, read.rows_read, read.decimal
            fmt = "tsv" if read.delimiter == "\t" else "csv"
            decisions.append(_delimited_summary(p, read, decoded.description))
            decisions.append(f"{p.name}: " + "; ".join(read.decisions))
    table = ImportedTable(frame=frame, source=str(path), format=fmt, decisions=decisions,
                          rows_read=rows_read, decimal=decimal or mark, na_values=na,
                          index_columns=tuple(index_columns))
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


def _parts_image_root(table: ImportedTable, source: str | Path, image_column: str | None) -> None:
    """A partitioned pool with an image column: relative paths are read from the folder of
    the part holding the row (the parts' one folder; several: already made absolute)."""
    from activelab.core.data.parts import find_parts, image_root_of_parts

    column = image_column or detect_image_column(table.frame)
    if column is None or column not in table.frame.columns:
        return
    table.image_root = image_root_of_parts(find_parts(source).paths)
    if table.image_root:
        table.decisions.append(f"image column '{column}': relative paths are read from the "
                               f"parts' folder {table.image_root}")


def _kind(p: Path) -> str:
    if not p.suffix:
        return "no extension"
    if p.suffix.lower() in _EXTENSION_FORMATS:
        return f"extension {p.suffix}"
    return f"unknown extension '{p.suffix}'"


def _delimited_summary(p: Path, read: Delimited, encoding: str) -> str:
    n = read.frame.shape[1]
    if read.delimiter is None:
        layout = "one column of text " + (
            f"with a header row ('{read.frame.columns[0]}')" if read.header else "(named col0)")
    else:
        names = "col0" if n == 1 else f"col0..col{n - 1}"
        header = "with a header row" if read.header else f"without a header row (columns named {names})"
        layout = f"{delimiter_name(read.delimiter)}-separated {header}"
    return f"{p.name}: {_kind(p)}; read {read.rows_read} data rows as {layout}, encoding {encoding}"


def _sniff_binary_format(p: Path, decisions: list[str]) -> str | None:
    """Parquet or .npz by magic bytes for a file without a known extension; else None (text)."""
    with open(p, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PAR1"):
        decisions.append(f"{p.name}: {_kind(p)}; Parquet magic bytes found")
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        try:
            with np.load(p, allow_pickle=False) as z:
                z.files  # noqa: B018 - opening proves it is an .npz
            decisions.append(f"{p.name}: {_kind(p)}; read as a NumPy .npz archive")
            return "npz"
        except (OSError, ValueError):
            pass
    return None


def _sniff_text_format(p: Path, text: str, decisions: list[str]) -> str:
    """JSON lines when the first non-blank line is a JSON object; else delimited text."""
    first = next((ln for ln in text.split("\n") if ln.strip()), "").strip()
    if first.startswith("{"):
        try:
            if isinstance(json.loads(first), dict):
                decisions.append(f"{p.name}: {_kind(p)}; lines are JSON objects, read as JSON lines")
                return "jsonl"
        except ValueError:
            pass
    return "delimited"


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
        image_root=str(root.resolve()), decisions=decisions, rows_read=len(paths),
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
    table = ImportedTable(frame=None, source=str(p), format="npz", decisions=decisions, rows_read=n)
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
from activelab.core.data.checks import imported_labels, validate_table  # noqa: E402
from activelab.core.data.ids import sample_ids  # noqa: E402
from activelab.core.data.roles import infer_spec  # noqa: E402

__all__ = [
    "read_table", "detect_image_column", "infer_spec", "sample_ids", "validate_table",
    "imported_labels", "IMAGE_EXTENSIONS", "ARRAY_REF_PREFIX", "FORMATS",
]
