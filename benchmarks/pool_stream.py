"""The embedded engine's pool file from Parquet parts: streamed part by part versus joined in memory.

    nice -n 10 python benchmarks/pool_stream.py [--sizes 1000000] [--part-rows 100000] [--workdir DIR]

For each size N the pool of ``benchmarks/dask_pool.py`` (id + 32 float32 + truth, Parquet parts
of ``--part-rows`` rows) is written to a temporary folder, then each way of making the
project's ``pool.parquet`` runs in its own process (so its peak is its own):

* ``streamed``: ``activelab.core.project.parts_stream.stream_parts`` (one part and one row group
  held at a time; what ``activelab new`` does now; ``new`` then reads the file back
  memory-mapped for its features, not measured here);
* ``joined``:   ``read_parts`` (every part joined into one DataFrame), ``pool_table``,
  ``write_pool_table`` (what it did before).

Printed: seconds and peak resident MB of each process (``ru_maxrss``), their ratio in the same
run, and whether the two files are byte for byte equal. Only the pool-file step is measured
here; the whole ``new`` (which also builds the features in memory) is in dask_pool.txt.
"""
from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dask_pool_data import parts_of, write_pool  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "pool_stream.txt"

_STREAMED = """
import sys
from pathlib import Path
from activelab.core.project.parts_stream import stream_parts
assert stream_parts(sys.argv[1], Path(sys.argv[2])) is not None
"""
_JOINED = """
import sys
from activelab.core.data.parts import read_parts
from activelab.core.store.pool_writer import pool_table, write_pool_table
table, _ = pool_table(read_parts(sys.argv[1]))
write_pool_table(table, sys.argv[2].rsplit("/", 1)[0])
"""


def run(code: str, source: Path, out: Path) -> tuple[float, float]:
    """(seconds, peak MB) of one child process running ``code``."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(["nice", "-n", "10", sys.executable, "-c", code, str(source), str(out)])
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{code.splitlines()[3]} failed")
    return time.perf_counter() - t0, usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="1000000")
    ap.add_argument("--part-rows", type=int, default=100_000)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--no-save", action="store_true")
    a = ap.parse_args(argv)
    work = a.workdir or Path(tempfile.mkdtemp(prefix="activelab-pool-stream-"))
    lines = [f"pool_stream: the embedded engine's pool.parquet from Parquet parts of "
             f"{a.part_rows:,} rows (id + 32 float32 + truth); 2 CPUs shared, load average "
             f"{os.getloadavg()[0]:.1f} at the start",
             "command: nice -n 10 python benchmarks/pool_stream.py "
             + " ".join(argv if argv is not None else sys.argv[1:]),
             f"{'rows':>12} {'parts':>6} {'MB on disk':>10}   {'streamed s / MB':>16}   "
             f"{'joined s / MB':>14}   {'ratio time, MB':>15}   same file"]
    try:
        for n in [int(s) for s in a.sizes.split(",")]:
            data = write_pool(work / f"pool-{n}", n, a.part_rows)
            mb = sum(p.stat().st_size for p in parts_of(data)) / 1e6
            (work / "s").mkdir(exist_ok=True)
            (work / "j").mkdir(exist_ok=True)
            s_t, s_mb = run(_STREAMED, data, work / "s" / "pool.parquet")
            j_t, j_mb = run(_JOINED, data, work / "j" / "pool.parquet")
            same = filecmp.cmp(work / "s" / "pool.parquet", work / "j" / "pool.parquet",
                               shallow=False)
            lines.append(f"{n:>12,} {len(parts_of(data)):>6} {mb:>10.0f}   "
                         f"{s_t:>7.1f} / {s_mb:>6.0f}   {j_t:>6.1f} / {j_mb:>6.0f}   "
                         f"{s_t / j_t:>6.2f}x, {s_mb / j_mb:.2f}x   "
                         f"{'byte-equal' if same else 'DIFFERENT'}")
            print(lines[-1], file=sys.stderr, flush=True)
            shutil.rmtree(data, ignore_errors=True)
    finally:
        if not a.workdir:
            shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(lines) + "\n"
    if not a.no_save:
        RESULTS.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
