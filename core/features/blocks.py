"""One feature block per modality: tabular rows, text, images.

Each function turns the columns of one modality into a float32 matrix with one row per
sample. They are called by ``activelab.core.features.build.build_features``, which caches and combines them.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from activelab.core.errors import DataError
from activelab.core.progress import Progress
from activelab.core.data.sniff import ARRAY_REF_PREFIX

TEXT_SEPARATOR = " \n "
ARRAY_PREFIX = ARRAY_REF_PREFIX
_DECODE_CHUNK = 256


# ----------------------------------------------------------------------------- tabular
_HUGE = 1e150   # squares of larger values overflow float64 (standardizing would give NaN)


def _within_range(values: np.ndarray) -> np.ndarray:
    """A numeric column divided by its largest magnitude when that is so large that its
    variance cannot be computed (``1e308`` is a finite number a file may hold); standardizing
    afterwards gives the same features, without overflowing to NaN."""
    finite = values[np.isfinite(values)]
    top = float(np.abs(finite).max()) if finite.size else 0.0
    return values / top if top > _HUGE else values



def tabular_block(frame: pd.DataFrame, columns: tuple[str, ...], decimal: str = ".") -> np.ndarray:
    """Standardized numeric columns + one-hot categorical columns, missing values imputed.

    Numeric: a column whose every non-empty value is a number (native, or text written with
    ``decimal`` as the decimal mark, see ``activelab.core.data.values.numeric_column``; ``inf`` and
    ``NaN`` are missing); median imputation, then zero mean / unit variance
    (``activelab.core.features.numeric``; values of any
    finite magnitude, ``1e308`` included). Categorical (anything else, booleans included, the
    values as written): most frequent value imputed, then one-hot with rare values (fewer
    than ``min_frequency`` rows) grouped into one "infrequent" column; unseen values are
    ignored. Numeric columns come first, then the categorical ones' indicator columns.
    """
    return tabular_block_and_recipe(frame, columns, decimal)[0]


def tabular_block_and_recipe(frame: pd.DataFrame, columns: tuple[str, ...], decimal: str = "."
                             ) -> tuple[np.ndarray, dict[str, Any] | None]:
    """``tabular_block`` and, when every column is numeric, its recipe (the numbers it is
    recomputed from, see ``activelab.core.features.numeric``); else None."""
    from activelab.core.data.values import numeric_column
    from activelab.core.features.numeric import (
        GROUP, RECIPE_KIND, column_scaling, recipe_params, standardize_into,
    )

    n = len(frame)
    numeric: list[str] = []
    categorical: list[str] = []
    scaling: list[tuple[float, float, float]] = []
    pending: list[np.ndarray] = []      # at most GROUP numeric columns in float64 at a time
    rescaled = False    # a column divided by its magnitude: the pool's values are not the recipe's
    out = np.empty((n, len(columns)), dtype=np.float32)

    def flush() -> None:
        j0 = len(numeric) - len(pending)
        standardize_into(out, j0, pending, scaling[j0:])
        pending.clear()

    for c in columns:
        parsed = numeric_column(frame[c], decimal)
        if parsed is None:
            categorical.append(c)
            continue
        raw = parsed.values
        values = _within_range(raw)
        rescaled = rescaled or values is not raw
        scaling.append(column_scaling(values))
        pending.append(values)
        numeric.append(c)
        if len(pending) == GROUP:
            flush()
    flush()
    if not categorical:
        if rescaled:
            return out, None
        return out, {"kind": RECIPE_KIND, "columns": numeric, **recipe_params(scaling)}
    parts = [np.ascontiguousarray(out[:, :len(numeric)])] if numeric else []
    del out
    parts.append(_categorical_block(frame, categorical, n))
    return np.ascontiguousarray(np.hstack(parts), dtype=np.float32), None


def _categorical_block(frame: pd.DataFrame, columns: list[str], n: int) -> np.ndarray:
    """Most frequent value imputed, then one-hot (see ``tabular_block``)."""
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from activelab.core.data.values import id_str, missing_mask

    cols: dict[str, np.ndarray] = {}
    for c in columns:
        values = np.array([id_str(v) for v in frame[c].tolist()], dtype=object)
        values[missing_mask(frame[c])] = np.nan
        cols[c] = values
    # One DataFrame built at once: inserting thousands of columns one by one fragments it.
    data = pd.DataFrame(cols, columns=list(columns), index=range(n))
    for c in columns:
        if data[c].isna().all():
            raise DataError(
                f"Feature column '{c}' has no values at all. Remove it from --feature-columns "
                "or fill it in the source file."
            )
    pipeline = make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            min_frequency=5 if n >= 100 else None,
            max_categories=100,
            sparse_output=False,
            dtype=np.float32,
        ),
    )
    return np.ascontiguousarray(pipeline.fit_transform(data), dtype=np.float32)


# ----------------------------------------------------------------------------- text


def joined_texts(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[str]:
    """The text columns of each row joined with " \\n " (missing values are empty)."""
    parts = []
    for c in columns:
        col = frame[c]
        values = col.astype(object).where(col.notna(), "").astype(str).str.strip()
        if not (values.str.len() > 0).any():
            raise DataError(
                f"Text column '{c}' is empty in every row. Pick another --text-column or check "
                "that the file was read with the right separator and header."
            )
        parts.append(values)
    joined = parts[0]
    for p in parts[1:]:
        joined = joined + TEXT_SEPARATOR + p
    return joined.tolist()


def tfidf_block(texts: list[str], max_features: int) -> sp.csr_matrix:
    """Sublinear TF-IDF of word uni- and bigrams as a sparse float32 matrix (rows L2-normalized).

    Texts without any word of two or more letters (single characters such as ``5`` or
    ``好``, emoji, punctuation) still get features: then words of any length are counted,
    and failing those, character uni- to trigrams. Raises DataError only when no text has
    a single character to count.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    def fit(min_df: int, **how: Any) -> sp.csr_matrix:
        vec = TfidfVectorizer(
            sublinear_tf=True, min_df=min_df, max_features=max_features,
            strip_accents="unicode", dtype=np.float32, **(how or {"ngram_range": (1, 2)}),
        )
        return vec.fit_transform(texts)

    attempts = [
        # min_df=2 drops typos and ids that cannot generalize; tiny corpora have too few repeats.
        dict(min_df=2 if len(texts) >= 50 else 1),
        dict(min_df=1),
        dict(min_df=1, ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b"),
        dict(min_df=1, analyzer="char", ngram_range=(1, 3)),
    ]
    for k, how in enumerate(attempts):
        try:
            X = fit(**how)
            break
        except ValueError as err:
            if k == len(attempts) - 1:
                raise DataError(
                    "The text columns contain nothing to learn from (no character in any row "
                    f"after removing spaces): {err}. Pick another --text-column."
                ) from err
    return sp.csr_matrix(X, dtype=np.float32)


# ----------------------------------------------------------------------------- images


def _loader() -> Callable[..., Any]:
    from activelab.core.data.images import load_image  # lazily: Pillow is only needed for image projects

    return load_image


def _array_rows(refs: list[str], n_array: int) -> np.ndarray | None:
    """Row numbers if every reference is "@array:<row>" within range, else None."""
    s = pd.Series(refs, dtype=object).astype(str)
    if not s.str.startswith(ARRAY_PREFIX).all():
        return None
    rows = pd.to_numeric(s.str.slice(len(ARRAY_PREFIX)), errors="coerce")
    if rows.isna().any():
        return None
    rows = rows.to_numpy(dtype=np.int64)
    if rows.min() < 0 or rows.max() >= n_array:
        return None
    return rows


def image_mode(refs: list[str], image_root: str | None, image_array: Any, requested: str) -> str:
    """"L" or "RGB": the requested mode, or for "auto" whether the first images are grey."""
    if requested in ("L", "RGB"):
        return requested
    if requested != "auto":
        raise DataError(f"Unknown image mode '{requested}'; use auto, L or RGB.")
    if image_array is not None and all(str(r).startswith(ARRAY_PREFIX) for r in refs[:5]):
        arr = np.asarray(image_array[:1])
        return "L" if arr.ndim == 3 or (arr.ndim == 4 and arr.shape[-1] == 1) else "RGB"
    load = _loader()
    for ref in refs[:5]:
        img = load(str(ref), image_root, image_array, None, None)  # "L" or "RGB", as shown
        if img.mode == "L":
            continue
        rgb = np.asarray(img, dtype=np.int16)
        if np.abs(rgb[..., 0] - rgb[..., 1]).max() > 2 or np.abs(rgb[..., 1] - rgb[..., 2]).max() > 2:
            return "RGB"
    return "L"


def _to_chw(img_arr: np.ndarray) -> np.ndarray:
    a = np.asarray(img_arr)
    if a.ndim == 2:
        a = a[None]
    else:
        a = np.moveaxis(a, -1, 0)
    return a


def image_block(refs: list[str], image_root: str | None, image_array: Any, *, size: int,
                mode: str, progress: Progress) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Pixels in [0, 1], channel first, flattened: (N, C*size*size) float32, and (C, H, W)."""
    channels = 1 if mode == "L" else 3
    n = len(refs)
    out = np.empty((n, channels * size * size), dtype=np.float32)
    shape = (channels, size, size)

    rows = None
    if image_array is not None:
        rows = _array_rows(refs, len(image_array))
    if rows is not None and _array_fast_path(image_array, channels):
        _decode_array(image_array, rows, out, size, mode, progress)
        return out, shape

    load = _loader()

    def decode(i: int) -> None:
        img = load(str(refs[i]), image_root, image_array, mode, size)
        a = np.asarray(img, dtype=np.float32)
        if a.shape[:2] != (size, size):
            raise DataError(
                f"Image '{refs[i]}' came back as {a.shape[1]}x{a.shape[0]} instead of {size}x{size}."
            )
        out[i] = _to_chw(a).reshape(-1) / np.float32(255.0)

    # Decoding (JPEG/PNG in Pillow) releases the GIL, so two threads use both cores.
    with ThreadPoolExecutor(max_workers=2) as pool:
        for start in range(0, n, _DECODE_CHUNK):
            stop = min(n, start + _DECODE_CHUNK)
            progress.update(start / max(n, 1), f"decoding images {start}/{n}")
            list(pool.map(decode, range(start, stop)))
    progress.update(1.0, f"decoding images {n}/{n}")
    return out, shape


def _array_fast_path(image_array: Any, channels: int) -> bool:
    arr = image_array
    if getattr(arr, "dtype", None) != np.uint8:
        return False
    if arr.ndim == 3:
        return channels == 1
    if arr.ndim == 4:
        return arr.shape[-1] == channels
    return False


def _decode_array(image_array: np.ndarray, rows: np.ndarray, out: np.ndarray, size: int,
                  mode: str, progress: Progress) -> None:
    """Vectorized path for uint8 arrays whose channels already match ``mode``."""
    from PIL import Image

    n = len(rows)
    h, w = image_array.shape[1:3]
    chunk = 4096
    for start in range(0, n, chunk):
        progress.update(start / max(n, 1), f"decoding images {start}/{n}")
        stop = min(n, start + chunk)
        batch = np.asarray(image_array[rows[start:stop]])
        if (h, w) != (size, size):
            pil_mode = "L" if mode == "L" else "RGB"
            batch = np.stack([
                np.asarray(Image.fromarray(b.reshape(h, w, -1).squeeze(-1) if pil_mode == "L" else b,
                                           mode=pil_mode).resize((size, size), Image.BILINEAR))
                for b in batch
            ])
        if batch.ndim == 3:
            batch = batch[:, None]
        else:
            batch = np.moveaxis(batch, -1, 1)
        np.divide(batch.reshape(stop - start, -1), np.float32(255.0), out=out[start:stop])
    progress.update(1.0, f"decoding images {n}/{n}")
