"""How many of our modules one retrain walks through, and how often it hops between them.

    .venv/bin/python benchmarks/retrain_hops.py [--model logistic_regression] [--tasks 2]

Method: a two-task text project (150 samples, 24 labeled) is created and retrained once (to
warm imports); three more labels are added, then ``Project.retrain`` (the CLI's and the
app's retrain job both call ``activelab.core.loop.cycle.retrain_and_query``) runs under
``sys.setprofile``. Every Python call and return inside an ``activelab`` module is seen; a
*visit* is a step from one of our modules into another (a call into it, or a return back to
it), and a *return* is a visit to a module the walk was already in.

Two walks: "as read" follows each call (caller function -> called function) once, the way a
newcomer reads one retrain through the code: a call made again (in a loop, per fold, per
task) and everything under it is not followed again. "as run" counts every visit the running
program makes. "learning chain" leaves out the store and progress modules (persistence and
reporting, not the way from labels to the fitted model and the queue).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUTSIDE_CHAIN = ("activelab.core.store.", "activelab.core.progress")


def trace_retrain(model: str, n_tasks: int, job: bool = False, as_read: bool = False
                  ) -> list[tuple[str, str]]:
    """(module, "call" | "return") for every visit of one retrain: ``Project.retrain``, or
    with ``job`` the app's retrain job (``retrain_and_query`` on a snapshot); ``as_read``
    follows each call once (see the module doc)."""
    import pandas as pd

    sys.path.insert(0, str(ROOT))
    from activelab.core.project.project import Project
    from tests.core.helpers import write_text_csv

    tmp = Path(tempfile.mkdtemp())
    data = write_text_csv(tmp / "d.csv", n=150)
    tasks = ["topic=topic", "tags=tags"][:n_tasks]
    small = {"max_epochs": 3} if model.startswith(("torch", "multi", "deep")) else {}
    p = Project.create(tmp / "p", data=data, text_columns=["text"], tasks=tasks,
                       multilabel=["tags"] if n_tasks > 1 else [], model=model,
                       model_params=small, settings={"audit_rate": 0.0})
    truth = pd.read_csv(data).set_index("id")

    def label(ids):
        for sid in ids:
            values = {"topic": truth.loc[sid, "topic"]}
            if n_tasks > 1:
                values["tags"] = truth.loc[sid, "tags"].split("|")
            p.label_sample(sid, values)

    label(truth.index[:24])
    p.retrain()
    label(truth.index[24:27])
    hops: list[tuple[str, str]] = []
    stack: list[tuple[str, Any, bool]] = []      # (module, code, followed)
    seen_calls: set[tuple[Any, Any]] = set()

    def profile(frame, event, arg):
        if event not in ("call", "return"):
            return
        module = frame.f_globals.get("__name__", "")
        if not module.startswith("activelab"):
            return
        if event == "call":
            parent = stack[-1] if stack else None
            followed = True
            if as_read:
                edge = (parent[1] if parent else None, frame.f_code)
                followed = (parent is None or parent[2]) and edge not in seen_calls
                seen_calls.add(edge)
            if followed and (parent is None or parent[0] != module):
                hops.append((module, "call"))
            stack.append((module, frame.f_code, followed))
        elif stack:
            module, _, followed = stack.pop()
            if followed and stack and stack[-1][0] != module:
                hops.append((stack[-1][0], "return"))

    from activelab.core.loop.cycle import retrain_and_query

    snapshot = p.training_snapshot()
    sys.setprofile(profile)
    try:
        retrain_and_query(snapshot) if job else p.retrain()
    finally:
        sys.setprofile(None)
    return hops


def summary(hops: list[tuple[str, str]], keep=lambda m: True) -> tuple[int, int, int]:
    """(modules, hops, returns) over the hops whose module passes ``keep``; consecutive
    hops between left-out modules are merged."""
    kept: list[tuple[str, str]] = []
    for module, kind in hops:
        if keep(module) and (not kept or kept[-1][0] != module):
            kept.append((module, kind))
    seen: set[str] = set()
    returns = 0
    for module, _ in kept:
        returns += module in seen
        seen.add(module)
    return len(seen), len(kept), returns


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="logistic_regression")
    ap.add_argument("--tasks", type=int, default=2, choices=(1, 2))
    args = ap.parse_args()
    chain = lambda m: not m.startswith(OUTSIDE_CHAIN)  # noqa: E731
    print(f"one retrain, model {args.model}, {args.tasks} task(s)")
    print(f"{'':48s} {'modules':>8s} {'visits':>7s} {'returns':>8s}")
    read = None
    for walk in ("as read", "as run"):
        hops = trace_retrain(args.model, args.tasks, as_read=walk == "as read")
        job = trace_retrain(args.model, args.tasks, job=True, as_read=walk == "as read")
        read = read or job
        for name, (m, h, r) in ((f"{walk}: Project.retrain, every module", summary(hops)),
                                (f"{walk}: Project.retrain, learning chain", summary(hops, chain)),
                                (f"{walk}: app's retrain job, learning chain", summary(job, chain))):
            print(f"{name:48s} {m:8d} {h:7d} {r:8d}")
    print("\nthe app's retrain job as read, module by module:")
    print("  " + " > ".join(m.removeprefix("activelab.") for m, _ in read if chain(m)))


if __name__ == "__main__":
    main()
