"""The columnar pool at 10k / 100k / 1M rows: the CLI's costs beside a plain pandas read.

    python benchmarks/pool_scale.py [--sizes 10000,100000,1000000] [--workdir DIR] [--keep]

For each size N the benchmark writes one Parquet file, N rows x (an ``id`` text column + 32
float32 columns, seeded normal values; 151 MB at 1M rows, like the file in issue 9), and runs
each step as its own ``python -m activelab ...`` process, as a user would:

* ``new``:     ``activelab new P --data F --id-column id --feature-columns f0,...,f31
  --task label:a,b`` (import, pool.parquet, sample ids, features);
* ``size``:    everything in the project folder afterwards (pool.parquet + project.sqlite +
  cache/), and that over the source file's size;
* ``label``:   ``activelab label P ID a|b``, 10 times (10 labeled rows; best and median);
* ``status``:  ``activelab status P``, 5 times (best);
* ``query``:   the first ``activelab query P -n 10 --strategy least_confidence`` after those
  10 labels (a new process: opens the project, loads the features, trains logistic
  regression on the 10 labels and scores all N rows);
* ``export``:  ``activelab export P --out e.parquet`` (the 10 labeled rows);
* ``export --include-unlabeled``: every row with the model's predictions (a new process:
  trains again, then streams N rows to Parquet).

The peer, in the same run on the same file: a child ``python -c "import pandas;
pandas.read_parquet(F)"``. Time is wall time of the child process (interpreter start
included); memory is the child's peak resident set (``ru_maxrss`` from ``wait4``). Ratios
are step / peer. ``python -c pass`` is printed as the floor of any process's start-up.
The machine is shared: the load average is printed with the results.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "pool_scale.txt"
N_FEATURES = 32


def make_parquet(path: Path, n: int) -> Path:
    """N rows: ``id`` ("s0000000", ...) and f0..f31 float32 N(0, 1), seed 0."""
    code = f"""
import numpy as np, pyarrow as pa, pyarrow.parquet as pq
rng = np.random.default_rng(0)
cols = {{"id": pa.array([f"s{{i:07d}}" for i in range({n})])}}
for j in range({N_FEATURES}):
    cols[f"f{{j}}"] = pa.array(rng.standard_normal({n}).astype(np.float32))
pq.write_table(pa.table(cols), {str(path)!r})
"""
    subprocess.run([sys.executable, "-c", code], check=True)
    return path


def measured(args: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB, stdout) of one child process, which must succeed.

    The output goes to temporary files and the child is reaped with ``os.wait4``, which
    gives its own resource usage (``ru_maxrss``: its peak resident set, KB on Linux).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n"
                               f"{err.read().decode(errors='replace')[-3000:]}")
        return seconds, usage.ru_maxrss / 1024, out.read().decode(errors="replace")


def folder_size(path: Path) -> dict[str, int]:
    """Bytes per part of a project folder: pool.parquet, project.sqlite (+ -wal/-shm), cache."""
    parts = {"pool": 0, "store": 0, "cache": 0, "other": 0}
    for f in path.rglob("*"):
        if not f.is_file():
            continue
        rel = f.relative_to(path).parts
        key = ("pool" if rel[0] == "pool.parquet" else "store" if rel[0].startswith("project.sqlite")
               else "cache" if rel[0] == "cache" else "other")
        parts[key] += f.stat().st_size
    parts["total"] = sum(parts.values())
    return parts


def activelab(*args: str) -> list[str]:
    return [sys.executable, "-m", "activelab", *args]


def run_size(n: int, work: Path) -> dict:
    data = make_parquet(work / f"pool_{n}.parquet", n)
    project = work / f"p{n}"
    row: dict = {"n": n, "source_mb": data.stat().st_size / 1e6}
    row["peer"] = measured([sys.executable, "-c",
                            f"import pandas; pandas.read_parquet({str(data)!r})"])[:2]
    features = ",".join(f"f{j}" for j in range(N_FEATURES))
    row["new"] = measured(activelab("new", str(project), "--data", str(data), "--id-column", "id",
                                    "--feature-columns", features, "--task", "label:a,b"))[:2]
    row["size"] = folder_size(project)
    step = max(1, n // 10)
    labels = [measured(activelab("label", str(project), f"s{i * step:07d}", "ab"[k % 2]))[0]
              for k, i in enumerate(range(10))]
    row["label"] = (min(labels), statistics.median(labels))
    row["status"] = min(measured(activelab("status", str(project)))[0] for _ in range(5))
    row["query"] = measured(activelab("query", str(project), "-n", "10", "--strategy",
                                      "least_confidence"))[:2]
    row["export"] = measured(activelab("export", str(project), "--out",
                                       str(work / f"e{n}.parquet")))[:2]
    row["export_all"] = measured(activelab("export", str(project), "--out",
                                           str(work / f"all{n}.parquet"), "--include-unlabeled"))[:2]
    rows_out = json.loads(subprocess.run(
        [sys.executable, "-c", "import sys, json, pyarrow.parquet as pq; print(json.dumps("
         "[pq.ParquetFile(p).metadata.num_rows for p in sys.argv[1:]]))",
         str(work / f"e{n}.parquet"), str(work / f"all{n}.parquet")],
        capture_output=True, text=True, check=True).stdout)
    row["rows_out"] = rows_out
    return row


def table(rows: list[dict], floor: float) -> str:
    out = []
    head = (f"{'rows':>9} {'source':>8} | {'pandas read':>16} | {'new':>16} {'x peer':>12} | "
            f"{'project':>8} {'/src':>5} {'pool+db+cache MB':>18} | {'label best/med':>14} "
            f"{'status':>6} | {'query':>14} | {'export 10':>15} | {'--include-unlabeled':>20}")
    out.append(head)
    out.append("-" * len(head))
    for r in rows:
        pt, pm = r["peer"]
        nt, nm = r["new"]
        s = r["size"]
        out.append(
            f"{r['n']:>9,} {r['source_mb']:>6.1f}MB | {pt:>5.2f} s {pm:>6.0f} MB | "
            f"{nt:>5.2f} s {nm:>6.0f} MB {nt / pt:>5.1f}x {nm / pm:>4.1f}x | "
            f"{s['total'] / 1e6:>6.1f}MB {s['total'] / 1e6 / r['source_mb']:>5.2f} "
            f"{s['pool'] / 1e6:>6.1f}+{s['store'] / 1e6:>4.1f}+{s['cache'] / 1e6:>5.2f} | "
            f"{r['label'][0]:>5.2f}/{r['label'][1]:>4.2f} s {r['status']:>5.2f}s | "
            f"{r['query'][0]:>5.2f} s {r['query'][1]:>4.0f} MB | "
            f"{r['export'][0]:>5.2f} s {r['export'][1]:>4.0f} MB | "
            f"{r['export_all'][0]:>6.2f} s {r['export_all'][1]:>5.0f} MB")
    out.append("")
    out.append(f"python -c pass (any process's start-up floor): best of 10 {floor:.3f} s")
    for r in rows:
        out.append(f"{r['n']:>9,} rows: export wrote {r['rows_out'][0]} and {r['rows_out'][1]:,} "
                   f"rows; query {r['query'][0] / r['peer'][0]:.1f}x, export-10 "
                   f"{r['export'][0] / r['peer'][0]:.1f}x and --include-unlabeled "
                   f"{r['export_all'][0] / r['peer'][0]:.1f}x the pandas read's time; label "
                   f"{r['label'][0] / floor:.1f}x and status {r['status'] / floor:.1f}x "
                   "'python -c pass'")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the files and projects")
    ap.add_argument("--no-save", action="store_true", help=f"do not write {RESULTS}")
    a = ap.parse_args(argv)
    sizes = [int(s) for s in a.sizes.split(",")]
    work = a.workdir or Path(tempfile.mkdtemp(prefix="activelab-pool-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    floor = min(measured([sys.executable, "-c", "pass"])[0] for _ in range(10))
    try:
        rows = []
        for n in sizes:
            rows.append(run_size(n, work))
            print(f"  {n:,} rows done", file=sys.stderr, flush=True)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    text = (f"pool_scale: {', '.join(f'{n:,}' for n in sizes)} rows x (id + {N_FEATURES} float32), "
            f"{os.cpu_count()} CPUs, load average {load_before[0]:.1f} before / "
            f"{os.getloadavg()[0]:.1f} after\n"
            "time = wall time of the child process; MB = its peak RSS; project = every file in "
            "the folder (pool.parquet + project.sqlite + cache/), /src = over the source file\n\n"
            + table(rows, floor) + "\n")
    print(text)
    if not a.no_save:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
