"""What the app's panels cost a Dask project's retrain: the query with and without them, one run.

    nice -n 10 python benchmarks/dask_panels.py [--rows 1000000] [--part-rows 100000]
        [--workers 2] [--labels 40] [--repeats 2] [--workdir DIR] [--no-save]

The pool of ``benchmarks/dask_pool.py`` (``dask_pool_data.write_pool``: id + 32 float32 columns
+ ``truth``, in Parquet parts) as a Dask project with ``--labels`` seeded rows labelled with
their truth, on a LocalCluster of ``--workers`` single-threaded worker processes. For least
confidence and core-set, the app's retrain query (``dask_query``, no stored queue reused) runs
without the panels (what ``activelab query`` does) and with them (what the app's retrain job
does: confidence counts of every unlabelled row and a 20,000-row map sample, from the same
pass), alternating, ``--repeats`` times each; the table gives the median wall time, the ratio
with / without, and checks the panels: the counts add up to the unlabelled rows, the map's
sample size. Times are under whatever load the machine has; the ratio is the number to read.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dask_pool_data import FEATURES, truth_of, write_pool  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "dask_panels.txt"


def _project(workdir: Path, rows: int, part_rows: int, labels: int, scheduler: str):
    from activelab.core.project.project import Project
    from activelab.core.scale.create import create_dask_project

    pool = write_pool(workdir / f"pool-{rows}", rows, part_rows)
    path, _ = create_dask_project(workdir / f"project-{rows}", data=str(pool / "*.parquet"),
                                  id_column="id", feature_columns=FEATURES, tasks=["y:a,b"],
                                  scheduler=scheduler)
    proj = Project.open(path)
    picks = np.sort(np.random.default_rng(7).choice(rows, size=labels, replace=False))
    for r, value in zip(picks, truth_of(pool, picks, part_rows)):
        proj.label(f"s{int(r):08d}", value)
    return proj


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--part-rows", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--labels", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args(argv)

    from distributed import Client, LocalCluster

    from activelab.core.scale.query import dask_query

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dask_panels-"))
    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                           dashboard_address=":0")
    client = Client(cluster)
    lines = [f"dask_panels: {args.rows:,} rows in parts of {args.part_rows:,}, "
             f"{args.labels} labels, {args.workers} worker processes, {args.repeats} repeats "
             "(median); ratio = with panels / without, same run", ""]
    try:
        proj = _project(workdir, args.rows, args.part_rows, args.labels, cluster.scheduler_address)
        dask_query(proj, 10, "least_confidence", client=client, save=False, reuse=False)  # warm
        lines.append(f"{'strategy':<18}{'without s':>10}{'with s':>10}{'ratio':>8}"
                     f"{'counted rows':>14}{'map rows':>10}")
        for strategy in ("least_confidence", "coreset"):
            times: dict[bool, list[float]] = {False: [], True: []}
            made: dict = {}
            for _ in range(args.repeats):
                for panels in (False, True):
                    began = time.perf_counter()
                    dask_query(proj, 10, strategy, client=client, save=False, reuse=False,
                               made=made, panels=panels)
                    times[panels].append(time.perf_counter() - began)
            got = made["panels"]
            counts = got.confidence["y"]
            unlabelled = args.rows - args.labels
            ok = "" if counts.counts.sum() == counts.n == unlabelled else " (COUNTS DIFFER)"
            off, on = statistics.median(times[False]), statistics.median(times[True])
            lines.append(f"{strategy:<18}{off:>10.1f}{on:>10.1f}{on / off:>7.2f}x"
                         f"{counts.n:>14,}{got.map.sampled:>10,}{ok}")
        proj.close()
    finally:
        client.close()
        cluster.close()
    text = "\n".join(lines)
    print(text)
    if not args.no_save:
        RESULTS.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
