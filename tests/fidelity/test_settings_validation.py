"""Settings, model parameters and strategy parameters are checked when they are set: a value of
the wrong type, out of range or an unknown key is refused with a message naming it and what is
allowed, and nothing is stored. Damaged stored settings fall back to defaults and are reported."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from activelab.core.errors import ActiveLabError
from activelab.core.learning.model_params import validate_model_params
from activelab.core.project.project import Project
from activelab.core.loop.settings import DEFAULT_STRATEGY, Settings

ROOT = Path(__file__).resolve().parents[2]


def _csv(tmp_path: Path) -> Path:
    words = {"pos": "good great fine nice", "neg": "bad awful poor sad"}
    rows = ["id,text,label"]
    for i in range(12):
        c = "pos" if i % 2 else "neg"
        rows.append(f"r{i},{words[c]} {i},{c}")
    p = tmp_path / "d.csv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("settings")
    Project.create(tmp / "p", data=_csv(tmp), text_columns=["text"], tasks=["s=label"]).close()
    return tmp / "p"


@pytest.fixture
def project(template, tmp_path):
    import shutil

    shutil.copytree(template, tmp_path / "p")
    p = Project.open(tmp_path / "p")
    yield p
    p.close()


# ----------------------------------------------------------------- settings of the wrong type
BAD_SETTINGS = [
    ("batch_size", "abc", "Setting 'batch_size' must be an integer >= 1; got 'abc'"),
    ("batch_size", 0, "Setting 'batch_size' must be an integer >= 1; got 0"),
    ("batch_size", 2.5, "Setting 'batch_size' must be an integer >= 1; got 2.5"),
    ("batch_size", True, "Setting 'batch_size' must be an integer >= 1; got True"),
    ("retrain_every", -3, "Setting 'retrain_every' must be an integer >= 1; got -3"),
    ("audit_rate", 2, "Setting 'audit_rate' must be a number from 0 to 1; got 2"),
    ("audit_rate", "x", "Setting 'audit_rate' must be a number from 0 to 1; got 'x'"),
    ("audit_rate", float("nan"), "Setting 'audit_rate' must be a number from 0 to 1; got nan"),
    ("blind_mode", "yes", "Setting 'blind_mode' must be true or false; got 'yes'"),
    ("aggregate", "median", "Setting 'aggregate' must be one of 'mean', 'max', 'weighted'"),
    ("seed", -1, "Setting 'seed' must be an integer from 0 to 4294967295; got -1"),
    ("annotator", "", "Setting 'annotator' must be non-empty text; got ''"),
    ("model_params", "C=5", "Setting 'model_params' must be a JSON object"),
    ("task_weights", {"s": -1}, "Setting 'task_weights' must map task names to numbers >= 0"),
]


@pytest.mark.parametrize("key,value,message", BAD_SETTINGS,
                         ids=[f"{k}={v!r}" for k, v, _ in BAD_SETTINGS])
def test_a_setting_of_the_wrong_type_or_range_is_refused_and_nothing_stored(
        project, key, value, message):
    before = project.store.get_setting("settings")
    with pytest.raises(ActiveLabError) as err:
        project.update_settings(**{key: value})
    assert message in str(err.value)
    assert "Nothing was saved" in str(err.value)
    assert project.store.get_setting("settings") == before
    assert Project.open(project.path).settings.to_dict() == before


def test_an_unknown_setting_is_refused_with_the_known_ones(project):
    with pytest.raises(ActiveLabError, match=r"Unknown setting\(s\) \['bacth_size'\]; known "
                                             r"settings: \['aggregate', 'annotator'"):
        project.update_settings(bacth_size=5)


# ----------------------------------------------------------------- model parameters
BAD_MODEL_PARAMS = [
    ("logistic_regression", {"C": "abc"},
     "The 'C' parameter of LogisticRegression must be a float in the range (0.0, inf]. "
     "Got 'abc' instead."),
    ("logistic_regression", {"C": -1},
     "The 'C' parameter of LogisticRegression must be a float in the range (0.0, inf]. "
     "Got -1 instead."),
    ("logistic_regression", {"max_iter": 1.5},
     "The 'max_iter' parameter of LogisticRegression must be an int in the range [0, inf). "
     "Got 1.5 instead."),
    ("logistic_regression", {"Cee": 1},
     "'Cee' is not a parameter of it. Its parameters: C, class_weight, dual,"),
    ("linear_svm", {"C": 0}, "The 'C' parameter of CalibratedLinearSVM must be a float"),
    ("linear_svm", {"calibration_folds": 1},
     "The 'calibration_folds' parameter of CalibratedLinearSVM must be an int in the range "
     "[2, inf). Got 1 instead."),
    ("random_forest", {"n_estimators": 0},
     "The 'n_estimators' parameter of RandomForestClassifier must be an int in the range"),
    ("knn", {"weights": "far"}, "The 'weights' parameter of FewLabelKNeighborsClassifier"),
    ("mlp", {"hidden_layer_sizes": "abc"}, "The 'hidden_layer_sizes' parameter of MLPClassifier"),
    ("gradient_boosting", {"learning_rate": -0.1},
     "The 'learning_rate' parameter of HistGradientBoostingClassifier"),
    ("naive_bayes", {"alpha": "x"}, "The 'alpha' parameter of ComplementNB"),
    ("sklearn.ensemble.ExtraTreesClassifier", {"max_depth": -2},
     "The 'max_depth' parameter of ExtraTreesClassifier must be an int in the range [1, inf)"),
    ("torch_mlp", {"dropout": 1.5},
     "The 'dropout' parameter of torch_mlp must be a float in the range [0.0, 1.0). "
     "Got 1.5 instead."),
    ("torch_mlp", {"hidden": [0]},
     "The 'hidden' parameter of torch_mlp must be a list of positive ints"),
    ("torch_mlp", {"max_epoch": 3}, "'max_epoch' is not a parameter of it. Its parameters:"),
    ("deep_ensemble", {"n_members": 1}, "The 'n_members' parameter of deep_ensemble must be an"),
    ("multimodal", {"fusion": "sum"},
     "The 'fusion' parameter of multimodal must be a str among {'"),   # set order varies
]


@pytest.mark.parametrize("model,params,message", BAD_MODEL_PARAMS,
                         ids=[f"{m}:{p}" for m, p, _ in BAD_MODEL_PARAMS])
def test_model_parameters_are_checked_by_the_models_typed_parameters(model, params, message):
    if model.startswith(("torch", "deep", "multimodal")):
        pytest.importorskip("torch")
    with pytest.raises(ActiveLabError) as err:
        validate_model_params(model, params)
    assert message in str(err.value)
    assert str(err.value).startswith(f"Model '{model}' does not accept these parameters:")


@pytest.mark.parametrize("model,params", [
    ("logistic_regression", {"C": 5}), ("linear_svm", {"C": 0.5, "class_weight": "balanced"}),
    ("mlp", {"hidden_layer_sizes": [20, 10]}), ("knn", {"n_neighbors": 3}),
    ("torch_mlp", {"max_epochs": 20, "hidden": [64, 32]}),
])
def test_valid_model_parameters_are_accepted(model, params):
    if model.startswith("torch"):
        pytest.importorskip("torch")
    assert validate_model_params(model, params) == params


def test_update_settings_refuses_bad_model_params_and_keeps_the_stored_ones(project):
    project.update_settings(model_params={"C": 3})
    with pytest.raises(ActiveLabError, match="The 'C' parameter of LogisticRegression"):
        project.update_settings(model_params={"C": -1})
    assert Project.open(project.path).settings.model_params == {"C": 3}


def test_a_new_model_without_parameters_starts_from_its_defaults(project):
    project.update_settings(model_params={"C": 3})
    s = project.update_settings(model="random_forest")
    assert s.model == "random_forest" and s.model_params == {}


# ----------------------------------------------------------------- strategy parameters
BAD_STRATEGY_PARAMS = [
    ("density_weighted", {"beta": "x"},
     "Strategy 'density_weighted': parameter 'beta' must be a number >= 0; got 'x'."),
    ("density_weighted", {"k": 1.5},
     "Strategy 'density_weighted': parameter 'k' must be an integer >= 1; got 1.5."),
    ("density_weighted", {"k": 0},
     "Strategy 'density_weighted': parameter 'k' must be an integer >= 1; got 0."),
    ("entropy", {"beta": 1}, "Strategy 'entropy' has no parameter 'beta'. Its parameters: none."),
    ("vote_entropy", {"n_members": 1},
     "Strategy 'vote_entropy': parameter 'n_members' must be an integer from 2 to 50; got 1."),
    ("vote_entropy", {"committee": "crowd"},
     "Strategy 'vote_entropy': parameter 'committee' must be one of 'bootstrap', 'models'"),
]


@pytest.mark.parametrize("strategy,params,message", BAD_STRATEGY_PARAMS,
                         ids=[f"{s}:{p}" for s, p, _ in BAD_STRATEGY_PARAMS])
def test_strategy_parameters_are_checked_by_the_strategys_params(project, strategy, params,
                                                                 message):
    before = project.store.get_setting("settings")
    with pytest.raises(ActiveLabError) as err:
        project.update_settings(strategy=strategy, strategy_params=params)
    assert message in str(err.value)
    assert project.store.get_setting("settings") == before


def test_strategy_parameters_are_stored_with_their_declared_types(project):
    s = project.update_settings(strategy="density_weighted", strategy_params={"beta": 2, "k": 4.0})
    assert s.strategy_params == {"beta": 2.0, "k": 4}
    assert type(s.strategy_params["beta"]) is float and type(s.strategy_params["k"]) is int


# ----------------------------------------------------------------- damaged stored settings
DAMAGED = [
    ({"batch_size": "abc"}, "batch_size", 10),
    ({"audit_rate": 5}, "audit_rate", 0.1),
    ({"blind_mode": "yes"}, "blind_mode", False),
    ({"model_params": [1, 2]}, "model_params", {}),
    # The default strategy is the label-efficiency benchmark's choice (was entropy).
    ({"strategy": None}, "strategy", DEFAULT_STRATEGY),
]


@pytest.mark.parametrize("stored,key,default", DAMAGED, ids=[k for _, k, _ in DAMAGED])
def test_a_damaged_stored_setting_falls_back_to_its_default_and_is_reported(stored, key, default):
    s, problems = Settings.load({"seed": 7, **stored})
    assert getattr(s, key) == default
    assert s.seed == 7, "the undamaged settings are kept"
    assert len(problems) == 1 and f"Setting '{key}'" in problems[0]
    assert f"The default {default!r} is used instead." in problems[0]
    assert Settings.from_dict({"seed": 7, **stored}) == s


def test_a_project_with_a_damaged_setting_opens_and_says_which(project):
    good = project.store.get_setting("settings")
    project.store.set_setting("settings", {**good, "batch_size": "many", "seed": 3})
    reopened = Project.open(project.path)
    assert reopened.settings.batch_size == 10 and reopened.settings.seed == 3
    assert reopened.settings_problems == [
        "Setting 'batch_size' must be an integer >= 1; got 'many'. The default 10 is used instead."
    ]


# ----------------------------------------------------------------- through the CLI
def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "activelab.core.cli.main", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("assignment,message", [
    ("batch_size=abc", "error: Setting 'batch_size' must be an integer >= 1; got 'abc'."),
    ('model_params={"C": -1}',
     "The 'C' parameter of LogisticRegression must be a float in the range (0.0, inf]. Got -1"),
    ("audit_rate=2", "error: Setting 'audit_rate' must be a number from 0 to 1; got 2."),
])
def test_cli_set_refuses_and_exits_1_without_a_traceback(project, assignment, message):
    before = project.store.get_setting("settings")
    r = _cli("set", str(project.path), assignment)
    assert r.returncode == 1
    assert message in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""
    assert project.store.get_setting("settings") == before


def test_cli_set_accepts_model_params_as_json(project):
    r = _cli("set", str(project.path), 'model_params={"C": 5}', "batch_size=4")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["model_params"] == {"C": 5}
    assert Project.open(project.path).settings.batch_size == 4


def test_cli_new_refuses_a_bad_model_param_before_creating_anything(tmp_path):
    r = _cli("new", str(tmp_path / "p"), "--data", str(_csv(tmp_path)), "--text-column", "text",
             "--task", "s=label", "--model-param", "max_iter=1.5")
    assert r.returncode == 1
    assert "The 'max_iter' parameter of LogisticRegression must be an int" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "p").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["d.csv"], "no hidden half-made project"


def test_cli_new_refuses_a_bad_strategy_param(tmp_path):
    r = _cli("new", str(tmp_path / "p"), "--data", str(_csv(tmp_path)), "--text-column", "text",
             "--task", "s=label", "--strategy", "density_weighted", "--strategy-param", "k=abc")
    assert r.returncode == 1
    assert "Strategy 'density_weighted': parameter 'k' must be an integer >= 1; got 'abc'." \
        in r.stderr
    assert not (tmp_path / "p").exists()


def test_cli_simulate_refuses_a_bad_model_param(tmp_path):
    r = _cli("simulate", "--data", str(_csv(tmp_path)), "--label-column", "label",
             "--text-column", "text", "--model", "knn", "--model-param", "n_neighbors=0",
             "--out", str(tmp_path / "sim"))
    assert r.returncode == 1
    assert "The 'n_neighbors' parameter of FewLabelKNeighborsClassifier must be an int in the " \
           "range [1, inf)" in r.stderr
    assert not (tmp_path / "sim").exists()


def test_cli_warns_about_a_damaged_setting_and_still_works(project):
    good = project.store.get_setting("settings")
    project.store.set_setting("settings", {**good, "audit_rate": "lots"})
    r = _cli("status", str(project.path))
    assert r.returncode == 0
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: "), r.stderr
    assert ("Setting 'audit_rate' must be a number from 0 to 1; got 'lots'. "
            "The default 0.1 is used instead." in lines[0])
    assert f"activelab check {project.path}" in lines[0]
    assert r.stdout.startswith(f"Project {project.path}: 0 of 12 samples labeled")


@pytest.mark.parametrize("model,cls", [
    ("torch_mlp", "activelab.core.learning.neural.classifier.TorchClassifier"),
    ("torch_cnn", "activelab.core.learning.neural.classifier.TorchClassifier"),
    ("deep_ensemble", "activelab.core.learning.neural.classifier.DeepEnsembleClassifier"),
    ("multitask_mlp", "activelab.core.learning.neural.multitask.MultiTaskClassifier"),
    ("multimodal", "activelab.core.learning.neural.multimodal.MultimodalClassifier"),
])
def test_torch_models_declare_a_type_for_every_constructor_parameter(model, cls):
    pytest.importorskip("torch")
    import importlib
    import inspect

    from activelab.core.learning.model_params import model_param_names

    module, _, name = cls.rpartition(".")
    signature = inspect.signature(getattr(importlib.import_module(module), name).__init__)
    wanted = {p for p in signature.parameters if p not in ("self", "tasks")}
    assert set(model_param_names(model)) == wanted
