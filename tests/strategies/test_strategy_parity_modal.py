"""Same probabilities and features in, same scores and order out as modAL's functions."""
from __future__ import annotations

import numpy as np
import pytest

from activelab.core.querying.modal_adapter import ClassifierShim, strategy_from_modal, strategy_from_modal_utility
from activelab.core.querying.runner import run_strategy
from activelab.core.querying.registry import registry
from activelab.core.querying.strategy_api import QueryContext, TaskOutput
from activelab.strategies import committee as qbc
from activelab.strategies import uncertainty
from activelab.strategies.density import exact_density

modal_unc = pytest.importorskip("modAL.uncertainty")
modal_dis = pytest.importorskip("modAL.disagreement")
modal_den = pytest.importorskip("modAL.density")
modal_batch = pytest.importorskip("modAL.batch")

N, C, M, D = 400, 5, 4, 6


@pytest.fixture
def data():
    rng = np.random.default_rng(42)
    P = rng.dirichlet(np.ones(C) * 0.6, size=N)
    members = rng.dirichlet(np.ones(C) * 0.6, size=(M, N))
    X = rng.normal(size=(N, D))
    return P, members, X


class CommitteeShim:
    """What modAL's disagreement functions read from a Committee."""

    def __init__(self, members: np.ndarray, X: np.ndarray):
        self.classes_ = np.arange(members.shape[2])
        self.learner_list = [ClassifierShim(X, m, self.classes_, None) for m in members]

    def __len__(self):
        return len(self.learner_list)

    def __iter__(self):
        return iter(self.learner_list)

    def vote(self, X):
        return np.stack([lr.predict(X) for lr in self.learner_list], axis=1)

    def vote_proba(self, X):
        return np.stack([lr.predict_proba(X) for lr in self.learner_list], axis=1)

    def predict_proba(self, X):
        return self.vote_proba(X).mean(axis=1)


def _order(scores):
    return np.argsort(-np.asarray(scores), kind="stable")


@pytest.mark.parametrize("ours, theirs, sign", [
    (uncertainty.least_confidence_scores, "classifier_uncertainty", 1.0),
    (uncertainty.margin_scores, "classifier_margin", -1.0),  # modAL returns the gap itself
    (uncertainty.entropy_scores, "classifier_entropy", 1.0),
])
def test_uncertainty_scores_match_modal(data, ours, theirs, sign):
    P, _, X = data
    shim = ClassifierShim(X, P, np.arange(C), None)
    ref = sign * getattr(modal_unc, theirs)(shim, X)
    got = ours(P)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(_order(got), _order(ref))


@pytest.mark.parametrize("ours, theirs", [
    (qbc.vote_entropy_block, "vote_entropy"),
    (qbc.consensus_entropy_block, "consensus_entropy"),
    (qbc.kl_max_block, "KL_max_disagreement"),
])
def test_committee_scores_match_modal(data, ours, theirs):
    _, members, X = data
    ref = getattr(modal_dis, theirs)(CommitteeShim(members, X), X)
    got = ours(members)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-12)
    if theirs != "vote_entropy":  # vote entropy has many exact ties; order is tie-broken
        np.testing.assert_array_equal(_order(got), _order(ref))


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_exact_information_density_matches_modal(data, metric):
    _, _, X = data
    ref = modal_den.information_density(X, metric)
    got = exact_density(X, np.arange(N), metric, block=128)
    np.testing.assert_allclose(got, ref, rtol=1e-9)
    np.testing.assert_array_equal(_order(got), _order(ref))


def test_density_weighted_exact_matches_modal_product(data):
    P, _, X = data
    ctx = QueryContext(n_pool=N, candidates=np.arange(N), rng=np.random.default_rng(0),
                       features=X.astype(np.float32), tasks={"t": TaskOutput(proba=P)})
    res = run_strategy(registry().get("density_weighted"), ctx, 10, {"mode": "exact"})
    shim = ClassifierShim(X, P, np.arange(C), None)
    ref = modal_unc.classifier_entropy(shim, X) * modal_den.information_density(
        X.astype(np.float32), "cosine")
    np.testing.assert_allclose(res.candidate_scores, ref, rtol=1e-5)
    np.testing.assert_array_equal(res.indices, _order(ref)[:10])


def test_ranked_batch_matches_modal_picks(data):
    P, _, X = data
    X = X.astype(np.float32)
    labeled = np.arange(20)
    cand = np.arange(20, N)
    ctx = QueryContext(n_pool=N, candidates=cand, labeled=labeled, rng=np.random.default_rng(0),
                       features=X, tasks={"t": TaskOutput(proba=P)})
    ours = run_strategy(registry().get("ranked_batch"), ctx, 15)
    shim = ClassifierShim(X[cand], P[cand], np.arange(C), X[labeled].astype(np.float64))
    idx, _ = modal_batch.uncertainty_batch_sampling(shim, X[cand].astype(np.float64), 15)
    np.testing.assert_array_equal(ours.indices, cand[np.asarray(idx)])


def test_adapter_runs_modal_query_functions(data):
    P, _, X = data
    ctx = QueryContext(n_pool=N, candidates=np.arange(0, N, 2), rng=np.random.default_rng(0),
                       features=X.astype(np.float32), tasks={"t": TaskOutput(proba=P)})
    adapted = strategy_from_modal(modal_unc.uncertainty_sampling, "modal_lc")
    ours = run_strategy(registry().get("least_confidence"), ctx, 8)
    theirs = run_strategy(adapted, ctx, 8)
    assert set(theirs.indices) == set(ours.indices)
    utility = strategy_from_modal_utility(modal_unc.classifier_margin, "modal_margin",
                                          higher_is_better=False)
    np.testing.assert_array_equal(run_strategy(utility, ctx, 8).indices,
                                  run_strategy(registry().get("margin"), ctx, 8).indices)
