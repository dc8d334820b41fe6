"""The engine's per-label reads against the length of the labeling history, before and after
the label state was kept incrementally (issue 9 §3).

For each history length a tabular project (--pool rows) gets that many events
(``history.write_history``); then, in a fresh process each, the code of --before (a git commit,
default: the commit before the change) and this checkout open a copy of it and time
``labels()``, ``labeled_count()``, ``class_counts()``, ``history(50)`` (median of several calls),
the first ``labels()`` after opening, and one label followed by ``labels()`` (what the app does
per key press; the label's durable write included). Prints a table; ratios are before / after.

    python benchmarks/label_reads.py [--events 1000,5000,20000,100000] [--pool 50000]
                                     [--before e8cbb04] [--out benchmarks/results/label_reads.txt]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

MEASURE = r"""
import json, statistics, sys, time
from activelab.core.project.project import Project

def ms(f, n):
    out = []
    for _ in range(n):
        t = time.perf_counter(); f(); out.append(1000 * (time.perf_counter() - t))
    return statistics.median(out)

t = time.perf_counter(); p = Project.open(sys.argv[1]); opened = 1000 * (time.perf_counter() - t)
first = ms(p.labels, 1)
reps = int(sys.argv[2])
labeled = {i for per in p.labels().values() for i in per}
free = iter([s for i, s in enumerate(p.ids) if i not in labeled])
task = p.spec.tasks[0]

def label_then_read():
    p.label(next(free), task.classes[0])
    p.labels()

print(json.dumps({
    "open": opened, "first labels()": first, "labels()": ms(p.labels, reps),
    "labeled_count()": ms(p.labeled_count, reps), "class_counts()": ms(p.class_counts, reps),
    "history(50)": ms(lambda: p.history(50), reps), "label + labels()": ms(label_then_read, reps),
    "labeled": p.labeled_count(),
}))
p.close()
"""


def code_of(commit: str, workdir: Path) -> Path:
    """A package folder holding ``activelab`` as it was at ``commit`` (for PYTHONPATH)."""
    src, pkg = workdir / "src", workdir / "pkg" / "activelab"
    src.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "activelab", "core",
                              "strategies", "resources"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    pkg.mkdir(parents=True)
    for f in (src / "activelab").iterdir():
        shutil.copy2(f, pkg / f.name)
    for room in ("core", "strategies", "resources"):
        (pkg / room).symlink_to(src / room)
    return pkg.parent


def measure(project: Path, pythonpath: Path | None, reps: int) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    r = subprocess.run([sys.executable, "-c", MEASURE, str(project), str(reps)], env=env,
                       cwd=project.parent, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])


def make_pool(path: Path, rows: int) -> Path:
    import numpy as np

    rng = np.random.default_rng(0)
    with path.open("w") as f:
        f.write("id,x1,x2\n")
        for i, (a, b) in enumerate(rng.normal(size=(rows, 2))):
            f.write(f"r{i},{a:.4f},{b:.4f}\n")
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", default="1000,5000,20000,100000")
    ap.add_argument("--pool", type=int, default=50000, help="rows of the tabular pool")
    ap.add_argument("--before", default="e8cbb04", help="git commit of the 'before' code")
    ap.add_argument("--reps", type=int, default=5, help="calls per read (median)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/label_reads.txt"))
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from history import write_history

    from activelab.core.project.project import Project

    sizes = [int(x) for x in args.events.split(",")]
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        before_code = code_of(args.before, work / "before-code")
        data = make_pool(work / "pool.csv", args.pool)
        template = work / "template"
        Project.create(template, data=data, id_column="id", feature_columns=["x1", "x2"],
                       tasks=["kind:a,b,c,d"]).close()
        results = []
        for n in sizes:
            proj_dir = work / f"events-{n}"
            shutil.copytree(template, proj_dir)
            p = Project.open(proj_dir)
            written = write_history(p, n)
            p.close()
            row = {"events": written}
            for name, path in (("before", before_code), ("after", None)):
                copy = work / f"{name}-{n}"
                shutil.copytree(proj_dir, copy)
                row[name] = measure(copy, path, args.reps)
            results.append(row)
            print(f"  {written} events measured", file=sys.stderr)

    reads = ("labels()", "labeled_count()", "class_counts()", "history(50)", "label + labels()",
             "first labels()", "open")
    lines = [f"label_reads: engine reads vs history length; pool {args.pool:,} rows, "
             f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
             f"before = {args.before}, after = this checkout; median of {args.reps} calls, ms",
             "", f"{'read':<18} {'events':>8} {'before':>10} {'after':>9} {'before/after':>13}"]
    for read in reads:
        for row in results:
            b, a = row["before"][read], row["after"][read]
            lines.append(f"{read:<18} {row['events']:>8,} {b:>10.2f} {a:>9.3f} {b / a:>12.0f}x")
        lines.append("")
    lines.append("labeled samples (same before and after): "
                 + ", ".join(f"{r['events']:,} events -> {r['after']['labeled']:,}" for r in results))
    text = "\n".join(lines)
    print(text)
    Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
