"""The pool map's UMAP layout (activelab.core.features.umap_map): computed in a child process,
cached per features fingerprint and seed, cancellable, and explained when umap-learn is missing."""
from __future__ import annotations

import importlib.util
import subprocess
import threading

import numpy as np
import pytest

from activelab.core.errors import ActiveLabError
from activelab.core.features import umap_map
from activelab.core.progress import Cancelled, Progress

needs_umap = pytest.mark.skipif(importlib.util.find_spec("umap") is None,
                                reason="umap-learn is not installed (pip install 'activelab[map]')")


def blobs(n_per: int = 30, dims: int = 12, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well separated Gaussian blobs in ``dims`` dimensions, and each row's blob."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=8.0, size=(3, dims))
    y = np.repeat(np.arange(3), n_per)
    return (centers[y] + rng.normal(size=(len(y), dims))).astype(np.float32), y


def neighbour_agreement(xy: np.ndarray, y: np.ndarray) -> float:
    """Share of points whose nearest other point on the map is from the same blob."""
    d = ((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, np.inf)
    return float((y[d.argmin(1)] == y).mean())


@needs_umap
@pytest.mark.slow
def test_umap_layout_is_computed_in_a_child_and_cached(tmp_path, monkeypatch):
    X, y = blobs()
    steps = []
    xy = umap_map.umap_projection(X, "f" * 40, tmp_path, seed=3,
                                  progress=Progress(lambda f, m: steps.append((f, m))), fit_rows=60)
    assert xy.shape == (90, 2) and np.isfinite(xy).all()
    assert neighbour_agreement(xy, y) > 0.95, "the blobs stay apart on the map"
    assert any("fitting UMAP on 60 samples" in m for _f, m in steps), steps
    assert any("placing 30 more samples" in m for _f, m in steps), "rows beyond the fit are transformed"
    cached = umap_map.cache_path(tmp_path, "f" * 40, 3)
    assert cached.is_file()

    def no_child(*a, **k):
        raise AssertionError("a child process was started although the layout is cached")

    monkeypatch.setattr(subprocess, "Popen", no_child)
    again = umap_map.umap_projection(X, "f" * 40, tmp_path, seed=3)
    np.testing.assert_array_equal(again, xy)
    # New features (another fingerprint) or another seed: not the cached layout.
    for fingerprint, seed in (("g" * 40, 3), ("f" * 40, 4)):
        with pytest.raises(AssertionError, match="child process was started"):
            umap_map.umap_projection(X, fingerprint, tmp_path, seed=seed)


@needs_umap
@pytest.mark.slow
def test_same_seed_gives_the_same_layout():
    """Seeded: the same features and seed give the same map (a subsample fit plus transform
    included); another seed gives another."""
    X, _ = blobs(n_per=15, seed=1)
    first = umap_map.compute_umap(X, seed=5, fit_rows=30)
    np.testing.assert_array_equal(umap_map.compute_umap(X, seed=5, fit_rows=30), first)
    assert not np.allclose(umap_map.compute_umap(X, seed=6, fit_rows=30), first)


@needs_umap
def test_cancelling_kills_the_child(tmp_path):
    X, _ = blobs()
    progress = Progress()
    started = threading.Event()
    real_popen = subprocess.Popen

    def popen(*a, **k):
        proc = real_popen(*a, **k)
        popen.proc = proc
        started.set()
        return proc

    import activelab.core.features.umap_map as mod
    mod.subprocess.Popen = popen
    try:
        timer = threading.Timer(0.5, progress.cancel)
        timer.start()
        with pytest.raises(Cancelled):
            umap_map.umap_projection(X, "c" * 40, tmp_path, seed=0, progress=progress)
    finally:
        mod.subprocess.Popen = real_popen
    assert started.is_set() and popen.proc.poll() is not None, "the child is gone"
    assert not umap_map.cache_path(tmp_path, "c" * 40, 0).exists()


def test_without_umap_learn_it_says_how_to_install_it(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "umap" else real(name, *a))
    assert "pip install 'activelab[map]'" in umap_map.umap_missing()
    with pytest.raises(ActiveLabError, match=r"umap-learn.*activelab\[map\]"):
        umap_map.umap_projection(np.zeros((10, 3), np.float32), "d" * 40, tmp_path)


def test_too_few_samples_is_a_clear_error():
    with pytest.raises(ActiveLabError, match="at least 5 samples"):
        umap_map.compute_umap(np.zeros((3, 4), np.float32))
