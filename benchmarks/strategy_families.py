"""The losers fixed or flagged, the two new families and ``auto``, on shared text sets.

For each set (a seeded, class-stratified subsample, so one run finishes in minutes on a
shared 2-core machine) and each representation (raw TF-IDF, pretrained MiniLM sentence
embeddings), ``simulate`` runs every strategy from the same start sets, paired against
random in the same run. Printed: AULC (accuracy) ratio to random with its 95% interval, and
the final accuracy difference.

* losers: core-set and density weighting on raw TF-IDF (the old behaviour, forced by giving
  the raw dense view as the representation) and on MiniLM; BALD with the bootstrap stand-in
  (the old behaviour) against margin (what it falls back to now).
* families: EGL, error prediction, and auto against the best fixed strategy of its
  portfolio in hindsight (highest mean AULC over the same repeats).

    ACTIVELAB_SHARED_DATA=/work/shared/data python benchmarks/strategy_families.py \\
        --sets ag_news,trec --rows 3000 --repeats 3 --out benchmarks/results/strategy_families.txt
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from activelab.core.cli.simulate import add_parser, load_labeled
from activelab.core.simulation.simulate import simulate

DATA = Path(os.environ.get("ACTIVELAB_SHARED_DATA", "../shared/data"))
PORTFOLIO = ["margin", "entropy", "badge", "density_weighted", "random"]


def _subsample(frame: pd.DataFrame, label: str, rows: int, seed: int = 0) -> pd.DataFrame:
    share = min(1.0, rows / len(frame))
    rng = np.random.default_rng(seed)
    keep = [rng.choice(idx, size=max(1, int(round(share * len(idx)))), replace=False)
            for idx in frame.groupby(label).indices.values()]
    order = rng.permutation(np.concatenate(keep))
    return frame.iloc[order].reset_index(drop=True)


def _set(name: str, rows: int, tmp: Path) -> tuple[Path, list[str]]:
    """A CSV of the subsample and its simulate arguments (label and text columns)."""
    if name == "ag_news":
        f = pd.read_csv(DATA / "ag_news_test" / "test.csv")
        f = _subsample(f, "label", rows)
        args = ["--label-column", "label", "--text-column", "title", "--text-column",
                "description"]
    elif name == "trec":
        lines = (DATA / "trec" / "train_5500.label").read_text(encoding="latin-1").splitlines()
        f = pd.DataFrame({"label": [ln.split(":", 1)[0] for ln in lines],
                          "text": [ln.split(" ", 1)[1] for ln in lines]})
        f = _subsample(f, "label", rows)
        args = ["--label-column", "label", "--text-column", "text"]
    elif name == "sms_spam":
        f = pd.read_csv(DATA / "sms_spam" / "SMSSpamCollection", sep="\t")
        f = _subsample(f, "Label", rows)
        args = ["--label-column", "Label", "--text-column", "SMS"]
    else:
        raise SystemExit(f"unknown set {name}")
    path = tmp / f"{name}.csv"
    f.to_csv(path, index=False)
    return path, args


def _features(path: Path, args: list[str], text: str, cache: Path):
    ap = argparse.ArgumentParser()
    add_parser(ap.add_subparsers(dest="command", required=True))
    ns = ap.parse_args(["simulate", "--data", str(path), *args, "--text-features", text,
                        "--strategies", "random", "--no-progress"])
    X, dense, y, _ = load_labeled(ns, cache, None)
    return X, dense, y


def _rows(result, set_name: str, features: str, label=lambda s: s) -> list[dict]:
    out = []
    for r in result.summary.itertuples():
        out.append({"set": set_name, "features": features, "strategy": label(r.strategy),
                    "aulc": r.aulc_accuracy, "ratio": r.aulc_vs_random_ratio,
                    "low": r.aulc_vs_random_low, "high": r.aulc_vs_random_high,
                    "final": r.final_accuracy})
    return out


def run_set(name: str, rows: int, repeats: int, budget: int, batch: int, tmp: Path,
            log) -> tuple[list[dict], list[dict]]:
    path, args = _set(name, rows, tmp)
    kw = dict(initial=batch, batch=batch, budget=budget, repeats=repeats, seed=0)
    losers, families = [], []
    for text in ("tfidf", "minilm"):
        t0 = time.perf_counter()
        X, dense, y = _features(path, args, text, tmp / f"cache-{name}-{text}")
        log(f"{name} {text}: features {X.shape} in {time.perf_counter() - t0:.0f} s")
        # The old behaviour: distances on whatever dense view there is, bootstrap BALD.
        before = simulate(X, y, X_dense=dense, strategies=["random", "coreset",
                          "density_weighted", "bald", "margin"], pretrained_dense=True,
                          bootstrap_stand_in=True, **kw)
        tag = "raw TF-IDF" if text == "tfidf" else "MiniLM"
        losers += _rows(before, name, tag,
                        lambda s: {"bald": "bald (bootstrap stand-in)"}.get(s, s))
        log(f"{name} {text}: losers done in {time.perf_counter() - t0:.0f} s")
        if text == "minilm" or name == "trec":
            fam = simulate(X, y, X_dense=dense, strategies=PORTFOLIO + ["egl",
                           "error_prediction", "auto", "bald"], pretrained_dense=text == "minilm",
                           **kw)
            fam_rows = _rows(fam, name, tag, lambda s: {"bald": "bald (now: margin)"}.get(s, s))
            families += fam_rows
            notes = [n for n in fam.notes if "fallback" in n or "raw" in n]
            for n in notes:
                log(f"  note: {n}")
            log(f"{name} {text}: families done in {time.perf_counter() - t0:.0f} s")
    return losers, families


def _table(rows: list[dict]) -> str:
    lines = [f"{'set':9} {'features':10} {'strategy':28} {'AULC':>6} {'vs random':>9} "
             f"{'95% interval':>15} {'final acc':>9}"]
    for r in rows:
        lines.append(f"{r['set']:9} {r['features']:10} {r['strategy']:28} {r['aulc']:6.3f} "
                     f"{r['ratio']:9.3f} {r['low']:7.3f}–{r['high']:6.3f} {r['final']:9.3f}")
    return "\n".join(lines)


def _auto_vs_hindsight(rows: list[dict]) -> str:
    df = pd.DataFrame(rows)
    out = ["set       features   auto AULC  best fixed in hindsight      its AULC  auto/best"]
    for (s, f), g in df.groupby(["set", "features"], sort=False):
        members = g[g["strategy"].isin(PORTFOLIO)]
        best = members.loc[members["aulc"].idxmax()]
        auto = g[g["strategy"] == "auto"].iloc[0]
        out.append(f"{s:9} {f:10} {auto['aulc']:9.3f}  {best['strategy']:27} "
                   f"{best['aulc']:8.3f}  {auto['aulc'] / best['aulc']:9.3f}")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="ag_news,trec")
    ap.add_argument("--rows", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--budget", type=int, default=200)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--out", default=None)
    ap.add_argument("--cache", default=None, help="keep the features here between runs")
    a = ap.parse_args()
    import tempfile

    lines: list[str] = []

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    losers, families = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(a.cache) if a.cache else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for s in a.sets.split(","):
            lo, fa = run_set(s.strip(), a.rows, a.repeats, a.budget, a.batch, folder, log)
            losers += lo
            families += fa
    head = (f"# {a.rows} rows per set (class-stratified subsample), 25% held out, "
            f"logistic regression, start {a.batch} random labels, batches of {a.batch}, "
            f"budget {a.budget}, {a.repeats} repeats (paired with random on the same start "
            "sets); AULC of accuracy; 'vs random': paired geometric-mean AULC ratio with its "
            "95% interval.\n# command: ACTIVELAB_SHARED_DATA=/work/shared/data python "
            f"benchmarks/strategy_families.py --sets {a.sets} --rows {a.rows} --repeats "
            f"{a.repeats} --budget {a.budget} --batch {a.batch}")
    lines += [head, "", "## Losers: before (raw representation, bootstrap BALD) and on MiniLM",
              _table(losers), "", "## New families and auto (MiniLM; TREC also on TF-IDF)",
              _table(families), "", "## auto against the best fixed portfolio member in hindsight",
              _auto_vs_hindsight(families)]
    text = "\n".join(lines)
    print(text)
    if a.out:
        Path(a.out).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
