"""What one Parquet part costs ``activelab new --engine dask``, on a worker and on the driver.

    nice -n 10 python benchmarks/new_part_costs.py [--parts 4] [--part-rows 100000]

Parts as in ``benchmarks/dask_pool.py`` (id + 32 float32 + truth). Timed in this one process
(median of the parts), each step as ``activelab.core.scale.part_read`` runs it:

* worker: ``footers`` (row count and columns), ``part_sample`` (the part read whole: its sample
  rows, first rows of the task values, moments of the numeric columns), ``part_ids`` (its id
  column);
* driver: the part's ids written to a SQLite store (``add_sample_ids``) and its sample share
  merged; the part's results pickled and unpickled (what crossing to the driver costs besides
  the network).

For the 1B-row arithmetic in the README: workers share the worker column, the driver column
is paid once per part whatever the number of workers.
"""
from __future__ import annotations

import argparse
import pickle
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dask_pool_data import parts_of, write_pool  # noqa: E402


def _timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return time.perf_counter() - t0, out


def main(argv: list[str] | None = None) -> int:
    import numpy as np

    from activelab.core.data.spec import DatasetSpec
    from activelab.core.scale.featurize import PoolMoments, sample_rows
    from activelab.core.scale.part_read import fold_moments, footers, part_ids, part_sample
    from activelab.core.store.samples import add_sample_ids
    from activelab.core.store.store import LabelStore

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parts", type=int, default=4)
    ap.add_argument("--part-rows", type=int, default=100_000)
    ap.add_argument("--total-rows", type=int, default=10_000_000,
                    help="pool size the sample share is drawn for")
    a = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="activelab-new-costs-"))
    data = write_pool(work / "pool", a.parts * a.part_rows, a.part_rows)
    paths = [str(p) for p in parts_of(data)]
    share = sample_rows([a.part_rows] * (a.total_rows // a.part_rows))[:a.parts]
    spec = DatasetSpec(id_column="id")
    store = LabelStore(work / "project.sqlite", create=True)
    cols: dict[str, list[float]] = {k: [] for k in (
        "footer", "sample", "ids", "to driver", "store ids", "merge")}
    moments = PoolMoments()
    for p, path in enumerate(paths):
        t, _ = _timed(footers, [path])
        cols["footer"].append(t)
        t, got = _timed(part_sample, path, share[p], ("truth",))
        cols["sample"].append(t)
        t, (ids, events) = _timed(part_ids, path, p * a.part_rows, a.part_rows, "id", ("id",),
                                  spec, ())
        cols["ids"].append(t)
        t, _ = _timed(lambda: pickle.loads(pickle.dumps((ids, events, got), protocol=5)))
        cols["to driver"].append(t)
        t, _ = _timed(add_sample_ids, store, ids, p * a.part_rows)
        cols["store ids"].append(t)
        t, _ = _timed(fold_moments, moments, got["stats"])
        cols["merge"].append(t)
    store.close()
    med = {k: statistics.median(v) for k, v in cols.items()}
    worker = med["footer"] + med["sample"] + med["ids"]
    driver = med["to driver"] + med["store ids"] + med["merge"]
    print(f"new --engine dask, cost per part of {a.part_rows:,} rows (median of {a.parts} parts, "
          "seconds, one process on a shared 2-CPU machine)")
    print("  worker: " + ", ".join(f"{k} {med[k]:.3f}" for k in ("footer", "sample", "ids"))
          + f"; total {worker:.3f}")
    print("  driver: " + ", ".join(f"{k} {med[k]:.3f}" for k in ("to driver", "store ids", "merge"))
          + f"; total {driver:.3f}")
    print(f"  at 1B rows ({10**9 // a.part_rows:,} parts): driver {driver * 10**9 / a.part_rows / 3600:.2f} h "
          f"whatever the workers; workers {worker * 10**9 / a.part_rows / 100 / 60:.1f} min on 100, "
          f"{worker * 10**9 / a.part_rows / 1000 / 60:.1f} min on 1,000")
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    return 0 if np.isfinite(worker) else 1


if __name__ == "__main__":
    sys.exit(main())
