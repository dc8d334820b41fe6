"""MultimodalClassifier (missing modalities, fusion, alignment, per-modality heads) and the
cross_modal_disagreement co-testing strategy run through the query runner."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

pytest.importorskip("torch")

from activelab.core.errors import StrategyError  # noqa: E402
from activelab.core.learning.neural.multimodal import MultimodalClassifier  # noqa: E402
from activelab.core.learning.neural.weights import load_model, save_weights  # noqa: E402
from activelab.core.querying.runner import run_strategy  # noqa: E402
from activelab.core.querying.strategy_api import QueryContext, TaskOutput  # noqa: E402
from activelab.core.querying.registry import get_strategy  # noqa: E402
from activelab.strategies.cotesting import disagreement_scores  # noqa: E402

TASKS = {"kind": (["shoe", "bag"], False), "tone": (["dark", "light", "mixed"], False)}


def products(n=300, seed=0):
    """Image carries 'kind' (bright top half), text carries 'tone' (a word per tone)."""
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, 2, n)
    tone = rng.integers(0, 3, n)
    img = rng.random((n, 1, 8, 8)).astype(np.float32) * 0.5
    img[kind == 1, :, :4, :] += 0.5
    text = rng.random((n, 20)).astype(np.float32) * 0.2
    text[np.arange(n), tone] += 1.0
    text[np.arange(n), 5 + kind] += 0.5  # the title also hints at the kind
    X = {"image": img.reshape(n, -1), "text": text}
    y = {"kind": np.array(["shoe", "bag"], dtype=object)[kind],
         "tone": np.array(["dark", "light", "mixed"], dtype=object)[tone]}
    return X, y


def rows(X, sl):
    return {k: v[sl] for k, v in X.items()}


def model(**kw):
    params = dict(tasks=TASKS, proj_dim=32, hidden=(32,), text_hidden=(32,),
                  image_shape=(1, 8, 8), max_epochs=40)
    return MultimodalClassifier(**{**params, **kw})


@pytest.mark.parametrize("fusion", ["concat", "attention"])
def test_missing_modality_trains_and_predicts(fusion):
    X, y = products()
    X["image"] = X["image"].copy()
    X["image"][::4] = np.nan                        # a quarter of the products have no photo
    mask = {"text": np.arange(300) % 5 != 1}        # and some have no title
    train = rows(X, slice(0, 200)) | {"__mask__": {"text": mask["text"][:200]}}
    m = model(fusion=fusion).fit(train, {k: v[:200] for k, v in y.items()})
    test = rows(X, slice(200, 300)) | {"__mask__": {"text": mask["text"][200:]}}
    p = m.predict_proba(test)
    assert p["kind"].shape == (100, 2) and np.isfinite(p["kind"]).all()
    pred = m.predict(test)
    assert (pred["tone"] == y["tone"][200:]).mean() > 0.7
    assert (pred["kind"] == y["kind"][200:]).mean() > 0.8
    # text-only input (no image block at all) still predicts
    assert m.predict_proba({"text": X["text"][:5]})["tone"].shape == (5, 3)
    assert m.embed(test).shape == (100, 32)


def test_sparse_text_block():
    X, y = products()
    X["text"] = sp.csr_matrix(X["text"])
    m = model(max_epochs=5).fit(rows(X, slice(0, 200)), {k: v[:200] for k, v in y.items()})
    assert m.predict_proba(rows(X, slice(200, 300)))["tone"].shape == (100, 3)


def test_alignment_loss_decreases_with_unlabeled_pairs():
    X, y = products()
    few = {k: np.where(np.arange(300) < 20, v, None) for k, v in y.items()}
    m = model(align_weight=1.0, patience=40, max_epochs=30)
    m.fit(rows(X, slice(0, 20)), {k: v[:20] for k, v in few.items()}, X_unlabeled=rows(X, slice(20, 300)))
    align = m.train_logs_[0].align_loss
    assert len(align) == 30 and align[-1] < 0.8 * align[0]
    off = model(max_epochs=3).fit(rows(X, slice(0, 20)), {k: v[:20] for k, v in few.items()})
    assert max(off.train_logs_[0].align_loss) == 0.0


def test_per_modality_heads_mark_missing_rows():
    X, y = products()
    X["image"] = X["image"].copy()
    X["image"][:10] = np.nan
    m = model(max_epochs=10).fit(X, y)
    by = m.predict_proba_by_modality(X)
    assert set(by) == {"image", "text"}
    assert np.isnan(by["image"]["kind"][:10]).all() and np.isfinite(by["image"]["kind"][10:]).all()
    assert np.isfinite(by["text"]["tone"]).all()


def test_multimodal_weights_round_trip(tmp_path):
    X, y = products(n=120)
    m = model(max_epochs=3, fusion="attention").fit(X, y)
    loaded = load_model(save_weights(m, tmp_path / "mm.safetensors"))
    assert loaded.modalities_ == ["image", "text"] and loaded.fusion == "attention"
    np.testing.assert_array_equal(loaded.predict_proba(X)["tone"], m.predict_proba(X)["tone"])


# -- co-testing ---------------------------------------------------------------------------

def test_disagreement_scores_rank_conflicting_views_first():
    a = np.array([[0.9, 0.1], [0.5, 0.5], [0.9, 0.1], [np.nan, np.nan]])
    b = np.array([[0.9, 0.1], [0.5, 0.5], [0.1, 0.9], [0.2, 0.8]])
    for div in ("js", "tv"):
        s = disagreement_scores([a, b], divergence=div)
        assert s[0] == pytest.approx(0) and s[1] == pytest.approx(0) and s[3] == 0
        assert s[2] > 0.3


def test_cross_modal_disagreement_through_the_runner():
    X, y = products()
    m = model(max_epochs=10).fit(rows(X, slice(0, 150)), {k: v[:150] for k, v in y.items()})
    by = m.predict_proba_by_modality(X)
    proba = m.predict_proba(X)
    tasks = {
        t: TaskOutput(proba=proba[t], classes=tuple(TASKS[t][0]),
                      by_modality={mod: by[mod][t] for mod in by})
        for t in TASKS
    }
    strat = get_strategy("cross_modal_disagreement")
    cand = np.arange(150, 300)
    ctx = QueryContext(n_pool=300, candidates=cand, rng=np.random.default_rng(0), tasks=tasks)
    res = run_strategy(strat, ctx, 10)
    assert len(res.indices) == 10 and len(set(res.indices)) == 10
    assert np.isin(res.indices, cand).all()
    # the picks are the candidates with the largest disagreement
    assert res.scores.min() >= np.sort(res.candidate_scores)[-10] - 1e-12
    again = run_strategy(strat, QueryContext(n_pool=300, candidates=cand,
                                             rng=np.random.default_rng(0), tasks=tasks), 10)
    np.testing.assert_array_equal(res.indices, again.indices)
    tv = run_strategy(strat, ctx, 5, {"divergence": "tv"})
    assert len(tv.indices) == 5


def test_cross_modal_disagreement_needs_per_modality_predictions():
    p = np.full((5, 2), 0.5)
    ctx = QueryContext(n_pool=5, candidates=np.arange(5), rng=np.random.default_rng(0),
                       tasks={"t": TaskOutput(proba=p)})
    with pytest.raises(StrategyError, match="multimodal"):
        run_strategy(get_strategy("cross_modal_disagreement"), ctx, 2)


def test_cotesting_is_a_builtin():
    from activelab.strategies.builtin import strategies as builtin

    assert "cross_modal_disagreement" in {s.name for s in builtin()}
