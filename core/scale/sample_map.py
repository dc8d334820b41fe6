"""The pool map of a pool read in place: a uniform sample of its rows, plus the labelled rows and
the queue, projected to 2-D.

The embedded engine draws every pool row at its 2-D PCA of the features
(``activelab.core.features.projection.project_2d``, fitted on at most 20,000 rows), coloured by
the model's predicted class. A pool of millions of rows is neither featurised on one machine
nor drawable point by point, so the Dask engine draws a sample: each part's scoring task takes
its share of ``MAP_SAMPLE`` rows (shares in proportion to the parts' sizes, so every row has
the same chance; the rows drawn with the project's seed and the part's number, so the same
rows come back at every retrain) with their features and predictions. The driver adds the
labelled rows and the queue (their features: the labelled ones read on the driver, the picks
sent by the parts), fits the projection on the sample alone and places every point with it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

MAP_SAMPLE = 20_000
_SALT = 0x6D6170   # keeps the map's draws apart from the queries' (which use [seed, part])


def map_shares(sizes: Sequence[int], total: int = MAP_SAMPLE) -> np.ndarray:
    """Rows each part gives to a uniform sample of ``total`` pool rows: in proportion to
    the parts' ``sizes`` (largest remainders round, so they add up to ``total``); every row
    when the pool has no more than ``total``. (P,) int64."""
    sizes = np.asarray(sizes, dtype=np.int64)
    pool = int(sizes.sum())
    if pool <= total:
        return sizes.copy()
    exact = sizes * (total / pool)
    share = np.floor(exact).astype(np.int64)
    extra = np.argsort(-(exact - share), kind="stable")[:total - int(share.sum())]
    share[extra] += 1
    return np.minimum(share, sizes)


def part_map_rows(n_rows: int, m: int, seed: int, part: int) -> np.ndarray:
    """The ``m`` rows (0-based, sorted) one part of ``n_rows`` gives to the map's sample:
    uniform without replacement, drawn from ``default_rng([seed, part, salt])``."""
    if m >= n_rows:
        return np.arange(n_rows, dtype=np.int64)
    if m <= 0:
        return np.empty(0, dtype=np.int64)
    rng = np.random.default_rng([int(seed), int(part), _SALT])
    return np.sort(rng.choice(n_rows, size=int(m), replace=False)).astype(np.int64)


@dataclass(frozen=True)
class SampleMap:
    """The points of a sampled pool map, sorted by pool position.

    ``positions`` (M,) int64 pool positions; ``xy`` (M, 2) float32; ``predictions``: task ->
    (predicted class (M,) object, confidence (M,) float32), what ``PoolMapView`` colours by;
    ``classes``: task -> class names; ``sampled``: rows of the uniform sample; ``pool_rows``:
    rows of the pool; ``labelled`` / ``queued``: rows added because they are labelled / in
    the queue (before removing those the sample already had)."""

    positions: np.ndarray
    xy: np.ndarray
    predictions: Mapping[str, tuple[np.ndarray, np.ndarray]]
    classes: Mapping[str, Sequence[str]]
    sampled: int
    pool_rows: int
    labelled: int
    queued: int

    @property
    def is_sample(self) -> bool:
        return self.sampled < self.pool_rows

    def title(self) -> str:
        """One short line for the map: what its points are."""
        what = (f"A sample of {self.sampled:,} of {self.pool_rows:,} rows" if self.is_sample
                else f"All {self.pool_rows:,} rows")
        return f"{what}, plus the labelled rows and the queue"

    def details(self) -> str:
        """How the points were chosen and placed (the map's tooltip)."""
        return (f"{self.sampled:,} of the pool's {self.pool_rows:,} rows, drawn uniformly at "
                f"random (the same rows at every retrain), plus the {self.labelled:,} labelled "
                f"rows and the {self.queued:,} queued ones when the map was made. The 2-D PCA "
                "is fitted on the sample; the colours are the model's predictions, computed "
                "on the cluster.")


def fit_projection(x: Any, seed: int = 0) -> Any:
    """A 2-component projection fitted on the sample's features ``x`` (rows, d): PCA of dense
    features (as the embedded map), truncated SVD of sparse ones (hashed text: no centring of
    a 2**18-wide matrix). Returns an object with ``transform`` (rows, d) -> (rows, k <= 2)."""
    from scipy import sparse

    if sparse.issparse(x):
        from sklearn.decomposition import TruncatedSVD

        k = max(1, min(2, x.shape[1] - 1, x.shape[0]))
        return TruncatedSVD(n_components=k, random_state=seed).fit(x)
    from sklearn.decomposition import PCA

    x = np.asarray(x, dtype=np.float32)
    k = max(1, min(2, x.shape[1], x.shape[0]))
    return PCA(n_components=k, random_state=seed).fit(x)


def _xy(projection: Any, x: Any) -> np.ndarray:
    out = np.zeros((x.shape[0], 2), np.float32)
    if x.shape[0]:
        got = np.asarray(projection.transform(x), dtype=np.float32)
        out[:, :got.shape[1]] = got
    return out


@dataclass
class MapBlock:
    """Rows of the map from one source: pool ``positions`` (R,), features ``x`` (R, d) dense or
    CSR, and per task their predicted class (R,) object and confidence (R,) float32."""

    positions: np.ndarray
    x: Any
    predictions: dict[str, tuple[np.ndarray, np.ndarray]]


def block_from_proba(positions: np.ndarray, x: Any, proba: Mapping[str, np.ndarray],
                     classes: Mapping[str, Sequence[str]]) -> MapBlock:
    """A ``MapBlock`` whose predictions come from (R, C) class probabilities per task."""
    preds = {}
    for t, p in proba.items():
        p = np.asarray(p)
        names = np.asarray(list(classes[t]), dtype=object)
        preds[t] = ((names[p.argmax(axis=1)], p.max(axis=1).astype(np.float32)) if len(p)
                    else (np.empty(0, dtype=object), np.empty(0, np.float32)))
    return MapBlock(np.asarray(positions, dtype=np.int64), x, preds)


def build_sample_map(sample: Sequence[MapBlock], labelled: MapBlock | None,
                     queued: MapBlock | None, classes: Mapping[str, Sequence[str]],
                     pool_rows: int, seed: int = 0) -> SampleMap | None:
    """The map of the sample blocks (the parts' shares) plus the labelled and queued rows:
    the projection fitted on the sample only, each row once (the sample's copy first), sorted
    by pool position. None when the sample is empty."""
    from scipy import sparse

    sample = [b for b in sample if len(b.positions)]
    if not sample:
        return None
    xs = [b.x for b in sample]
    x = sparse.vstack(xs, format="csr") if sparse.issparse(xs[0]) else np.vstack(xs)
    projection = fit_projection(x, seed)
    blocks = sample + [b for b in (labelled, queued) if b is not None and len(b.positions)]
    positions = np.concatenate([b.positions for b in blocks])
    xy = np.vstack([_xy(projection, b.x) for b in blocks])
    keep_pos, first = np.unique(positions, return_index=True)
    preds = {}
    for t in classes:
        labels = np.empty(len(positions), dtype=object)
        conf = np.full(len(positions), np.nan, dtype=np.float32)
        at = 0
        for b in blocks:
            got = b.predictions.get(t)
            if got is not None:
                labels[at:at + len(b.positions)] = got[0]
                conf[at:at + len(b.positions)] = got[1]
            at += len(b.positions)
        preds[t] = (labels[first], conf[first])
    return SampleMap(keep_pos, xy[first], preds, {t: list(c) for t, c in classes.items()},
                     int(sum(len(b.positions) for b in sample)), int(pool_rows),
                     0 if labelled is None else len(labelled.positions),
                     0 if queued is None else len(queued.positions))
