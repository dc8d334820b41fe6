"""Suspect labels on real data: do the suspects find flipped labels, and does relabelling them
in rank order recover the clean model sooner than relabelling in random order?

    ACTIVELAB_SHARED_DATA=/work/shared/data nice -n 10 .venv/bin/python benchmarks/label_suspects.py \
        > benchmarks/results/label_suspects.txt

Per data set (the label-efficiency benchmark's seeded pool/test split, its cached features of
the project's default text representation) and repeat: 5% of the pool's imported labels are
flipped to another class at random (seeded); ``activelab.core.quality.suspects.find_suspects`` (the
project's model, out-of-fold by the project's fold rule, then cleanlab's confident learning)
ranks the suspects. Reported:

- suspects flagged, and precision / recall of the top 5% of the pool (as many as were
  flipped; fewer when fewer were flagged) against the flipped labels;
- test accuracy of the project's model (logistic regression) trained on the clean pool
  labels, on the noisy ones, and after relabelling k samples with their true label: in rank
  order (the suspects, then the rest at random) and, the peer, in random order. "relabels to
  recover": the smallest k on the grid (multiples of the flips: 0.1, 0.2, … 1, 1.25, 1.5, 2,
  3, 5, 10, 20 = the whole pool) whose accuracy reaches the clean model's (and comes within
  half a point of it); the ratio random / ranked (> 1: rank order needs fewer); "gap closed": (accuracy after as many relabels as
  flips - noisy) / (clean - noisy), over the repeats where the flips cost accuracy at all.

The test rows are never flipped. Mean (± std) over repeats.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from label_efficiency_data import LOADERS  # noqa: E402

from activelab.core.data.spec import TaskSpec  # noqa: E402
from activelab.core.learning.fitting import Fitter  # noqa: E402
from activelab.core.learning.models import resolve_model  # noqa: E402
from activelab.core.quality.suspects import find_suspects  # noqa: E402

TITLES = {"sms_spam": "SMS spam (ham/spam)", "ag_news": "AG News (4 topics)",
          "trec": "TREC coarse (6)", "adult_census": "Adult census income"}
#: "recovered": test accuracy at least the clean model's minus a tolerance (0: reached;
#: 0.005: within half a point, about one standard error of accuracy on 1,000 test rows at 0.9)
TOLS = (0.0, 0.005)
#: relabels, in multiples of the number of flipped labels (20 x 5% = the whole pool)
GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0)


def features(name: str, text: str, args: argparse.Namespace):
    """(task, pool_X, test_X): the split and features the label-efficiency benchmark caches
    (computed and cached the same way when missing)."""
    from label_efficiency import cached_features

    task = LOADERS[name](args.pool, args.test, args.seed)[0]
    ns = argparse.Namespace(out=args.features_cache, image="pixels", pool=args.pool,
                            test=args.test, seed=args.seed, fresh=False)
    pool_X, _dense, test_X = cached_features(task, text, ns)
    return task, pool_X, test_X


def accuracy(fitter: Fitter, spec: TaskSpec, X, y, test_X, test_y) -> float:
    model = fitter.fit_task(X, list(y), spec.classes)
    pred = np.asarray(spec.classes, dtype=object)[model.predict_proba(test_X).argmax(axis=1)]
    return float(np.mean(pred == test_y))


def curve(order: np.ndarray, fitter, spec, X, noisy, clean, test_X, test_y, n_flips: int
          ) -> list[float]:
    """Test accuracy after relabelling the first k of ``order`` (k on GRID x n_flips)."""
    out = []
    for g in GRID:
        y = noisy.copy()
        k = min(len(order), int(round(g * n_flips)))
        y[order[:k]] = clean[order[:k]]
        out.append(accuracy(fitter, spec, X, y, test_X, test_y))
    return out


def recovered_at(accs: list[float], target: float, n_flips: int, tol: float) -> float:
    """Relabels at the first grid point within ``tol`` of ``target`` (inf: never on the grid)."""
    for g, a in zip(GRID, accs):
        if a >= target - tol - 1e-12:
            return g * n_flips
    return float("inf")


def run_set(name: str, args: argparse.Namespace) -> list[str]:
    t0 = time.perf_counter()
    task, pool_X, test_X = features(name, args.text, args)
    clean = task.pool[task.label].astype(str).to_numpy(dtype=object)
    test_y = task.test[task.label].astype(str).to_numpy(dtype=object)
    classes = tuple(sorted(set(clean) | set(test_y)))
    spec = TaskSpec(name="label", classes=classes)
    fitter = Fitter(resolve_model(args.model))
    n = len(clean)
    rows = np.arange(n, dtype=np.int64)
    ids = [f"r{i}" for i in range(n)]
    clean_acc = accuracy(fitter, spec, pool_X, clean, test_X, test_y)
    res: dict[str, list[float]] = {k: [] for k in (
        "flagged", "prec", "rec", "prec_all", "rec_all", "noisy", "ranked_1x", "random_1x",
        "secs", "closed_ranked", "closed_random",
        *(f"{o}_at{t}" for o in ("ranked", "random") for t in TOLS))}
    for r in range(args.repeats):
        rng = np.random.default_rng([args.seed, r, 12])
        n_flips = int(round(args.noise * n))
        flipped = np.sort(rng.choice(n, size=n_flips, replace=False))
        noisy = clean.copy()
        for i in flipped:
            noisy[i] = rng.choice([c for c in classes if c != clean[i]])
        t1 = time.perf_counter()
        found = find_suspects(fitter, pool_X, {"label": (rows, list(noisy))}, [spec], ids,
                              seed=args.seed)["label"]
        res["secs"].append(time.perf_counter() - t1)
        ranked = np.asarray([s.idx for s in found.suspects], dtype=np.int64)
        is_flip = np.isin(ranked, flipped)
        top = is_flip[:n_flips]
        res["flagged"].append(len(ranked))
        res["prec"].append(float(top.mean()) if len(top) else 0.0)
        res["rec"].append(float(top.sum()) / n_flips)
        res["prec_all"].append(float(is_flip.mean()) if len(ranked) else 0.0)
        res["rec_all"].append(float(is_flip.sum()) / n_flips)
        rest = rng.permutation(np.setdiff1d(rows, ranked))
        order_ranked = np.concatenate([ranked, rest])
        order_random = rng.permutation(n)
        acc_ranked = curve(order_ranked, fitter, spec, pool_X, noisy, clean, test_X, test_y, n_flips)
        acc_random = curve(order_random, fitter, spec, pool_X, noisy, clean, test_X, test_y, n_flips)
        res["noisy"].append(acc_ranked[0])
        for tol in TOLS:
            res[f"ranked_at{tol}"].append(recovered_at(acc_ranked, clean_acc, n_flips, tol))
            res[f"random_at{tol}"].append(recovered_at(acc_random, clean_acc, n_flips, tol))
        res["ranked_1x"].append(acc_ranked[GRID.index(1.0)])
        res["random_1x"].append(acc_random[GRID.index(1.0)])
        gap = clean_acc - acc_ranked[0]
        if gap > 0:
            res["closed_ranked"].append((acc_ranked[GRID.index(1.0)] - acc_ranked[0]) / gap)
            res["closed_random"].append((acc_random[GRID.index(1.0)] - acc_random[0]) / gap)
        print(f"  [{name} repeat {r}] flagged {len(ranked)}, top-{n_flips} precision "
              f"{res['prec'][-1]:.3f}; reached at {res['ranked_at0.0'][-1]} (ranked) vs "
              f"{res['random_at0.0'][-1]} (random); ranked {['%.3f' % a for a in acc_ranked]}; "
              f"random {['%.3f' % a for a in acc_random]}", file=sys.stderr, flush=True)

    def ms(key: str, fmt: str = ".3f") -> str:
        v = np.asarray(res[key], float)
        if not len(v):
            return "n/a"
        if not np.all(np.isfinite(v)):
            return f"{np.sum(~np.isfinite(v))}/{len(v)} never"
        return f"{v.mean():{fmt}} ± {v.std():{fmt}}"

    def ratio(tol: float) -> str:
        ra = np.asarray(res[f"random_at{tol}"], float)
        rr = np.asarray(res[f"ranked_at{tol}"], float)
        ok = np.all(np.isfinite(ra)) and np.all(np.isfinite(rr)) and np.mean(rr) > 0
        return f"{np.mean(ra) / np.mean(rr):.2f}" if ok else "n/a (see the counts)"

    def recover(tol: float) -> str:
        what = "reach the clean accuracy" if tol == 0 else f"come within {tol:.3f} of it"
        return (f"relabels to {what}: rank order {ms(f'ranked_at{tol}', '.0f')}, random order "
                f"{ms(f'random_at{tol}', '.0f')}; random / rank = {ratio(tol)}")

    def row(label: str, value: str) -> str:
        return f"{label:<40}{value}"

    n_flips = int(round(args.noise * n))
    return [
        f"-- {TITLES.get(name, name)}: pool {n:,}, test {len(test_y):,}, {len(classes)} classes, "
        f"{n_flips} labels flipped ({args.noise:.0%}); {args.text} features, model {args.model}; "
        f"{time.perf_counter() - t0:.0f} s --",
        row("suspects flagged", ms('flagged', '.1f')),
        row(f"precision @ top {n_flips} (5% of pool)", ms('prec')),
        row(f"recall @ top {n_flips} (5% of pool)", ms('rec')),
        row("precision / recall of all flagged", ms("prec_all") + " / " + ms("rec_all")),
        row("out-of-fold + cleanlab seconds", ms('secs', '.1f')),
        row("test accuracy: clean labels", f"{clean_acc:.3f}"),
        row("test accuracy: noisy labels", ms('noisy')),
        row(f"after {n_flips} relabels, rank order", ms('ranked_1x')),
        row(f"after {n_flips} relabels, random order", ms('random_1x')),
        f"gap closed by {n_flips} relabels ({len(res['closed_ranked'])} of {args.repeats} "
        f"repeats lost accuracy): rank order {ms('closed_ranked', '.2f')}, random order "
        f"{ms('closed_random', '.2f')}",
        *(recover(t) for t in TOLS),
        f"(relabel grid: 0.1 to 1 x {n_flips} in steps of 0.1, then 1.25, 1.5, 2, 3, 5, 10, "
        f"20 x = {GRID[-1] * n_flips:.0f}, the whole pool)",
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sets", default="sms_spam,ag_news")
    p.add_argument("--text", default="minilm", help="text features (default: the project's "
                   "default, MiniLM; tfidf without the embeddings extra)")
    p.add_argument("--model", default="logistic_regression")
    p.add_argument("--pool", type=int, default=4000)
    p.add_argument("--test", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--noise", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--features-cache", default=str(HERE / "results" / "label_efficiency_runs"
                                                    / "defaults"),
                   help="where the label-efficiency benchmark caches features (reused)")
    args = p.parse_args(argv)
    cmd = " ".join(shlex.quote(a) for a in [".venv/bin/python", "benchmarks/label_suspects.py",
                                            *(argv if argv is not None else sys.argv[1:])])
    print(f"Suspect labels on flipped labels ({time.strftime('%Y-%m-%d %H:%M')}; "
          f"{args.repeats} repeats, {args.noise:.0%} of the pool's labels flipped at random; "
          f"mean ± std over repeats)")
    print(f"Command: ACTIVELAB_SHARED_DATA=/work/shared/data nice -n 10 {cmd}\n", flush=True)
    for name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        for line in run_set(name, args):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
