"""Models by name: any scikit-learn classifier with ``predict_proba``.

A model spec is a name plus parameters. Multi-label tasks wrap the estimator in a one-vs-rest
classifier so ``predict_proba`` gives an independent probability per class. Training always
happens on a clone (``sklearn.base.clone``) so the model in use is never half-fitted.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from activelab.core.errors import ModelError


@dataclass(frozen=True)
class ModelInfo:
    name: str
    description: str
    factory: Callable[..., Any]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    dense_only: bool = False      # cannot take sparse input (TF-IDF) directly
    neural: bool = False          # a torch model (the neural extra)
    input_block: str | None = None  # trains on one modality's block only (e.g. "image")
    multitask: bool = False       # fit(X, {task: targets}); predict_proba -> {task: (N, C)}
    needs_blocks: bool = False    # X is FeatureSet.blocks (dict modality -> rows)
    #: Typed parameters of a model that is not a scikit-learn estimator (the torch models): a
    #: function returning name -> scikit-learn style constraints (``Interval``, ``StrOptions``,
    #: "boolean", None; a function so that listing models imports nothing), checked by
    #: ``activelab.core.learning.model_params.validate_model_params``. scikit-learn estimators carry their own
    #: (``_parameter_constraints``) and leave this None.
    param_constraints: Callable[[], Mapping[str, list]] | None = None


def _lazy(path: str) -> Callable[..., Any]:
    module, _, attr = path.rpartition(".")

    def build(**params: Any) -> Any:
        return getattr(importlib.import_module(module), attr)(**params)

    return build


MODELS: dict[str, ModelInfo] = {}


def register_model(info: ModelInfo) -> None:
    MODELS[info.name] = info


for _info in (
    ModelInfo(
        "logistic_regression",
        "Logistic regression, C=10 (fast; fits sparse text well at few labels; the default).",
        _lazy("sklearn.linear_model.LogisticRegression"),
        {"max_iter": 1000, "C": 10.0},
    ),
    ModelInfo(
        "random_forest",
        "Random forest of 200 trees.",
        _lazy("sklearn.ensemble.RandomForestClassifier"),
        {"n_estimators": 200, "n_jobs": 1, "random_state": 0},
    ),
    ModelInfo(
        "gradient_boosting",
        "Histogram gradient boosting (strong on tabular data).",
        _lazy("sklearn.ensemble.HistGradientBoostingClassifier"),
        {"random_state": 0},
        dense_only=True,
    ),
    ModelInfo(
        "linear_svm",
        "Linear SVM with calibrated probabilities (calibration folds fitted to the labels).",
        _lazy("activelab.core.learning.model_zoo.CalibratedLinearSVM"),
        {"C": 1.0},
    ),
    ModelInfo(
        "naive_bayes",
        "Complement naive Bayes (text counts / TF-IDF).",
        _lazy("sklearn.naive_bayes.ComplementNB"),
        {},
    ),
    ModelInfo(
        "knn",
        "k-nearest neighbours (k=5, distance-weighted; fewer while fewer are labeled).",
        _lazy("activelab.core.learning.model_zoo.FewLabelKNeighborsClassifier"),
        {"n_neighbors": 5, "weights": "distance"},
    ),
    ModelInfo(
        "mlp",
        "scikit-learn multi-layer perceptron (one hidden layer of 100).",
        _lazy("sklearn.neural_network.MLPClassifier"),
        {"max_iter": 300, "early_stopping": False, "random_state": 0},
    ),
):
    register_model(_info)


def model_names() -> list[str]:
    _load_neural()
    return sorted(MODELS)


def _load_neural() -> None:
    """Register the torch models when the neural extra is installed (never fails)."""
    try:
        importlib.import_module("activelab.core.learning.neural.register")
    except ImportError:
        pass


def _sklearn_class(name: str) -> ModelInfo | None:
    """Any scikit-learn classifier by class path. Only ``sklearn.`` paths are imported, so a
    shared project file cannot make activelab import arbitrary code."""
    if not name.startswith("sklearn.") or name.count(".") < 2:
        return None
    module, _, attr = name.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError):
        return None
    if not isinstance(cls, type) or not hasattr(cls, "predict_proba"):
        raise ModelError(f"{name} is not a scikit-learn classifier with predict_proba.")
    return ModelInfo(name, f"scikit-learn {attr}", cls, {})


def model_info(name: str) -> ModelInfo:
    if name not in MODELS:
        _load_neural()
    if name not in MODELS:
        info = _sklearn_class(name)
        if info is not None:
            return info
    if name not in MODELS:
        raise ModelError(
            f"Unknown model '{name}'. Available models: {', '.join(model_names())}, or any "
            "scikit-learn classifier by class path (e.g. sklearn.ensemble.ExtraTreesClassifier)."
        )
    return MODELS[name]


def make_model(name: str, params: Mapping[str, Any] | None = None, multilabel: bool = False) -> Any:
    """A fresh, unfitted estimator for ``name`` with its defaults overridden by ``params``."""
    info = model_info(name)
    merged = {**info.defaults, **dict(params or {})}
    try:
        est = info.factory(**merged)
    except TypeError as exc:
        raise ModelError(f"Model '{name}' does not accept these parameters: {exc}.") from exc
    if not hasattr(est, "predict_proba"):
        raise ModelError(f"Model '{name}' has no predict_proba, which strategies need.")
    if multilabel and not getattr(est, "supports_multilabel", False):
        from sklearn.multiclass import OneVsRestClassifier

        est = OneVsRestClassifier(est)
    return est
