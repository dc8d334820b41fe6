"""TorchClassifier and DeepEnsembleClassifier: the scikit-learn surface, reproducibility,
warm start, MC-dropout samples, embeddings, the CNN, and weights saved without pickle."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp

torch = pytest.importorskip("torch")

from sklearn.base import clone  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from activelab.core.learning.neural.classifier import DeepEnsembleClassifier, TorchClassifier  # noqa: E402
from activelab.core.learning.neural.weights import load_model, save_weights  # noqa: E402


def blobs(n=300, d=10, k=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=1.0, size=(k, d))
    y = rng.integers(0, k, n)
    X = (centers[y] + rng.normal(size=(n, d))).astype(np.float32)
    return X, np.array(["a", "b", "c"])[y]


def small(**kw):
    return TorchClassifier(hidden=(32,), max_epochs=40, **kw)


# Every scikit-learn estimator check passes (at the time of writing only the array-API check
# is skipped by scikit-learn itself: SCIPY_ARRAY_API is not set). The checks refit one object
# and expect the same result, so warm_start is off (a warm refit continues training instead).
@parametrize_with_checks([TorchClassifier(hidden=(32,), max_epochs=30, warm_start=False)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_clone_and_get_params_round_trip():
    m = TorchClassifier(arch="mlp", hidden=(64, 32), dropout=0.3, random_state=5)
    c = clone(m)
    assert c.get_params() == m.get_params()
    c.set_params(lr=0.01)
    assert c.lr == 0.01 and m.lr == 1e-3


def test_fit_predict_shapes_and_accuracy():
    X, y = blobs()
    m = small().fit(X[:200], y[:200])
    p = m.predict_proba(X[200:])
    assert p.shape == (100, 3)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert list(m.classes_) == ["a", "b", "c"]
    assert (m.predict(X[200:]) == y[200:]).mean() > 0.9


def test_sparse_input_is_accepted():
    X, y = blobs()
    Xs = sp.csr_matrix(np.where(X > 0, X, 0))
    m = small().fit(Xs[:200], y[:200])
    assert m.predict_proba(Xs[200:]).shape == (100, 3)
    assert (m.predict(Xs[200:]) == y[200:]).mean() > 0.8


def test_same_seed_same_model_other_seed_differs():
    X, y = blobs()
    p1 = small(random_state=3).fit(X, y).predict_proba(X)
    p2 = small(random_state=3).fit(X, y).predict_proba(X)
    p3 = small(random_state=4).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(p1, p2)
    assert np.abs(p1 - p3).max() > 1e-4


def test_warm_start_from_previous_model_runs_fewer_epochs():
    X, y = blobs(n=400)
    make = lambda: TorchClassifier(hidden=(64,), max_epochs=200)  # noqa: E731
    prev = make().fit(X[:300], y[:300])
    cold = make().fit(X[:310], y[:310])
    warm = make().fit(X[:310], y[:310], init_from=prev)
    assert warm.warm_started_ and not cold.warm_started_
    assert cold.n_epochs_ < 200  # early stopping ended the cold fit
    assert warm.n_epochs_ < cold.n_epochs_ / 3
    assert (warm.predict(X[310:]) == y[310:]).mean() >= (cold.predict(X[310:]) == y[310:]).mean() - 0.05


def test_warm_start_skipped_when_classes_change():
    X, y = blobs()
    prev = small().fit(X[y != "c"], y[y != "c"])
    m = small().fit(X, y, init_from=prev)
    assert not m.warm_started_
    assert m.predict_proba(X).shape == (300, 3)


def test_mc_dropout_samples_vary_and_are_seeded():
    X, y = blobs()
    m = small(dropout=0.5).fit(X, y)
    s = m.predict_proba_samples(X[:50], n_samples=8)
    assert s.shape == (8, 50, 3)
    np.testing.assert_allclose(s.sum(axis=2), 1.0, atol=1e-5)
    assert s.std(axis=0).max() > 1e-3  # dropout is active while sampling
    np.testing.assert_array_equal(s, m.predict_proba_samples(X[:50], n_samples=8))
    # batch norm / eval mode restored: plain predictions stay deterministic
    np.testing.assert_array_equal(m.predict_proba(X[:5]), m.predict_proba(X[:5]))


def test_embed_gives_penultimate_layer():
    X, y = blobs()
    m = TorchClassifier(hidden=(48, 24), max_epochs=10).fit(X, y)
    assert m.embed(X[:7]).shape == (7, 24)


def test_cnn_learns_images_from_pixels():
    rng = np.random.default_rng(0)
    n = 240
    imgs = rng.random((n, 1, 12, 12)).astype(np.float32) * 0.5
    y = rng.integers(0, 2, n)
    imgs[y == 1, :, :, :6] += 0.5  # left half brighter for class 1
    X = imgs.reshape(n, -1)
    m = TorchClassifier(arch="cnn", hidden=(32,), max_epochs=30, image_shape=(1, 12, 12))
    m.fit(X[:160], y[:160])
    assert m.predict_proba(X[160:]).shape == (80, 2)
    assert (m.predict(X[160:]) == y[160:]).mean() > 0.85
    assert m.predict_proba_samples(X[:10], 3).shape == (3, 10, 2)


def test_cnn_rejects_non_image_width():
    X, y = blobs(d=10)
    from activelab.core.errors import ModelError

    with pytest.raises(ModelError, match="image_shape"):
        TorchClassifier(arch="cnn").fit(X, y)


def test_deep_ensemble_committee():
    X, y = blobs()
    e = DeepEnsembleClassifier(n_members=3, hidden=(16,), max_epochs=10).fit(X, y)
    c = e.committee_proba(X[:20])
    assert c.shape == (3, 20, 3)
    assert np.abs(c[0] - c[1]).max() > 1e-4  # members differ
    np.testing.assert_allclose(c.mean(axis=0), e.predict_proba(X[:20]), atol=1e-6)


def test_weights_round_trip_without_pickle(tmp_path, monkeypatch):
    X, y = blobs()
    m = small().fit(X, y)
    path = save_weights(m, tmp_path / "model.safetensors")

    def forbidden(*a, **k):
        raise AssertionError("pickle used while loading")

    monkeypatch.setattr(pickle, "loads", forbidden)
    monkeypatch.setattr(pickle, "load", forbidden)
    monkeypatch.setattr(pickle, "Unpickler", forbidden)
    loaded = load_model(path)
    assert isinstance(loaded, TorchClassifier)
    np.testing.assert_array_equal(loaded.predict_proba(X), m.predict_proba(X))
    assert list(loaded.classes_) == list(m.classes_)
    # a loaded model warm-starts the next fit
    assert small().fit(X, y, init_from=loaded).warm_started_


def test_ensemble_weights_round_trip(tmp_path):
    X, y = blobs()
    e = DeepEnsembleClassifier(n_members=2, hidden=(16,), max_epochs=5).fit(X, y)
    loaded = load_model(save_weights(e, tmp_path / "e.safetensors"))
    np.testing.assert_allclose(loaded.committee_proba(X), e.committee_proba(X), atol=1e-6)


def test_registered_models():
    from activelab.core.learning.models import make_model, model_info

    assert make_model("torch_cnn", {"image_shape": (1, 8, 8)}).arch == "cnn"
    assert isinstance(make_model("torch_mlp", multilabel=True), TorchClassifier)
    assert make_model("deep_ensemble").n_members == 5
    assert model_info("multitask_mlp").shared_multitask and not model_info("multitask_mlp").multimodal
    assert model_info("multimodal").multimodal and model_info("multimodal").is_torch
