"""What `activelab new` pays to write a pool's sample ids into the SQLite store, part by part
(the Dask engine's driver writes each part's ids as they arrive; issue 13).

Compared in one run, on the same ids: ``add_sample_ids`` as it is (each part inserted in id
order with a 64 MiB page cache) against the peer, the previous statement (insertion in pool
order with SQLite's default 2 MiB cache). Ids are random 32-hex strings (UUID-like, the hard
case for the unique index: sequential ids append at the right edge either way). Printed: median
seconds per 100k-id part over the first and the last three parts, and their ratio.

    nice -n 10 python benchmarks/store_id_insert.py --parts 30
"""
from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path


def run(parts: int, part_rows: int, sorted_cache: bool, seed: int) -> list[float]:
    from activelab.core.store import samples
    from activelab.core.store.store import LabelStore

    samples.IMPORT_SORTED = sorted_cache
    samples.IMPORT_CACHE_KIB = 65_536 if sorted_cache else 2_000
    rng = random.Random(seed)
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        store = LabelStore(Path(tmp) / "project.sqlite", create=True)
        for p in range(parts):
            ids = [f"{rng.getrandbits(128):032x}" for _ in range(part_rows)]
            t = time.perf_counter()
            samples.add_sample_ids(store, ids, start=p * part_rows)
            times.append(time.perf_counter() - t)
        store.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parts", type=int, default=30)
    ap.add_argument("--part-rows", type=int, default=100_000)
    a = ap.parse_args()
    rows = []
    for name, flag in (("peer: pool order, 2 MiB cache", False), ("add_sample_ids now", True)):
        t = run(a.parts, a.part_rows, flag, seed=1)
        rows.append((name, statistics.median(t[:3]), statistics.median(t[-3:]), sum(t)))
    print(f"{a.parts} parts x {a.part_rows:,} random 32-hex ids into one SQLite store "
          f"({a.parts * a.part_rows:,} ids)")
    print(f"{'':32s} {'s/part, first 3':>16s} {'s/part, last 3':>15s} {'total s':>8s}")
    for name, first, last, total in rows:
        print(f"{name:32s} {first:16.2f} {last:15.2f} {total:8.1f}")
    peer, now = rows
    print(f"{'ratio now / peer':32s} {now[1] / peer[1]:16.2f} {now[2] / peer[2]:15.2f} "
          f"{now[3] / peer[3]:8.2f}")


if __name__ == "__main__":
    main()
