"""Strategy scores checked by value on small, hand-checkable inputs."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from activelab.core.learning.committee import committee_outputs
from activelab.core.errors import ModelError, StrategyError
from activelab.core.querying.runner import run_strategy
from activelab.core.querying.registry import registry
from activelab.core.querying.strategy_api import QueryContext, TaskOutput
from activelab.strategies import bayesian, density, hybrid

get = registry().get


def ctx_with(proba=None, features=None, labeled=(), **kw):
    n = len(proba if proba is not None else features)
    tasks = kw.pop("tasks", {"t": TaskOutput(proba=proba)})
    return QueryContext(n_pool=n, candidates=kw.pop("candidates", np.arange(n)),
                        labeled=np.asarray(labeled, dtype=np.int64),
                        rng=np.random.default_rng(0), features=features, tasks=tasks, **kw)


def test_bald_and_variation_ratios_on_synthetic_samples():
    confident = np.tile([0.9, 0.1], (4, 1))            # all samples agree and are sure
    aleatoric = np.tile([0.5, 0.5], (4, 1))            # all unsure in the same way
    epistemic = np.array([[1.0, 0.0], [0.0, 1.0]] * 2)  # samples disagree completely
    P = np.stack([confident, aleatoric, epistemic], axis=1)  # (S=4, N=3, C=2)
    bald = bayesian.bald_block(P)
    assert bald[2] == pytest.approx(np.log(2))          # max mutual information
    assert bald[0] == pytest.approx(0) and bald[1] == pytest.approx(0)
    vr = bayesian.variation_ratios_block(P)
    assert vr[0] == 0 and vr[2] == pytest.approx(0.5)
    ctx = ctx_with(proba=np.full((3, 2), 0.5), tasks={"t": TaskOutput(
        proba=np.full((3, 2), 0.5), mc_samples=P)})
    assert run_strategy(get("bald"), ctx, 1).indices.tolist() == [2]


def test_multitask_aggregation_mean_max_weighted():
    a = np.array([[0.5, 0.5], [0.9, 0.1]])   # least confidence 0.5, 0.1
    b = np.array([[0.8, 0.2], [0.6, 0.4]])   # least confidence 0.2, 0.4
    tasks = {"a": TaskOutput(proba=a), "b": TaskOutput(proba=b)}
    s = get("least_confidence")
    base = ctx_with(proba=a, tasks=tasks)
    mean = run_strategy(s, base, 2).candidate_scores
    np.testing.assert_allclose(mean, [0.35, 0.25])
    mx = run_strategy(s, dataclasses.replace(base, aggregate="max"), 2).candidate_scores
    np.testing.assert_allclose(mx, [0.5, 0.4])
    w = dataclasses.replace(base, aggregate="weighted", task_weights={"a": 1.0, "b": 3.0})
    np.testing.assert_allclose(run_strategy(s, w, 2).candidate_scores,
                               [(0.5 + 0.6) / 4, (0.1 + 1.2) / 4])
    with pytest.raises(StrategyError, match="aggregation"):
        run_strategy(s, dataclasses.replace(base, aggregate="median"), 1)


def _brute_coreset(X, labeled, n):
    d = np.min(((X[:, None] - X[labeled][None]) ** 2).sum(-1), axis=1)
    picks = []
    for _ in range(n):
        d[picks] = -1
        j = int(np.argmax(d))
        picks.append(j)
        d = np.minimum(d, ((X - X[j]) ** 2).sum(-1))
    return picks


def test_coreset_equals_brute_force_greedy_k_center():
    X = np.random.default_rng(3).normal(size=(300, 5)).astype(np.float32)
    labeled = [0, 1, 2]
    ctx = ctx_with(features=X, labeled=labeled, tasks={}, candidates=np.arange(3, 300))
    res = run_strategy(get("coreset"), ctx, 12)
    assert res.indices.tolist() == _brute_coreset(X.astype(np.float64), labeled, 12)
    assert np.all(np.diff(res.scores) <= 1e-6)  # each pick is no farther than the previous


def test_badge_distances_equal_explicit_gradient_embeddings():
    rng = np.random.default_rng(4)
    P = rng.dirichlet(np.ones(3), size=50)
    X = rng.normal(size=(50, 4)).astype(np.float32)
    ctx = ctx_with(proba=P, features=X)
    A = hybrid.gradient_factors(ctx, np.arange(50))
    G = (A[:, :, None] * X[:, None, :]).reshape(50, -1)
    res = run_strategy(get("badge"), ctx, 6)
    first = int(np.argmax((G ** 2).sum(1)))
    assert res.indices[0] == first
    # every later pick's score is its distance to the nearest earlier pick in gradient space
    for k in range(1, 6):
        d = np.sqrt(((G[res.indices[:k]] - G[res.indices[k]]) ** 2).sum(1)).min()
        assert res.scores[k] == pytest.approx(d, rel=1e-3, abs=1e-4)


def test_knn_density_equals_brute_force_when_reference_is_the_pool():
    X = np.random.default_rng(5).normal(size=(120, 3)).astype(np.float32)
    got = density.knn_density(X, np.arange(120), k=4, reference_size=1000,
                              rng=np.random.default_rng(0), metric="euclidean")
    D = np.sqrt(((X[:, None] - X[None]) ** 2).sum(-1))
    np.fill_diagonal(D, np.inf)
    ref = (1 / (1 + np.sort(D, axis=1)[:, :4])).mean(1)
    np.testing.assert_allclose(got, ref, rtol=1e-4)


def test_cluster_takes_one_sample_per_blob():
    rng = np.random.default_rng(6)
    centers = np.array([[0, 0], [20, 0], [0, 20], [20, 20]], dtype=np.float32)
    X = np.vstack([c + rng.normal(size=(50, 2)) for c in centers]).astype(np.float32)
    res = run_strategy(get("cluster"), ctx_with(features=X, tasks={}), 4)
    assert sorted(res.indices // 50) == [0, 1, 2, 3]


def test_exploration_mix_replaces_a_fraction_with_random_picks():
    P = np.random.default_rng(7).dirichlet(np.ones(3), size=500)
    ctx = ctx_with(proba=P)
    top = run_strategy(get("entropy"), ctx, 20).indices
    res = run_strategy(get("exploration_mix"), ctx, 20, {"random_fraction": 0.25})
    assert res.indices[:15].tolist() == top[:15].tolist()
    assert len(set(res.indices[15:]) & set(top[:15])) == 0


def test_committee_outputs_bootstrap_and_models():
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(8)
    X = rng.normal(size=(60, 3))
    y = np.where(X[:, 0] > 0, "pos", "neg")
    out = committee_outputs(LogisticRegression, X[:20], y[:20], X,
                            classes=["neg", "pos", "never"], n_members=4, rng=rng)
    assert out.shape == (4, 60, 3)
    np.testing.assert_allclose(out.sum(-1), 1, atol=1e-5)
    assert np.all(out[..., 2] == 0)  # a class no member saw gets probability 0
    out2 = committee_outputs([LogisticRegression, DecisionTreeClassifier], X[:20], y[:20], X,
                             classes=["neg", "pos"], mode="models", rng=rng)
    assert out2.shape == (2, 60, 2)
    with pytest.raises(ModelError, match="two classes"):
        committee_outputs(LogisticRegression, X[:5], ["a"] * 5, X, classes=["a"], rng=rng)
