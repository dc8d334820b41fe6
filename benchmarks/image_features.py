"""Pretrained image features (EfficientNet-Lite0) against today's pixels, at few labels.

Run from the repo root (needs the neural extra and ../shared/data or ACTIVELAB_SHARED_DATA):

    .venv/bin/python benchmarks/image_features.py > benchmarks/results/image_features.txt

Features are built with activelab's own ``build_features`` (photo-only: FeatureConfig(image=
"pixels") = 32x32 pixels, today's default, against image="efficientnet_lite0") and cached in
``--cache`` so a second run costs no featurising. "photo + title" puts the image block beside
the title's TF-IDF block exactly as ``build_features`` combines modalities (each block scaled
to row norm ~1, ``scaled_blocks``/``combine_blocks``), so the images are encoded once.

For every task, feature set and label count: a logistic regression (activelab's default
model, C=10) trained on that many randomly chosen labels of the pool, accuracy on a held-out
test split; mean ± sd over seeds (each seed: its own 75/25 split of the catalogue and its own
labels; Fashion-MNIST: the official test images, a subsample, and per-seed labels).
Nothing here is a pass/fail test; timings are of this run on a shared 2-core machine.
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from activelab.core.data.spec import DatasetSpec, FeatureConfig  # noqa: E402
from activelab.core.features.build import build_features, combine_blocks, scaled_blocks  # noqa: E402
from activelab.core.learning.models import make_model  # noqa: E402
from activelab.core.progress import Progress  # noqa: E402

DATA = Path(os.environ.get("ACTIVELAB_SHARED_DATA",
                           Path(__file__).resolve().parents[2] / "shared" / "data"))
PIXELS, EFFNET = FeatureConfig(image="pixels"), FeatureConfig(image="efficientnet_lite0")


def say(*a: object) -> None:
    print(*a, flush=True)


def _progress(name: str) -> Progress:
    last = [-1.0]

    def cb(f: float, msg: str) -> None:
        if f - last[0] >= 0.1 or f >= 1.0:
            last[0] = f
            print(f"    [{name}] {f:4.0%} {msg}", file=sys.stderr, flush=True)

    return Progress(cb)


def timed_build(name: str, frame: pd.DataFrame, spec: DatasetSpec, cfg: FeatureConfig,
                cache: Path, **kw) -> tuple[object, float]:
    t = time.perf_counter()
    fs = build_features(frame, spec, cfg, cache_dir=cache, progress=_progress(name), **kw)
    return fs, time.perf_counter() - t


def _took(seconds: float, n: int) -> str:
    """A featurising time, or that the features came from --cache (no time measured)."""
    if seconds < 2.0:
        return f"loaded from --cache in {seconds:.1f} s (computed in an earlier run)"
    return f"{seconds:8.1f} s  ({n / seconds:7.1f} images/s)"


def accuracies(X, y: np.ndarray, train_pool: np.ndarray, test: np.ndarray, n_labels: int,
               seed: int) -> float:
    rng = np.random.default_rng(1000 + seed)
    pick = rng.choice(train_pool, size=min(n_labels, len(train_pool)), replace=False)
    model = make_model("logistic_regression")
    model.fit(X[pick], y[pick])
    return float(np.mean(model.predict(X[test]) == y[test]))


def table(title: str, X_by_name: dict[str, object], y: np.ndarray,
          splits: list[tuple[np.ndarray, np.ndarray]], label_counts: list[int]) -> list[str]:
    lines = [f"== {title} ==",
             f"{'features':<28}" + "".join(f"{f'{n} labels':>16}" for n in label_counts)]
    means: dict[str, list[float]] = {}
    for name, X in X_by_name.items():
        cells = []
        for n in label_counts:
            accs = [accuracies(X, y, tr, te, n, s) for s, (tr, te) in enumerate(splits)]
            means.setdefault(name, []).append(float(np.mean(accs)))
            cells.append(f"{np.mean(accs):.3f} ± {np.std(accs, ddof=1):.3f}")
        lines.append(f"{name:<28}" + "".join(f"{c:>16}" for c in cells))
    names = list(X_by_name)
    for a, b in zip(names[0::2], names[1::2]):   # (pixels, efficientnet) pairs
        gain = [mb - ma for ma, mb in zip(means[a], means[b])]
        lines.append(f"{'  gain, ' + b.rsplit(':', 1)[0] + ':':<28}"
                     + "".join(f"{g:>+16.3f}" for g in gain))
    for line in lines:
        say(line)
    say()
    return lines


def catalogue(args: argparse.Namespace, cache: Path) -> None:
    root = DATA / "fashion_products"
    frame = pd.read_csv(root / "metadata.csv", dtype=str, keep_default_na=False)
    photo = DatasetSpec(image_column="image")
    title = DatasetSpec(text_columns=("productDisplayName",))
    n = len(frame)
    pix, t_pix = timed_build("catalogue pixels", frame, photo, PIXELS, cache, image_root=str(root))
    eff, t_eff = timed_build("catalogue efficientnet", frame, photo, EFFNET, cache,
                             image_root=str(root))
    txt, _ = timed_build("catalogue title", frame, title, PIXELS, cache)
    say(f"Featurising the {n:,} catalogue photos (this run):")
    say(f"  pixels 32x32:            {_took(t_pix, n)}")
    say(f"  EfficientNet-Lite0 224:  {_took(t_eff, n)}")
    say()

    def both(img_block) -> object:
        return combine_blocks(scaled_blocks({"image": img_block, "text": txt.blocks["text"]}))

    X = {
        "photo only: pixels 32x32": np.asarray(pix.model_X),
        "photo only: EfficientNet": np.asarray(eff.model_X),
        "photo + title: pixels": both(np.asarray(pix.blocks["image"])),
        "photo + title: EfficientNet": both(np.asarray(eff.blocks["image"])),
    }
    for task in args.tasks:
        y_all = frame[task].to_numpy(dtype=object)
        has = np.flatnonzero(np.array([str(v).strip() != "" for v in y_all]))
        splits = []
        for seed in range(args.seeds):
            perm = np.random.default_rng(seed).permutation(has)
            cut = len(perm) // 4
            splits.append((perm[cut:], perm[:cut]))
        n_classes = len(set(y_all[has]))
        table(f"product catalogue, {task} ({n_classes} classes, {len(has):,} rows; 75/25 split "
              f"per seed, {args.seeds} seeds)", X, y_all, splits, args.labels)


def fashion_mnist(args: argparse.Namespace, cache: Path) -> None:
    z = np.load(DATA / "fashion_mnist" / "fashion_mnist.npz")
    rng = np.random.default_rng(0)
    tr = rng.choice(len(z["y_train"]), size=args.fmnist_pool, replace=False)
    te = rng.choice(len(z["y_test"]), size=args.fmnist_test, replace=False)
    images = np.concatenate([z["X_train"][tr], z["X_test"][te]])
    y = np.concatenate([z["y_train"][tr], z["y_test"][te]]).astype(str)
    frame = pd.DataFrame({"img": [f"@array:{i}" for i in range(len(images))]})
    spec = DatasetSpec(image_column="img")
    pix, t_pix = timed_build("fmnist pixels", frame, spec, PIXELS, cache, image_array=images)
    eff, t_eff = timed_build("fmnist efficientnet", frame, spec, EFFNET, cache, image_array=images)
    n = len(images)
    say(f"Featurising {n:,} Fashion-MNIST images (28x28 grey; pixels upscaled to 32x32, "
        "EfficientNet input 224x224 RGB):")
    say(f"  pixels 32x32:            {_took(t_pix, n)}")
    say(f"  EfficientNet-Lite0 224:  {_took(t_eff, n)}")
    say()
    pool = np.arange(args.fmnist_pool)
    test = np.arange(args.fmnist_pool, n)
    splits = [(pool, test)] * args.seeds
    table(f"Fashion-MNIST (pool {args.fmnist_pool:,} of the training images, test "
          f"{args.fmnist_test:,} of the official test images; labels drawn per seed, "
          f"{args.seeds} seeds)",
          {"photo only: pixels 32x32": np.asarray(pix.model_X),
           "photo only: EfficientNet": np.asarray(eff.model_X)}, y, splits, args.labels)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cache", default="/tmp/activelab-image-features-cache",
                   help="feature cache folder (reused between runs)")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--labels", default="50,200,500")
    p.add_argument("--tasks", default="masterCategory,subCategory,articleType,gender,baseColour,usage")
    p.add_argument("--fmnist-pool", type=int, default=4000)
    p.add_argument("--fmnist-test", type=int, default=1000)
    p.add_argument("--skip-fmnist", action="store_true")
    p.add_argument("--threads", type=int, default=1,
                   help="torch threads (default 1: on the loaded shared machine one thread "
                        "encoded 95-114 ms/image against 153-198 ms with two)")
    args = p.parse_args()
    import torch

    torch.set_num_threads(args.threads)   # encode_images uses at most this many
    args.labels = [int(x) for x in args.labels.split(",")]
    args.tasks = [t for t in args.tasks.split(",") if t]
    cache = Path(args.cache)
    say(f"Pretrained image features against pixels ({time.strftime('%Y-%m-%d %H:%M')}, model "
        f"logistic_regression C=10, random labels, accuracy mean ± sd over {args.seeds} seeds; "
        "2-core machine shared with other work)")
    say("Command: ACTIVELAB_SHARED_DATA=/work/shared/data .venv/bin/python "
        f"benchmarks/image_features.py {shlex.join(sys.argv[1:])} "
        "> benchmarks/results/image_features.txt".replace("  ", " "))
    say()
    catalogue(args, cache)
    if not args.skip_fmnist:
        fashion_mnist(args, cache)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
