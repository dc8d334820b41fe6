"""Export the labeled data set: a pure function (project, format, path) -> file.

One row per sample (the labeled ones; all of them with ``include_unlabeled``), in project
order. The columns (names from ``activelab.core.data.export_columns``):

1. ``activelab__id``: the sample id, as text, exactly as imported;
2. every source column, unchanged and in source order, with its type (a source column is
   never renamed, overwritten or rewritten; relative image paths stay relative). A source
   column that is itself in the ``activelab__`` namespace (from an earlier export) and has
   the name of one written below is replaced by the current value;
3. ``activelab__image_path`` (image projects): the image file's absolute path;
4. per task ``activelab__<task>__label`` (text; a list of classes for a multi-label task,
   ``[]`` = labeled with no class, missing = not labeled) and the provenance of the label:
   ``annotator``, ``time`` (UTC), ``seconds``, ``strategy``, ``score``, ``rank``,
   ``model_version``, ``audit``, ``input`` (how the class was entered: ``accepted`` from the
   model's suggestion, ``typed``, ``clicked``, ``kept``, ``cli``; empty when not known); with ``include_unlabeled`` also ``predicted`` and
   ``confidence`` (the model's label and its confidence for the rows without a label);
5. ``activelab__skipped``, ``activelab__flagged``.

The writers (``activelab.core.export.writers``) keep these types in Parquet, write JSON types in JSON
Lines / JSON and quoted text in CSV; ``activelab.core.export.files`` checks the format against the
file name and writes atomically; ``activelab.core.export.columns`` makes the columns.

Cost: the labeled rows are found by id (a few indexed look-ups) and only the parts of the pool
holding them are read, so exporting k labels costs O(k) in time and memory whatever the pool's
size. With ``include_unlabeled`` every row goes out, read, assembled and written in batches of
``BATCH_ROWS`` rows (one schema for all), so memory stays bounded on a pool of millions.
"""
from __future__ import annotations

import inspect
import itertools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

import pyarrow as pa

from activelab.core.errors import ActiveLabError
from activelab.core.data.export_columns import ID_COLUMN, IMAGE_PATH_COLUMN, task_column
from activelab.core.export.columns import (
    PROVENANCE, Columns, flag_columns, image_paths, pandas_metadata, source_array, task_columns,
)
from activelab.core.data.export_columns import FLAGGED_COLUMN, SKIPPED_COLUMN
from activelab.core.export.files import (
    EXTENSIONS, FORMATS, ExportError, check_destination, format_for_path, write_atomically,
)
from activelab.core.export.team_columns import TeamColumns
from activelab.core.export.writers import WRITERS
from activelab.core.progress import NULL_PROGRESS, Progress
from activelab.core.store.store import STORE_NAME

__all__ = ["export_labels", "write_export", "export_table", "export_batches", "ExportSummary",
           "ExportError", "check_destination", "format_for_path", "FORMATS", "EXTENSIONS",
           "source_array"]

BATCH_ROWS = 50_000
"""Rows per batch of an ``include_unlabeled`` export (five row groups of the pool)."""


@dataclass(frozen=True)
class ExportSummary:
    """What ``write_export`` wrote: the file, its format, rows and columns, and (a team
    project) the agreement lines (``activelab.core.team.agreement.agreement_lines``)."""

    path: Path
    format: str
    rows: int
    labeled: int
    columns: tuple[str, ...]
    agreement: tuple[str, ...] = ()


# ----------------------------------------------------------------------------- which rows


def _positions(project: Any, sids: set[str]) -> tuple[list[int], list[str]]:
    """The pool positions of the ids in ``sids`` that are in the pool, in pool order, and
    those ids. A project whose ids are a ``activelab.core.store.samples.SampleIds`` answers
    with a few indexed look-ups; a plain list of ids is scanned."""
    index = getattr(project.ids, "index", None)
    if hasattr(index, "positions"):
        found = index.positions(sids)
    else:
        found = {str(sid): i for i, sid in enumerate(project.ids) if str(sid) in sids}
    order = sorted(found.items(), key=lambda kv: kv[1])
    return [i for _, i in order], [sid for sid, _ in order]


class _Source:
    """The source table's rows, read as they are asked for: ``frame(rows=...)`` when the
    project offers it (only those rows are decoded), else the whole table once, then cut."""

    def __init__(self, project: Any) -> None:
        self.project = project
        try:
            self.takes_rows = "rows" in inspect.signature(project.frame).parameters
        except (TypeError, ValueError):
            self.takes_rows = False
        self._whole = None

    def _damaged(self, n_rows: int) -> ActiveLabError:
        return ActiveLabError(
            f"The project {getattr(self.project, 'path', '')} holds {len(self.project.ids)} "
            f"sample ids but its imported data has {n_rows} rows; it is damaged. Restore it "
            "from a copy.")

    def check(self) -> None:
        """Refuse a project whose pool and ids disagree (before anything is written)."""
        pool = getattr(self.project, "pool", None)
        if self.takes_rows and pool is not None and len(pool) != len(self.project.ids):
            raise self._damaged(len(pool))

    def rows(self, rows: Sequence[int]) -> Any:
        if self.takes_rows:
            frame = self.project.frame(rows=list(rows))
            if len(frame) != len(rows):
                raise self._damaged(len(frame))
            return frame.reset_index(drop=True)
        if self._whole is None:
            self._whole = self.project.frame()
            if len(self._whole) != len(self.project.ids):
                raise self._damaged(len(self._whole))
        return self._whole.iloc[list(rows)].reset_index(drop=True)


def _pool_schema(project: Any) -> Any:
    """The pool's Arrow schema when the project has a Parquet pool (None otherwise)."""
    return getattr(getattr(project, "pool", None), "schema", None)


# ----------------------------------------------------------------------------- batches


UNLABELED_ON_DASK = (
    "This is a Dask-engine project: its pool is read in place from Parquet parts and scored on "
    "the cluster, so the predictions for every unlabelled row are not written into one file on "
    "this machine, and the export with unlabelled rows is refused. Export the labelled rows "
    "(leave out --include-unlabeled), and run 'activelab query' for the most uncertain "
    "unlabelled samples.")


class _Export:
    """One export in the making: the rows, their batches and the columns of each."""

    def __init__(self, project: Any, include_unlabeled: bool, progress: Progress,
                 batch_rows: int) -> None:
        self.project, self.progress = project, progress
        self.include_unlabeled = include_unlabeled
        if include_unlabeled and getattr(project, "reads_in_place", False):
            raise ExportError(UNLABELED_ON_DASK, cause="format")
        progress.update(0.05, "reading labels")
        self.st = project.store.state()
        self.spec = project.spec
        self.labeled = {sid for per in self.st.labels.values() for sid in per}
        self.source = _Source(project)
        self.source.check()
        self.n_ids = len(project.ids)
        if include_unlabeled:
            self.n_rows = self.n_ids
            schema = _pool_schema(project)
            # Batches need the pool's types for columns a batch has only empty cells in.
            self.batch_rows = max(1, int(batch_rows)) if schema is not None else max(1, self.n_ids)
        else:
            self.rows, self.row_ids = _positions(project, self.labeled)
            self.n_rows = len(self.rows)
            self.batch_rows = max(1, self.n_rows)
        self.preds = None
        if include_unlabeled:
            progress.update(0.15, "predicting labels for unlabeled samples")
            self.preds = project.predictions()
        ours = [ID_COLUMN, SKIPPED_COLUMN, FLAGGED_COLUMN]
        if self.spec.image_column:
            ours.append(IMAGE_PATH_COLUMN)
        fields = ("label", *PROVENANCE) + (("predicted", "confidence") if include_unlabeled else ())
        ours += [task_column(t.name, f) for t in self.spec.tasks for f in fields]
        self.team = TeamColumns(project)
        ours += self.team.names()
        self.ours = set(ours)
        self.nullable, self.audit_nullable = self._nullable()
        self.labeled_out = 0
        self.schema: pa.Schema | None = None
        self.team_labels = {t.name: self.team.labels(t.name) for t in self.spec.tasks}

    def _nullable(self) -> tuple[dict[str, bool] | None, dict[str, bool]]:
        """Whether each column has a missing value anywhere in the export, where batches
        cannot tell (a streamed export); (None, {}) for a single batch."""
        if self.batch_rows >= self.n_rows:
            return None, {}
        counts = self.project.pool.null_counts()
        nullable = {name: bool(n) for name, n in counts.items() if n is not None}
        audit = {t.name: len(self.st.labels.get(t.name, {})) < self.n_rows for t in self.spec.tasks}
        return nullable, audit

    def batches(self) -> Iterator[tuple[list[int], list[str]]]:
        if not self.include_unlabeled:
            yield self.rows, self.row_ids
            return
        ids = self.project.ids
        for start in range(0, self.n_rows, self.batch_rows):
            stop = min(self.n_rows, start + self.batch_rows)
            yield list(range(start, stop)), [str(s) for s in ids[start:stop]]

    def table(self, rows: list[int], row_ids: list[str]) -> pa.Table:
        """The export's rows ``rows`` as one table of the export's schema."""
        source = self.source.rows(rows)
        cols = Columns()
        cols.add(ID_COLUMN, pa.array(row_ids, pa.string()))
        for name in source.columns:
            if str(name) in self.ours:
                continue
            has_null = None if self.nullable is None else self.nullable.get(str(name))
            arr, dtype = source_array(source[name], has_null)
            cols.add(str(name), arr, dtype)
        if self.spec.image_column:
            values = source[self.spec.image_column].tolist() \
                if self.spec.image_column in source.columns else [None] * len(rows)
            cols.add(IMAGE_PATH_COLUMN, image_paths(self.project.image_root(), values))
        for task in self.spec.tasks:
            self.progress.check()
            task_columns(cols, task, self.st, row_ids, rows, self.preds,
                         self.audit_nullable.get(task.name), self.team_labels[task.name])
            self.team.add(cols, task, row_ids)
        flag_columns(cols, self.st, row_ids)
        self.labeled_out += sum(1 for sid in row_ids if sid in self.labeled)
        if self.schema is None:
            self.schema = self._schema(cols)
        return _conform(cols, self.schema)

    def _schema(self, cols: Columns) -> pa.Schema:
        """The first batch's types (a column empty in it takes the pool's type) and the
        pandas metadata of the whole export."""
        pool = _pool_schema(self.project) if self.batch_rows < self.n_rows else None
        fields = []
        for name, arr in zip(cols.names, cols.arrays):
            t = arr.type
            if pa.types.is_null(t) and pool is not None and name in pool.names:
                t = pool.field(name).type
                if pa.types.is_dictionary(t):
                    t = t.value_type
                if pa.types.is_large_string(t):
                    t = pa.string()
            fields.append(pa.field(name, t))
        typed = [pa.nulls(0, f.type) for f in fields]
        meta = pandas_metadata(cols.names, typed, cols.dtypes)
        lines = self.team.summary_lines()
        if lines:    # the agreement travels with a Parquet file, in its schema metadata
            meta = dict(meta or {})
            meta[b"activelab.agreement"] = "\n".join(lines).encode("utf-8")
        return pa.schema(fields, metadata=meta)


def _conform(cols: Columns, schema: pa.Schema) -> pa.Table:
    arrays = [a if a.type == f.type else a.cast(f.type) for a, f in zip(cols.arrays, schema)]
    return pa.Table.from_arrays(arrays, schema=schema)


def export_batches(project: Any, include_unlabeled: bool = False,
                   progress: Progress | None = None,
                   batch_rows: int | None = None) -> tuple[Iterator[pa.Table], Any]:
    """The export as typed Arrow tables of one schema (columns in the module docstring's
    order), made one batch at a time as they are iterated, and the export in the making
    (its ``labeled_out`` counts the labeled rows yielded so far, ``n_rows`` all of them).

    ``project`` is a ``activelab.core.project.project.Project`` (or anything with ``ids``,
    ``spec``, ``store.state()``, ``frame()``, ``image_root()`` and ``predictions()``).
    Without ``include_unlabeled`` there is one batch, the labeled rows; with it, batches of
    ``batch_rows`` (default ``BATCH_ROWS``) when the project has a Parquet pool. Raises
    ActiveLabError if the project's data is damaged.
    """
    export = _Export(project, include_unlabeled, progress or NULL_PROGRESS,
                     BATCH_ROWS if batch_rows is None else batch_rows)

    def tables() -> Iterator[pa.Table]:
        for k, (rows, row_ids) in enumerate(export.batches()):
            if k == 0:   # later batches are read while the file is written
                export.progress.update(0.5, f"reading the data of {len(rows):,} samples")
            yield export.table(rows, row_ids)

    return tables(), export


def export_table(project: Any, include_unlabeled: bool = False,
                 progress: Progress | None = None) -> tuple[pa.Table, int]:
    """The whole export as one typed Arrow table and the number of labeled rows in it (see
    ``export_batches``; prefer that, or ``write_export``, for a large ``include_unlabeled``)."""
    tables, export = export_batches(project, include_unlabeled, progress)
    parts = list(tables)
    table = parts[0] if len(parts) == 1 else pa.concat_tables(parts)
    return table, export.labeled_out


def _refuse_project_files(proj: Any, out: Path) -> None:
    """An export never replaces the data file the project was imported from, nor its store."""
    target = out.resolve()
    get_setting = getattr(getattr(proj, "store", None), "get_setting", None)
    source = (get_setting("source", {}) if get_setting else {}) or {}
    if source.get("data") and Path(source["data"]).resolve() == target:
        raise ExportError(
            f"{out} is the data file this project was imported from; exporting over it would "
            "replace your data. Choose another file name — the export holds every source "
            "column, so nothing is lost by keeping both.", "destination")
    folder = getattr(proj, "path", None)
    if folder and target.parent == Path(folder).resolve() and target.name.startswith(STORE_NAME):
        raise ExportError(f"{out} is the project's own store. Choose another file name.",
                          "destination")


def write_export(project: Any, out_path: str | Path, format: str | None = None,
                 include_unlabeled: bool = False,
                 progress: Progress | None = None) -> ExportSummary:
    """Write the export file atomically; return what was written.

    ``project`` is a Project or a project folder path. ``format`` is one of ``FORMATS``
    (csv, parquet, jsonl, json) or None for the file name's extension; see
    ``activelab.core.export.files.format_for_path`` for the checks. Raises ExportError (bad format or
    destination, disk full, read-only; nothing is left at the destination) or another
    ActiveLabError (the project cannot be read). Rows are read and written in batches (see
    the module docstring).
    """
    from activelab.core.project.project import Project

    progress = progress or NULL_PROGRESS
    out = check_destination(out_path)
    fmt = format_for_path(out, format)
    opened = isinstance(project, (str, os.PathLike))
    proj = Project.open(project) if opened else project
    try:
        _refuse_project_files(proj, out)
        tables, export = export_batches(proj, include_unlabeled, progress.sub(0.0, 0.8))
        first = next(tables)        # what cannot be read is said before any file is made
        progress.update(0.8, f"writing {out.name}")
        rows = [0]

        def counted() -> Iterator[pa.Table]:
            for table in itertools.chain([first], tables):
                rows[0] += table.num_rows
                if rows[0] < export.n_rows:
                    progress.update(0.8 + 0.2 * rows[0] / export.n_rows,
                                    f"writing {out.name}: {rows[0]:,} of {export.n_rows:,} rows")
                yield table

        writer = WRITERS[fmt]
        write_atomically(out, lambda f: writer(counted(), f, progress))
    finally:
        if opened:
            proj.close()
    progress.update(1.0, f"exported {rows[0]:,} rows to {out}")
    return ExportSummary(out, fmt, rows[0], export.labeled_out, tuple(export.schema.names),
                         tuple(export.team.summary_lines()))


def export_labels(project: Any, out_path: str | Path, format: str | None = None,
                  include_unlabeled: bool = False, progress: Progress | None = None) -> Path:
    """Write the export file atomically and return its path (see ``write_export``)."""
    return write_export(project, out_path, format, include_unlabeled, progress).path
