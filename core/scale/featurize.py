"""Features of a partitioned pool, fitted on a sample and applied per partition.

A pool that is read in place is never featurised whole. ``fit_featurizer`` fits the few
numbers a transform needs on a sample of rows (tabular columns: mean and standard deviation;
categorical columns: their most frequent values, one-hot; text: nothing, hashed); the result
is plain JSON (kept in the store, never pickled) and ``transform`` applies it to any frame of
rows: one partition on a worker, or the labelled rows on the driver. The same rows always give
the same features, wherever they are computed.

Text uses MiniLM sentence embeddings, computed per part and cached (``activelab.core.scale.embed``),
when the project chose them; otherwise scikit-learn's ``HashingVectorizer`` (word uni- and bigrams, 2**18 columns, l2 norm;
Weinberger et al. 2009, "Feature hashing for large scale multitask learning"): stateless, so
workers need no vocabulary.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

MAX_CATEGORIES = 30
HASH_FEATURES = 2 ** 18
SAMPLE_ROWS = 20_000


@dataclass(frozen=True)
class Featurizer:
    """The fitted transform: numeric columns with (mean, std), categorical columns with their
    kept values, text columns (hashed)."""

    numeric: tuple[str, ...] = ()
    fills: tuple[float, ...] = ()
    means: tuple[float, ...] = ()
    stds: tuple[float, ...] = ()
    categorical: tuple[str, ...] = ()
    categories: tuple[tuple[str, ...], ...] = ()
    text: tuple[str, ...] = ()
    hash_features: int = HASH_FEATURES
    notes: tuple[str, ...] = field(default=())
    text_features: str = "hash"    # "hash" or "minilm" (see activelab.core.scale.embed)

    @property
    def columns(self) -> list[str]:
        """The pool columns the transform reads."""
        return list(dict.fromkeys((*self.numeric, *self.categorical, *self.text)))

    @property
    def dense_width(self) -> int:
        return len(self.numeric) + sum(len(c) for c in self.categories)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Featurizer":
        return cls(
            numeric=tuple(d.get("numeric", ())), fills=tuple(d.get("fills", ())),
            means=tuple(d.get("means", ())),
            stds=tuple(d.get("stds", ())), categorical=tuple(d.get("categorical", ())),
            categories=tuple(tuple(c) for c in d.get("categories", ())),
            text=tuple(d.get("text", ())), hash_features=int(d.get("hash_features", HASH_FEATURES)),
            notes=tuple(d.get("notes", ())), text_features=str(d.get("text_features", "hash")),
        )

    def transform(self, frame: Any, text_block: Any = None) -> Any:
        """Features of ``frame``'s rows: float32 (rows, dense_width) without text columns; with
        them, hashed: a CSR matrix (rows, dense_width + hash_features); MiniLM: float32
        (rows, dense_width + 384), the embeddings taken from ``text_block`` (rows, 384) when
        given (a part's cached ones) and computed here otherwise. A missing number reads as its
        column's fill (the median), then is standardised, as the embedded engine does
        (``activelab.core.features.numeric``); an unseen category as all zeros."""
        n = len(frame)
        dense = np.zeros((n, self.dense_width), dtype=np.float32)
        for j, (c, f, m, s) in enumerate(zip(self.numeric, self.fills, self.means, self.stds)):
            x = np.asarray(frame[c], dtype=np.float64)
            x = np.where(np.isnan(x), f, x)
            x -= m
            x /= s
            dense[:, j] = x
        j0 = len(self.numeric)
        for c, kept in zip(self.categorical, self.categories):
            values = np.asarray(frame[c].astype(object).where(frame[c].notna(), None).map(
                lambda v: None if v is None else str(v)), dtype=object)
            for k, v in enumerate(kept):
                dense[:, j0 + k] = values == v
            j0 += len(kept)
        if not self.text:
            return dense
        if self.text_features == "minilm":
            from activelab.core.scale.embed import embed_frame

            emb = embed_frame(frame, self.text) if text_block is None else text_block
            return np.hstack([dense, np.asarray(emb, dtype=np.float32)])
        from scipy import sparse
        from sklearn.feature_extraction.text import HashingVectorizer

        vec = HashingVectorizer(n_features=self.hash_features, alternate_sign=False,
                                ngram_range=(1, 2), norm="l2")
        joined = [" ".join(str(v) for v in row if v is not None and v == v)
                  for row in zip(*(frame[c].tolist() for c in self.text))]
        return sparse.hstack([sparse.csr_matrix(dense), vec.transform(joined)], format="csr")


def _is_numeric(series: Any) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)


def fit_featurizer(sample: Any, feature_columns: Sequence[str],
                   text_columns: Sequence[str] = (), text_features: str = "hash") -> Featurizer:
    """Fit the transform on ``sample`` (a DataFrame of pool rows): numeric feature columns get
    their mean and standard deviation (1 when constant), other feature columns their
    ``MAX_CATEGORIES`` most frequent values; ``text_columns`` are hashed, or embedded with
    MiniLM when ``text_features`` is "minilm"."""
    numeric, fills, means, stds, categorical, categories, notes = [], [], [], [], [], [], []
    for c in feature_columns:
        col = sample[c]
        if _is_numeric(col) or str(col.dtype) in ("bool", "boolean"):
            from activelab.core.features.numeric import column_scaling

            f, m, s = column_scaling(np.asarray(col, dtype=np.float64))
            numeric.append(str(c))
            fills.append(f)
            means.append(m)
            stds.append(s)
        else:
            counts = col.dropna().astype(str).value_counts()
            kept = tuple(str(v) for v in counts.index[:MAX_CATEGORIES])
            categorical.append(str(c))
            categories.append(kept)
            if len(counts) > MAX_CATEGORIES:
                notes.append(f"column '{c}': {len(counts)} values in the sample; the "
                             f"{MAX_CATEGORIES} most frequent are one-hot encoded")
    return Featurizer(tuple(numeric), tuple(fills), tuple(means), tuple(stds), tuple(categorical),
                      tuple(categories), tuple(str(c) for c in text_columns), HASH_FEATURES,
                      tuple(notes), text_features)


def sample_rows(sizes: Sequence[int], n: int = SAMPLE_ROWS, seed: int = 0) -> list[np.ndarray]:
    """Row positions within each part for a uniform sample of about ``n`` pool rows, in
    proportion to each part's size (sorted; a part's share rounded up)."""
    total = int(sum(sizes))
    rng = np.random.default_rng(seed)
    out = []
    for size in sizes:
        k = size if total <= n else min(size, int(np.ceil(n * size / total)))
        out.append(np.sort(rng.choice(size, size=k, replace=False)) if k < size
                   else np.arange(size))
    return out


class PoolMoments:
    """Mean and variance of numeric columns over the whole pool, merged part by part (Chan,
    Golub & LeVeque 1979, the pairwise update) on the present values, with the missing ones
    folded in at the end as the column's fill: the scaling the embedded engine computes on
    the whole filled column, without holding more than one part."""

    def __init__(self) -> None:
        self.n: dict[str, int] = {}
        self.missing: dict[str, int] = {}
        self.mean: dict[str, float] = {}
        self.m2: dict[str, float] = {}

    def add(self, frame: Any, columns: Sequence[str]) -> None:
        """Fold one part's ``columns`` (numeric columns of a DataFrame) in."""
        for c in columns:
            x = np.asarray(frame[c], dtype=np.float64)
            present = x[~np.isnan(x)]
            self.missing[c] = self.missing.get(c, 0) + len(x) - len(present)
            nb = len(present)
            if nb == 0:
                continue
            mb = float(present.mean())
            m2b = float(((present - mb) ** 2).sum())
            na, ma = self.n.get(c, 0), self.mean.get(c, 0.0)
            self._merge(c, na, ma, self.m2.get(c, 0.0), nb, mb, m2b)

    def _merge(self, c: str, na: int, ma: float, m2a: float, nb: int, mb: float, m2b: float) -> None:
        n = na + nb
        delta = mb - ma
        self.n[c] = n
        self.mean[c] = ma + delta * nb / n
        self.m2[c] = m2a + m2b + delta * delta * na * nb / n

    def fitted(self, feat: Featurizer) -> Featurizer:
        """``feat`` with the pool's means and scales of its numeric columns (missing values
        counted as the column's fill; a constant column: scale 1)."""
        from dataclasses import replace

        if not feat.numeric:
            return feat
        eps = np.finfo(np.float64).eps
        means, scales = [], []
        for c, fill in zip(feat.numeric, feat.fills):
            k = self.missing.get(c, 0)
            if k:
                self._merge(c, self.n.get(c, 0), self.mean.get(c, 0.0), self.m2.get(c, 0.0),
                            k, float(fill), 0.0)
                self.missing[c] = 0
            n, m = self.n.get(c, 0), self.mean.get(c, 0.0)
            v = self.m2.get(c, 0.0) / n if n else 0.0
            constant = v <= n * eps * v + (n * m * eps) ** 2
            means.append(float(m))
            scales.append(1.0 if constant or v == 0.0 else float(np.sqrt(v)))
        return replace(feat, means=tuple(means), stds=tuple(scales))
