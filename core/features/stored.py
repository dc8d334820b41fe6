"""Features on disk: ``cache_dir/features-<fingerprint[:16]>/`` with ``meta.json`` and each matrix once.

What is written, and what counts in a project's size:

* each block once: ``.npy`` when dense (loaded memory-mapped), ``.npz`` when sparse;
* a block that is the project's numeric pool columns standardized is *not* written: its
  recipe (fill, mean, scale per column, ``activelab.core.features.numeric``) goes into
  ``meta.json`` and the block is recomputed from ``pool.parquet`` beside the cache on load;
* ``model_X`` is not written when it combines several blocks (``FeatureSet`` makes it on
  first use); with one block it *is* that block;
* ``dense`` is written only when it is not a block itself (a PCA / SVD of wide blocks).

Written to a temporary folder and renamed into place; loaded back memory-mapped. Any damage
reads as "not cached" (``load_cached_features`` returns None) and the caller rebuilds. No
pickles are written or read.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from activelab.core.features.cache import ensure_dir, is_damage, replace_atomically
from activelab.core.features.feature_set import FeatureSet
from activelab.core.features.numeric import RECIPE_KIND, from_pool

log = logging.getLogger(__name__)

FEATURES_VERSION = 2   # 2: modalities weigh equally in the dense view
"""Bumped whenever the way features are computed changes, so old caches are not reused."""

_COMBINED = "combined"


def cache_folder(cache_dir: str | Path, fingerprint: str) -> Path:
    """The folder of the features with this fingerprint inside ``cache_dir``."""
    return Path(cache_dir) / f"features-{fingerprint[:16]}"


def project_pool(cache_dir: str | Path) -> Any:
    """The Parquet pool of the project whose cache folder is ``cache_dir`` (None if none)."""
    from activelab.core.store.pool import POOL_FILE, ParquetPool

    path = Path(cache_dir).parent / POOL_FILE
    return ParquetPool(path) if path.is_file() else None


def _write_matrix(folder: Path, stem: str, X: np.ndarray | sp.csr_matrix) -> dict[str, Any]:
    if sp.issparse(X):
        sp.save_npz(folder / f"{stem}.npz", sp.csr_matrix(X, dtype=np.float32), compressed=False)
        return {"file": f"{stem}.npz", "kind": "sparse"}
    np.save(folder / f"{stem}.npy", np.ascontiguousarray(X, dtype=np.float32), allow_pickle=False)
    return {"file": f"{stem}.npy", "kind": "dense"}


def save_features(fs: FeatureSet, cache_dir: Path) -> Path:
    """Write ``fs`` atomically (see the module doc for what is written). A damaged cache
    folder of the same fingerprint (or a file in its place) is replaced."""
    ensure_dir(cache_dir)
    final = cache_folder(cache_dir, fs.fingerprint)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-features-", dir=cache_dir))
    try:
        written: dict[int, dict[str, Any]] = {}

        def entry(stem: str, X: Any, recipe: dict[str, Any] | None = None) -> dict[str, Any]:
            if id(X) not in written:
                written[id(X)] = ({**recipe, "file": f"pool:{stem}"} if recipe is not None
                                  else _write_matrix(tmp, stem, X))
            return written[id(X)]

        blocks = {name: entry(f"block_{name}", b, fs.recipes.get(name))
                  for name, b in fs.blocks.items()}
        meta = {
            "version": FEATURES_VERSION,
            "fingerprint": fs.fingerprint,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "n_samples": fs.n_samples,
            "blocks": blocks,
            "model_X": ({"kind": _COMBINED} if fs.combined
                        else entry("model_X", fs.model_X)),
            "dense": entry("dense", fs.dense),
            "image_shape": list(fs.image_shape) if fs.image_shape else None,
            "names": fs.names,
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        try:
            os.replace(tmp, final)
        except OSError:
            if load_cached_features(cache_dir, fs.fingerprint, n_samples=fs.n_samples) is None:
                replace_atomically(tmp, final)   # what is there is damaged: replace it
            else:                                # someone else already wrote it
                shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def has_files(fs: FeatureSet) -> bool:
    """True when saving ``fs`` writes a matrix file (so loading it back memory-maps it)."""
    recipes = {id(fs.blocks[name]) for name in fs.recipes if name in fs.blocks}
    mats = list(fs.blocks.values()) + [fs.dense] + ([] if fs.combined else [fs.model_X])
    return any(id(m) not in recipes for m in mats)


def _read_matrix(folder: Path, entry: dict[str, Any], pool: Any) -> np.ndarray | sp.csr_matrix:
    if entry["kind"] == RECIPE_KIND:
        if pool is None:
            raise KeyError("the project's pool.parquet is not beside the cache")
        return from_pool(pool, entry)
    path = folder / entry["file"]
    if entry["kind"] == "sparse":
        return sp.csr_matrix(sp.load_npz(path), dtype=np.float32)
    return np.load(path, mmap_mode="r", allow_pickle=False)


def load_cached_features(cache_dir: str | Path, fingerprint: str,
                         n_samples: int | None = None,
                         reuse: FeatureSet | None = None) -> FeatureSet | None:
    """The cached features with this fingerprint, memory-mapped, or None if not (validly) cached.

    Any damage (unreadable or truncated files, a wrong shape, a file where a folder should be,
    ``n_samples`` rows expected and others found, a recipe whose pool columns are gone) gives
    None, never an error: the caller rebuilds the features and ``build_features`` replaces
    the bad cache. ``reuse``: features just computed, whose recipe blocks are taken as they
    are instead of being recomputed from the pool.
    """
    folder = cache_folder(cache_dir, fingerprint)
    meta_path = folder / "meta.json"
    try:
        if not meta_path.is_file():
            return None
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("fingerprint") != fingerprint or meta.get("version") != FEATURES_VERSION:
            return None
        loaded: dict[str, np.ndarray | sp.csr_matrix] = {}
        pool: list[Any] = []

        def get(entry: dict[str, Any], name: str | None = None) -> np.ndarray | sp.csr_matrix:
            key = entry["file"]
            if key not in loaded:
                if entry["kind"] == RECIPE_KIND and reuse is not None and name in reuse.blocks:
                    loaded[key] = reuse.blocks[name]
                else:
                    if entry["kind"] == RECIPE_KIND and not pool:
                        pool.append(project_pool(cache_dir))
                    loaded[key] = _read_matrix(folder, entry, pool[0] if pool else None)
            return loaded[key]

        blocks = {name: get(e, name) for name, e in meta["blocks"].items()}
        recipes = {name: {k: v for k, v in e.items() if k != "file"}
                   for name, e in meta["blocks"].items() if e["kind"] == RECIPE_KIND}
        model_entry = meta["model_X"]
        fs = FeatureSet(
            model_X=None if model_entry["kind"] == _COMBINED else get(model_entry),
            dense=get(meta["dense"]),
            blocks=blocks,
            image_shape=tuple(meta["image_shape"]) if meta.get("image_shape") else None,
            fingerprint=fingerprint,
            names={k: int(v) for k, v in meta["names"].items()},
            recipes=recipes,
        )
        whole = _whole(fs, meta, n_samples)
    except Exception as exc:  # noqa: BLE001  derived data: any failure to read it means rebuild
        if not is_damage(exc):
            log.warning("feature cache %s unreadable (%s: %s); rebuilding", folder,
                        type(exc).__name__, exc)
        return None
    return fs if whole else None


def _whole(fs: FeatureSet, meta: dict, n_samples: int | None) -> bool:
    """True when every matrix of ``fs`` has the rows and widths its meta.json promises."""
    n = meta.get("n_samples")
    if not isinstance(n, int) or (n_samples is not None and n != n_samples):
        return False
    if not fs.blocks:
        return False
    mats = [fs.dense, *fs.blocks.values()] + ([] if fs.combined else [fs.model_X])
    if any(len(m.shape) != 2 or m.shape[0] != n for m in mats):
        return False
    return fs.names == {k: int(b.shape[1]) for k, b in fs.blocks.items()}
