"""MultiTaskClassifier: one trunk, a head per task, masked loss on partially labeled rows."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from activelab.core.errors import ModelError  # noqa: E402
from activelab.core.learning.neural.multitask import MultiTaskClassifier  # noqa: E402
from activelab.core.learning.neural.weights import load_model, save_weights  # noqa: E402

TASKS = {"sign": (["neg", "pos"], False), "band": (["lo", "mid", "hi"], False),
         "tags": (["p", "q"], True)}


def problem(n=500, seed=0, missing=0.5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 12)).astype(np.float32)
    sign = np.where(X[:, 0] > 0, "pos", "neg").astype(object)
    band = np.array(["lo", "mid", "hi"], dtype=object)[np.digitize(X[:, 1], [-0.5, 0.5])]
    tags = np.stack([X[:, 2] > 0, X[:, 3] > 0], axis=1).astype(np.float32)
    truth = {"sign": sign, "band": band, "tags": tags}
    part = {"sign": sign.copy(), "band": band.copy(), "tags": tags.copy()}
    # each row is labeled for a random subset of the tasks only
    part["sign"][rng.random(n) < missing] = None
    part["band"][rng.random(n) < missing] = None
    part["tags"][rng.random(n) < missing] = np.nan
    return X, part, truth


def test_partially_labeled_tasks_each_learn_above_chance():
    X, part, truth = problem()
    m = MultiTaskClassifier(tasks=TASKS, hidden=(64,)).fit(X[:350], {k: v[:350] for k, v in part.items()})
    p = m.predict_proba(X[350:])
    assert set(p) == set(TASKS)
    assert p["sign"].shape == (150, 2) and p["band"].shape == (150, 3) and p["tags"].shape == (150, 2)
    np.testing.assert_allclose(p["band"].sum(axis=1), 1.0, atol=1e-5)
    pred = m.predict(X[350:])
    assert (pred["sign"] == truth["sign"][350:]).mean() > 0.85       # chance 0.5
    assert (pred["band"] == truth["band"][350:]).mean() > 0.6        # chance ~0.38
    assert (pred["tags"] == truth["tags"][350:]).mean() > 0.8        # chance 0.5
    assert list(m.classes_["band"]) == ["lo", "mid", "hi"]           # task's class order kept


def test_task_with_no_labels_yet_still_predicts():
    X, part, _ = problem()
    part["band"][:] = None
    m = MultiTaskClassifier(tasks=TASKS, hidden=(32,), max_epochs=10).fit(X, part)
    assert m.predict_proba(X[:4])["band"].shape == (4, 3)


def test_label_outside_class_list_is_a_model_error():
    X, part, _ = problem()
    part["band"][0] = "huge"
    with pytest.raises(ModelError, match="row 0"):
        MultiTaskClassifier(tasks=TASKS).fit(X, part)


def test_samples_embed_and_warm_start():
    X, part, _ = problem()
    m = MultiTaskClassifier(tasks=TASKS, hidden=(32,), max_epochs=200).fit(X[:300], {k: v[:300] for k, v in part.items()})
    s = m.predict_proba_samples(X[:20], 5)
    assert s["band"].shape == (5, 20, 3) and s["tags"].shape == (5, 20, 2)
    assert s["band"].std(axis=0).max() > 1e-4
    assert m.embed(X[:20]).shape == (20, 32)
    warm = MultiTaskClassifier(tasks=TASKS, hidden=(32,), max_epochs=200).fit(
        X[:310], {k: v[:310] for k, v in part.items()}, init_from=m
    )
    assert warm.warm_started_ and warm.n_epochs_ < m.n_epochs_


def test_tasks_inferred_and_label_lists_for_multilabel():
    X, part, truth = problem(n=200)
    lists = np.empty(200, dtype=object)
    for i, row in enumerate(truth["tags"]):
        lists[i] = [c for c, on in zip("pq", row) if on] if i % 2 else None
    m = MultiTaskClassifier(tasks={"tags": (["p", "q"], True)}, max_epochs=5).fit(X, {"tags": lists})
    assert m.predict_proba(X)["tags"].shape == (200, 2)
    inferred = MultiTaskClassifier(max_epochs=5).fit(X, {"sign": part["sign"]})
    assert list(inferred.classes_["sign"]) == ["neg", "pos"]


def test_multitask_weights_round_trip(tmp_path):
    X, part, _ = problem(n=200)
    m = MultiTaskClassifier(tasks=TASKS, max_epochs=5).fit(X, part)
    loaded = load_model(save_weights(m, tmp_path / "mt.safetensors"))
    for t in TASKS:
        np.testing.assert_array_equal(loaded.predict_proba(X)[t], m.predict_proba(X)[t])
    assert list(loaded.classes_["band"]) == ["lo", "mid", "hi"]
