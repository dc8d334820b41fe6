"""Tables and verdicts of the label-efficiency benchmark (``label_efficiency.py``).

Input: one row per task x text features x strategy, the engine's summary columns
(``activelab.core.simulation.summary.SUMMARY_COLUMNS``) plus task, features, split, sizes.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from activelab.core.simulation.summary import SUMMARY_COLUMNS

COLUMNS = ["task", "features", "split", "n_pool", "n_test", "full_macro_f1",
           "majority_macro_f1", "seconds"] + SUMMARY_COLUMNS + ["verdict"]
GOAL_RATIO = 0.6     # the issue's goal: labels to 95% <= 0.6x random's


def verdict(row: Any) -> str:
    """'above' / 'below' random when the paired 95% AULC interval lies wholly above / below 1,
    'tie' otherwise (within noise), '-' for random itself or no interval."""
    if row["strategy"] == "random":
        return "-"
    lo, hi = row["aulc_vs_random_low"], row["aulc_vs_random_high"]
    if lo is None or hi is None or math.isnan(lo) or math.isnan(hi):
        return "-"
    return "above" if lo > 1.0 else "below" if hi < 1.0 else "tie"


def verdicts(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    out["verdict"] = [verdict(r) for _, r in out.iterrows()]
    return out


def view(table: pd.DataFrame, text: str) -> pd.DataFrame:
    """One row set per task as a project with ``text`` text features sees it: text tasks
    measured with ``text``, the others ('-') as they are; a text task not measured with
    ``text`` (the product catalogue with MiniLM, when --minilm-sets leaves it out) keeps its
    TF-IDF rows."""
    has = set(table.loc[table["features"] == text, "task"])
    keep = (table["features"] == text) | (table["features"] == "-") | (
        (table["features"] == "tfidf") & ~table["task"].isin(has))
    return table[keep]


def record_counts(table: pd.DataFrame, text: str) -> pd.DataFrame:
    """Per strategy under ``text`` features: tasks above / tie / below random, the geometric
    mean and the worst AULC ratio, the median labels ratio."""
    t = view(verdicts(table), text)
    t = t[t["strategy"] != "random"]
    rows = []
    for name, g in t.groupby("strategy"):
        r = g["aulc_vs_random_ratio"].to_numpy(dtype=float)
        lab = g["labels_vs_random_ratio"].to_numpy(dtype=float)
        rows.append({
            "strategy": name, "tasks": len(g), "above": int((g["verdict"] == "above").sum()),
            "tie": int((g["verdict"] == "tie").sum()),
            "below": int((g["verdict"] == "below").sum()),
            "aulc_ratio_gmean": float(np.exp(np.nanmean(np.log(r)))),
            "aulc_ratio_worst": float(np.nanmin(r)),
            "labels_ratio_median": float(np.nanmedian(lab)) if np.isfinite(lab).any()
            else math.nan,
            "below_tasks": sorted(g.loc[g["verdict"] == "below", "task"]),
            "above_tasks": sorted(g.loc[g["verdict"] == "above", "task"]),
        })
    out = pd.DataFrame(rows)
    return out.sort_values(["below", "aulc_ratio_gmean"], ascending=[True, False])


def choose_default(table: pd.DataFrame, text: str) -> str:
    """The default strategy under ``text`` features: never below random beyond noise on any
    task; among those, the lowest median labels-to-target ratio to random (the issue's goal:
    fewer labels for 95% of the full-data macro-F1), then the highest geometric-mean AULC
    ratio. Raises ValueError when every strategy is below random somewhere."""
    c = record_counts(table, text)
    ok = c[c["below"] == 0].copy()
    if ok.empty:
        raise ValueError("Every strategy is below random on some task; no default qualifies.")
    ok["labels"] = ok["labels_ratio_median"].fillna(np.inf)
    ok["gain"] = -ok["aulc_ratio_gmean"]
    return str(ok.sort_values(["labels", "gain"]).iloc[0]["strategy"])


def choose_text_features(table: pd.DataFrame) -> str:
    """'minilm' when random's and the best strategy's AULC (macro-F1) are higher with MiniLM on
    the majority of text tasks, else 'tfidf'."""
    if not {"minilm", "tfidf"} <= set(table["features"]):
        return "tfidf"
    a = table[table["features"] != "-"].pivot_table(index=["task", "strategy"],
                                                    columns="features", values="aulc_macro_f1")
    a = a.dropna()
    if a.empty:
        return "tfidf"
    better = (a["minilm"] > a["tfidf"]).groupby(level="task").mean() > 0.5
    return "minilm" if better.mean() > 0.5 else "tfidf"


def _f(v: Any, spec: str = ".2f") -> str:
    try:
        return "-" if v is None or math.isnan(float(v)) else format(float(v), spec)
    except (TypeError, ValueError):
        return str(v)


def _ratio(r: Any, lo: Any, hi: Any) -> str:
    if _f(r) == "-":
        return "-"
    return f"{_f(r)} ({_f(lo)}-{_f(hi)})" if _f(lo) != "-" else _f(r)


def _row_text(r: Any) -> str:
    mark = {"above": "+", "below": "!", "tie": " ", "-": " "}[r["verdict"]]
    lab = _ratio(r["labels_vs_random_ratio"], r["labels_vs_random_low"],
                 r["labels_vs_random_high"])
    if lab != "-" and r["labels_vs_random_bounds"]:
        lab += "*"
    reached = f"{int(r['reached_target'])}/{int(r['repeats'])}"
    n = int(r["repeats"])
    plateau = _f(r["plateau_labels"], ".0f")
    if _has(r, "plateau_flat"):       # a censored median plateau: most runs did not flatten
        plateau = f"{plateau if plateau != '-' else '>budget'} ({int(r['plateau_flat'])}/{n})"
    stop = f"{_f(r['stop_labels'], '.0f')} ({int(r['stop_fired'])}/{n}) vs {plateau}"
    judged = int(r["stop_evaluated"]) if _has(r, "stop_evaluated") else n
    fc = f"{_f(r['forecast_error'], '.0%')} (n={int(r['forecast_evaluated'])})"
    if _has(r, "forecast_shown"):     # calibrated code: the shown forecasts and their interval
        fc += (f"; shown {_f(r['forecast_shown_error'], '.0%')} (n={int(r['forecast_shown'])}, "
               f"in 80% {int(r['forecast_covered'])}/{int(r['forecast_shown'])})")
    if _has(r, "level_error"):
        fc += f"; level {_f(r['level_error'], '.0%')} (n={int(r['level_evaluated'])})"
    return (f"{r['strategy']:<26s}{mark} {_ratio(r['aulc_vs_random_ratio'], r['aulc_vs_random_low'], r['aulc_vs_random_high']):<20s}"
            f"{_f(r['aulc_macro_f1'], '.3f'):>7s}  {lab:<21s}{reached:>6s}  {stop:<28s}"
            f"{int(r['stop_within_goal'])}/{judged}   {fc}")


def _has(r: Any, column: str) -> bool:
    """The row has ``column`` with a value (columns the summary code of this version gives)."""
    try:
        return not pd.isna(r[column])
    except KeyError:
        return False


def stop_legend() -> list[str]:
    """What the stop / forecast columns mean: the summary module's own words when it has
    them (``summary.legend``), else this table's."""
    from activelab.core.simulation import summary

    if hasattr(summary, "legend"):
        return list(summary.legend())
    return ["stop: median labels where the stopping rule fired (repeats fired) vs median "
            "plateau (where the curve flattens); 'in 15%': repeats firing within +-15% of "
            "their plateau. forecast: median |forecast - plateau| / plateau of the forecast "
            "made at a third of the budget."]


def format_tables(table: pd.DataFrame, header: str, default: str | None = None) -> str:
    """The printed report: one block per task x features, then each strategy's record and the
    chosen default; with ``default`` (the --defaults section: every task measured once with
    the project's default features) the goal lines of that strategy instead."""
    t = verdicts(table)
    lines = [header, "",
             "AULC ratio: strategy's area under the macro-F1 curve / random's, geometric mean "
             "of the paired per-repeat ratios (95% t interval); '+' interval above 1, '!' "
             "below 1.",
             "labels ratio: labels to reach 95% of the full-pool model's macro-F1 / random's, "
             "per repeat (paired); '*' some repeats entered as bounds (one side never reached "
             "it: the budget is used, pulling the ratio towards 1); 'reached' = repeats that "
             "reached the target.",
             *stop_legend(), ""]
    col = (f"{'strategy':<27s}{'AULC ratio':<20s}{'AULC':>7s}  {'labels ratio':<21s}"
           f"{'reached':>6s}  {'stop vs plateau':<28s}in 15%  forecast err")
    for (task, feat), g in t.groupby(["task", "features"], sort=False):
        first = g.iloc[0]
        lines.append(f"== {task} [{feat}] ({first['split']}, pool {int(first['n_pool'])}, test "
                     f"{int(first['n_test'])}; full-pool macro-F1 {first['full_macro_f1']:.3f}, "
                     f"majority {first['majority_macro_f1']:.3f}) ==")
        lines.append(col)
        lines.extend(_row_text(r) for _, r in g.iterrows())
        lines.append("")
    if default is not None:
        lines.extend(goal_lines(t, default, None))
        return "\n".join(lines)
    for text in [f for f in ("tfidf", "minilm") if f in set(t["features"])]:
        lines.append(f"== record per strategy, text tasks with {text} "
                     f"(tasks above / tie / below random) ==")
        c = record_counts(t, text)
        for _, r in c.iterrows():
            lines.append(f"{r['strategy']:<26s} above {r['above']}/{r['tasks']}, below "
                         f"{r['below']}; AULC ratio gmean {r['aulc_ratio_gmean']:.3f}, worst "
                         f"{r['aulc_ratio_worst']:.3f}; labels ratio median "
                         f"{_f(r['labels_ratio_median'])}"
                         + (f"; below on {', '.join(r['below_tasks'])}" if r["below"] else ""))
        lines.append("")
    feat = choose_text_features(t)
    try:
        best = choose_default(t, feat)
        lines.append(f"Default chosen: strategy {best}, text features {feat} (never below random "
                     "beyond noise on any task; then the lowest median labels ratio, then the "
                     "highest geometric-mean AULC ratio).")
        lines.extend(goal_lines(t, best, feat))
    except ValueError as exc:
        lines.append(f"No default qualifies: {exc}")
    return "\n".join(lines)


def goal_lines(table: pd.DataFrame, strategy: str, text: str | None) -> list[str]:
    """Per task: is the default's labels-to-95% ratio <= 0.6x random's (the issue's goal)?
    ``text``: the text features whose rows count (None: every row, the --defaults table)."""
    t = view(table, text) if text else table
    g = t[t["strategy"] == strategy]
    rand = t[t["strategy"] == "random"].set_index("task")
    out = [f"Goal (labels to 95% of full macro-F1 <= {GOAL_RATIO}x random's) with {strategy} + "
           f"{text or 'the default features'}:"]
    met, oks = 0, []
    for _, r in g.iterrows():
        if r["task"] not in rand.index:       # a slice run without random's rows
            continue
        ratio, hi = r["labels_vs_random_ratio"], r["labels_vs_random_high"]
        rr = rand.loc[r["task"]]
        if math.isnan(ratio):
            why = (f"no pair: neither reached the target in {int(r['repeats'])} repeats "
                   f"(strategy {int(r['reached_target'])}, random {int(rr['reached_target'])})")
            ok = False
        else:
            ok = ratio <= GOAL_RATIO
            why = (f"{ratio:.2f}x ({_f(r['labels_vs_random_low'])}-{_f(hi)}); reached "
                   f"{int(r['reached_target'])}/{int(r['repeats'])}, random "
                   f"{int(rr['reached_target'])}/{int(rr['repeats'])}")
        met += ok
        oks.append((r["task"], bool(ok)))
        out.append(f"  {r['task']:<26s} {'MET ' if ok else 'not '} {why}")
    out.append(f"  met on {met} of {len(g)} tasks")
    if text is None:        # the --defaults table: count data sets (the catalogue has tasks)
        sets: dict[str, list[bool]] = {}
        for task, ok in oks:
            sets.setdefault(set_of(task), []).append(ok)
        whole = [s for s, v in sets.items() if all(v)]
        most = [s for s, v in sets.items() if sum(v) * 2 > len(v) and not all(v)]
        out.append(f"  data sets: met on every task of {len(whole)} of {len(sets)} sets "
                   f"({', '.join(whole) or 'none'})"
                   + (f"; on most tasks of {', '.join(most)}" if most else ""))
    return out


def set_of(task: str) -> str:
    """The shared data set a task comes from (the catalogue's tasks share one)."""
    return "products" if task.startswith("products_") else task


def records_from(table: pd.DataFrame, t: pd.DataFrame) -> dict[str, Any]:
    """The JSON record shipped with the package: per features, per strategy, its counts and
    per-task AULC ratios; the chosen default strategy and text features."""
    feats = [f for f in ("tfidf", "minilm") if f in set(t["features"])]
    data: dict[str, Any] = {"strategies": {}, "default_text_features": choose_text_features(t)}
    data["default_strategy"] = choose_default(t, data["default_text_features"])
    for text in feats:
        c = record_counts(t, text)
        v = view(t, text)
        for _, r in c.iterrows():
            per_task = v[v["strategy"] == r["strategy"]]
            entry = data["strategies"].setdefault(r["strategy"], {})
            entry[text] = {
                "tasks": int(r["tasks"]), "above": int(r["above"]), "tie": int(r["tie"]),
                "below": int(r["below"]),
                "aulc_ratio_gmean": round(float(r["aulc_ratio_gmean"]), 4),
                "aulc_ratio_worst": round(float(r["aulc_ratio_worst"]), 4),
                "below_tasks": list(r["below_tasks"]),
                "aulc_ratio": {row["task"]: round(float(row["aulc_vs_random_ratio"]), 4)
                               for _, row in per_task.iterrows()},
            }
    return data
