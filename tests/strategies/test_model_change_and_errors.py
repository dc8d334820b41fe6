"""Expected gradient length equals a brute-force gradient; error-prediction sampling asks for
the points the model is known to get wrong; BALD falls back with a stated reason where its
samples would be a stand-in; distance strategies on raw features are flagged."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification

from activelab.core.learning.fitting import Fitter
from activelab.core.learning.models import resolve_model
from activelab.core.learning.strategy_inputs import (
    fallback_strategy, input_norms, representation_note, task_outputs,
)
from activelab.core.querying.registry import get_strategy
from activelab.core.querying.runner import run_strategy, score_candidates
from activelab.core.querying.strategy_api import QueryContext, TaskOutput


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _brute_force_egl(W: np.ndarray, b: np.ndarray, x: np.ndarray, h: float = 1e-6) -> float:
    """sum_y p(y|x) ||d(-log p(y|x)) / d(W, b)|| by central finite differences."""
    p = _softmax(W @ x + b)
    total = 0.0
    for y in range(len(b)):
        def loss(Wv, bv):
            return -np.log(_softmax(Wv @ x + bv)[y])
        grads = []
        for idx in np.ndindex(W.shape):
            Wp, Wm = W.copy(), W.copy()
            Wp[idx] += h
            Wm[idx] -= h
            grads.append((loss(Wp, b) - loss(Wm, b)) / (2 * h))
        for c in range(len(b)):
            bp, bm = b.copy(), b.copy()
            bp[c] += h
            bm[c] -= h
            grads.append((loss(W, bp) - loss(W, bm)) / (2 * h))
        total += p[y] * np.linalg.norm(grads)
    return total


def test_egl_equals_the_expected_norm_of_a_brute_force_gradient():
    rng = np.random.default_rng(3)
    C, d, N = 3, 4, 12
    W, b = rng.normal(size=(C, d)), rng.normal(size=C)
    X = rng.normal(size=(N, d)) * rng.uniform(0.2, 3.0, size=(N, 1))   # varied norms
    proba = np.array([_softmax(W @ x + b) for x in X])
    ctx = QueryContext(n_pool=N, candidates=np.arange(N), rng=np.random.default_rng(0),
                       tasks={"t": TaskOutput(proba=proba, classes=("a", "b", "c"))},
                       input_norms=input_norms(X))
    got = score_candidates(get_strategy("egl"), ctx)
    want = np.array([_brute_force_egl(W, b, x) for x in X])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)   # differences of 1e-6 steps
    # Without the loop's norms it reads the representation (here the same rows): same values.
    ctx_features = QueryContext(n_pool=N, candidates=np.arange(N), rng=np.random.default_rng(0),
                                tasks=ctx.tasks, features=X.astype(np.float32))
    np.testing.assert_allclose(score_candidates(get_strategy("egl"), ctx_features), want,
                               rtol=1e-5, atol=1e-7)


def test_egl_row_norms_of_sparse_tfidf_match_dense():
    import scipy.sparse as sp

    rng = np.random.default_rng(0)
    X = rng.random((20, 30)) * (rng.random((20, 30)) < 0.2)
    np.testing.assert_allclose(input_norms(sp.csr_matrix(X)), np.sqrt((X ** 2).sum(1) + 1))
    emb = rng.normal(size=(20, 5))
    np.testing.assert_allclose(input_norms(sp.csr_matrix(X), emb), np.sqrt((emb ** 2).sum(1) + 1))


def test_error_prediction_asks_first_for_where_the_model_is_known_to_err():
    """Two regions the model is equally unsure about; its known mistakes all lie in one."""
    rng = np.random.default_rng(0)
    N = 400
    region = np.repeat([0, 1], N // 2)
    X = np.column_stack([region * 4.0 + rng.normal(size=N), rng.normal(size=N)]).astype(np.float32)
    proba = np.tile([0.7, 0.3], (N, 1)).astype(np.float32)
    proba += rng.normal(scale=0.01, size=(N, 1)).astype(np.float32) * [1, -1]
    known = np.concatenate([np.arange(0, 40), np.arange(200, 240)])     # 40 per region
    wrong = np.concatenate([rng.random(40) < 0.1, rng.random(40) < 0.8])
    tasks = {"t": TaskOutput(proba=proba, classes=("a", "b"),
                             errors=(known, wrong, proba[known]))}
    cand = np.setdiff1d(np.arange(N), known)
    ctx = QueryContext(n_pool=N, candidates=cand, rng=np.random.default_rng(1), features=X,
                       tasks=tasks)
    picks = run_strategy(get_strategy("error_prediction"), ctx, 20).indices
    assert (region[picks] == 1).all()
    # Least confidence, which sees only the probabilities, does not find them.
    lc = run_strategy(get_strategy("least_confidence"), ctx, 20).indices
    assert (region[lc] == 1).mean() < 0.9


def test_error_prediction_in_the_engine_learns_from_out_of_fold_mistakes():
    X, y = make_classification(n_samples=500, n_features=6, n_informative=3, n_classes=3,
                               n_clusters_per_class=2, flip_y=0.1, random_state=0)
    y = y.astype(str)
    lab = np.arange(60)
    fitted = Fitter(resolve_model("logistic_regression")).fit_task(X[lab], y[lab], ("0", "1", "2"))
    audits = {"t": (lab[:3], np.array([True, False, True]))}
    out = task_outputs({"t": fitted}, X, {"proba", "errors"}, labeled={"t": (lab, y[lab])},
                       audits=audits)["t"]
    rows, wrong, p = out.errors
    assert set(rows.tolist()) == set(lab.tolist()) and p.shape == (60, 3)
    # A copy that never saw a row predicts it: some of its labels are missed (noisy labels),
    # which the fitted model itself, trained on them, gets right far more often.
    own = fitted.predict_proba(X[rows]).argmax(axis=1).astype(str) != y[rows]
    assert wrong.sum() > own.sum()
    # Audit picks' recorded outcomes replace the out-of-fold ones for the same rows.
    assert [bool(wrong[rows.tolist().index(i)]) for i in (0, 1, 2)] == [True, False, True]


def test_bald_on_a_scikit_learn_model_falls_back_to_margin_and_says_why():
    X, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=3,
                               n_clusters_per_class=1, random_state=0)
    y = y.astype(str)
    lab = np.arange(30)
    fitted = Fitter(resolve_model("logistic_regression")).fit_task(X[lab], y[lab], ("0", "1", "2"))
    outs = task_outputs({"t": fitted}, X, {"proba", "mc_samples"}, labeled={"t": (lab, y[lab])})
    assert outs["t"].mc_samples is None
    for name in ("bald", "variation_ratios"):
        used, why = fallback_strategy(get_strategy(name), outs)
        assert used == "margin"
        assert why.startswith(f"fallback to margin: {name} needs sampled predictions")
        assert "no posterior samples" in why and "below random" in why


def test_coreset_and_density_are_flagged_on_raw_features_only():
    for name in ("coreset", "density_weighted"):
        s = get_strategy(name)
        assert fallback_strategy(s, {}) is None
        assert "raw features" in representation_note(s, False)
        assert representation_note(s, True) is None
    for name in ("margin", "exploration_mix", "egl"):
        assert representation_note(get_strategy(name), False) is None


@pytest.mark.parametrize("pretrained", [False, True])
def test_simulate_runs_the_new_families_and_flags_raw_core_set(pretrained):
    from activelab.core.simulation.simulate import simulate

    X, y = make_classification(n_samples=400, n_features=8, n_informative=5, n_classes=3,
                               n_clusters_per_class=1, random_state=1)
    names = ["egl", "error_prediction", "auto", "coreset"]
    r = simulate(X, y.astype(str), strategies=names, initial=10, batch=10, budget=40,
                 repeats=1, seed=0, pretrained_dense=pretrained)
    counts = r.curves.groupby("strategy")["n_labels"].apply(list).to_dict()
    assert all(v == [10, 20, 30, 40] for v in counts.values())
    raw_note = any(n.startswith("coreset measured on raw features") for n in r.notes)
    assert raw_note is not pretrained


def test_egl_on_a_torch_model_equals_autograd_on_its_output_layer():
    """For torch_mlp the loop gives EGL the norms of the penultimate embedding (what the
    linear head reads): the scores equal the expected norm of the head's autograd gradient."""
    torch = pytest.importorskip("torch")
    X, y = make_classification(n_samples=120, n_features=10, n_informative=5, n_classes=3,
                               n_clusters_per_class=1, random_state=0)
    y = y.astype(str)
    model = resolve_model("torch_mlp", {"max_epochs": 5, "hidden": [16]})
    fitted = Fitter(model).fit_task(X[:60].astype(np.float32), y[:60], ("0", "1", "2"))
    Xf = X.astype(np.float32)
    emb = fitted.embed(Xf)
    proba = fitted.predict_proba(Xf)
    ctx = QueryContext(n_pool=120, candidates=np.arange(60, 120), rng=np.random.default_rng(0),
                       tasks={"t": TaskOutput(proba=proba, classes=fitted.classes)},
                       input_norms=input_norms(Xf, emb))
    got = score_candidates(get_strategy("egl"), ctx)
    head = fitted.estimator.nets_[0].heads[0]
    want = []
    for i in range(60, 120):
        e = torch.tensor(emb[i])
        p = torch.softmax(head(e), dim=0).detach().numpy()
        total = 0.0
        for c in range(3):
            head.zero_grad()
            loss = -torch.log_softmax(head(e), dim=0)[c]
            loss.backward()
            g = torch.cat([head.weight.grad.ravel(), head.bias.grad.ravel()])
            total += p[c] * float(g.norm())
        want.append(total)
    # Column order: the model's classes are the task's here (0, 1, 2).
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
