"""Issue 12: the cost of one command of a labeling script on a team project -- ``activelab query
-n 1 --json`` then ``activelab label``, one process per command, as the reliability run's CLI
loop does -- on PostgreSQL (a real server, tests/pg_server.py) and, as the peer, on SQLite.

    python benchmarks/cli_command_cost.py [--repeats 20] [--samples 300]
        [--source after=. --source before=/path/to/an/older/checkout]
        [--out benchmarks/results/cli_command_cost.txt]

Each ``--source NAME=DIR`` is a source tree of activelab (a checkout: ``activelab/``, ``core/``,
``app/``, ``strategies/``, ``resources/``) run through ``PYTHONPATH``, so the code before and
after a change is measured in the same run, interleaved, on the same machine. Each (source,
backend) gets its own project (text, 3 classes, a prepared queue, retrain every 50). Before
each round another annotator ("alice") labels one sample, as a teammate's app would; then
``query`` and ``label`` of annotator "cli" are timed (wall clock of the whole process, from
compiled bytecode: one warm-up round first). Text features are TF-IDF (no embedding model), so
the numbers are the commands' own cost. Prints the median ms per command of ``--repeats``
rounds and the ratio PostgreSQL / SQLite.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ACTIVELAB_TEXT_FEATURES", "tfidf")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tests.pg_server import start_server  # noqa: E402
from tests.team_reliability import make_project  # noqa: E402

PARTS = ("activelab", "core", "app", "strategies", "resources")


def source_tree(name: str, src: Path, work: Path) -> Path:
    """A folder to put on PYTHONPATH that imports ``activelab`` from ``src``."""
    top = work / f"src-{name}" / "activelab"
    top.mkdir(parents=True)
    for f in (src / "activelab").glob("*.py"):
        (top / f.name).symlink_to(f)
    for part in PARTS[1:]:
        (top / part).symlink_to(src / part)
    return top.parent


def database(url: str, name: str) -> str:
    """The URL of a new database ``name`` on the server of ``url`` (one per source)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "bench_{name}"')
    return url.rsplit("/", 1)[0] + f"/bench_{name}"


def timed(cmd: list[str], env: dict) -> tuple[float, subprocess.CompletedProcess]:
    t0 = time.perf_counter()
    # cwd: not a checkout, whose activelab/ folder would shadow the source on PYTHONPATH
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600,
                       cwd=tempfile.gettempdir())
    ms = (time.perf_counter() - t0) * 1000
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[2:5])} failed: {r.stderr[-800:]}")
    return ms, r


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--source", action="append", default=[])
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cli_command_cost.txt"))
    a = ap.parse_args()
    sources = dict(s.split("=", 1) for s in a.source) or {"now": str(ROOT)}
    work = Path(tempfile.mkdtemp(prefix="activelab-clicost-"))
    server, why = start_server(fsync=True)
    if server is None:
        raise SystemExit(f"no PostgreSQL server: {why}")
    try:
        env0 = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        setups = {}
        for name, src in sources.items():
            path = source_tree(name, Path(src).resolve(), work)
            for backend in ("postgresql", "sqlite"):
                (work / f"{name}-{backend}").mkdir()
                folder = make_project(work / f"{name}-{backend}", database(server.url, name)
                                      if backend == "postgresql" else None, a.samples,
                                      overlap=0.0, retrain_every=50)
                setups[(name, backend)] = (folder, {**env0, "PYTHONPATH": str(path)})
        from activelab.core.project.project import Project

        times: dict[tuple[str, str, str], list[float]] = {}
        for rnd in range(a.repeats + 1):          # round 0: warm-up (bytecode compiled)
            order = list(setups.items())
            random.Random(rnd).shuffle(order)     # no source or backend always runs first
            for (name, backend), (folder, env) in order:
                p = Project.open(folder)
                p.set_annotator("alice")
                sid = p.query(1)[0].id
                p.label(sid, "sport", annotator="alice")
                p.close()
                cli = [sys.executable, "-m", "activelab"]
                ms_q, q = timed([*cli, "query", str(folder), "-n", "1", "--json",
                                 "--annotator", "cli"], env)
                got = json.loads(q.stdout)[0]["id"]
                ms_l, _ = timed([*cli, "label", str(folder), got, "food", "--annotator", "cli"],
                                env)
                if rnd:
                    times.setdefault((name, backend, "query"), []).append(ms_q)
                    times.setdefault((name, backend, "label"), []).append(ms_l)
            print(f"round {rnd} done", flush=True)
            if rnd:
                table(a, sources, times, rnd)     # so far: a run cut short keeps its rounds
    finally:
        server.stop()


def table(a: argparse.Namespace, sources: dict, times: dict, rounds: int) -> None:
    """Print the medians so far and write them to ``a.out``."""
    lines = [f"one command per process on a team project of {a.samples} text samples; median "
             f"ms of {rounds} rounds (another annotator labels one sample before each); "
             "ratio = PostgreSQL / SQLite (the peer), same source, same run",
             f"{'source':8s} {'command':22s} {'PostgreSQL ms':>14s} {'SQLite ms':>10s} "
             f"{'ratio':>6s}"]
    for name in sources:
        for cmd, label in (("query", "query -n 1 --json"), ("label", "label")):
            pg = statistics.median(times[(name, "postgresql", cmd)])
            sq = statistics.median(times[(name, "sqlite", cmd)])
            lines.append(f"{name:8s} {label:22s} {pg:14.0f} {sq:10.0f} {pg / sq:6.2f}")
    names = list(sources)
    if len(names) == 2:
        b, n = names[1], names[0]
        for cmd in ("query", "label"):
            for backend in ("postgresql", "sqlite"):
                x = statistics.median(times[(n, backend, cmd)])
                y = statistics.median(times[(b, backend, cmd)])
                lines.append(f"{n} / {b}, {cmd} on {backend}: {x / y:.2f}")
    lines.append("sources: " + ", ".join(f"{k}={v}" for k, v in sources.items()))
    text = "\n".join(lines)
    print(text)
    Path(a.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
