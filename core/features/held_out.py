"""Features fitted on the pool only, applied to other rows (a fixed test set).

``build_features`` fits what it learns from the data (the TF-IDF vocabulary and idf weights,
the tabular scalers and one-hot categories, the dense view's PCA/SVD) on every row it is
given. To evaluate on a fixed test file without letting test rows shape the features, the
pool is featurized as ``build_features`` would featurize it alone, and the test rows are
*transformed* with what was fitted on the pool: a word only the test set has gets no column,
a test category the pool never had is ignored, test values are scaled with the pool's
median, mean and scale. Pixels, pretrained image features (EfficientNet-Lite0) and sentence embeddings learn
nothing from the data and are computed the same way for both.

Only the model input is built for the test rows: the dense view is what query strategies read
from the pool, never from evaluation rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from activelab.core.data.spec import DatasetSpec, FeatureConfig
from activelab.core.errors import DataError
from activelab.core.features import blocks as feature_blocks
from activelab.core.features.build import combine_blocks, scaled_blocks
from activelab.core.features.dense import dense_view_of_parts
from activelab.core.progress import NULL_PROGRESS, Progress


@dataclass
class HeldOutFeatures:
    """Pool features (model input and dense view) and the test rows' model input.

    pool_X: (n_pool, d) what the model trains on; pool_dense: (n_pool, <= dense_dim) float32
    for distance-based strategies; test_X: (n_test, d) in the same columns as pool_X.
    """

    pool_X: np.ndarray | sp.csr_matrix
    pool_dense: np.ndarray
    test_X: np.ndarray | sp.csr_matrix
    image_shape: tuple[int, int, int] | None
    names: dict[str, int]


def _tabular(pool: pd.DataFrame, test: pd.DataFrame, columns: tuple[str, ...],
             decimal: str, test_decimal: str) -> tuple[np.ndarray, np.ndarray]:
    """Standardized numeric + one-hot categorical columns (the same recipe as
    ``blocks.tabular_block``), fitted on ``pool`` and applied to both."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from activelab.core.data.values import id_str, missing_mask, numeric_column

    numeric, categorical = [], []
    data: dict[str, dict[str, np.ndarray]] = {"pool": {}, "test": {}}
    for c in columns:
        parsed = numeric_column(pool[c], decimal)
        if parsed is not None:
            parsed_test = numeric_column(test[c], test_decimal)
            if parsed_test is None:
                raise DataError(
                    f"Feature column '{c}' holds numbers in the pool but not in the test file; "
                    "both must hold the same kind of values."
                )
            numeric.append(c)
            data["pool"][c], data["test"][c] = parsed.values, parsed_test.values
            continue
        categorical.append(c)
        for key, frame in (("pool", pool), ("test", test)):
            values = np.array([id_str(v) for v in frame[c].tolist()], dtype=object)
            values[missing_mask(frame[c])] = np.nan
            data[key][c] = values
    frames = {k: pd.DataFrame(v, columns=list(columns), index=range(len(pool if k == "pool" else test)))
              for k, v in data.items()}
    transformers: list[tuple[str, Any, list[str]]] = []
    if numeric:
        transformers.append(("numeric", make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()),
            numeric))
    if categorical:
        for c in categorical:
            if frames["pool"][c].isna().all():
                raise DataError(f"Feature column '{c}' has no values at all in the pool.")
        transformers.append(("categorical", make_pipeline(
            SimpleImputer(strategy="most_frequent"),
            OneHotEncoder(handle_unknown="infrequent_if_exist",
                          min_frequency=5 if len(pool) >= 100 else None, max_categories=100,
                          sparse_output=False, dtype=np.float32)), categorical))
    ct = ColumnTransformer(transformers, sparse_threshold=0.0)
    fitted = ct.fit_transform(frames["pool"])
    return (np.ascontiguousarray(fitted, dtype=np.float32),
            np.ascontiguousarray(ct.transform(frames["test"]), dtype=np.float32))


def _tfidf(pool_texts: list[str], test_texts: list[str], max_features: int
           ) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """TF-IDF as ``blocks.tfidf_block`` computes it (same settings and fallbacks), with the
    vocabulary and idf weights of the pool."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    attempts = [
        dict(min_df=2 if len(pool_texts) >= 50 else 1),
        dict(min_df=1),
        dict(min_df=1, ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b"),
        dict(min_df=1, analyzer="char", ngram_range=(1, 3)),
    ]
    for k, how in enumerate(attempts):
        how = dict(how)
        how.setdefault("ngram_range", (1, 2))
        vec = TfidfVectorizer(sublinear_tf=True, max_features=max_features,
                              strip_accents="unicode", dtype=np.float32, **how)
        try:
            pool_X = vec.fit_transform(pool_texts)
            break
        except ValueError as err:
            if k == len(attempts) - 1:
                raise DataError(
                    "The pool's text columns contain nothing to learn from (no character in "
                    f"any row after removing spaces): {err}. Pick another --text-column."
                ) from err
    return (sp.csr_matrix(pool_X, dtype=np.float32),
            sp.csr_matrix(vec.transform(test_texts), dtype=np.float32))


def _pretrained(encoder: str) -> Callable[[list[str], str | None, Any], np.ndarray]:
    """``encode_images`` with ``encoder`` (ModelError when it or its extra is missing)."""
    from activelab.core.features.image_encoder import encode_images

    def encode(refs: list[str], root: str | None, array: Any) -> np.ndarray:
        return encode_images(refs, root, array, encoder=encoder)
    return encode


def _image_refs(frame: pd.DataFrame, column: str, what: str) -> list[str]:
    col = frame[column]
    empty = col.isna().to_numpy() | (col.astype(str).str.strip() == "").to_numpy()
    if empty.any():
        raise DataError(f"Image column '{column}' of the {what} is empty in row "
                        f"{int(np.flatnonzero(empty)[0])}.")
    return col.astype(str).str.strip().tolist()


def build_pool_and_test_features(
    pool: pd.DataFrame, test: pd.DataFrame, spec: DatasetSpec, config: FeatureConfig, *,
    image_root: str | None = None, image_array: np.ndarray | None = None,
    test_image_root: str | None = None, test_image_array: np.ndarray | None = None,
    progress: Progress | None = None, decimal: str = ".", test_decimal: str | None = None,
    image_encoder: Callable[[list[str], str | None, Any], np.ndarray] | None = None,
) -> HeldOutFeatures:
    """Featurize ``pool`` (fitting on it alone) and transform ``test`` with what was fitted.

    ``decimal`` / ``test_decimal``: the decimal mark of numbers written as text in each table
    (the test file's defaults to the pool's). With ``config.image`` other than "pixels" the
    images are encoded by the pretrained encoder it names (``image_encoder.encode_images``);
    ``image_encoder``, if given, is called instead as ``image_encoder(refs, image_root,
    image_array)`` -> (N, d) float32 (e.g. one that reads earlier encodings from a cache).

    Both tables must hold the columns ``spec`` uses. Raises DataError for a missing column, a
    numeric pool column that is not numeric in the test file, or text with nothing to count.
    """
    progress = progress or NULL_PROGRESS
    if not spec.modalities:
        raise DataError("There is nothing to learn from: no feature columns, text or image "
                        "column; pass --text-column/--image-column/--feature-columns.")
    used = ([spec.image_column] if spec.image_column else []) + list(spec.text_columns) \
        + list(spec.feature_columns)
    for what, frame in (("pool", pool), ("test file", test)):
        missing = [c for c in used if c not in frame.columns]
        if missing:
            raise DataError(f"Column(s) {', '.join(map(repr, missing))} are not in the {what} "
                            f"(it has {', '.join(map(str, list(frame.columns)[:20]))}).")
        if len(frame) == 0:
            raise DataError(f"The {what} has no rows.")
    pool_blocks: dict[str, Any] = {}
    test_blocks: dict[str, Any] = {}
    image_shape = None
    if spec.feature_columns:
        progress.update(0.02, "encoding tabular columns (fitted on the pool)")
        pool_blocks["tabular"], test_blocks["tabular"] = _tabular(
            pool, test, tuple(spec.feature_columns), decimal,
            decimal if test_decimal is None else test_decimal)
    if spec.text_columns:
        cols = tuple(spec.text_columns)
        pool_texts = feature_blocks.joined_texts(pool, cols)
        test_texts = feature_blocks.joined_texts(test, cols)
        if config.text == "tfidf":
            progress.update(0.07, "computing TF-IDF (vocabulary from the pool)")
            pool_blocks["text"], test_blocks["text"] = _tfidf(pool_texts, test_texts,
                                                              config.tfidf_max_features)
        elif config.text == "minilm":
            from activelab.core.features.text_embeddings import embed_texts

            pool_blocks["text"] = embed_texts(pool_texts, progress=progress.sub(0.07, 0.4))
            test_blocks["text"] = embed_texts(test_texts, progress=progress.sub(0.4, 0.5))
        else:
            raise DataError(f"Unknown text features '{config.text}'; use tfidf or minilm.")
    if spec.image_column and config.image != "pixels":
        progress.update(0.5, "computing pretrained image features")
        encode = image_encoder or _pretrained(config.image)
        pool_blocks["image"] = encode(_image_refs(pool, spec.image_column, "pool"), image_root,
                                      image_array)
        test_blocks["image"] = encode(_image_refs(test, spec.image_column, "test file"),
                                      test_image_root, test_image_array)
    elif spec.image_column:
        progress.update(0.5, "decoding images")
        refs = _image_refs(pool, spec.image_column, "pool")
        mode = feature_blocks.image_mode(refs, image_root, image_array, config.image_mode)
        pool_blocks["image"], image_shape = feature_blocks.image_block(
            refs, image_root, image_array, size=config.image_size, mode=mode,
            progress=progress.sub(0.5, 0.75))
        test_blocks["image"], _ = feature_blocks.image_block(
            _image_refs(test, spec.image_column, "test file"), test_image_root,
            test_image_array, size=config.image_size, mode=mode,
            progress=progress.sub(0.75, 0.85))
    progress.update(0.85, "combining modalities")
    pool_parts = scaled_blocks(pool_blocks)
    test_parts = scaled_blocks(test_blocks)
    progress.update(0.88, "computing the dense view of the pool")
    dense = dense_view_of_parts(pool_parts, config.dense_dim)
    progress.update(1.0, "features ready")
    return HeldOutFeatures(
        pool_X=combine_blocks(pool_parts), pool_dense=np.asarray(dense, dtype=np.float32),
        test_X=combine_blocks(test_parts), image_shape=image_shape,
        names={k: int(b.shape[1]) for k, b in pool_blocks.items()})
