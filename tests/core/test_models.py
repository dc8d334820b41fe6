"""A model is resolved once, with capability flags that say what it can do; the flags agree
with the estimators, the loop reads the flags (never the model's name), and a resolved model
travels to the training process."""
from __future__ import annotations

import inspect
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from activelab.core.data.spec import TaskSpec
from activelab.core.errors import ModelError
from activelab.core.learning.fitting import Fitter
from activelab.core.learning.models import model_info, model_names, resolve_model

ROOT = Path(__file__).resolve().parents[2]
TASKS = [TaskSpec("kind", ("a", "b", "c")), TaskSpec("tags", ("x", "y"), multilabel=True)]


def _estimator(name: str):
    info = resolve_model(name, {"image_shape": (1, 2, 2)} if model_info(name).needs_image_shape
                         else {})
    if info.shared_multitask:
        return info.build(tasks={t.name: (list(t.classes), t.multilabel) for t in TASKS})
    return info.build()


@pytest.mark.parametrize("name", model_names())
def test_capability_flags_say_what_the_estimator_has(name):
    info = model_info(name)
    est = _estimator(name)
    assert info.has_mc_samples == hasattr(est, "predict_proba_samples")
    assert info.has_committee == hasattr(est, "committee_proba")
    assert info.has_embeddings == hasattr(est, "embed")
    assert info.has_modality_heads == hasattr(est, "predict_proba_by_modality")
    assert info.supports_warm_start == ("init_from" in inspect.signature(est.fit).parameters)
    assert info.native_multilabel == bool(getattr(est, "supports_multilabel", False))
    assert info.shared_multitask == bool(getattr(est, "multitask", False))
    assert info.multimodal == bool(getattr(est, "needs_blocks", False))
    assert info.needs_image_shape == ("image_shape" in est.get_params()
                                      and (info.multimodal or info.input_block == "image"))
    assert info.cv_folds == (3 if info.is_torch else 5)


def test_a_scikit_learn_class_path_is_a_model_with_no_extra_outputs():
    info = resolve_model("sklearn.ensemble.ExtraTreesClassifier", {"n_estimators": 5})
    assert info.params == {"n_estimators": 5} and info.build().n_estimators == 5
    assert not (info.is_torch or info.shared_multitask or info.has_mc_samples
                or info.has_embeddings or info.supports_warm_start)
    with pytest.raises(ModelError, match="Unknown model 'nope'"):
        resolve_model("nope")


def test_the_images_shape_goes_only_to_models_that_need_it():
    assert "image_shape" not in resolve_model("logistic_regression", {}, (1, 8, 8)).params
    pytest.importorskip("torch")
    assert resolve_model("torch_cnn", {}, (1, 8, 8)).params["image_shape"] == (1, 8, 8)
    assert resolve_model("torch_cnn", {"image_shape": [3, 4, 4]}, (1, 8, 8)).params[
        "image_shape"] == [3, 4, 4]
    assert "image_shape" not in resolve_model("torch_mlp", {}, (1, 8, 8)).params


def test_a_resolved_model_and_its_fitted_tasks_travel_to_the_training_process():
    """The child process receives the previous model (warm starts) and sends back the new
    one: both are pickled with the resolved ModelInfo they carry."""
    info = resolve_model("knn", {"n_neighbors": 3})
    back = pickle.loads(pickle.dumps(info))
    assert back == info and back.build().n_neighbors == 3
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    labeled = {"kind": (np.arange(12), ["a", "b", "c"] * 4)}
    fitted = Fitter(info).fit(X, labeled, TASKS)
    again = pickle.loads(pickle.dumps(fitted))["kind"]
    np.testing.assert_allclose(again.predict_proba(X), fitted["kind"].predict_proba(X))
    assert again.model == info


def test_one_fitter_for_per_task_and_shared_models():
    """Both kinds give one fitted view per task that has two classes, and a CV estimate per
    task (None while a task has too few labels for folds)."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 5)).astype(np.float32)
    kinds = np.array(["a", "b", "c"])[np.arange(60) % 3]
    X[:, 0] += np.arange(60) % 3 * 3.0
    labeled = {"kind": (np.arange(30), list(kinds[:30])),
               "tags": (np.arange(3), [["x"], ["x"], ["x"]])}      # one label set: no model
    names = ["logistic_regression"]
    try:
        import torch  # noqa: F401
        names.append("multitask_mlp")
    except ImportError:
        pass
    for name in names:
        model = resolve_model(name, {"max_epochs": 5} if name != "logistic_regression" else {})
        result = Fitter(model).retrain(X, labeled, TASKS, seed=0)
        assert set(result.fitted) == {"kind"} and set(result.per_task) == {"kind"}
        assert result.proba["kind"].shape == (60, 3)
        assert result.per_task["kind"]["n_labels"] == 30.0
        assert 0.0 <= result.per_task["kind"]["cv_accuracy"] <= 1.0
        assert (result.embeddings is not None) == model.has_embeddings
        assert (result.fitted["kind"].task_key is not None) == model.shared_multitask
    assert Fitter(resolve_model("logistic_regression")).retrain(
        X, {"tags": labeled["tags"]}, TASKS) is None


def test_no_code_compares_model_names():
    """What a model can do is read from its flags; no code in core/ or app/ decides by
    comparing the model's name (``== "torch_cnn"``, ``in ("multimodal", ...)``,
    ``.startswith("torch")``)."""
    names = "|".join(re.escape(n) for n in set(model_names()) - {"mlp"})   # also an arch
    quoted = rf"[\"'](?:{names})[\"']"
    compare = re.compile(rf"(?:==|!=)\s*{quoted}|{quoted}\s*(?:==|!=)|\bin\s*[(\[{{][^)\]}}]*"
                         rf"{quoted}|startswith\(\s*[\"'](?:torch|multi|deep)")
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for folder in ("core", "app") for path in sorted((ROOT / folder).rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if compare.search(line)]
    assert not found, "\n".join(found)
    # the check finds what it looks for
    assert compare.search('if snapshot.settings.model in ("torch_cnn", "multimodal"):')
    assert compare.search('folds = 3 if name.startswith("torch") else 5')
