"""What a simulation tells the user: the printed tables, curves.csv/png, summary.csv, table.csv.

The figures themselves are computed in ``activelab.core.simulation.summary`` (see its module
doc for the definitions: AULC, labels to the target with censoring, paired ratios to random
with intervals, the stopping rule against the plateau, the forecast's error). summary.csv holds
one row per strategy and repeat, so every printed figure can be recomputed from it
(``strategy_table(pd.read_csv("summary.csv"))`` gives table.csv).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from activelab.core.loop.stopping import AGGREGATE, KAPPA_THRESHOLD, SPAN, WINDOW
from activelab.core.simulation.summary import (  # noqa: F401  (re-exported for callers)
    REFERENCE, REPEAT_COLUMNS, STOP_GOAL, SUMMARY_COLUMNS, TARGET_FRACTION, aulc, legend,
    labels_to_reach, strategy_table,
)

if TYPE_CHECKING:
    from activelab.core.simulation.simulate import SimulationResult

LINESTYLES = ("-", (0, (6, 2)), "-.", (0, (1, 1.5)), (0, (3, 1, 1, 1, 1, 1)))
METRIC_NAMES = {"accuracy": "accuracy", "macro_f1": "macro-F1"}
BELOW_BASELINE = ("target below the majority-class baseline: a constant model reaches it")


def _fmt(v: Any, spec: str) -> str:
    if v is None:
        return "-"
    try:
        if math.isnan(float(v)):
            return "-"
    except (TypeError, ValueError):
        return str(v)
    return format(v, spec)


def labels_cell(row: Any, budget: Any) -> str:
    """'140 (5/5)', '160 (3/5)', '> 300 (2/5 reached)' or 'not reached (> 300)'."""
    n, k = int(row.repeats), int(row.reached_target)
    if k == 0:
        return f"not reached (> {budget})"
    if row.labels_to_target_censored:
        return f"> {budget} ({k}/{n} reached)"
    return f"{row.labels_to_target:.0f} ({k}/{n})"


def ratio_cell(ratio: float, low: float, high: float, star: bool = False, digits: int = 2) -> str:
    """'0.62x (0.50–0.75)' (no interval with a single pair), '-' without pairs; '*' marks a
    ratio where some repeats entered as bounds."""
    if ratio is None or math.isnan(ratio):
        return "-"
    text = f"{ratio:.{digits}f}x"
    if low is not None and not math.isnan(low):
        text += f" ({low:.{digits}f}–{high:.{digits}f})"
    return text + ("*" if star else "")


def _row_line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    lines = [_row_line(header, widths)]
    lines.append("-" * len(lines[0]))
    lines += [_row_line(r, widths) for r in rows]
    return lines


def format_summary(result: "SimulationResult") -> str:
    """The printed report: what was run, the references, the strategy table, the stopping
    rule and forecast table, and what each column means."""
    s = result.settings
    rows = result.per_repeat
    table = result.summary
    metric = s.get("target_metric", "accuracy")
    mname = METRIC_NAMES.get(metric, metric)
    target = float(s.get("target", TARGET_FRACTION))
    budget = s.get("budget")
    first = rows.drop_duplicates("repeat") if len(rows) else rows
    where = (f"the fixed test set ({s.get('n_test'):,} rows; features fitted on the pool only)"
             if s.get("test_data") else
             f"a held-out split of {s.get('n_test'):,} of {s.get('n_samples'):,} rows "
             "(stratified, a new split per repeat)")
    head = [
        f"Simulation{' of ' + result.name if result.name else ''}: model {s.get('model')}, "
        f"{s.get('repeats')} repeats, {s.get('initial')} initial + {s.get('batch')} per round "
        f"up to {budget} labels; pool {s.get('n_train'):,} rows; evaluated on {where}.",
    ]
    if len(first):
        head.append(
            f"Full-data model ({s.get('n_train'):,} labels): accuracy "
            f"{first['full_accuracy'].mean():.3f}, macro-F1 {first['full_macro_f1'].mean():.3f}. "
            f"Majority-class baseline: accuracy {first['majority_accuracy'].mean():.3f}, "
            f"macro-F1 {first['majority_macro_f1'].mean():.3f}.")
        tv = first["target_value"]
        base = first[f"majority_{metric}"]
        head.append(f"Target: {target:.0%} of the full-data model's {mname} = {tv.mean():.3f} "
                    f"(mean over repeats; each repeat uses its own full-data model).")
        below = int((tv <= base).sum())
        if below:
            head.append(f"FLAG: {BELOW_BASELINE} ({below}/{len(first)} repeats: target "
                        f"{tv.mean():.3f} <= baseline {base.mean():.3f}). Use a higher --target "
                        "or --target-metric macro_f1.")
    head += [f"Note: {n}" for n in result.notes]
    lab_head = f"labels→{target:.0%}"
    header = ["strategy", "AULC acc", "± sd", "AULC F1", "final acc", "final F1",
              f"AULC {mname} vs random", lab_head, "vs random"]
    body = []
    for row in table.itertuples(index=False):
        body.append([
            row.strategy, _fmt(row.aulc_accuracy, ".3f"), _fmt(row.aulc_accuracy_sd, ".3f"),
            _fmt(row.aulc_macro_f1, ".3f"), _fmt(row.final_accuracy, ".3f"),
            _fmt(row.final_macro_f1, ".3f"),
            ratio_cell(row.aulc_vs_random_ratio, row.aulc_vs_random_low,
                       row.aulc_vs_random_high, digits=3),
            labels_cell(row, budget),
            ratio_cell(row.labels_vs_random_ratio, row.labels_vs_random_low,
                       row.labels_vs_random_high,
                       star=bool(row.labels_vs_random_bounds and row.labels_vs_random_bounds > 0)),
        ])
    lines = head + [""] + _table(header, body)
    lines += ["", *_stop_lines(result)]
    foot = [
        f"AULC: mean score over the run (area under the learning curve / label range). "
        f"{lab_head}: labels from which {mname} stays at or above {target:.0%} of the "
        "full-data model's; median over repeats, an unreached repeat counting as more than "
        "the budget; (k/n): repeats that reached it.",
        "vs random: per repeat (same seed, same start set) strategy / random, geometric mean "
        "and 95% paired t interval over repeats. Labels: when only one of the pair reached the "
        "target within the budget, the repeat enters as a bound (budget in place of the "
        "missing count), marked *; repeats where neither reached it are left out.",
    ]
    return "\n".join(lines + [""] + foot)


def _stop_lines(result: "SimulationResult") -> list[str]:
    s = result.settings
    table = result.summary
    if not len(table) or table["stop_evaluated"].isna().all():
        return []
    metric = METRIC_NAMES.get(s.get("target_metric", "accuracy"), "accuracy")
    budget = s.get("budget")
    header = ["strategy", "plateau at (flat)", "rule fires at", f"within ±{STOP_GOAL:.0%}",
              "forecast", "forecast error"]
    body = []
    for row in table.itertuples(index=False):
        n = int(row.repeats)
        fires = (f"{row.stop_labels:.0f} ({int(row.stop_fired)}/{n})" if row.stop_fired
                 else f"never (0/{n})")
        err = (f"{row.forecast_error:.0%} (n={int(row.forecast_evaluated)})"
               if row.forecast_evaluated else "- (n=0)")
        plateau = (f"> {budget}" if row.plateau_labels != row.plateau_labels
                   else f"{row.plateau_labels:.0f}")
        body.append([row.strategy, f"{plateau} ({int(row.plateau_flat)}/{n})", fires,
                     f"{int(row.stop_within_goal)}/{int(row.stop_evaluated)}",
                     _fmt(row.forecast_labels, ".0f"), err])
    window = s.get("stop_window", WINDOW)
    how = {"each": "each of", "mean": "the mean of",
           "trend": "the fitted trend of the kappas at each of"}[
        s.get("stop_aggregate", AGGREGATE)]
    intro = (f"When to stop: the stopping rule (Bloodgood & Vijay-Shanker 2009; {how} {window} "
             f"successive kappas >= {s.get('stop_kappa', KAPPA_THRESHOLD):g} between models "
             f"{SPAN} labels apart, on {s.get('stop_set_size', 0):,} pool samples) against the "
             f"true plateau of {metric}, and the forecast made at {budget / 3:.0f} labels (a "
             "third of the budget; inverse power law) against what happened.")
    return [intro, ""] + _table(header, body) + legend()


def plot_curves(result: "SimulationResult", path: str | Path) -> Path:
    """curves.png: mean line and min-max band per strategy; accuracy and macro-F1 panels.

    Uses matplotlib's Agg canvas directly (no pyplot, no global backend switch), so it is safe
    to call from a worker thread of the GUI.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.5), dpi=110)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 2)
    s = result.settings
    first = result.per_repeat.drop_duplicates("repeat") if len(result.per_repeat) else None
    target = float(s.get("target", TARGET_FRACTION))
    where = "the test set" if s.get("test_data") else "the held-out split"
    for ax, metric, label in ((axes[0], "accuracy", "Accuracy"), (axes[1], "macro_f1", "Macro-F1")):
        for k, name in enumerate(result.strategies):
            g = result.curves[result.curves["strategy"] == name]
            stats = g.groupby("n_labels")[metric].agg(["mean", "min", "max"]).sort_index()
            x = stats.index.to_numpy()
            # Different dashes keep identical curves (e.g. margin = least confidence on binary
            # tasks) visible on top of each other.
            style = ({"color": "0.35", "linestyle": "--"} if name == REFERENCE
                     else {"linestyle": LINESTYLES[k % len(LINESTYLES)]})
            (line,) = ax.plot(x, stats["mean"].to_numpy(), label=name, linewidth=1.8, **style)
            ax.fill_between(x, stats["min"].to_numpy(), stats["max"].to_numpy(),
                            color=line.get_color(), alpha=0.15, linewidth=0)
        if first is not None:
            full = float(first[f"full_{metric}"].mean())
            base = float(first[f"majority_{metric}"].mean())
            ax.axhline(full, color="black", linewidth=0.8, linestyle=":",
                       label=f"full data ({full:.3f})")
            ax.axhline(base, color="firebrick", linewidth=0.8, linestyle=":",
                       label=f"majority class ({base:.3f})")
            if metric == s.get("target_metric", "accuracy"):
                ax.axhline(target * full, color="0.6", linewidth=0.8, linestyle="--",
                           label=f"target: {target:.0%} of full")
            ax.legend(loc="lower right", fontsize=8)
        ax.set_xlabel("number of labels")
        ax.set_ylabel(f"{label} on {where}")
        ax.grid(True, alpha=0.3)
    title = f"Active-learning simulation{': ' + result.name if result.name else ''}"
    fig.suptitle(f"{title}  ({s.get('model')}, {s.get('repeats')} repeats; "
                 "line = mean, band = min–max)", fontsize=11)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    return path


def write_outputs(result: "SimulationResult", out_dir: str | Path) -> dict[str, Path]:
    """Write curves.csv (one row per fitted model), summary.csv (one row per strategy and
    repeat: REPEAT_COLUMNS), table.csv (the printed strategy table), kappas.csv (the stopping
    rule's successive kappas per round) and curves.png into out_dir (created); return the
    paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"curves_csv": out / "curves.csv", "summary_csv": out / "summary.csv",
             "table_csv": out / "table.csv", "kappas_csv": out / "kappas.csv",
             "curves_png": out / "curves.png"}
    result.curves.to_csv(paths["curves_csv"], index=False)
    result.kappas.to_csv(paths["kappas_csv"], index=False)
    result.per_repeat.to_csv(paths["summary_csv"], index=False)
    result.summary.to_csv(paths["table_csv"], index=False)
    plot_curves(result, paths["curves_png"])
    return paths
