"""Creating a project folder from data: import, check, store the samples, build features.

A project folder holds ``project.sqlite`` (the store: sample ids, settings, label events),
``pool.parquet`` (the imported columns with their types, ``activelab.core.store.pool``), ``images.npy`` for
images imported from a NumPy archive, and ``cache/`` (derived features, rebuilt when needed).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Mapping, Sequence

from activelab.core.errors import ActiveLabError, DataError, ProjectError
from activelab.core.store.pool import POOL_FILE, Pool, frame_of, pool_table, write_pool_table
from activelab.core.store.samples import add_sample_ids
from activelab.core.progress import NULL_PROGRESS, Progress
from activelab.core.loop.settings import DEFAULT_STRATEGY, Settings
from activelab.core.querying.measured import default_text_features
from activelab.core.data.spec import DatasetSpec, FeatureConfig, ImportedTable
from activelab.core.store.backends import new_store
from activelab.core.store.temp_folders import (
    make_temp_sibling, raise_if_interrupted, remove_stale_temp_siblings,
)

IMAGES_NPY = "images.npy"
CACHE_DIR = "cache"
DEFAULT_MODEL = "logistic_regression"


def create_project(
    path: str | Path,
    *,
    data: str | Path,
    format: str | None = None,
    encoding: str | None = None,
    read_options: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    **options: Any,
) -> tuple[Path, list[str]]:
    """Import ``data`` into a new project folder and return it with the import decisions.

    ``read_options`` are passed to ``activelab.core.data.read.read_table`` as keywords; ``options`` are
    those of ``create_from_table`` (id_column, text_columns, image_column, feature_columns,
    tasks, multilabel, import_labels, model, model_params, strategy, feature_config,
    settings). Atomic: on any error no half-made project is left behind.
    """
    from activelab.core.data.read import read_table

    progress = progress or NULL_PROGRESS
    _check_free(path)
    _checked_settings(options.get("model", DEFAULT_MODEL), options.get("model_params"),
                      options.get("strategy", DEFAULT_STRATEGY), options.get("settings"))
    progress.update(0.0, f"reading {data}")
    staging = None
    try:
        table, staging = _streamed_parts(data, format, path, read_options,
                                         options.get("image_column"))
        if table is None:
            table = read_table(data, format=format, encoding=encoding,
                               image_column=options.get("image_column"), **dict(read_options or {}))
        again = {"encoding": encoding, **dict(read_options or {})}
        return create_from_table(path, table, progress=progress, read_again=again, **options)
    finally:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _streamed_parts(data: str | Path, format: str | None, path: str | Path,
                    read_options: Mapping[str, Any] | None,
                    image_column: str | None = None) -> tuple[Any, Path | None]:
    """(the imported table, its staging folder) of a partitioned Parquet pool written part by
    part into a pool file beside the project (``activelab.core.project.parts_stream``); (None,
    None) for any other source, or parts that must be joined in memory (differing stored
    types; an image column whose relative paths are read from parts in several folders)."""
    from activelab.core.data.parts import (
        find_parts, image_root_of_parts, is_parquet_folder, is_partitioned_source,
    )
    from activelab.core.data.read import parts_image_root
    from activelab.core.data.sniff import detect_image_column
    from activelab.core.project.parts_stream import imported_frame, stream_parts

    p = Path(data).expanduser()
    if (format not in (None, "parquet") or p.is_file() or not is_partitioned_source(data)
            or (p.is_dir() and not is_parquet_folder(p))):
        return None, None
    na = (read_options or {}).get("na_values") or ()
    na = tuple(str(v) for v in ([na] if isinstance(na, str) else na) if str(v))
    final = Path(path).expanduser().resolve()
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = make_temp_sibling(final, "creating")   # removed as stale if this process dies
    try:
        streamed = stream_parts(data, staging / POOL_FILE, na)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if streamed is None:
        shutil.rmtree(staging, ignore_errors=True)
        return None, None
    frame = imported_frame(streamed.table)
    column = image_column or detect_image_column(frame)
    if (column is not None and column in frame.columns
            and image_root_of_parts(find_parts(data).paths) is None):
        shutil.rmtree(staging, ignore_errors=True)   # paths anchored per part, in memory
        return None, None
    table = ImportedTable(frame=frame, source=str(data), format="parquet",
                          decisions=list(streamed.notes), rows_read=len(frame),
                          pool_file=streamed)
    parts_image_root(table, data, image_column)
    return table, staging


def _check_free(path: str | Path) -> Path:
    final = Path(path).expanduser().resolve()
    if final.exists() and (not final.is_dir() or any(final.iterdir())):
        raise ProjectError(
            f"{final} already exists and is not empty. Choose a new folder for the project, "
            "or open the existing one with 'activelab status'."
        )
    return final


def _checked_settings(model: str, model_params: Mapping[str, Any] | None, strategy: str,
                      settings: Mapping[str, Any] | None) -> Settings:
    """The project's first settings, every field and the model's and strategy's parameters
    checked before any data is read (an ActiveLabError names what is wrong)."""
    s = Settings(model=model, model_params=dict(model_params or {}), strategy=strategy)
    return s.updated(**dict(settings or {})).check_choices()   # updated() checks every field


def create_from_table(
    path: str | Path,
    table: ImportedTable,
    *,
    id_column: str | None = None,
    text_columns: Sequence[str] = (),
    image_column: str | None = None,
    feature_columns: Sequence[str] | None = None,
    tasks: Sequence[str] = (),
    multilabel: Sequence[str] = (),
    import_labels: bool = False,
    model: str = DEFAULT_MODEL,
    model_params: Mapping[str, Any] | None = None,
    strategy: str = DEFAULT_STRATEGY,
    feature_config: FeatureConfig | None = None,
    settings: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    store_url: str | None = None,
    read_again: Mapping[str, Any] | None = None,
) -> tuple[Path, list[str]]:
    """Make a project folder from an imported table; return it with the import decisions.

    The samples are the table's rows, in order (``table.rows_read`` of them: a DataError
    says both numbers if they differ). Their columns are kept in ``pool.parquet`` with their
    types (see ``activelab.core.store.pool``), except activelab's own ``activelab__`` columns of an earlier
    export. Labels are recorded as events: with ``import_labels`` the values of each task's
    column; always the labels of an activelab export, with their provenance.
    """
    import numpy as np

    from activelab.core.data.own_export import activelab_columns, image_root_from_export
    from activelab.core.data.read import infer_spec, sample_ids, validate_table
    from activelab.core.features.build import build_features

    progress = progress or NULL_PROGRESS
    final = _check_free(path)
    s = _checked_settings(model, model_params, strategy, settings)
    spec, decisions = infer_spec(
        table, id_column=id_column, text_columns=text_columns, image_column=image_column,
        feature_columns=feature_columns, tasks=tasks, multilabel=multilabel,
    )
    decisions = list(table.decisions) + list(decisions)
    frame = table.frame
    table.image_root = image_root_from_export(frame, spec.image_column, table.image_root)
    progress.update(0.1, "checking the data")
    validate_table(table, spec)
    ids = sample_ids(table, spec)
    rows_read = table.rows_read if table.rows_read is not None else len(frame)
    if len(ids) != rows_read:
        raise DataError(
            f"{table.source}: {rows_read} data rows were read but {len(ids)} samples would be "
            "created; nothing was imported. Check the file's quoting (an unterminated quote "
            "joins rows) and import again."
        )
    events = _label_events(table, spec, ids, import_labels, decisions)
    decimal = getattr(table, "decimal", None) or "."
    fc = _image_features_chosen(
        feature_config or FeatureConfig(text=default_text_features(), image="auto"), spec, s,
        decisions, n_images=len(ids))
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_siblings(final.parent)   # left by a create or backup that was killed
    tmp = make_temp_sibling(final, "creating")  # named for this process (see activelab.core.store.temp_folders)
    store = None
    try:
        ours = set(activelab_columns(frame.columns))
        kept = frame[[c for c in frame.columns if c not in ours]] if ours else frame
        if table.pool_file is not None and not ours:   # written part by part already
            os.replace(table.pool_file.path, tmp / POOL_FILE)
            stored, pool_decisions = table.pool_file.table, list(table.pool_file.pool_decisions)
        else:
            stored, pool_decisions = pool_table(kept)
            write_pool_table(stored, tmp)
        decisions += pool_decisions
        store = new_store(tmp, final.name, store_url)   # project.sqlite, or PostgreSQL
        add_sample_ids(store, ids)
        if table.image_array is not None:
            np.save(tmp / IMAGES_NPY, np.ascontiguousarray(table.image_array), allow_pickle=False)
        image_root = str(Path(table.image_root).resolve()) if table.image_root else None
        store.set_setting("spec", spec.to_dict())
        store.set_setting("feature_config", fc.to_dict())
        store.set_setting("settings", s.to_dict())
        store.set_setting("source", {
            "data": str(Path(table.source).expanduser().resolve()), "format": table.format,
            "image_root": image_root,
            "image_root_rel": os.path.relpath(image_root, final) if image_root else None,
            "rows_read": rows_read, "decimal": decimal,
            "read_again": dict(read_again or {}),   # how 'activelab attach' reads it again
        })
        store.set_setting("pool", {"file": POOL_FILE, "rows": len(ids),
                                   "columns": [str(c) for c in kept.columns]})
        store.set_setting("decisions", decisions)
        if events:
            store.append_group(events)
        progress.update(0.2, "building features")
        used = [c for c in dict.fromkeys((spec.image_column, *spec.text_columns,
                                          *spec.feature_columns)) if c in stored.column_names]
        pool = Pool.open(tmp, store=store)
        # The columns as the pool gives them back, from the table just written (numeric
        # columns without a copy) rather than read again from the file.
        fs = build_features(
            frame_of(stored.select(used)), spec, fc, image_root=image_root,
            image_array=table.image_array, cache_dir=tmp / CACHE_DIR,
            progress=progress.sub(0.2, 1.0), decimal=decimal, pool=pool,
        )
        store.set_setting("feature_fingerprint", fs.fingerprint)
        store.close()
        raise_if_interrupted()     # a kill whose exception was swallowed still stops here
        if final.exists():
            final.rmdir()
        os.replace(tmp, final)
    except BaseException:
        if store is not None and hasattr(store, "drop"):
            try:
                store.drop()     # a half-made team project leaves nothing on the server
            except Exception:    # the server is gone too: nothing more can be done here
                pass
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final, decisions


def _label_events(table: ImportedTable, spec: DatasetSpec, ids: list[str], import_labels: bool,
                  decisions: list[str]) -> list[dict[str, Any]]:
    """The label (and skip/flag) events to record at creation, and a decision line per task."""
    from activelab.core.data.own_export import (
        activelab_columns, export_task_of, mark_events, provenance,
    )
    from activelab.core.data.read import imported_labels

    from activelab.core.data.team_import import team_label_events, team_tasks

    exported = {t.name: export_task_of(t.column) for t in spec.tasks if export_task_of(t.column)}
    team = team_tasks(table.frame, exported)     # each annotator's label as their event
    wanted = {t.name for t in spec.tasks if t.column and t.name not in team
              and (import_labels or t.name in exported)}
    events, lines = team_label_events(table.frame, spec.tasks, {t: exported[t] for t in team},
                                      ids, table.source)
    decisions += lines
    counts: dict[str, int] = {}
    for row, task, value in imported_labels(table, spec, tasks=wanted):
        event = {"kind": "label", "sample_id": ids[row], "task": task, "value": value,
                 "annotator": "import"}
        if task in exported:
            event.update(provenance(table.frame, row, exported[task], table.source))
        events.append(event)
        counts[task] = counts.get(task, 0) + 1
    for t in spec.tasks:
        if t.name in wanted:
            how = " with their provenance (annotator, time, strategy, ...)" if t.name in exported else ""
            decisions.append(f"task '{t.name}': {counts.get(t.name, 0)} labels imported from "
                             f"column '{t.column}'{how}")
    if activelab_columns(table.frame.columns):
        marks = mark_events(table.frame, ids, table.source)
        if marks:
            n_skip = sum(e["kind"] == "skip" for e in marks)
            decisions.append(f"{n_skip} skipped and {len(marks) - n_skip} flagged samples imported "
                             "from the export")
        events += marks
    return events


#: Above this many images a new project keeps pixels unless pretrained features are asked for:
#: encoding costs 20-400 ms per image on a 2-core CPU (benchmarks/results/image_features.txt),
#: so 60,000 Fashion-MNIST images would hold ``activelab new`` for tens of minutes.
AUTO_PRETRAINED_MAX_IMAGES = 5000


def _image_features_chosen(fc: FeatureConfig, spec: DatasetSpec, settings: Settings,
                           decisions: list[str], n_images: int = 0) -> FeatureConfig:
    """``fc`` with an ``auto`` image setting resolved (``default_image_features``): pixels
    without an image column (nothing to encode), for a model that reads pixels itself, or
    for more than ``AUTO_PRETRAINED_MAX_IMAGES`` images (said in ``decisions``, with the
    option that asks for pretrained features anyway)."""
    from dataclasses import replace

    from activelab.core.features.image_encoder import AUTO, PIXELS, default_image_features
    from activelab.core.learning.models import resolve_model

    if fc.image != AUTO:
        return fc
    if not spec.image_column:
        return replace(fc, image=PIXELS)
    try:
        needs_pixels = resolve_model(settings.model, settings.model_params).needs_image_shape
    except ActiveLabError:     # a model that cannot be resolved is refused with its own message
        needs_pixels = True
    chosen = default_image_features(needs_pixels)
    if chosen != PIXELS and n_images > AUTO_PRETRAINED_MAX_IMAGES:
        decisions.append(f"image features: resized pixels ({n_images:,} images; pretrained "
                         f"EfficientNet-Lite0 features are the default up to "
                         f"{AUTO_PRETRAINED_MAX_IMAGES:,} images because encoding takes a while "
                         "on a CPU); --image-features efficientnet to use them anyway")
        return replace(fc, image=PIXELS)
    if chosen != PIXELS:
        decisions.append("image features: pretrained EfficientNet-Lite0 (the neural extra is "
                         "installed); --image-features pixels for resized pixels")
    return replace(fc, image=chosen)

