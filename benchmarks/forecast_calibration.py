"""Where the forecast's interval factor and withholding thresholds come from
(``activelab.core.loop.forecast_trust``), recomputed from the curves kept by
benchmarks/stopping_forecast.py.

    ACTIVELAB_SHARED_DATA=/work/shared/data .venv/bin/python benchmarks/forecast_calibration.py

For every kept run (strategy x repeat) the app's forecast (``default_target``: two points above
the curve) is made from the points up to 20%, 27%, 33%, 40% and 50% of the budget, with the raw
(uncalibrated) bootstrap interval, and compared with the labels at which the smoothed curve
reached that level for good. On the dev sets only (SMS spam, AG News, TREC) the split-conformal
factor is the 80th percentile of |log(actual / point)| / max(log half-width, LOG_FLOOR) over the
forecasts that are not withheld; the held-out sets then report the coverage that factor gives.
Written to benchmarks/results/forecast_calibration.txt (about a minute on one core).
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DEV_SETS = ("sms_spam", "ag_news", "trec")
FRACTIONS = (0.2, 0.27, 1 / 3, 0.4, 0.5)


def forecasts(folder: Path, budget: int) -> pd.DataFrame:
    """One row per (run, fraction): cur, point, raw low/high, actual (NaN: not reached)."""
    from activelab.core.loop.forecast import default_target, forecast
    from activelab.core.simulation.plateau import sustained_reach

    curves = pd.read_csv(folder / "curves.csv")
    rows = []
    for (strategy, repeat), g in curves.groupby(["strategy", "repeat"]):
        g = g.sort_values("n_labels")
        x, v = g["n_labels"].to_numpy(float), g["macro_f1"].to_numpy(float)
        for frac in FRACTIONS:
            early = x <= budget * frac
            if len(np.unique(x[early])) < 4:
                continue
            target = default_target(x[early], v[early])
            if target is None:
                continue
            f = forecast(x[early], v[early], target, seed=int(repeat), n_boot=100,
                         calibrated=False)
            rows.append({"task": folder.name, "strategy": strategy, "repeat": repeat,
                         "frac": frac, "cur": x[early].max(), "point": f.labels,
                         "low": f.low, "high": f.high,
                         "actual": sustained_reach(x, v, target)})
    return pd.DataFrame(rows)


def scores(d: pd.DataFrame, floor: float) -> np.ndarray:
    """|log(actual / point)| over the side's floored log half-width."""
    lr = np.log(d["actual"] / d["point"])
    up = np.log(d["high"] / d["point"])
    down = np.log(d["point"] / d["low"].clip(lower=1.0))
    return np.abs(lr) / np.maximum(np.where(lr > 0, up, down), floor)


def main(argv: list[str] | None = None) -> int:
    from activelab.core.loop.forecast_trust import LOG_FLOOR, SCALE, withhold_reason

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", default=str(RESULTS / "stopping_forecast_runs"))
    p.add_argument("--budget", type=int, default=1000)
    p.add_argument("--results", default=str(RESULTS / "forecast_calibration.txt"))
    args = p.parse_args(argv)
    folders = [d for d in sorted(Path(args.runs).iterdir()) if (d / "curves.csv").is_file()]
    df = pd.concat([forecasts(d, args.budget) for d in folders], ignore_index=True)
    df["dev"] = df["task"].str.startswith(DEV_SETS)
    ev = df[df["actual"].notna() & (df["actual"] > df["cur"])].copy()
    ev["shown"] = [withhold_reason(r.point, r.cur, r.high) is None for r in ev.itertuples()]
    ev["err"] = np.abs(ev["point"] - ev["actual"]) / ev["actual"]
    ev["raw_in"] = (ev["low"] <= ev["actual"]) & (ev["actual"] <= ev["high"])
    dev_shown = ev[ev["dev"] & ev["shown"]]
    factor = float(np.quantile(scores(dev_shown, LOG_FLOOR), 0.8, method="higher"))
    runs = Path(args.runs).resolve()
    shown_runs = runs.relative_to(HERE.parent) if runs.is_relative_to(HERE.parent) else runs
    lines = [f"Forecast calibration from {shown_runs} (forecasts from "
             f"{', '.join(f'{f:.0%}' for f in FRACTIONS)} of the {args.budget}-label budget; "
             f"evaluable: the level was reached after the forecast).",
             f"split-conformal factor on the dev sets ({', '.join(DEV_SETS)}): {factor:.2f} "
             f"(LOG_FLOOR {LOG_FLOOR}); the one in forecast_trust.SCALE: {SCALE}.",
             "Command: ACTIVELAB_SHARED_DATA=/work/shared/data .venv/bin/python "
             "benchmarks/forecast_calibration.py", ""]
    for dev in (True, False):
        e = ev[ev["dev"] == dev]
        s = e[e["shown"]]
        cal = float(np.mean(scores(s, LOG_FLOOR) <= SCALE)) if len(s) else math.nan
        lines.append(
            f"{'dev' if dev else 'held-out'}: {len(e)} forecasts; raw bootstrap '80%' interval "
            f"held the actual in {e['raw_in'].mean():.0%}; median error {e['err'].median():.0%}. "
            f"Withheld {int((~e['shown']).sum())}/{len(e)}; shown: median error "
            f"{s['err'].median():.0%}, raw interval {s['raw_in'].mean():.0%}, calibrated "
            f"interval {cal:.0%} (goal 80%).")
    text = "\n".join(lines)
    print(text)
    Path(args.results).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
