"""Helpers for the import fidelity tests: tables of text as the reader hands them over.

The reader's contract (core/importers.py): for CSV/TSV every column holds Python ``str``
exactly as written, or ``None`` for an empty cell; JSON Lines / Parquet keep native types.
``text_table`` builds such an ImportedTable directly, so these tests check the roles, ids,
labels and pool whatever reader is installed.
"""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pandas as pd
import pytest

from activelab.core.data.spec import ImportedTable

ROOT = Path(__file__).resolve().parents[2]


def cases_dir() -> Path | None:
    """The handed cases folder (``shared/cases/fidelity`` beside the checkout or above it)."""
    env = os.environ.get("ACTIVELAB_SHARED_CASES")
    if env:
        return Path(env)
    for parent in ROOT.parents:
        cand = parent / "shared" / "cases" / "fidelity"
        if cand.is_dir():
            return cand
    return None


def case_path(name: str) -> Path:
    folder = cases_dir()
    if folder is None or not (folder / name).is_file():
        pytest.skip(f"handed case {name} not found (set ACTIVELAB_SHARED_CASES)")
    return folder / name


def text_frame(text: str, delimiter: str = ",") -> pd.DataFrame:
    """A delimited text as the reader hands it over: str as written, None for empty cells;
    trailing columns without a header name and without values are left out."""
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header, body = rows[0], [r for r in rows[1:] if r]
    while header and header[-1] == "" and all(len(r) < len(header) or r[len(header) - 1] == "" for r in body):
        header = header[:-1]
    cols = {name: pd.Series([(r[i] if i < len(r) else "") or None for r in body], dtype=object)
            for i, name in enumerate(header)}
    return pd.DataFrame(cols, columns=header)


def text_table(text: str, source: str = "inline.csv", decimal: str = ".",
               delimiter: str = ",") -> ImportedTable:
    frame = text_frame(text, delimiter)
    return ImportedTable(frame=frame, source=source, format="csv", rows_read=len(frame),
                         decimal=decimal)


def frame_table(frame: pd.DataFrame, source: str = "inline.parquet", fmt: str = "parquet") -> ImportedTable:
    return ImportedTable(frame=frame, source=source, format=fmt, rows_read=len(frame))


def case_table(name: str) -> ImportedTable:
    path = case_path(name)
    return text_table(path.read_text(encoding="utf-8-sig"), source=str(path))


def create(tmp_path: Path, table: ImportedTable, name: str = "p", **options):
    """A project made from ``table`` (no reader involved); returns the open Project."""
    from activelab.core.project.project import Project
    from activelab.core.project.create import create_from_table

    final, decisions = create_from_table(tmp_path / name, table, **options)
    proj = Project.open(final)
    proj.decisions = decisions
    return proj


def reader_keeps_text() -> bool:
    """True when the installed reader keeps CSV cells as written (``0020`` stays ``0020``)."""
    import tempfile

    from activelab.core.data.read import read_table

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "probe.csv"
        p.write_text("id,text,label\n0020,NA,None\n0021,b,x\n", encoding="utf-8")
        f = read_table(p).frame
        return f["id"].tolist() == ["0020", "0021"] and f["label"].tolist() == ["None", "x"]

