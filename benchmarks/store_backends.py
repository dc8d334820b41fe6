"""What a key press costs on each store backend: ms per ``Project.label`` on ``project.sqlite``
(WAL, synchronous=FULL) and on PostgreSQL over loopback (a real server, fsync on), and labels
per second with several processes labelling one project at once (with the count check).

    python benchmarks/store_backends.py [--labels 200] [--writers 3] [--per-writer 150]

Starts its own PostgreSQL server (tests/pg_server.py: the machine's server binaries, run as
the ``postgres`` user when root). Both backends label the same project, made from the same
file, in the same run; the PostgreSQL column is also given as a ratio to SQLite's.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from activelab.core.project.project import Project  # noqa: E402
from tests.core.helpers import write_text_csv  # noqa: E402
from tests.pg_server import start_server  # noqa: E402

WRITER = r"""
import sys, time
from activelab.core.project.project import Project
p = Project.open(sys.argv[1])
who, n = sys.argv[2], int(sys.argv[3])
print("READY", flush=True)
sys.stdin.readline()
for k in range(n):
    p.label(f"s{(k * 7 + len(who)) % 400:03d}", ["sport", "tech", "food"][k % 3], task="topic",
            annotator=f"{who}-{k}")
p.close()
"""


def _label_ms(folder: Path, n: int) -> list[float]:
    p = Project.open(folder)
    out = []
    for k in range(n):
        t = time.perf_counter()
        p.label(f"s{k % 400:03d}", ["sport", "tech", "food"][k % 3], task="topic",
                annotator="bench")
        out.append((time.perf_counter() - t) * 1000)
    p.close()
    return out


def _concurrent(folder: Path, writers: int, per: int) -> tuple[float, int, int]:
    """(labels per second, labels expected, label events found) for ``writers`` processes."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = sum(1 for e in Project.open(folder).store.events() if e.kind == "label")
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(folder), "w" * (i + 1), str(per)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
                              cwd=ROOT) for i in range(writers)]
    for p in procs:
        assert p.stdout.readline().strip() == "READY"
    t = time.perf_counter()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        p.wait(timeout=600)
    dt = time.perf_counter() - t
    proj = Project.open(folder)
    found = sum(1 for e in proj.store.events() if e.kind == "label") - before
    proj.close()
    return writers * per / dt, writers * per, found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=int, default=200)
    ap.add_argument("--writers", type=int, default=3)
    ap.add_argument("--per-writer", type=int, default=150)
    a = ap.parse_args()
    server, why = start_server(fsync=True)
    if server is None:
        sys.exit(f"no PostgreSQL server: {why}")
    try:
        with tempfile.TemporaryDirectory(prefix="activelab-bench-") as tmp:
            data = write_text_csv(Path(tmp) / "d.csv", n=400)
            folders = {}
            for name, url in (("sqlite", None), ("postgresql", server.url)):
                folders[name] = Path(tmp) / f"p_{name}"
                Project.create(folders[name], data=data, text_columns=["text"],
                               tasks=["topic=topic"], store_url=url).close()
            lat = {name: _label_ms(f, a.labels) for name, f in folders.items()}
            conc = {name: _concurrent(f, a.writers, a.per_writer) for name, f in folders.items()}
    finally:
        server.stop()
    med = {k: statistics.median(v) for k, v in lat.items()}
    p95 = {k: statistics.quantiles(v, n=20)[-1] for k, v in lat.items()}
    rows = [
        ("ms per label, median", med["sqlite"], med["postgresql"]),
        ("ms per label, p95", p95["sqlite"], p95["postgresql"]),
        (f"labels/s, {a.writers} processes at once", conc["sqlite"][0], conc["postgresql"][0]),
    ]
    print(f"Store backends: {a.labels} labels one at a time; {a.writers} processes x "
          f"{a.per_writer} labels at once (PostgreSQL 15 on loopback, fsync on)")
    print(f"{'':38s} {'SQLite':>10s} {'PostgreSQL':>11s} {'PG/SQLite':>10s}")
    for label, s, p in rows:
        print(f"{label:38s} {s:10.2f} {p:11.2f} {p / s:10.2f}")
    for name, (_rate, want, found) in conc.items():
        print(f"{name}: {found} of {want} concurrent labels stored ({want - found} lost)")


if __name__ == "__main__":
    main()
