"""simulate's label steps (a growing batch) and held-out features with a pretrained image
encoder (what ``simulate --test-data --image-features efficientnet`` and the label-efficiency
benchmark's --defaults section evaluate on)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

from activelab.core.errors import DataError
from activelab.core.simulation.simulate import simulate


def _data():
    X, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=3,
                               n_clusters_per_class=1, random_state=0)
    return X, y.astype(str)


def test_growing_steps_are_the_curve_points():
    X, y = _data()
    steps = [10, 20, 30, 60, 90]
    r = simulate(X, y, strategies=["margin"], initial=10, budget=90, repeats=1, steps=steps)
    for _, g in r.curves.groupby("strategy"):
        assert g["n_labels"].tolist() == steps
    assert r.settings["steps"] == steps


def test_steps_beyond_the_pool_are_capped_and_bad_steps_refused():
    X, y = _data()
    r = simulate(X, y, strategies=["random"], initial=10, budget=1000, repeats=1,
                 steps=[10, 100, 200, 1000])
    n_train = r.settings["n_train"]
    assert r.curves["n_labels"].tolist() == [10, 100, 200, n_train]
    with pytest.raises(DataError, match="rise from --initial"):
        simulate(X, y, strategies=["random"], initial=10, budget=60, repeats=1,
                 steps=[10, 40, 30, 60])
    with pytest.raises(DataError, match="rise from --initial"):
        simulate(X, y, strategies=["random"], initial=10, budget=60, repeats=1, steps=[20, 60])


def test_held_out_features_use_the_pretrained_encoder_for_pool_and_test():
    from activelab.core.data.spec import DatasetSpec, FeatureConfig
    from activelab.core.features.held_out import build_pool_and_test_features

    images = np.random.default_rng(0).integers(0, 255, size=(12, 8, 8), dtype=np.uint8)
    pool = pd.DataFrame({"image": [f"@array:{i}" for i in range(8)]})
    test = pd.DataFrame({"image": [f"@array:{i}" for i in range(4)]})
    seen = []

    def encoder(refs, root, array):     # a stand-in encoder: 5 numbers per image
        seen.append((list(refs), array.shape[0]))
        rows = [int(r.split(":")[1]) for r in refs]
        return np.stack([array[i].mean(axis=1)[:5] for i in rows]).astype(np.float32) + 1.0

    spec = DatasetSpec(image_column="image")
    fs = build_pool_and_test_features(
        pool, test, spec, FeatureConfig(image="efficientnet_lite0"), image_array=images[:8],
        test_image_array=images[8:], image_encoder=encoder)
    # The model reads the encoder's 5 features (not 8x8 pixels), for the pool and the test
    # rows, each encoded from its own image array.
    assert fs.pool_X.shape == (8, 5) and fs.test_X.shape == (4, 5)
    assert seen == [([f"@array:{i}" for i in range(8)], 8), ([f"@array:{i}" for i in range(4)], 4)]
    pix = build_pool_and_test_features(pool, test, spec, FeatureConfig(image_size=8),
                                       image_array=images[:8], test_image_array=images[8:])
    assert pix.pool_X.shape[1] == 64
