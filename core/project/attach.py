"""Attaching a local folder to a team project whose store is on PostgreSQL.

A team project keeps its events, queue, settings, curve and sample ids on the server; each
machine keeps its own folder with ``store.json`` (the pointer), ``pool.parquet`` (the imported
columns), ``images.npy`` (images imported from a NumPy archive) and ``cache/`` (features).
``attach_project`` makes or repairs that folder: it writes the pointer and, when the pool file
is missing, reads the project's source data again (the path and read options recorded at
``activelab new``, or ``data`` given here), checks that it gives the same samples in the same
order, and writes the pool file; the features are rebuilt from it on first use.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from activelab.core.errors import ProjectError
from activelab.core.store.backends import POINTER_NAME
from activelab.core.store.store import STORE_NAME

__all__ = ["attach_project"]


def attach_project(url: str, folder: str | Path, *, project: str | None = None,
                   data: str | Path | None = None) -> tuple[Path, list[str]]:
    """Attach ``folder`` to the team project ``project`` (default: the folder's name) in the
    PostgreSQL database at ``url``; returns the folder and what was done, one line each.

    Raises ProjectError when the folder holds a local (SQLite) project, the database has no
    such project, the server cannot be reached, or the pool file is missing and the source
    data is not on this machine (the message names the file and how to give it).
    """
    from activelab.core.store.pg_store import PgLabelStore, is_store_url, safe_url, schema_for
    from activelab.core.store.pg_store import check_url, write_pointer
    from activelab.core.store.pool import POOL_FILE

    folder = Path(folder).expanduser().resolve()
    if not is_store_url(url):
        raise ProjectError(f"{url!r} is not a PostgreSQL URL (postgresql://USER@HOST:PORT/DB).")
    check_url(url, "attach")
    if (folder / STORE_NAME).exists():
        raise ProjectError(f"{folder} holds a local project ({STORE_NAME}); attach a team "
                           "project to another folder.")
    schema = schema_for(project or folder.name)
    store = PgLabelStore(url, schema, folder)
    done: list[str] = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        write_pointer(folder, url, schema)
        done.append(f"{folder / POINTER_NAME} points to project '{schema}' on {safe_url(url)}")
        if not (folder / POOL_FILE).exists():
            done.append(_rebuild_pool(store, folder, data))
    finally:
        store.close()
    return folder, done


def _rebuild_pool(store: Any, folder: Path, data: str | Path | None) -> str:
    """Read the source data again and write ``pool.parquet`` (and ``images.npy``)."""
    import numpy as np

    from activelab.core.data.own_export import activelab_columns
    from activelab.core.data.read import read_table, sample_ids
    from activelab.core.data.spec import DatasetSpec
    from activelab.core.project.create import IMAGES_NPY
    from activelab.core.store.pool import pool_table, write_pool_table

    source = store.get_setting("source", {}, expect=dict) or {}
    path = Path(data or source.get("data") or "")
    if not str(path) or not path.exists():
        raise ProjectError(
            f"This machine has no pool file for the team project in {folder}, and its source "
            f"data {str(path) or '(not recorded)'} is not here to rebuild it from. Copy the "
            f"data to this machine and run: activelab attach URL {folder} --data FILE.")
    spec = DatasetSpec.from_dict(store.get_setting("spec"))
    again = dict(source.get("read_again") or {})
    table = read_table(path, format=source.get("format"), image_column=spec.image_column,
                       **again)
    ids = sample_ids(table, spec)
    if ids != store.sample_ids():
        raise ProjectError(
            f"{path} does not hold the samples of this project (its ids or their order "
            "differ from those on the server). Give the file the project was created from "
            "with --data FILE.")
    frame = table.frame
    ours = set(activelab_columns(frame.columns))
    kept = frame[[c for c in frame.columns if c not in ours]] if ours else frame
    stored, _decisions = pool_table(kept)
    write_pool_table(stored, folder)
    if table.image_array is not None:
        np.save(folder / IMAGES_NPY, np.ascontiguousarray(table.image_array), allow_pickle=False)
    return f"rebuilt the samples file pool.parquet from {path} ({len(ids)} samples)"
