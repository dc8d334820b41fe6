"""A partitioned Parquet pool on the embedded engine versus Dask on a 2-worker LocalCluster.

    nice -n 10 python benchmarks/dask_pool.py [--sizes 1000000,10000000] [--part-rows 100000]
        [--engines embedded,dask] [--workers 2] [--labels 10] [--workdir DIR] [--keep]

For each size N, N rows x (``id`` + 32 float32 + ``truth``) are written as Parquet parts of
``--part-rows`` rows in a temporary folder (``benchmarks/dask_pool_data.py``; never in the
repo). Per engine, each step is its own ``activelab`` process, as a user would run it:

* ``new``:    ``activelab new P --data 'DIR/*.parquet' --id-column id --feature-columns
  f0,..,f31 --task y:a,b`` (+ ``--engine dask --scheduler ADDR`` for Dask);
* ``label``:  ``--labels`` seeded random rows labeled with their ``truth`` (not timed);
* ``query``:  the first ``activelab query P -n 10 --strategy least_confidence --json``, and on a
  copy of the labeled project the first ``--strategy coreset`` query (train on the labels,
  score the pool, pick).

The Dask steps run against one ``distributed.LocalCluster`` (``--workers`` single-threaded
worker processes) that this harness starts before the Dask steps (its start-up and the
workers' first imports are printed apart) and closes at the end. Time: wall time of the step's process. Memory: peak
resident set of the driver (the step's process: ``ru_maxrss`` from ``wait4``) and of each
worker process and of the largest process the step starts itself, e.g. a training process
(psutil sampling every 0.1 s). Ratios are dask / embedded in the same run. Picks: least-confidence ids
(exactly equal, audit picks included) and core-set (overlap of the ids, and the covering
radius of labeled + picks over the pool, the core-set criterion, dask / embedded).
A step that fails (out of memory, error) is reported as failed with its peak; the run goes on.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dask_pool_data import (  # noqa: E402
    FEATURES, covering_radius, parts_of, position, truth_of, write_pool,
)
from dask_pool_report import report  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "dask_pool.txt"
N_QUERY = 10


class Sampler:
    """Peak RSS (MB) per process of ``pids()`` while a step runs (psutil, every 0.1 s)."""

    def __init__(self, pids) -> None:
        self.pids, self.peak, self._stop = pids, {}, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self.pids():
                try:
                    mb = psutil.Process(pid).memory_info().rss / 2**20
                except psutil.Error:
                    continue
                self.peak[pid] = max(self.peak.get(pid, 0.0), mb)
            self._stop.wait(0.1)

    def __enter__(self) -> "Sampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def step(args: list[str], workers: list[int], timeout: float) -> dict:
    """Run one ``activelab`` child (``nice -n 10``, which execs it: same pid): seconds, driver
    peak MB, peak MB of each of ``workers`` and of any process the child starts, ok, output."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(["nice", "-n", "10", *args], stdout=out, stderr=err)
        own = lambda: [c.pid for c in _children(proc.pid)]  # noqa: E731
        with Sampler(lambda: [proc.pid, *workers, *own()]) as s:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() - t0 > timeout:
                    proc.kill()
                time.sleep(0.05)
        seconds = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        proc.returncode = code
        out.seek(0)
        err.seek(0)
        tail = err.read().decode(errors="replace").strip().splitlines()[-2:]
        started = [v for p, v in s.peak.items() if p != proc.pid and p not in workers]
        return {"seconds": seconds, "ok": code == 0,
                "driver_mb": max(s.peak.get(proc.pid, 0.0), usage.ru_maxrss / 1024),
                "workers_mb": [s.peak.get(p, 0.0) for p in workers],
                "children_mb": max(started, default=0.0),
                "stdout": out.read().decode(errors="replace"),
                "error": (f"exit {code}: " + " | ".join(tail)) if code else ""}


def _children(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def activelab(*args: str) -> list[str]:
    return [sys.executable, "-m", "activelab", *args]


def _supports(command: str, flag: str) -> bool:
    help_text = subprocess.run(activelab(command, "--help"), capture_output=True,
                               text=True).stdout
    return flag in help_text


def _picks(res: dict) -> list[tuple[str, bool]]:
    if not res["ok"]:
        return []
    return [(r["id"], bool(r.get("audit"))) for r in json.loads(res["stdout"])]


def lc_scores(stdout: str) -> dict:
    """Of a least-confidence query's JSON: its strategy picks' scores (1 - max probability),
    best first, how many audit picks it holds and the model version it was scored with."""
    rows = json.loads(stdout)
    return {"scores": [r["score"] for r in rows if not r.get("audit")],
            "audit": sum(bool(r.get("audit")) for r in rows),
            "version": max((r.get("model_version") or 0) for r in rows) if rows else None}


def run_engine(engine: str, data: Path, work: Path, n: int, labels: list[tuple[str, str]],
               workers: list[int], scheduler: str | None, timeout: float) -> dict:
    project = work / f"{engine}-{n}"
    extra_new = ["--engine", "dask", "--scheduler", scheduler] if engine == "dask" else []
    extra_q = ["--scheduler", scheduler] if engine == "dask" and \
        _supports("query", "--scheduler") else []
    row: dict = {"engine": engine, "n": n}
    row["new"] = step(activelab("new", str(project), "--data", f"{data}/*.parquet",
                                "--id-column", "id", "--feature-columns", ",".join(FEATURES),
                                "--task", "y:a,b", *extra_new), workers, timeout)
    if not row["new"]["ok"]:
        return row
    for sample_id, label in labels:
        subprocess.run(activelab("label", str(project), sample_id, label), check=True,
                       capture_output=True)
    shutil.copytree(project, work / f"{engine}-{n}-cs")
    for key, strategy, folder in (("lc", "least_confidence", project),
                                  ("cs", "coreset", work / f"{engine}-{n}-cs")):
        row[key] = step(activelab("query", str(folder), "-n", str(N_QUERY), "--strategy",
                                  strategy, "--json", *extra_q), workers, timeout)
        row[key]["picks"] = _picks(row[key])
        (work / f"{engine}-{n}-{key}.json").write_text(row[key]["stdout"], encoding="utf-8")
    return row


def compare(rows: dict, data: Path, labeled: list[int]) -> dict:
    """Picks of the dask run against the embedded run's, at one size."""
    emb, dsk = rows.get("embedded"), rows.get("dask")
    if not emb or not dsk or "lc" not in emb or "lc" not in dsk:
        return {}
    out = {"lc_equal": emb["lc"]["picks"] == dsk["lc"]["picks"] and bool(emb["lc"]["picks"]),
           "lc_scores": (lc_scores(emb["lc"]["stdout"]), lc_scores(dsk["lc"]["stdout"]))}
    a = [i for i, audit in emb["cs"]["picks"] if not audit]
    b = [i for i, audit in dsk["cs"]["picks"] if not audit]
    if a and b:
        out["cs_overlap"] = (len(set(a) & set(b)), len(a))
        ra = covering_radius(data, labeled + [position(i) for i in a])
        rb = covering_radius(data, labeled + [position(i) for i in b])
        out["cs_radius"] = (ra, rb)
    return out


def _warm() -> None:
    """Import what scoring tasks need on a worker (once per cluster, not per step)."""
    import importlib

    for name in ("activelab.core.scale.scoring", "activelab.core.scale.query",
                 "sklearn.linear_model"):
        importlib.import_module(name)


def _start_cluster(n_workers: int):
    from distributed import Client, LocalCluster

    t0 = time.perf_counter()
    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                           dashboard_address=":0", worker_dashboard_address=":0")
    client = Client(cluster)
    client.run(_warm)
    pids = list(client.run(os.getpid).values())
    return cluster, client, pids, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--part-rows", type=int, default=100_000)
    ap.add_argument("--engines", default="embedded,dask")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--labels", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per step")
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the data and projects")
    ap.add_argument("--no-save", action="store_true", help=f"do not write {RESULTS}")
    a = ap.parse_args(argv)
    sizes = [int(s) for s in a.sizes.split(",")]
    engines = [e.strip() for e in a.engines.split(",") if e.strip()]
    work = a.workdir or Path(tempfile.mkdtemp(prefix="activelab-dask-pool-"))
    work.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()
    cluster = client = None
    results, checks, cluster_s, pids = {}, {}, 0.0, []
    command = "nice -n 10 python benchmarks/dask_pool.py " + " ".join(argv or sys.argv[1:])

    def save(results: dict, checks: dict, final: bool = False) -> str:
        """The table so far, written to the results file after every engine of every size
        (an interrupted run leaves what it measured, the rest marked as not run)."""
        text = report(results, checks, sizes, engines, a, cluster_s, load_before,
                      os.getloadavg(), command)
        if not final:
            text = "(partial: the run was still going when this was written)\n" + text
        if not a.no_save:
            RESULTS.parent.mkdir(parents=True, exist_ok=True)
            RESULTS.write_text(text, encoding="utf-8")
        return text
    try:
        if "dask" in engines:
            cluster, client, pids, cluster_s = _start_cluster(a.workers)
        for n in sizes:
            data = write_pool(work / f"pool-{n}", n, a.part_rows)
            rng = np.random.default_rng(7)
            rows = np.sort(rng.choice(n, size=a.labels, replace=False))
            truth = truth_of(data, rows, a.part_rows)
            labels = [(f"s{int(r):08d}", t) for r, t in zip(rows, truth)]
            results[n] = {"parts": len(parts_of(data)),
                          "mb": sum(p.stat().st_size for p in parts_of(data)) / 1e6}
            for engine in engines:
                results[n][engine] = run_engine(
                    engine, data, work, n, labels, pids if engine == "dask" else [],
                    cluster.scheduler_address if engine == "dask" else None, a.timeout)
                print(f"  {n:,} rows, {engine} done", file=sys.stderr, flush=True)
                save(results, checks)
            checks[n] = compare(results[n], data, [int(r) for r in rows])
            save(results, checks)
            for engine in engines:   # the projects of this size are no longer needed
                for suffix in ("", "-cs"):
                    shutil.rmtree(work / f"{engine}-{n}{suffix}", ignore_errors=True)
            if not a.keep:
                shutil.rmtree(data, ignore_errors=True)
    finally:
        if client is not None:
            client.close()
            cluster.close()
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(save(results, checks, final=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
