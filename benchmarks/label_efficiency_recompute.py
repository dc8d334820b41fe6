"""Recompute the label-efficiency runs' per-repeat rows and per-strategy table (stopping rule,
plateau, forecast and every other column) from their kept curves and kappas with the current
code, without re-running the simulations.

    ACTIVELAB_SHARED_DATA=/work/shared/data .venv/bin/python benchmarks/label_efficiency_recompute.py \
        [--runs benchmarks/results/label_efficiency_runs/defaults]
    ACTIVELAB_SHARED_DATA=/work/shared/data .venv/bin/python benchmarks/label_efficiency.py \
        --defaults --assemble --set-budget trec=2000

For every run folder holding curves.csv and kappas.csv (``label_efficiency.py --defaults``
keeps them; the main table's runs kept only summary.csv, so their stop / forecast columns stay
as measured), the engine's own ``summary.per_repeat`` and ``strategy_table`` are applied to
the kept curves with the run's references (full-pool and majority scores, budget, target,
from its summary.csv); summary.csv and table.csv are rewritten (the task columns kept), and
settings.json gets the current evaluation-code fingerprint so ``--assemble`` takes the rows.
Columns that do not depend on the stopping or forecast code (AULC, labels to target) must come
out unchanged: the script checks that and stops with a message if they do not.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
RESULTS = HERE / "results"
UNCHANGED = ("aulc_macro_f1", "aulc_vs_random_ratio", "labels_to_target",
             "labels_vs_random_ratio", "reached_target")


def recompute(folder: Path) -> pd.DataFrame:
    """The run's table rows recomputed (and written back); returns the new table."""
    from label_efficiency import evaluation_code

    from activelab.core.simulation.summary import per_repeat, strategy_table

    old_rows = pd.read_csv(folder / "summary.csv")
    old_table = pd.read_csv(folder / "table.csv")
    curves, kappas = pd.read_csv(folder / "curves.csv"), pd.read_csv(folder / "kappas.csv")
    first = old_rows.drop_duplicates("repeat")
    full = {int(r.repeat): (r.full_accuracy, r.full_macro_f1) for r in first.itertuples()}
    majority = {int(r.repeat): (r.majority_accuracy, r.majority_macro_f1)
                for r in first.itertuples()}
    r0 = old_rows.iloc[0]
    rows = per_repeat(curves, full, majority, kappas, seed=int(r0["seed"]),
                      budget=int(r0["budget"]), target_metric=str(r0["target_metric"]),
                      target=float(r0["target_fraction"]))
    table = strategy_table(rows)
    extra = [c for c in old_table.columns if c not in table.columns]
    keep = old_table.set_index("strategy")[extra]
    columns = list(dict.fromkeys([*old_table.columns, *table.columns]))
    new = table.join(keep, on="strategy")[columns]
    for col in UNCHANGED:
        a, b = old_table[col].to_numpy(float), new[col].to_numpy(float)
        if not np.allclose(a, b, equal_nan=True):
            raise SystemExit(f"{folder}: column {col} changed on recomputation ({a} -> {b}); "
                             "the kept curves do not match the table, re-run the simulation.")
    rows.to_csv(folder / "summary.csv", index=False)
    new.to_csv(folder / "table.csv", index=False)
    settings = json.loads((folder / "settings.json").read_text())
    settings["evaluation_code"] = evaluation_code()
    (folder / "settings.json").write_text(json.dumps(settings))
    return new


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", default=str(RESULTS / "label_efficiency_runs" / "defaults"))
    args = p.parse_args(argv)
    folders = [d for d in sorted(Path(args.runs).iterdir())
               if (d / "curves.csv").is_file() and (d / "kappas.csv").is_file()]
    if not folders:
        raise SystemExit(f"No run under {args.runs} kept its curves and kappas.")
    for folder in folders:
        t = recompute(folder)
        print(f"{folder.name}: " + "; ".join(
            f"{r.strategy} stop {r.stop_labels:.0f} ({int(r.stop_fired)}/{int(r.repeats)}) "
            f"in 15% {int(r.stop_within_goal)}/{int(r.stop_evaluated)}"
            for r in t.itertuples()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
