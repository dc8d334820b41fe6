"""The first 50 labels: TypiClust against plain k-center (core-set) and random picks.

    ACTIVELAB_SHARED_DATA=/work/shared/data .venv/bin/python benchmarks/cold_start.py \
        > benchmarks/results/cold_start.txt

Per set, representation and seed: a seeded 75/25 pool/test split (pool capped, see the
header), then 50 labels picked in 5 batches of 10 by the registered strategy exactly as the
loop's cold start runs it (``run_strategy`` on the representation
``cold_start_representation`` chooses, the earlier picks as the labeled set, no model).
Reported: classes seen after 10, 20 and 50 picks, and the accuracy / macro-F1 on the test
rows of activelab's default model (logistic regression) trained on the 50 picks (on the
project's model features: the embeddings, or TF-IDF). Mean over seeds, ratio to random.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time

import numpy as np

from cold_start_data import LOADERS, TITLES, features, photo_features, split

from activelab.core.learning.models import make_model
from activelab.core.loop.cold_start import cold_start_representation
from activelab.core.querying.registry import registry
from activelab.core.querying.runner import run_strategy
from activelab.core.querying.strategy_api import QueryContext

STRATEGIES = ("random", "coreset", "typiclust")
CHECKPOINTS = (10, 20, 50)


def pick(name: str, rep: np.ndarray, n_pool: int, seed: int, budget: int, batch: int) -> np.ndarray:
    """Positions (in the pool) of ``budget`` picks, ``batch`` at a time."""
    strat = registry().get(name)
    rng = np.random.default_rng([seed, 7])
    chosen = np.empty(0, dtype=np.int64)
    while len(chosen) < budget:
        cand = np.setdiff1d(np.arange(n_pool), chosen)
        ctx = QueryContext(n_pool=n_pool, candidates=cand, rng=rng, labeled=chosen, features=rep)
        res = run_strategy(strat, ctx, min(batch, budget - len(chosen)))
        chosen = np.concatenate([chosen, res.indices])
    return chosen


def scores(model_X, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> tuple[float, float]:
    from sklearn.metrics import f1_score

    if len(set(y[train])) < 2:     # one class: the model predicts it everywhere
        pred = np.full(len(test), y[train][0])
    else:
        model = make_model("logistic_regression")
        model.fit(model_X[train], y[train])
        pred = model.predict(model_X[test])
    return float(np.mean(pred == y[test])), float(f1_score(y[test], pred, average="macro"))


def run_set(name: str, text: str, args: argparse.Namespace) -> list[str]:
    frame, y, classes = LOADERS[name]()
    t0 = time.perf_counter()
    if text == "photo":
        rep_all = model_all = photo_features(frame)
    else:
        fs = features(name, frame, text)
        rep_all = cold_start_representation(fs)
        model_all = fs.model_X
    featurise = time.perf_counter() - t0
    res: dict[str, list[list[float]]] = {s: [] for s in STRATEGIES}
    for seed in range(args.seeds):
        pool, test = split(len(y), seed, args.pool)
        rep = np.ascontiguousarray(rep_all[pool], dtype=np.float32)
        X_pool, X_test = model_all[pool], model_all[test]
        for s in STRATEGIES:
            chosen = pick(s, rep, len(pool), seed, max(CHECKPOINTS), args.batch)
            seen = [len(set(y[pool][chosen[:c]])) for c in CHECKPOINTS]
            acc, f1 = scores_split(X_pool, X_test, y[pool], y[test], chosen)
            res[s].append(seen + [acc, f1])
    n_cls = len(set(y))
    head = (f"-- {TITLES[name]}, {'photo: EfficientNet-Lite0' if text == 'photo' else text} "
            f"({n_cls} classes in the set; pool {min(args.pool, len(y) - len(y) // 4):,}; "
            f"featurised in {featurise:.0f} s) --")
    lines = [head, f"{'strategy':<12}" + "".join(f"{f'classes@{c}':>12}" for c in CHECKPOINTS)
             + f"{'acc@50':>16}{'macroF1@50':>16}{'acc ratio':>11}"]
    base = np.mean([r[3] for r in res["random"]])
    for s in STRATEGIES:
        a = np.array(res[s])
        lines.append(f"{s:<12}" + "".join(f"{a[:, i].mean():>12.2f}" for i in range(len(CHECKPOINTS)))
                     + f"{a[:, 3].mean():>9.3f} ± {a[:, 3].std(ddof=1):.3f}"
                     + f"{a[:, 4].mean():>9.3f} ± {a[:, 4].std(ddof=1):.3f}"
                     + f"{a[:, 3].mean() / base:>11.3f}")
    return lines


def scores_split(X_pool, X_test, y_pool, y_test, chosen) -> tuple[float, float]:
    import scipy.sparse as sp

    X = sp.vstack([X_pool, X_test]).tocsr() if sp.issparse(X_pool) else np.vstack([X_pool, X_test])
    y = np.concatenate([y_pool, y_test])
    return scores(X, y, chosen, np.arange(len(y_pool), len(y)))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--pool", type=int, default=4000, help="pool rows per seed (a subsample)")
    p.add_argument("--batch", type=int, default=10)
    p.add_argument("--sets", default="catalogue,trec,sms_spam,ag_news")
    p.add_argument("--texts", default="minilm,tfidf")
    p.add_argument("--no-photo", action="store_true")
    args = p.parse_args()
    print(f"Cold start: the first 50 labels ({time.strftime('%Y-%m-%d %H:%M')}; {args.seeds} "
          f"seeds, each its own 75/25 split, pool capped at {args.pool:,}, test at 2,000; picks "
          f"in batches of {args.batch}, no model; mean over seeds; 'acc ratio' = acc@50 / "
          "random's)", flush=True)
    print("Command: ACTIVELAB_SHARED_DATA=/work/shared/data .venv/bin/python "
          f"benchmarks/cold_start.py {shlex.join(sys.argv[1:])} > benchmarks/results/cold_start.txt",
          flush=True)
    print(flush=True)
    for name in args.sets.split(","):
        reps = args.texts.split(",") + (["photo"] if name == "catalogue" and not args.no_photo else [])
        for text in reps:
            for line in run_set(name, text, args):
                print(line, flush=True)
            print(flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
