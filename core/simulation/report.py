"""What a simulation tells the user: the summary, a fixed-width table, curves.csv/png.

The area under the learning curve (AULC) is the trapezoid area of accuracy over the number of
labels divided by the label range, so it is a mean accuracy over the labeling run (0..1) and
comparable between runs with different budgets. "Labels to 95%" is the number of labels from
which on test accuracy stays at or above 95% of the accuracy of a model fitted on the whole
training split of the same repeat (until the end of the run).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from activelab.core.simulation.simulate import SimulationResult

REFERENCE = "random"
TARGET_FRACTION = 0.95
LINESTYLES = ("-", (0, (6, 2)), "-.", (0, (1, 1.5)), (0, (3, 1, 1, 1, 1, 1)))

SUMMARY_COLUMNS = [
    "strategy", "aulc_accuracy", "aulc_accuracy_sd", "aulc_vs_random_ratio",
    "aulc_vs_random_diff", "aulc_macro_f1", "final_accuracy", "final_macro_f1",
    "labels_to_95", "reached_95", "repeats", "labels_to_95_vs_random",
]


def aulc(n_labels: np.ndarray, values: np.ndarray) -> float:
    """Normalized area under one learning curve (trapezoid / label range)."""
    order = np.argsort(n_labels)
    x = np.asarray(n_labels, dtype=np.float64)[order]
    v = np.asarray(values, dtype=np.float64)[order]
    if len(x) == 1 or x[-1] == x[0]:
        return float(v.mean())
    area = float(np.sum((x[1:] - x[:-1]) * (v[1:] + v[:-1]) / 2.0))
    return area / float(x[-1] - x[0])


def labels_to_reach(n_labels: np.ndarray, accuracy: np.ndarray, target: float,
                    sustained: bool = True) -> float:
    """Labels at which accuracy reaches ``target``; NaN when it does not within the run.

    sustained (the default): the first point from which accuracy stays >= target until the end
    of the run, so an early lucky spike followed by a dip (common in cold starts) does not count.
    Otherwise the first point at or above the target.
    """
    order = np.argsort(n_labels)
    ok = np.asarray(accuracy)[order] >= target
    x = np.asarray(n_labels)[order]
    if sustained:
        if not ok.size or not ok[-1]:
            return math.nan
        below = np.flatnonzero(~ok)
        return float(x[below[-1] + 1] if below.size else x[0])
    hit = np.flatnonzero(ok)
    return float(x[hit[0]]) if hit.size else math.nan


def summarize(curves: pd.DataFrame, full_accuracy: dict[int, float]) -> pd.DataFrame:
    """One row per strategy (in the order they appear in ``curves``); see SUMMARY_COLUMNS.

    labels_to_95 is the mean over the repeats that reached the target; reached_95 counts them
    (NaN labels_to_95 means no repeat reached it within the budget).
    """
    rows = []
    for name, g in curves.groupby("strategy", sort=False):
        per_rep = []
        for r, gr in g.groupby("repeat"):
            gr = gr.sort_values("n_labels")
            x = gr["n_labels"].to_numpy()
            target = TARGET_FRACTION * full_accuracy[int(r)]
            per_rep.append((
                aulc(x, gr["accuracy"].to_numpy()),
                aulc(x, gr["macro_f1"].to_numpy()),
                gr["accuracy"].iloc[-1],
                gr["macro_f1"].iloc[-1],
                labels_to_reach(x, gr["accuracy"].to_numpy(), target),
            ))
        a = np.array(per_rep, dtype=np.float64)
        reached = a[:, 4][~np.isnan(a[:, 4])]
        rows.append({
            "strategy": name,
            "aulc_accuracy": a[:, 0].mean(),
            "aulc_accuracy_sd": a[:, 0].std(ddof=1) if len(a) > 1 else 0.0,
            "aulc_macro_f1": a[:, 1].mean(),
            "final_accuracy": a[:, 2].mean(),
            "final_macro_f1": a[:, 3].mean(),
            "labels_to_95": reached.mean() if reached.size else math.nan,
            "reached_95": int(reached.size),
            "repeats": int(len(a)),
        })
    out = pd.DataFrame(rows)
    ref = out[out["strategy"] == REFERENCE]
    if len(ref):
        ref_aulc = float(ref["aulc_accuracy"].iloc[0])
        ref_labels = float(ref["labels_to_95"].iloc[0])
        out["aulc_vs_random_ratio"] = out["aulc_accuracy"] / ref_aulc if ref_aulc else math.nan
        out["aulc_vs_random_diff"] = out["aulc_accuracy"] - ref_aulc
        out["labels_to_95_vs_random"] = out["labels_to_95"] / ref_labels
    else:
        for c in ("aulc_vs_random_ratio", "aulc_vs_random_diff", "labels_to_95_vs_random"):
            out[c] = math.nan
    return out[SUMMARY_COLUMNS]


def _fmt(v: float, spec: str) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def _labels_vs_random(row: Any, ref_reached: bool, budget: Any) -> str:
    """Ratio of labels-to-95% against random; '<r' when random never got there (it would
    need more than the budget, so the true ratio is below labels / budget)."""
    if not math.isnan(row.labels_to_95_vs_random):
        return f"{row.labels_to_95_vs_random:.2f}x"
    if row.reached_95 and not ref_reached and budget:
        return f"<{row.labels_to_95 / float(budget):.2f}x"
    return "-"


def format_summary(result: "SimulationResult") -> str:
    """A readable fixed-width table with a short header on what was run."""
    s = result.settings
    full = np.array(list(result.full_accuracy.values()), dtype=np.float64)
    head = [
        f"Simulation{' of ' + result.name if result.name else ''}: model {s.get('model')}, "
        f"{s.get('repeats')} repeats, {s.get('initial')} initial + {s.get('batch')} per round "
        f"up to {s.get('budget')} labels; test split {s.get('n_test')} of {s.get('n_samples')}.",
        f"Full training split ({s.get('n_train')} labels) accuracy: {full.mean():.3f} "
        f"(target for 'labels to 95%': {TARGET_FRACTION * full.mean():.3f}).",
    ]
    head += [f"Note: {n}" for n in result.notes]
    cols = [("strategy", 18), ("AULC acc", 9), ("± sd", 7), ("vs random", 10), ("diff", 8),
            ("AULC F1", 8), ("final acc", 10), ("labels→95%", 12), ("vs random", 10)]
    ref = result.summary[result.summary["strategy"] == REFERENCE]
    ref_reached = bool(len(ref)) and int(ref["reached_95"].iloc[0]) > 0
    lines = ["  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(cols))]
    lines.append("-" * len(lines[0]))
    for row in result.summary.itertuples(index=False):
        if row.reached_95 == 0:
            labels = "not reached"
        elif row.reached_95 < row.repeats:
            labels = f"{row.labels_to_95:.0f} ({row.reached_95}/{row.repeats})"
        else:
            labels = f"{row.labels_to_95:.0f}"
        cells = [
            row.strategy, _fmt(row.aulc_accuracy, ".3f"), _fmt(row.aulc_accuracy_sd, ".3f"),
            _fmt(row.aulc_vs_random_ratio, ".3f") + "x" if not math.isnan(row.aulc_vs_random_ratio)
            else "-",
            _fmt(row.aulc_vs_random_diff, "+.3f"), _fmt(row.aulc_macro_f1, ".3f"),
            _fmt(row.final_accuracy, ".3f"), labels,
            _labels_vs_random(row, ref_reached, s.get("budget")),
        ]
        lines.append("  ".join(c.rjust(w) if i else c.ljust(w)
                               for i, (c, (_, w)) in enumerate(zip(cells, cols))))
    foot = ("AULC: mean accuracy over the run (area under the learning curve / label range). "
            "labels→95%: labels from which accuracy stays at or above 95% of the full-split "
            "accuracy (mean over the "
            "repeats that reached it; '(k/n)' when only k of n did; '<r' when random did not "
            "reach it within the budget).")
    return "\n".join(head + [""] + lines + ["", foot])


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
    full = float(np.mean(list(result.full_accuracy.values())))
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
        if metric == "accuracy":
            ax.axhline(full, color="black", linewidth=0.8, linestyle=":",
                       label=f"full training split ({full:.3f})")
            ax.axhline(TARGET_FRACTION * full, color="0.6", linewidth=0.8, linestyle=":",
                       label="95% of full")
        ax.set_xlabel("number of labels")
        ax.set_ylabel(f"{label} on the held-out split")
        ax.grid(True, alpha=0.3)
    axes[0].legend(loc="lower right", fontsize=8)
    s = result.settings
    title = f"Active-learning simulation{': ' + result.name if result.name else ''}"
    fig.suptitle(f"{title}  ({s.get('model')}, {s.get('repeats')} repeats; "
                 "line = mean, band = min–max)", fontsize=11)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    return path


def write_outputs(result: "SimulationResult", out_dir: str | Path) -> dict[str, Path]:
    """Write curves.csv, curves.png and summary.csv into out_dir (created); return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"curves_csv": out / "curves.csv", "summary_csv": out / "summary.csv",
             "curves_png": out / "curves.png"}
    result.curves.to_csv(paths["curves_csv"], index=False)
    summary = result.summary.copy()
    summary.insert(1, "full_accuracy_mean", float(np.mean(list(result.full_accuracy.values()))))
    summary.to_csv(paths["summary_csv"], index=False)
    plot_curves(result, paths["curves_png"])
    return paths
