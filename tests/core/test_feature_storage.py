"""What a project keeps on disk for its features: each matrix once, nothing the pool holds.

* an image pool keeps its pixels once (the block), never a second copy inside a stored
  ``model_X`` (before: the dense block plus a sparse copy of it beside the text);
* numeric feature columns of the pool are not copied into the cache: the block is recomputed
  from ``pool.parquet`` and equals the one built at import, bit for bit;
* so a project of numeric columns is at most 1.5x its Parquet source (everything counted).
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import scipy.sparse as sp

from activelab.core.data.spec import DatasetSpec, FeatureConfig
from activelab.core.features.build import build_features, load_cached_features
from activelab.core.features.numeric import RECIPE_KIND
from activelab.core.project.project import Project


def _files(folder):
    return {p.name: p.stat().st_size for p in folder.iterdir()}


def test_image_and_text_pool_keeps_the_pixels_once(tmp_path):
    n, side = 200, 16
    arr = np.random.default_rng(0).integers(0, 256, (n, side, side, 3), dtype=np.uint8)
    words = ["red", "blue", "shirt", "shoe", "bag", "watch"]
    frame = pd.DataFrame({"img": [f"@array:{i}" for i in range(n)],
                          "t": [f"{words[i % 6]} {words[(i * 5) % 6]} item" for i in range(n)]})
    spec = DatasetSpec(image_column="img", text_columns=("t",))
    cache = tmp_path / "cache"
    built = build_features(frame, spec, FeatureConfig(image_size=side, dense_dim=16),
                           image_array=arr, cache_dir=cache)
    folder = next(cache.glob("features-*"))
    files = _files(folder)
    pixels = n * 3 * side * side * 4          # the float32 image block
    assert "block_image.npy" in files and not [f for f in files if f.startswith("model_X")]
    image_bytes = sum(size for name, size in files.items() if "image" in name or "model_X" in name)
    assert image_bytes < 1.05 * pixels
    assert sum(files.values()) < 1.3 * pixels   # pixels + text + a 16-wide dense view
    # What models train on is still the scaled blocks side by side, made when asked for.
    loaded = load_cached_features(cache, built.fingerprint)
    assert sp.issparse(loaded.model_X) and loaded.model_X.shape == (n, sum(loaded.names.values()))
    assert (loaded.model_X != built.model_X).nnz == 0
    assert isinstance(loaded.blocks["image"], np.memmap)


def _numeric_parquet(path, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    cols = {"id": pa.array([f"s{i:06d}" for i in range(n)])}
    for j in range(8):
        x = rng.standard_normal(n).astype(np.float32)
        x[rng.random(n) < 0.02] = np.nan
        cols[f"f{j}"] = pa.array(x, from_pandas=True)
    cols["k"] = pa.array(rng.integers(0, 5, n))
    cols["label"] = pa.array(["ab"[i % 2] for i in range(n)])
    pq.write_table(pa.table(cols), path)
    return path


@pytest.fixture(scope="module")
def numeric_project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("numeric")
    data = _numeric_parquet(folder / "pool.parquet", 30_000)
    proj = Project.create(folder / "p", data=data, id_column="id",
                          feature_columns=[f"f{j}" for j in range(8)] + ["k"], tasks=["t=label"])
    yield data, proj
    proj.close()


def test_numeric_columns_are_not_copied_into_the_cache(numeric_project):
    _data, proj = numeric_project
    folder = next((proj.path / "cache").glob("features-*"))
    assert set(_files(folder)) == {"meta.json"}
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["blocks"]["tabular"]["kind"] == RECIPE_KIND
    assert meta["dense"] == meta["blocks"]["tabular"] == meta["model_X"]


def test_recomputed_block_equals_the_block_built_at_import(numeric_project):
    data, proj = numeric_project
    frame = pd.read_parquet(data)
    built = build_features(frame, proj.spec, proj.feature_config)        # no cache, no pool
    loaded = proj.features
    assert loaded.fingerprint == built.fingerprint
    X = np.asarray(loaded.model_X)
    assert X.dtype == np.float32 and X.flags.c_contiguous
    assert np.array_equal(X, built.model_X)
    assert np.array_equal(np.asarray(loaded.dense), X)
    assert np.allclose(X.mean(axis=0), 0, atol=1e-4) and np.allclose(X.std(axis=0), 1, atol=1e-3)


def test_project_is_at_most_one_and_a_half_times_its_source(numeric_project):
    data, proj = numeric_project
    total = sum(f.stat().st_size for f in proj.path.rglob("*") if f.is_file())
    assert total <= 1.5 * data.stat().st_size, (total, data.stat().st_size)


def test_a_pool_that_lost_its_columns_means_rebuilding(numeric_project, tmp_path):
    import shutil

    _data, proj = numeric_project
    copy = tmp_path / "copy"
    shutil.copytree(proj.path, copy)
    table = pq.read_table(copy / "pool.parquet")
    pq.write_table(table.drop_columns(["f3"]), copy / "pool.parquet")
    fp = Project.open(copy).store.get_setting("feature_fingerprint")
    assert load_cached_features(copy / "cache", fp) is None       # never a wrong matrix
