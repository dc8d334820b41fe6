"""Every registered strategy on real data: Fashion-MNIST pixels (a 60,000-sample pool) and
AG News text (7,600 titles + descriptions).

    /work/venv/bin/python benchmarks/strategies_real_data.py [--workdir DIR] [--quick]

Per data set: a project is created the way ``activelab new`` does, 50 random samples get their
true labels (seeded), and each strategy asks for 100 samples:

* ``cli_s``: wall time of ``activelab query PROJECT -n 100 --strategy NAME`` in a fresh process
  (opens the project, retrains on the 50 labels, builds the strategy's inputs, queries);
* ``query_s``: the query alone in-process with the model already trained (``make_queue``:
  committee / bootstrap-sample fits, scoring and selection).

Then ``activelab simulate`` (the same code path) compares every strategy with random: area
under the learning curve (AULC, mean accuracy over the run) relative to random. Strategies
that need inputs these single-modality pools cannot give (co-testing needs a multimodal
model's per-modality heads) are listed with their error. Output is printed and written to
benchmarks/results/strategies_real_data.txt.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
CLI = [sys.executable, "-m", "activelab.core.cli.main"]

DATASETS = {
    "fashion_mnist": {
        "path": DATA / "fashion_mnist" / "fashion_mnist.npz",
        "new": [],
        "sim": [],
        # 60k pool: 25 random labels, then 25 per round up to 150 (45k train / 15k test).
        "sim_plan": dict(initial=25, batch=25, budget=150, repeats=2),
    },
    "ag_news": {
        "path": DATA / "ag_news_test" / "test.csv",
        "new": ["--text-column", "title", "--text-column", "description", "--task", "label=label"],
        "sim": ["--text-column", "title", "--text-column", "description"],
        "sim_plan": dict(initial=20, batch=20, budget=200, repeats=2),
    },
}


def _true_labels(name: str, path: Path):
    import numpy as np
    import pandas as pd

    if name == "fashion_mnist":
        return np.load(path)["y_train"]
    return pd.read_csv(path)["label"].to_numpy()


def make_project(name: str, spec: dict, workdir: Path, n_labels: int = 50) -> Path:
    """An ``activelab new`` project with ``n_labels`` random true labels (reused if present)."""
    import numpy as np

    from activelab.core.project.project import Project

    proj = workdir / name
    if not (proj / "project.sqlite").exists():
        subprocess.run(CLI + ["new", str(proj), "--data", str(spec["path"])] + spec["new"],
                       check=True, cwd=ROOT, capture_output=True)
    p = Project.open(proj)
    if p.labeled_count() == 0:
        y = _true_labels(name, spec["path"])
        for i in np.random.default_rng(0).choice(len(y), n_labels, replace=False):
            p.label(p.ids[i], str(y[i]))
    p.close()
    return proj


def time_queries(proj: Path, names: list[str]) -> list[tuple[str, str, str]]:
    """(strategy, cli_s, query_s) per strategy; an error message instead of a time on failure."""
    from activelab.core.errors import ActiveLabError
    from activelab.core.loop.cycle import make_queue, train
    from activelab.core.project.project import Project

    p = Project.open(proj)
    snap = p.training_snapshot()
    state, _ = train(snap)
    rows = []
    for name in names:
        t0 = time.perf_counter()
        proc = subprocess.run(CLI + ["query", str(proj), "-n", "100", "--strategy", name],
                              cwd=ROOT, capture_output=True, text=True)
        cli = time.perf_counter() - t0
        if proc.returncode != 0:
            err = (proc.stderr.strip().splitlines() or ["failed"])[-1]
            rows.append((name, "-", err[:90]))
            print(f"  {name:26s} error: {err[:90]}", flush=True)
            continue
        t0 = time.perf_counter()
        try:
            make_queue(snap, state, n=100, strategy=name)
            q = f"{time.perf_counter() - t0:.2f}"
        except ActiveLabError as exc:
            q = f"error: {str(exc)[:80]}"
        rows.append((name, f"{cli:.1f}", q))
        print(f"  {name:26s} cli {cli:6.1f} s   query {q} s", flush=True)
    p.close()
    return rows


def simulate_table(name: str, spec: dict, names: list[str], workdir: Path) -> str:
    from activelab.core.cli.simulate import add_parser, load_labeled
    from activelab.core.progress import NULL_PROGRESS
    from activelab.core.simulation.simulate import simulate
    from activelab.core.simulation.report import format_summary

    ap = argparse.ArgumentParser()
    add_parser(ap.add_subparsers(dest="command", required=True))
    args = ap.parse_args(["simulate", "--data", str(spec["path"]), "--label-column", "label"]
                         + spec["sim"])
    X, dense, y, _ = load_labeled(args, workdir / f"{name}-sim-cache", NULL_PROGRESS)
    t0 = time.perf_counter()
    result = simulate(X, y, X_dense=dense, strategies=names, seed=0, name=name,
                      **spec["sim_plan"])
    took = time.perf_counter() - t0
    return format_summary(result) + f"\n(simulation took {took:.0f} s)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", help="where the projects live (default: a temporary folder)")
    ap.add_argument("--quick", action="store_true", help="AG News only, 3 strategies")
    args = ap.parse_args()
    from activelab.core.querying.registry import registry

    names = registry().names()
    datasets = dict(DATASETS)
    if args.quick:
        names = ["random", "entropy", "bald"]
        datasets = {"ag_news": DATASETS["ag_news"]}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        out = [f"activelab strategies on real data ({time.strftime('%Y-%m-%d %H:%M')}, "
               f"model logistic_regression, 2-core machine shared with other work)"]
        for ds, spec in datasets.items():
            if not spec["path"].exists():
                out.append(f"\n{ds}: {spec['path']} not found, skipped")
                continue
            print(f"{ds}: creating the project and labeling 50 samples", flush=True)
            proj = make_project(ds, spec, workdir)
            out.append(f"\n== {ds}: one query of 100 after 50 labels ==")
            out.append(f"{'strategy':26s} {'cli_s':>7s} {'query_s':>8s}")
            rows = time_queries(proj, names)
            for s, cli, q in rows:
                out.append(f"{s:26s} {cli:>7s} {q:>8s}" if cli != "-"
                           else f"{s:26s} {'-':>7s}  {q}")
            ok = [s for s, cli, _ in rows if cli != "-"]
            plan = spec["sim_plan"]
            print(f"{ds}: simulating {len(ok)} strategies", flush=True)
            out.append(f"\n== {ds}: simulate, {plan['initial']} random + {plan['batch']} per "
                       f"round to {plan['budget']} labels, {plan['repeats']} repeats ==")
            out.append(simulate_table(ds, spec, ok, workdir))
    text = "\n".join(out)
    print(text)
    dest = ROOT / "benchmarks" / "results" / "strategies_real_data.txt"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(text + "\n")


if __name__ == "__main__":
    main()
