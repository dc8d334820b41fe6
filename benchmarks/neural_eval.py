"""Evidence for the neural models (issue 5). Prints markdown tables; run from the repo root:

    python -m benchmarks.neural_eval [--seeds 0] [--text tfidf|minilm] [--bald-model torch_mlp|torch_cnn]
        [--batch 20 --budget 300]
        timing bald modalities alignment

timing:     cold vs warm-started retrain at 500 labels (+10 new): multimodal 3 tasks, torch_mlp
            on the title TF-IDF, torch_cnn on the photo; MC-dropout pool time
bald:       BALD (MC dropout) vs entropy vs random on Fashion-MNIST, torch_mlp on pixels, via
            activelab.core.simulation.simulate.simulate (pool 10,000, test 2,000, 20 + 20 per round to 300)
modalities: multimodal vs image-only vs text-only, and multi-task vs one single-task net per
            task, per task (accuracy / macro-F1 on 2,000 held-out products), 200 and 500
            random labels
alignment:  InfoNCE alignment on/off at 50/100/200 random labels (3,000 unlabeled pool rows)

Torch runs with one thread: on the shared, overloaded 2-core machine two OpenMP threads made
a CNN training step ~8x slower (0.30 s vs 0.04 s), so every model here has n_threads=1 (the
loop's default) unless a row says otherwise.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from sklearn.metrics import f1_score

from benchmarks.neural_data import TASKS, fashion_mnist, fashion_products
from activelab.core.learning.neural import base as neural_base
from activelab.core.learning.neural.classifier import TorchClassifier
from activelab.core.learning.neural.multimodal import MultimodalClassifier

N_TEST = 2000
MAX_EPOCHS = 40  # caps a cold fit on the shared machine (the registry default is 100)
OPTS = argparse.Namespace(seeds=(0,), text="tfidf", bald_model="torch_mlp", batch=20, budget=300)


def _split(n: int, seed: int = 123):
    """(train pool, fixed 2,000-product test split); the same for every arm and seed."""
    order = np.random.default_rng(seed).permutation(n)
    return order[N_TEST:], order[:N_TEST]


def _rows(blocks, idx):
    return {k: v[idx] for k, v in blocks.items()}


def _tasks(labels, names=TASKS):
    return {t: (sorted({v for v in labels[t] if v is not None}), False) for t in names}


def _scores(model, blocks, labels, idx, names=TASKS) -> dict[str, tuple[float, float]]:
    """{task: (accuracy, macro-F1)} on the rows of idx that carry a label for the task."""
    pred = model.predict(_rows(blocks, idx))
    out = {}
    for t in names:
        truth = labels[t][idx]
        ok = np.array([v is not None for v in truth])
        y, p = truth[ok].astype(str), pred[t][ok].astype(str)
        out[t] = (float((y == p).mean()), float(f1_score(y, p, average="macro")))
    return out


def _model(tasks, shape, **kw) -> MultimodalClassifier:
    kw.setdefault("max_epochs", MAX_EPOCHS)
    kw.setdefault("n_threads", 1)
    return MultimodalClassifier(tasks=tasks, image_shape=shape, **kw)


def _print_rows(budget, rows: dict[str, list[dict]], names=TASKS) -> None:
    for name, res in rows.items():
        cells = []
        for t in names:
            vals = [r[t] for r in res if t in r]
            acc = [v[0] for v in vals]
            sd = f" ±{np.std(acc, ddof=1):.3f}" if len(acc) > 1 else ""
            cells.append(f"{np.mean(acc):.3f}{sd} / {np.mean([v[1] for v in vals]):.3f}")
        print(f"| {budget} | {name} | " + " | ".join(cells) + " |", flush=True)


def _header(first: str) -> None:
    print(f"| labels | {first} | " + " | ".join(f"{t} acc ±sd / F1" for t in TASKS) + " |")
    print("|---|---|" + "---|" * len(TASKS))


def _timed(fn, repeats: int = 1):
    """(result, median seconds over ``repeats`` calls): the shared machine's load swings."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, float(np.median(times))


def timing() -> None:
    blocks, shape, labels = fashion_products(OPTS.text)
    train, _ = _split(len(labels[TASKS[0]]))
    lab = np.random.default_rng(0).choice(train, 510, replace=False)
    tasks = _tasks(labels)
    y500 = {t: labels[t][lab[:500]] for t in TASKS}
    y510 = {t: labels[t][lab] for t in TASKS}
    print(f"\n## Retrain time at 500 labels, then warm-started with 10 new labels (510); "
          f"text = {OPTS.text}, cold fits capped at {MAX_EPOCHS} epochs")
    print("| model | threads | cold fit s (epochs) | warm refit s, median of 3 (epochs) |")
    print("|---|---|---|---|")
    cold, tc = _timed(lambda: _model(tasks, shape).fit(_rows(blocks, lab[:500]), y500))
    warm, tw = _timed(lambda: _model(tasks, shape).fit(_rows(blocks, lab), y510, init_from=cold), 3)
    print(f"| multimodal, 3 tasks | 1 | {tc:.1f} ({cold.n_epochs_}) | {tw:.1f} ({warm.n_epochs_}) |")
    # the warm refit as it was before the warm caps (patience 5, no epoch cap)
    saved = neural_base.WARM_PATIENCE, neural_base.WARM_MAX_EPOCHS
    neural_base.WARM_PATIENCE, neural_base.WARM_MAX_EPOCHS = 10**6, 10**6
    try:
        old, to = _timed(lambda: _model(tasks, shape).fit(_rows(blocks, lab), y510, init_from=cold), 3)
    finally:
        neural_base.WARM_PATIENCE, neural_base.WARM_MAX_EPOCHS = saved
    print(f"| multimodal, 3 tasks, warm refit without the warm caps (before) | 1 | | "
          f"{to:.1f} ({old.n_epochs_}) |")
    w2, t2 = _timed(lambda: _model(tasks, shape, n_threads=2).fit(_rows(blocks, lab), y510, init_from=cold), 3)
    print(f"| multimodal, 3 tasks (2 torch threads) | 2 | | {t2:.1f} ({w2.n_epochs_}) |")
    _, tp = _timed(lambda: warm.predict_proba(blocks))
    _, ts = _timed(lambda: warm.predict_proba_samples(blocks, 20))
    y = labels["masterCategory"]
    ok = lab[np.array([v is not None for v in y[lab]])]
    for name, X, kw in (("torch_mlp on title " + OPTS.text, blocks["text"], dict(arch="mlp", hidden=(256,), dropout=0.2, max_epochs=100)),
                        ("torch_cnn on 32x32 photo", blocks["image"], dict(arch="cnn", hidden=(128,), dropout=0.3, max_epochs=60, image_shape=shape))):
        c, tc = _timed(lambda: TorchClassifier(**kw).fit(X[ok[:-10]], y[ok[:-10]].astype(str)))
        w, tw = _timed(lambda: TorchClassifier(**kw).fit(X[ok], y[ok].astype(str), init_from=c), 3)
        print(f"| {name}, masterCategory (registry defaults) | 1 | {tc:.1f} ({c.n_epochs_}) | "
              f"{tw:.1f} ({w.n_epochs_}) |", flush=True)
    print(f"\nMultimodal over the whole 9,583-product pool: predict_proba {tp:.1f} s, "
          f"20 MC-dropout samples {ts:.1f} s (1 thread).")


def bald(pool=10000, start=20) -> None:
    from activelab.core.simulation.simulate import simulate

    batch, budget = OPTS.batch, OPTS.budget
    X, y, _, _ = fashion_mnist()
    rng = np.random.default_rng(0)
    idx = rng.choice(len(X), pool + N_TEST, replace=False)
    model = OPTS.bald_model
    params = {"hidden": (256,), "dropout": 0.3, "max_epochs": 100, "n_threads": 1}
    if model == "torch_cnn":
        params = {"hidden": (128,), "dropout": 0.3, "max_epochs": 60, "n_threads": 1}
    res = simulate(X[idx], y[idx].astype(str), strategies=["bald", "entropy", "random"],
                   model=model, model_params=params, initial=start, batch=batch,
                   budget=budget, repeats=len(OPTS.seeds), test_size=N_TEST / (pool + N_TEST),
                   seed=OPTS.seeds[0])
    c = res.curves
    print(f"\n## Fashion-MNIST active learning: {model} {params} on 28x28 pixels, "
          f"{pool:,} pool + {N_TEST:,} test (stratified, from 12,000 random train images), "
          f"{start} random then {batch} per round to {budget}; "
          f"{len(OPTS.seeds)} repeat(s); BALD from 20 MC-dropout samples; cold refit per round")
    steps = sorted(c["n_labels"].unique())
    show = steps[:: -(-len(steps) // 8)]
    show = show if show[-1] == steps[-1] else show + [steps[-1]]
    print("| strategy | " + " | ".join(f"acc@{s}" for s in show) + " | mean acc (AULC) | mean macro-F1 |")
    print("|---|" + "---|" * (len(show) + 2))
    for name in ("bald", "entropy", "random"):
        part = c[c["strategy"] == name].groupby("n_labels")[["accuracy", "macro_f1"]].mean()
        cells = " | ".join(f"{part.loc[s, 'accuracy']:.3f}" for s in show)
        print(f"| {name} | {cells} | {part['accuracy'].mean():.3f} | {part['macro_f1'].mean():.3f} |",
              flush=True)
    print(f"Full 10,000-row pool fit: accuracy {np.mean(list(res.full_accuracy.values())):.3f}")


def modalities(budgets=(200, 500)) -> None:
    blocks, shape, labels = fashion_products(OPTS.text)
    train, test = _split(len(labels[TASKS[0]]))
    tasks = _tasks(labels)
    print(f"\n## Modalities and multi-task: per task accuracy / macro-F1 on 2,000 held-out "
          f"products; random labeled sets; text = {OPTS.text}; seeds {list(OPTS.seeds)}")
    _header("model")
    for budget in budgets:
        rows: dict[str, list] = {}
        for seed in OPTS.seeds:
            lab = np.random.default_rng(seed).choice(train, budget, replace=False)
            y = {t: labels[t][lab] for t in TASKS}
            for name, mods, fusion in (("multimodal multi-task (concat)", ("image", "text"), "concat"),
                                       ("multimodal multi-task (attention)", ("image", "text"), "attention"),
                                       ("image only, multi-task", ("image",), "concat"),
                                       ("text only, multi-task", ("text",), "concat")):
                b = {m: blocks[m] for m in mods}
                m = _model(tasks, shape, random_state=seed, fusion=fusion).fit(_rows(b, lab), y)
                rows.setdefault(name, []).append(_scores(m, b, labels, test))
            per_task = {}
            for t in TASKS:
                m = _model({t: tasks[t]}, shape, random_state=seed).fit(_rows(blocks, lab), {t: y[t]})
                per_task.update(_scores(m, blocks, labels, test, (t,)))
            rows.setdefault("single-task: one multimodal net per task", []).append(per_task)
        _print_rows(budget, rows)


def alignment(budgets=(50, 100, 200)) -> None:
    blocks, shape, labels = fashion_products(OPTS.text)
    train, test = _split(len(labels[TASKS[0]]))
    tasks = _tasks(labels)
    print(f"\n## Alignment (symmetric InfoNCE, weight 1.0, T 0.1, 3,000 unlabeled pool pairs) "
          f"on/off, multimodal concat; text = {OPTS.text}; seeds {list(OPTS.seeds)}")
    _header("alignment")
    for budget in budgets:
        res: dict[str, list] = {}
        for seed in OPTS.seeds:
            rng = np.random.default_rng(seed)
            lab = rng.choice(train, budget, replace=False)
            unl = rng.choice(np.setdiff1d(train, lab), 3000, replace=False)
            y = {t: labels[t][lab] for t in TASKS}
            for name, w in (("off", 0.0), ("on", 1.0)):
                m = _model(tasks, shape, random_state=seed, align_weight=w)
                m.fit(_rows(blocks, lab), y, X_unlabeled=_rows(blocks, unl) if w else None)
                res.setdefault(name, []).append(_scores(m, blocks, labels, test))
        _print_rows(budget, res)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sections", nargs="*", default=["timing", "bald", "modalities", "alignment"])
    ap.add_argument("--seeds", default="0", help="comma-separated seeds (default 0)")
    ap.add_argument("--text", default="tfidf", choices=("tfidf", "minilm"))
    ap.add_argument("--bald-model", default="torch_mlp", choices=("torch_mlp", "torch_cnn"))
    ap.add_argument("--batch", type=int, default=20, help="bald: labels per round")
    ap.add_argument("--budget", type=int, default=300, help="bald: final number of labels")
    args = ap.parse_args(argv)
    OPTS.batch, OPTS.budget = args.batch, args.budget
    OPTS.bald_model = args.bald_model
    OPTS.seeds = tuple(int(s) for s in args.seeds.split(","))
    OPTS.text = args.text
    torch.set_num_threads(1)
    for section in args.sections:
        t0 = time.perf_counter()
        globals()[section]()
        print(f"({section}: {time.perf_counter() - t0:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
