"""The data and the pick checks of ``benchmarks/dask_pool.py``.

``write_pool``: N rows as partitioned Parquet, ``part_rows`` rows per part (``part-00000.parquet``
...), columns ``id`` ("s00000000", the row's position), ``f0..f31`` float32 N(0, 1) seeded per
part, and ``truth`` ("a" or "b": the sign of a fixed random projection of the features, so a
linear model learns it and ``simulate --label-column truth`` can use it). Written by a child
process, part by part (each written under a temporary name, then renamed; parts already
complete in the folder are kept): the harness never holds the pool.

``covering_radius``: the core-set criterion (Sener & Savarese 2018, "Active Learning for
Convolutional Neural Networks: A Core-Set Approach"): max over the pool of the distance to the
nearest of the labeled rows and the picks, in the raw feature space. Two core-set batches of
different picks are compared by it (a smaller radius is a better cover).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

N_FEATURES = 32
FEATURES = [f"f{j}" for j in range(N_FEATURES)]

_WRITER = """
import sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
out, n, part_rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
w = np.random.default_rng(123).standard_normal(32).astype(np.float32)
import os
for p, start in enumerate(range(0, n, part_rows)):
    m = min(part_rows, n - start)
    final = f"{out}/part-{p:05d}.parquet"
    try:
        if pq.ParquetFile(final).metadata.num_rows == m:
            continue   # written by an earlier, interrupted run: the same seeded rows
    except Exception:
        pass
    F = np.random.default_rng([0, p]).standard_normal((m, 32), dtype=np.float32)
    cols = {"id": pa.array([f"s{i:08d}" for i in range(start, start + m)])}
    for j in range(32):
        cols[f"f{j}"] = pa.array(F[:, j])
    cols["truth"] = pa.array(np.where(F @ w > 0, "a", "b"))
    pq.write_table(pa.table(cols), final + ".tmp")
    os.replace(final + ".tmp", final)
"""


def write_pool(folder: Path, n: int, part_rows: int) -> Path:
    """Write the pool (see the module doc) into ``folder``; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["nice", "-n", "10", sys.executable, "-c", _WRITER, str(folder), str(n),
                    str(part_rows)], check=True)
    return folder


def parts_of(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*.parquet"))


def truth_of(folder: Path, rows: np.ndarray, part_rows: int) -> list[str]:
    """The ``truth`` value of pool positions ``rows`` (read from their parts only)."""
    import pyarrow.parquet as pq

    parts = parts_of(folder)
    out = []
    for r in rows:
        col = pq.read_table(parts[int(r) // part_rows], columns=["truth"])["truth"]
        out.append(str(col[int(r) % part_rows]))
    return out


def position(sample_id: str) -> int:
    """Pool position of an id written by ``write_pool`` ("s00001234" -> 1234)."""
    return int(sample_id.lstrip("s"))


def covering_radius(folder: Path, centers: list[int], chunk: int = 200_000) -> float:
    """max over the pool's rows of the Euclidean distance to the nearest row of ``centers``
    (pool positions), in the raw f0..f31 space; read part by part."""
    import pyarrow.parquet as pq

    parts = parts_of(folder)
    sizes = [pq.ParquetFile(p).metadata.num_rows for p in parts]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    C = []
    for c in centers:
        p = int(np.searchsorted(starts, c, side="right") - 1)
        t = pq.read_table(parts[p], columns=FEATURES)
        C.append([float(t[f][c - int(starts[p])].as_py()) for f in FEATURES])
    Cm = np.asarray(C, dtype=np.float64)
    c2 = (Cm ** 2).sum(axis=1)
    worst = 0.0
    for path in parts:
        t = pq.read_table(path, columns=FEATURES)
        X = np.column_stack([t[f].to_numpy() for f in FEATURES]).astype(np.float64)
        for s in range(0, len(X), chunk):
            x = X[s:s + chunk]
            d2 = (x ** 2).sum(axis=1)[:, None] - 2 * x @ Cm.T + c2[None, :]
            worst = max(worst, float(np.sqrt(max(d2.min(axis=1).max(), 0.0))))
    return worst
