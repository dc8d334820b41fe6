"""Running ``activelab`` commands in-process (``activelab.core.cli.main.main``) and reading what they wrote
with plain tools, for the tests that try the whole loop as a new user does."""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from activelab.core.cli import main as cli

FORMATS = ("csv", "parquet", "jsonl")


def run(capsys, *args: Any) -> tuple[int, str, str]:
    """``activelab ARGS`` in this process: (exit status, stdout, stderr)."""
    capsys.readouterr()
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys, *args: Any) -> str:
    """stdout of ``activelab ARGS``, which must succeed (its stderr is the failure message)."""
    code, out, err = run(capsys, *args)
    assert code == 0, err.split("\r")[-1]
    assert "Traceback" not in err
    return out


def export_rows(path: Path) -> list[dict[str, Any]]:
    """An export read with plain tools: every CSV cell as text (an empty cell ""), JSON values
    with ``json``, Parquet values with pyarrow."""
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]
    return pq.read_table(path).to_pylist()


def exported_labels(path: Path, tasks: dict[str, bool]) -> dict[str, dict[str, Any]]:
    """{task: {id: label}} of an export (``tasks``: name -> multi-label); unlabeled left out."""
    out: dict[str, dict[str, Any]] = {t: {} for t in tasks}
    for r in export_rows(path):
        for task, multi in tasks.items():
            v = r[f"activelab__{task}__label"]
            if path.suffix == ".csv":
                v = None if v == "" else json.loads(v) if multi else v
            if v is not None:
                out[task][r["activelab__id"]] = v
    return out


def export_all(capsys, project: Path, folder: Path, *extra: str) -> dict[str, Path]:
    """``activelab export`` of ``project`` to ``folder/<name>-export.<fmt>`` in every format."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for fmt in FORMATS:
        out[fmt] = folder / f"{project.name}-export.{fmt}"
        ok(capsys, "export", project, "--out", out[fmt], *extra)
    return out
