"""Features of a partitioned pool, fitted on a sample and applied per partition.

A pool that is read in place is never featurised whole. ``fit_featurizer`` fits the few
numbers a transform needs on a sample of rows (tabular columns: mean and standard deviation;
categorical columns: their values one-hot, as the embedded engine's encoder does; text: nothing,
hashed or embedded; images: nothing, embedded); the result
is plain JSON (kept in the store, never pickled) and ``transform`` applies it to any frame of
rows: one partition on a worker, or the labelled rows on the driver. The same rows always give
the same features, wherever they are computed.

Text uses MiniLM sentence embeddings, computed per part and cached (``activelab.core.scale.embed``),
when the project chose them; otherwise scikit-learn's ``HashingVectorizer`` (word uni- and bigrams, 2**18 columns, l2 norm;
Weinberger et al. 2009, "Feature hashing for large scale multitask learning"): stateless, so
workers need no vocabulary. Images use EfficientNet-Lite0 pooled features, computed per part
and cached (``activelab.core.scale.embed_images``).

With several modalities the blocks are combined exactly as the embedded engine combines them
(``activelab.core.features.feature_set.scaled_blocks``: image, text, tabular in that order; the
image rows L2-normalised, the tabular block divided by the square root of its width), so a
mixed pool's features, and so its picks, are the same in both engines.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

MIN_FREQUENCY = 5          # the embedded engine's one-hot encoder (features.blocks)
MIN_FREQUENCY_ROWS = 100   # ... which groups rare values only from 100 rows on
MAX_CATEGORIES = 100
HASH_FEATURES = 2 ** 18
SAMPLE_ROWS = 20_000


@dataclass(frozen=True)
class Featurizer:
    """The fitted transform: numeric columns with (mean, std), categorical columns with their
    kept values (``categories``, sorted), the value a missing cell takes (``cat_fills``) and
    whether the rest share one "infrequent" column (``cat_infrequent``), text columns (hashed
    or MiniLM), the image column (``image``; EfficientNet-Lite0 features, its relative paths
    read from the folder of the part holding the row)."""

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
    cat_fills: tuple[str, ...] = ()
    cat_infrequent: tuple[bool, ...] = ()
    image: str = ""                  # the image column, "" when none

    @property
    def columns(self) -> list[str]:
        """The pool columns the transform reads."""
        image = (self.image,) if self.image else ()
        return list(dict.fromkeys((*self.numeric, *self.categorical, *self.text, *image)))

    @property
    def dense_width(self) -> int:
        return len(self.numeric) + sum(len(c) + int(bool(f)) for c, f in
                                       zip(self.categories, self._infrequent()))

    def _infrequent(self) -> tuple[bool, ...]:
        return self.cat_infrequent or (False,) * len(self.categorical)

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
            cat_fills=tuple(d.get("cat_fills", ())),
            cat_infrequent=tuple(bool(b) for b in d.get("cat_infrequent", ())),
            image=str(d.get("image", "") or ""),
        )

    def transform(self, frame: Any, text_block: Any = None, image_block: Any = None,
                  image_root: str | None = None) -> Any:
        """Features of ``frame``'s rows. One modality: float32 (rows, dense_width) for tabular
        columns alone; text alone: hashed, a CSR matrix (rows, hash_features), MiniLM float32
        (rows, 384); images alone: float32 (rows, 1280). Several: the blocks combined as the
        embedded engine combines them (module docstring), CSR when the text is hashed.
        ``text_block`` (rows, 384) / ``image_block`` (rows, 1280): the rows' precomputed (cached)
        embeddings; computed here when not given (images: relative paths under
        ``image_root``). A missing number reads as its column's fill (the median), then is
        standardised, as the embedded engine does (``activelab.core.features.numeric``); a
        missing category as its column's fill, a value not kept as the infrequent column (all
        zeros when there is none). DataError naming the file for an image that cannot be read."""
        from activelab.core.features.feature_set import combine_blocks, scaled_blocks

        blocks: dict[str, Any] = {}
        if self.image:
            if image_block is None:
                from activelab.core.scale.embed_images import encode_frame

                image_block = encode_frame(frame, self.image, image_root)
            blocks["image"] = np.asarray(image_block, dtype=np.float32)
        if self.text:
            blocks["text"] = self._text(frame, text_block)
        if self.dense_width or not blocks:
            blocks["tabular"] = self._tabular(frame)
        return combine_blocks(scaled_blocks(blocks))

    def _tabular(self, frame: Any) -> np.ndarray:
        from activelab.core.data.values import id_str, missing_mask

        n = len(frame)
        dense = np.zeros((n, self.dense_width), dtype=np.float32)
        for j, (c, f, m, s) in enumerate(zip(self.numeric, self.fills, self.means, self.stds)):
            x = np.asarray(frame[c], dtype=np.float64)
            x = np.where(np.isnan(x), f, x)
            x -= m
            x /= s
            dense[:, j] = x
        j0 = len(self.numeric)
        fills = self.cat_fills or (None,) * len(self.categorical)
        for c, kept, fill, rest in zip(self.categorical, self.categories, fills,
                                       self._infrequent()):
            values = np.array([id_str(v) for v in frame[c].tolist()], dtype=object)
            values[missing_mask(frame[c])] = fill
            hit = np.zeros(n, dtype=bool)
            for k, v in enumerate(kept):
                same = values == v
                dense[:, j0 + k] = same
                hit |= same
            j0 += len(kept)
            if rest:
                dense[:, j0] = ~hit
                j0 += 1
        return dense

    def _text(self, frame: Any, text_block: Any) -> Any:
        if self.text_features == "minilm":
            from activelab.core.scale.embed import embed_frame

            emb = embed_frame(frame, self.text) if text_block is None else text_block
            return np.asarray(emb, dtype=np.float32)
        from scipy import sparse
        from sklearn.feature_extraction.text import HashingVectorizer

        vec = HashingVectorizer(n_features=self.hash_features, alternate_sign=False,
                                ngram_range=(1, 2), norm="l2")
        joined = [" ".join(str(v) for v in row if v is not None and v == v)
                  for row in zip(*(frame[c].tolist() for c in self.text))]
        return sparse.csr_matrix(vec.transform(joined), dtype=np.float32)


def _is_numeric(series: Any) -> bool:
    """Numbers (booleans are categories, as in the embedded engine's ``numeric_column``)."""
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)


def fit_categories(col: Any, n_rows: int) -> tuple[tuple[str, ...], str | None, bool, int]:
    """(values kept, sorted; the value a missing cell takes; whether an "infrequent" column
    gathers the rest; how many distinct values) for one categorical column of ``n_rows``
    rows: the rule of the embedded engine's encoder (``activelab.core.features.blocks``:
    scikit-learn's SimpleImputer(most_frequent) then OneHotEncoder(min_frequency=5 from 100
    rows on, max_categories=100, handle_unknown="infrequent_if_exist")). On the whole pool
    it gives the embedded engine's columns; on a sample, the sample's counts decide."""
    import pandas as pd

    from activelab.core.data.values import id_str, missing_mask

    values = pd.Series([id_str(v) for v in col.tolist()], dtype=object)[~missing_mask(col)]
    counts = values.value_counts()
    if counts.empty:
        return (), None, False, 0
    fill = min(str(v) for v in counts.index[counts.to_numpy() == counts.max()])
    counts[fill] += len(col) - len(values)      # the imputed cells count for their value
    counts = counts.sort_index()
    names = [str(v) for v in counts.index]
    c = counts.to_numpy()
    rare = c < MIN_FREQUENCY if n_rows >= MIN_FREQUENCY_ROWS else np.zeros(len(c), dtype=bool)
    if MAX_CATEGORIES < len(c) - rare.sum() + 1:
        rare[np.argsort(c, kind="mergesort")[:-(MAX_CATEGORIES - 1)]] = True
    kept = tuple(v for v, r in zip(names, rare) if not r)
    return kept, fill, bool(rare.any()), len(names)


def fit_featurizer(sample: Any, feature_columns: Sequence[str],
                   text_columns: Sequence[str] = (), text_features: str = "hash",
                   image_column: str | None = None) -> Featurizer:
    """Fit the transform on ``sample`` (a DataFrame of pool rows): numeric feature columns get
    their fill, mean and standard deviation (1 when constant), other feature columns their
    one-hot values (``fit_categories``); ``text_columns`` are hashed, or embedded with
    MiniLM when ``text_features`` is "minilm"; ``image_column`` is embedded with
    EfficientNet-Lite0."""
    numeric, fills, means, stds, categorical, categories, notes = [], [], [], [], [], [], []
    cat_fills, cat_rest = [], []
    for c in feature_columns:
        col = sample[c]
        if _is_numeric(col):
            from activelab.core.features.numeric import column_scaling

            f, m, s = column_scaling(np.asarray(col, dtype=np.float64))
            numeric.append(str(c))
            fills.append(f)
            means.append(m)
            stds.append(s)
        else:
            kept, fill, rest, seen = fit_categories(col, len(sample))
            categorical.append(str(c))
            categories.append(kept)
            cat_fills.append(fill)
            cat_rest.append(rest)
            if rest:
                notes.append(f"column '{c}': {seen} values in the sample; {len(kept)} are one-hot "
                             "encoded, the rarer ones share one column")
    return Featurizer(tuple(numeric), tuple(fills), tuple(means), tuple(stds), tuple(categorical),
                      tuple(categories), tuple(str(c) for c in text_columns), HASH_FEATURES,
                      tuple(notes), text_features, tuple(cat_fills), tuple(cat_rest),
                      str(image_column or ""))


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
