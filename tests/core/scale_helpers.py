"""Shared by the Dask-engine tests (issue 13): a pool written as Parquet parts, an in-process
LocalCluster (processes=False, as CI needs), and one pool opened both as an embedded project
and as a Dask project, so their queues can be compared."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pandas as pd


def write_parts(frame: pd.DataFrame, folder: Path, parts: int,
                name: str = "part-{:02d}.parquet") -> None:
    """``frame`` split into ``parts`` equal Parquet files in ``folder`` (created)."""
    folder.mkdir()
    size = len(frame) // parts
    for p in range(parts):
        frame.iloc[p * size:(p + 1) * size].to_parquet(folder / name.format(p), index=False)


def in_process_client(workers: int = 2) -> Iterator[Any]:
    """A distributed Client on a LocalCluster of ``workers`` threads; closed after the yield."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=False,
                           dashboard_address=":0", worker_dashboard_address=":0")
    c = Client(cluster, set_as_default=False)
    yield c
    c.close()
    cluster.close()


def twin_projects(root: Path, pool: Path, *, settings: dict[str, Any] | None = None,
                  embedded_options: dict[str, Any] | None = None,
                  dask_options: dict[str, Any] | None = None, client: Any = None, **opts: Any):
    """The pool folder ``pool`` as an embedded project (``root/embedded``) and a Dask project
    (``root/dask``, its parts read on ``client``) with the same options and ``settings`` (e.g.
    audit_rate); returns
    (embedded, dask project, the Dask project's creation decisions)."""
    from activelab.core.project.project import Project
    from activelab.core.scale.create import create_dask_project

    embedded = Project.create(root / "embedded", data=pool, **opts, **(embedded_options or {}))
    path, decisions = create_dask_project(root / "dask", data=str(pool / "*.parquet"),
                                          client=client, **opts,
                                          **(dask_options or {}))
    dask_proj = Project.open(path)
    if settings:
        for proj in (embedded, dask_proj):
            proj.update_settings(**settings)
    return embedded, dask_proj, decisions
