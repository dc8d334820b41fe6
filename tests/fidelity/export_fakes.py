"""A small stand-in project for export tests: typed source columns, labels and provenance,
without importing a file (so the tests hold whatever the importer and the pool do)."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Sequence

import pandas as pd
import pyarrow.parquet as pq

from activelab.core.data.spec import DatasetSpec, TaskSpec
from activelab.core.records import LabelEvent

T0 = 1_714_564_800.25   # 2024-05-01T12:00:00.250Z


def event(task: str, sid: str, value: Any, **prov: Any) -> LabelEvent:
    base = dict(seq=1, time=T0, kind="label", sample_id=sid, task=task, value=value,
                annotator="ann", seconds=None, strategy=None, score=None, rank=None,
                model_version=None, audit=False, predicted=None, confidence=None,
                target_seq=None)
    base.update(prov)
    return LabelEvent(**base)


class FakeProject:
    """What ``activelab.core.export.labels.export_table`` reads from a project, and nothing else.

    ``labels``: {task: {id: value}}; ``prov``: {(task, id): extra LabelEvent fields}.
    ``frame_rows`` switches on the ``frame(rows=...)`` form and records what was asked.
    """

    def __init__(self, frame: pd.DataFrame, ids: Sequence[str], tasks: Sequence[TaskSpec],
                 labels: dict[str, dict[str, Any]], *, prov: dict | None = None,
                 skipped: Sequence[str] = (), flagged: Sequence[str] = (),
                 image_column: str | None = None, image_root: str | None = None,
                 preds: dict | None = None) -> None:
        self._frame = frame
        self.ids = list(ids)
        self.spec = DatasetSpec(tasks=tuple(tasks), image_column=image_column)
        prov = prov or {}
        state = SimpleNamespace(   # what export reads of a ``LabelState``
            labels={t: dict(v) for t, v in labels.items()},
            provenance={(t, sid): event(t, sid, v, **prov.get((t, sid), {}))
                        for t, per in labels.items() for sid, v in per.items()},
            skipped=set(skipped), flagged=set(flagged))
        self.store = SimpleNamespace(state=lambda: state)
        self._root = image_root
        self._preds = preds or {}
        self.frame_calls: list[Any] = []

    def frame(self) -> pd.DataFrame:
        self.frame_calls.append(None)
        return self._frame.copy()

    def image_root(self) -> str | None:
        return self._root

    def predictions(self) -> dict:
        return self._preds


class RowsFakeProject(FakeProject):
    """A project whose ``frame`` can decode only the rows asked for."""

    def frame(self, rows: Sequence[int] | None = None) -> pd.DataFrame:  # type: ignore[override]
        self.frame_calls.append(None if rows is None else list(rows))
        f = self._frame if rows is None else self._frame.iloc[list(rows)]
        return f.reset_index(drop=True).copy()


def read_rows(path: Path, fmt: str) -> list[dict[str, Any]]:
    """The exported rows as dicts, read with the plain tools a user would use: CSV as text
    (every cell a string, an empty cell ""), JSON Lines / JSON with ``json``, Parquet with
    pyarrow (Python values)."""
    if fmt == "csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False).to_dict("records")
    if fmt == "jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if fmt == "json":
        data = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(data, list)
        return data
    return pq.read_table(path).to_pylist()


def csv_records(path: Path) -> list[list[str]]:
    """The CSV file's records with Python's csv module (a second, independent reader)."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(io.StringIO(f.read())))
