"""From zero labels: how many labels until every class has been seen, on imbalanced sets.

    ACTIVELAB_SHARED_DATA=/work/shared/data .venv/bin/python benchmarks/zero_shot.py \
        > benchmarks/results/zero_shot.txt

Every method but random runs activelab's own loop (``train`` + ``make_queue``, batches of 10,
the default settings: strategy, model, 10% audit picks) on MiniLM sentence embeddings, and
the simulated expert labels each queued sample with its true class:

* random          — labels in a uniformly random order (200 orders per pool, so its row is
                    the expectation rather than the luck of a few orders);
* k-center        — the loop with the old cold start (greedy k-center) and no zero-shot;
* typiclust       — the loop's cold start (TypiClust), no zero-shot;
* zero-shot       — the loop with zero-shot suggestions from the class names (the default
                    when the text features are sentence embeddings): before the first model
                    half of each batch, after it a fifth, is the likeliest sample of a class
                    nobody has labeled yet;
* zero-shot+desc  — the same with a one-line description per class (``class_descriptions``,
                    the texts in cold_start_data.DESCRIPTIONS).

Reported per method: labels until every class was seen (mean and median over seeds; a seed
that had not seen them all by the budget counts as the budget, and "reached" says how many
did), the ratio of the mean to random's, the classes seen in the first 50 labels, and for the
zero-shot runs how many of the first 50
queued samples showed a suggestion (zero-shot before the first model, the model's after it,
zero-shot again on a pick looking for an unseen class) and how many of those were right (the
expert confirms instead of typing). Audit picks hide their suggestion in the app but count here.
The suggestions' own top-1 accuracy on the whole pool is printed beside each set.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time

import numpy as np

from cold_start_data import DESCRIPTIONS, LOADERS, TITLES, features, split

from activelab.core.data.spec import DatasetSpec, TaskSpec
from activelab.core.features.feature_set import FeatureSet
from activelab.core.learning.zero_shot import zero_shot_suggestions
from activelab.core.loop import cycle
from activelab.core.loop.settings import Settings

METHODS = ("random", "k-center", "typiclust", "zero-shot", "zero-shot+desc")


def run_loop(fs: FeatureSet, y: np.ndarray, spec: DatasetSpec, settings: Settings,
             budget: int, batch: int) -> tuple[int | None, int, int, int]:
    """(labels when the last class was first seen or None, suggestions shown in the first 50
    labels, of which right, classes seen in the first 50 labels)."""
    n = len(y)
    classes = set(y)          # every class present in the pool (a class list may hold more)
    rows: list[int] = []
    state = None
    version = 0
    all_seen, shown, right = None, 0, 0
    while len(rows) < budget and (all_seen is None or len(rows) < 50):
        mask = np.ones(n, dtype=bool)
        mask[rows] = False
        labeled = {"label": (np.asarray(rows, dtype=np.int64), [y[r] for r in rows])} if rows else {}
        snap = cycle.Snapshot(spec=spec, settings=settings, features=fs,
                              ids=tuple(map(str, range(n))), labeled=labeled,
                              candidates=np.flatnonzero(mask).astype(np.int64), audit_records=(),
                              event_seq=len(rows), version=version + 1, n_labels=len(rows),
                              previous=state)
        if len({y[r] for r in rows}) >= 2:
            state, _ = cycle.train(snap)
            version += 1
        for it in cycle.make_queue(snap, state, n=batch):
            if len(rows) < 50 and "label" in it.predictions:
                shown += 1
                right += int(str(it.predictions["label"].label) == y[it.idx])
            rows.append(int(it.idx))
            if all_seen is None and {y[r] for r in rows} >= classes:
                all_seen = len(rows)
    return all_seen, shown, right, len({y[r] for r in rows[:50]})


def random_order(y: np.ndarray, budget: int, rng: np.random.Generator
                 ) -> tuple[int | None, int, int, int]:
    """run_loop's figures for labels in a random order (no suggestions)."""
    order = rng.permutation(len(y))[:max(budget, 50)]
    at50 = len(set(y[order[:50]]))
    seen: set[str] = set()
    target = set(y)
    for k, r in enumerate(order[:budget], start=1):
        seen.add(y[r])
        if seen >= target:
            return k, 0, 0, at50
    return None, 0, 0, at50


def run_set(name: str, args: argparse.Namespace) -> list[str]:
    frame, y_all, classes = LOADERS[name]()
    fs_all = features(name, frame, "minilm")
    spec = DatasetSpec(text_columns=("text",), tasks=(TaskSpec("label", tuple(classes)),))
    results: dict[str, list[tuple[int | None, int, int, int]]] = {m: [] for m in METHODS}
    zs_acc = {}
    for seed in range(args.seeds):
        pool, _test = split(len(y_all), seed, args.pool)
        y = y_all[pool]
        fs = FeatureSet(dense=np.asarray(fs_all.dense[pool]),
                        blocks={"text": np.asarray(fs_all.blocks["text"][pool])})
        for desc_name, desc in (("names", {}), ("desc", {"label": DESCRIPTIONS[name]})):
            p, _ = zero_shot_suggestions(fs, spec, desc)
            zs_acc.setdefault(desc_name, []).append(
                float(np.mean(np.asarray(classes)[p["label"].argmax(axis=1)] == y)))
        rng = np.random.default_rng([seed, 3])     # random: its expectation, 200 orders a pool
        for _ in range(200):
            results["random"].append(random_order(y, args.budget, rng))
        for method in METHODS[1:]:
            cycle.COLD_START_STRATEGY = "coreset" if method == "k-center" else "typiclust"
            settings = Settings(seed=seed, zero_shot=method.startswith("zero-shot"),
                                class_descriptions={"label": DESCRIPTIONS[name]}
                                if method == "zero-shot+desc" else {})
            results[method].append(run_loop(fs, y, spec, settings, args.budget, args.batch))
        cycle.COLD_START_STRATEGY = "typiclust"
    counts = {c: int(np.sum(y_all == c)) for c in classes}
    rarest = min((c for c in counts if counts[c] >= 20), key=counts.get)
    absent = [c for c in classes if counts[c] == 0] + [
        c for c in classes if 0 < counts[c] < 20]
    note = (f"; classes with fewer than 20 rows in the set (may be absent from a pool; "
            f"'every class' = every class in the pool): {', '.join(absent)}" if absent else "")
    lines = [f"-- {TITLES[name]}: {len(y_all):,} rows{note}; rarest class {rarest!r} "
             f"{counts[rarest] / len(y_all):.1%}; zero-shot top-1 accuracy on the pool: names "
             f"{np.mean(zs_acc['names']):.3f}, names+descriptions {np.mean(zs_acc['desc']):.3f} --",
             f"{'method':<16}{'labels to see all classes':>27}{'median':>8}{'reached':>9}"
             f"{'ratio':>8}{'classes@50':>11}{'suggestions right in first 50':>32}"]
    base = np.mean([r[0] if r[0] is not None else args.budget for r in results["random"]])
    for m in METHODS:
        v = np.array([r[0] if r[0] is not None else args.budget for r in results[m]], float)
        reached = sum(r[0] is not None for r in results[m])
        shown = sum(r[1] for r in results[m])
        right = sum(r[2] for r in results[m])
        conf = f"{right / max(len(results[m]), 1):.1f} of {shown / max(len(results[m]), 1):.1f} shown" \
            if m.startswith("zero-shot") else "-"
        lines.append(f"{m:<16}{v.mean():>21.1f} ± {v.std(ddof=1):>4.1f}{np.median(v):>8.0f}"
                     f"{f'{reached}/{len(v)}':>9}{v.mean() / base:>8.2f}"
                     f"{np.mean([r[3] for r in results[m]]):>11.2f}{conf:>32}")
    return lines


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--pool", type=int, default=4000, help="pool rows per seed (a subsample)")
    p.add_argument("--batch", type=int, default=10)
    p.add_argument("--budget", type=int, default=200)
    p.add_argument("--sets", default="sms_spam,trec,catalogue")
    args = p.parse_args()
    print(f"From zero labels: labels until every class is seen ({time.strftime('%Y-%m-%d %H:%M')}"
          f"; {args.seeds} seeds, each its own 75% pool capped at {args.pool:,} rows; batches of "
          f"{args.batch}; budget {args.budget} (not reached = counted as {args.budget}); MiniLM "
          "sentence embeddings; default settings otherwise)", flush=True)
    print("Command: ACTIVELAB_SHARED_DATA=/work/shared/data .venv/bin/python "
          f"benchmarks/zero_shot.py {shlex.join(sys.argv[1:])} > benchmarks/results/zero_shot.txt",
          flush=True)
    print(flush=True)
    for name in args.sets.split(","):
        for line in run_set(name, args):
            print(line, flush=True)
        print(flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
