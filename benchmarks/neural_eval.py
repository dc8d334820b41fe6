"""Evidence for the neural models (issue 5). Prints tables; run from the repo root:

    python -m benchmarks.neural_eval timing modalities alignment bald

timing:     cold vs warm-started retrain at 500 labels (multimodal 3 tasks, CNN single task)
modalities: multimodal vs image-only vs text-only, and multi-task vs single-task, per task
alignment:  InfoNCE alignment on/off at 50/100/200 labels (unlabeled pool rows used)
bald:       BALD (MC dropout) vs entropy vs random on Fashion-MNIST with the torch CNN
"""
from __future__ import annotations

import os
import sys
import time

import numpy as np

from benchmarks.neural_data import TASKS, fashion_mnist, fashion_products
from core.neural.classifier import TorchClassifier
from core.neural.multimodal import MultimodalClassifier

SEEDS = tuple(int(s) for s in os.environ.get("NEURAL_BENCH_SEEDS", "0,1").split(","))
N_TEST = 2000


def _split(n: int, seed: int = 123):
    order = np.random.default_rng(seed).permutation(n)
    return order[N_TEST:], order[:N_TEST]


def _rows(blocks, idx):
    return {k: v[idx] for k, v in blocks.items()}


def _tasks(labels, names=TASKS):
    return {t: (sorted({v for v in labels[t] if v is not None}), False) for t in names}


def _acc(model, blocks, labels, idx, names=TASKS):
    pred = model.predict(_rows(blocks, idx))
    out = {}
    for t in names:
        truth = labels[t][idx]
        ok = np.array([v is not None for v in truth])
        out[t] = float((pred[t][ok] == truth[ok]).mean())
    return out


MAX_EPOCHS = 40  # bounds a cold fit's time on the shared 2-core machine


def _model(tasks, shape, threads=2, **kw):
    kw.setdefault("max_epochs", MAX_EPOCHS)
    return MultimodalClassifier(tasks=tasks, image_shape=shape, n_threads=threads, **kw)


def timing() -> None:
    blocks, shape, labels = fashion_products()
    train, _ = _split(len(labels[TASKS[0]]))
    rng = np.random.default_rng(0)
    lab = rng.choice(train, 510, replace=False)
    tasks = _tasks(labels)
    print("\n## Retrain time at 500 labels (+10 new), 2 torch threads")
    print("| model | cold fit s | cold epochs | warm fit s | warm epochs |")
    print("|---|---|---|---|---|")
    for threads in (2,):
        t = time.perf_counter()
        cold = _model(tasks, shape, threads).fit(_rows(blocks, lab[:500]), {k: v[lab[:500]] for k, v in labels.items() if k in TASKS})
        tc = time.perf_counter() - t
        t = time.perf_counter()
        warm = _model(tasks, shape, threads).fit(_rows(blocks, lab), {k: v[lab] for k, v in labels.items() if k in TASKS}, init_from=cold)
        tw = time.perf_counter() - t
        print(f"| multimodal 3 tasks, {threads} thread(s) | {tc:.1f} | {cold.n_epochs_} | {tw:.1f} | {warm.n_epochs_} |")
    y = labels["masterCategory"]
    ok = lab[np.array([v is not None for v in y[lab]])]
    img = blocks["image"]
    t = time.perf_counter()
    cold = TorchClassifier(arch="cnn", hidden=(128,), image_shape=shape, n_threads=2).fit(img[ok[:-10]], y[ok[:-10]].astype(str))
    tc = time.perf_counter() - t
    t = time.perf_counter()
    warm = TorchClassifier(arch="cnn", hidden=(128,), image_shape=shape, n_threads=2).fit(img[ok], y[ok].astype(str), init_from=cold)
    tw = time.perf_counter() - t
    print(f"| torch_cnn masterCategory, 2 threads | {tc:.1f} | {cold.n_epochs_} | {tw:.1f} | {warm.n_epochs_} |")
    t = time.perf_counter()
    cold.predict_proba_samples(img, 20)
    print(f"\nMC dropout, 20 samples over the 9,583-product pool (CNN): {time.perf_counter() - t:.1f} s")


def modalities(budgets=(100, 500)) -> None:
    blocks, shape, labels = fashion_products()
    train, test = _split(len(labels[TASKS[0]]))
    tasks = _tasks(labels)
    print("\n## Accuracy per task on 2,000 held-out products (mean over seeds 0, 1)")
    print("| labels | model | " + " | ".join(TASKS) + " |")
    print("|---|---|" + "---|" * len(TASKS))
    for budget in budgets:
        rows: dict[str, list] = {}
        for seed in SEEDS:
            lab = np.random.default_rng(seed).choice(train, budget, replace=False)
            y = {t: labels[t][lab] for t in TASKS}
            for name, mods in (("image + text (multimodal, concat)", ("image", "text")),
                               ("image + text (attention fusion)", ("image", "text")),
                               ("image only", ("image",)), ("text only", ("text",))):
                b = {m: blocks[m] for m in mods}
                fusion = "attention" if "attention" in name else "concat"
                m = _model(tasks, shape, random_state=seed, fusion=fusion).fit(_rows(b, lab), y)
                rows.setdefault(name, []).append(_acc(m, b, labels, test))
            per_task = {}
            for t in TASKS:
                m = _model({t: tasks[t]}, shape, random_state=seed).fit(_rows(blocks, lab), {t: y[t]})
                per_task.update(_acc(m, blocks, labels, test, (t,)))
            rows.setdefault("single-task nets (one multimodal net per task)", []).append(per_task)
        for name, accs in rows.items():
            cells = " | ".join(f"{np.mean([a[t] for a in accs]):.3f}" for t in TASKS)
            print(f"| {budget} | {name} | {cells} |", flush=True)


def alignment(budgets=(50, 100, 200)) -> None:
    blocks, shape, labels = fashion_products()
    train, test = _split(len(labels[TASKS[0]]))
    tasks = _tasks(labels)
    print("\n## Alignment (symmetric InfoNCE, weight 1.0, 3,000 unlabeled pool rows) on/off")
    print("| labels | alignment | " + " | ".join(TASKS) + " |")
    print("|---|---|" + "---|" * len(TASKS))
    for budget in budgets:
        res: dict[str, list] = {}
        for seed in SEEDS:
            rng = np.random.default_rng(seed)
            lab = rng.choice(train, budget, replace=False)
            unl = rng.choice(np.setdiff1d(train, lab), 3000, replace=False)
            y = {t: labels[t][lab] for t in TASKS}
            for name, w in (("off", 0.0), ("on", 1.0)):
                m = _model(tasks, shape, random_state=seed, align_weight=w)
                m.fit(_rows(blocks, lab), y, X_unlabeled=_rows(blocks, unl) if w else None)
                res.setdefault(name, []).append(_acc(m, blocks, labels, test))
        for name, accs in res.items():
            cells = " | ".join(f"{np.mean([a[t] for a in accs]):.3f}" for t in TASKS)
            print(f"| {budget} | {name} | {cells} |", flush=True)


def bald(pool=5000, start=20, batch=20, budget=200) -> None:
    from core.query_runner import run_strategy
    from core.registry import get_strategy
    from core.strategy_api import QueryContext, TaskOutput

    X, y, Xt, yt = fashion_mnist()
    print(f"\n## Fashion-MNIST: torch CNN, pool {pool}, test 2,000, {start} random then batches "
          f"of {batch} to {budget} (mean over seeds 0, 1)")
    curves: dict[str, list[list[float]]] = {}
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        pidx = rng.choice(len(X), pool, replace=False)
        tidx = rng.choice(len(Xt), 2000, replace=False)
        Xp, yp = X[pidx], y[pidx]
        for name in ("bald", "entropy", "random"):
            strat = get_strategy(name)
            labeled = rng.choice(pool, start, replace=False)
            srng = np.random.default_rng(seed + 10)
            model, accs = None, []
            while True:
                model = TorchClassifier(arch="cnn", hidden=(64,), dropout=0.3, image_shape=(1, 28, 28),
                                        random_state=seed, n_threads=2).fit(Xp[labeled], yp[labeled], init_from=model)
                accs.append(float((model.predict(Xt[tidx]) == yt[tidx]).mean()))
                if len(labeled) >= budget:
                    break
                cand = np.setdiff1d(np.arange(pool), labeled)
                out = TaskOutput(proba=model.predict_proba(Xp),
                                 mc_samples=model.predict_proba_samples(Xp, 20) if name == "bald" else None)
                ctx = QueryContext(n_pool=pool, candidates=cand, rng=srng, labeled=labeled, tasks={"y": out})
                labeled = np.concatenate([labeled, run_strategy(strat, ctx, batch).indices])
            curves.setdefault(name, []).append(accs)
    steps = list(range(start, budget + 1, batch))
    print("| strategy | " + " | ".join(str(s) for s in steps) + " | mean (AULC) |")
    print("|---|" + "---|" * (len(steps) + 1))
    for name, cs in curves.items():
        m = np.mean(cs, axis=0)
        print(f"| {name} | " + " | ".join(f"{a:.3f}" for a in m) + f" | {m.mean():.3f} |", flush=True)


if __name__ == "__main__":
    for section in sys.argv[1:] or ["timing", "modalities", "alignment", "bald"]:
        t0 = time.perf_counter()
        globals()[section]()
        print(f"({section}: {time.perf_counter() - t0:.0f} s)", flush=True)
