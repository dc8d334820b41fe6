"""Data for the neural benchmarks: the fashion product catalogue through activelab.core.features.build
(image 32x32 RGB pixels + title TF-IDF or MiniLM, cached) and Fashion-MNIST pixels."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from activelab.core.features.build import build_features
from activelab.core.data.spec import DatasetSpec, FeatureConfig

SHARED = Path(os.environ.get("ACTIVELAB_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
CACHE = Path(os.environ.get("ACTIVELAB_BENCH_CACHE", "/tmp/activelab_neural_bench"))
TASKS = ("masterCategory", "gender", "usage")


def fashion_products(text: str = "tfidf"):
    """(blocks, labels) where labels[task] is an object array (None where the CSV is empty)."""
    root = SHARED / "fashion_products"
    frame = pd.read_csv(root / "metadata.csv", dtype=str, keep_default_na=False)
    spec = DatasetSpec(text_columns=("productDisplayName",), image_column="image")
    cfg = FeatureConfig(text=text, image_size=32, image_mode="RGB", tfidf_max_features=20000)
    fs = build_features(frame, spec, cfg, image_root=str(root), cache_dir=CACHE / f"fp_{text}")
    labels = {t: np.array([v if v else None for v in frame[t]], dtype=object) for t in TASKS}
    return dict(fs.blocks), fs.image_shape, labels


def fashion_mnist():
    d = np.load(SHARED / "fashion_mnist" / "fashion_mnist.npz")
    X = d["X_train"].reshape(len(d["X_train"]), -1).astype(np.float32) / 255.0
    Xt = d["X_test"].reshape(len(d["X_test"]), -1).astype(np.float32) / 255.0
    return X, d["y_train"], Xt, d["y_test"]


if __name__ == "__main__":
    import time

    t = time.perf_counter()
    blocks, shape, labels = fashion_products()
    print({k: v.shape for k, v in blocks.items()}, shape, f"{time.perf_counter() - t:.1f}s")
