"""Models by name: any scikit-learn classifier with ``predict_proba``, and the torch models.

A model is resolved once per retrain, ``resolve_model(name, params)``: a ``ModelInfo`` with the
user's parameters and the model's capabilities (what it trains on, whether it is one shared
multi-task network, which extra outputs it gives: sampled predictions, a committee,
embeddings, per-modality heads). Fitting, committees and strategy inputs read those flags;
nothing downstream compares model names. Multi-label tasks wrap an estimator without native
multi-label outputs in a one-vs-rest classifier, so ``predict_proba`` gives an independent
probability per class. Every fit is on a fresh estimator, so the model in use is never
half-fitted.
"""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

from activelab.core.errors import ModelError


@dataclass(frozen=True)
class LazyFactory:
    """A class named by its import path, imported when the first model is built (so listing
    models imports nothing, and a resolved model pickles to the training process)."""

    path: str

    def __call__(self, **params: Any) -> Any:
        module, _, attr = self.path.rpartition(".")
        return getattr(importlib.import_module(module), attr)(**params)


@dataclass(frozen=True)
class ModelInfo:
    """A model: how to build it, its defaults and the user's parameters, and what it can do.

    ``model_info(name)`` gives the registered entry (no user parameters); ``resolve_model``
    adds them. The capability flags are declared when the model is registered (a test checks
    them against the estimators).
    """

    name: str
    description: str
    factory: Callable[..., Any]
    defaults: Mapping[str, Any] = field(default_factory=dict)
    #: The user's parameters (over ``defaults``); set by ``resolve_model``.
    params: Mapping[str, Any] = field(default_factory=dict)
    dense_only: bool = False          # cannot take sparse input (TF-IDF) directly
    is_torch: bool = False            # a torch model (the neural extra): manages its threads
    input_block: str | None = None    # trains on one modality's block only (e.g. "image")
    multimodal: bool = False          # X is the feature set's blocks (modality -> rows)
    shared_multitask: bool = False    # one model for every task: fit(X, {task: targets})
    native_multilabel: bool = False   # multi-label outputs of its own (no one-vs-rest)
    needs_image_shape: bool = False   # is given the images' (C, H, W) as ``image_shape``
    supports_warm_start: bool = False  # fit(..., init_from=previous fitted model)
    has_mc_samples: bool = False      # predict_proba_samples (MC dropout; BALD without bootstrap)
    has_committee: bool = False       # committee_proba (a deep ensemble is its own committee)
    has_embeddings: bool = False      # embed(X): a learned representation of the pool
    has_modality_heads: bool = False  # predict_proba_by_modality (co-testing)
    cv_folds: int = 5                 # folds of the cross-validated accuracy estimate
    #: Typed parameters of a model that is not a scikit-learn estimator (the torch models): a
    #: function returning name -> scikit-learn style constraints (``Interval``, ``StrOptions``,
    #: "boolean", None; a function so that listing models imports nothing), checked by
    #: ``activelab.core.learning.model_params.validate_model_params``. scikit-learn estimators
    #: carry their own (``_parameter_constraints``) and leave this None.
    param_constraints: Callable[[], Mapping[str, list]] | None = None

    def build(self, multilabel: bool = False, **extra: Any) -> Any:
        """A fresh, unfitted estimator: defaults, then the user's parameters, then ``extra``
        (what the data fixes, e.g. a multi-task model's tasks). Raises ModelError."""
        merged = {**self.defaults, **self.params, **extra}
        try:
            est = self.factory(**merged)
        except TypeError as exc:
            raise ModelError(f"Model '{self.name}' does not accept these parameters: {exc}.") \
                from exc
        if not hasattr(est, "predict_proba"):
            raise ModelError(f"Model '{self.name}' has no predict_proba, which strategies need.")
        if multilabel and not self.native_multilabel:
            from sklearn.multiclass import OneVsRestClassifier

            est = OneVsRestClassifier(est)
        return est

    def input_of(self, features: Any) -> Any:
        """What this model trains on and predicts from, out of a ``FeatureSet``: its blocks
        (multimodal), one block (``input_block``) or the combined model matrix. Raises
        ModelError when the project has no such block."""
        if self.multimodal:
            return features.blocks
        if self.input_block is not None:
            blocks = features.blocks
            if self.input_block not in blocks:
                raise ModelError(
                    f"Model '{self.name}' learns from the {self.input_block} modality, and this "
                    f"project has none (it has: {', '.join(blocks) or 'no features'}). Pick "
                    "another model in the settings."
                )
            return blocks[self.input_block]
        return features.model_X


MODELS: dict[str, ModelInfo] = {}


def register_model(info: ModelInfo) -> None:
    MODELS[info.name] = info


for _info in (
    ModelInfo(
        "logistic_regression",
        "Logistic regression, C=10 (fast; fits sparse text well at few labels; the default).",
        LazyFactory("sklearn.linear_model.LogisticRegression"),
        {"max_iter": 1000, "C": 10.0},
    ),
    ModelInfo(
        "random_forest",
        "Random forest of 200 trees.",
        LazyFactory("sklearn.ensemble.RandomForestClassifier"),
        {"n_estimators": 200, "n_jobs": 1, "random_state": 0},
    ),
    ModelInfo(
        "gradient_boosting",
        "Histogram gradient boosting (strong on tabular data).",
        LazyFactory("sklearn.ensemble.HistGradientBoostingClassifier"),
        {"random_state": 0},
        dense_only=True,
    ),
    ModelInfo(
        "linear_svm",
        "Linear SVM with calibrated probabilities (calibration folds fitted to the labels).",
        LazyFactory("activelab.core.learning.model_zoo.CalibratedLinearSVM"),
        {"C": 1.0},
    ),
    ModelInfo(
        "naive_bayes",
        "Complement naive Bayes (text counts / TF-IDF).",
        LazyFactory("sklearn.naive_bayes.ComplementNB"),
        {},
    ),
    ModelInfo(
        "knn",
        "k-nearest neighbours (k=5, distance-weighted; fewer while fewer are labeled).",
        LazyFactory("activelab.core.learning.model_zoo.FewLabelKNeighborsClassifier"),
        {"n_neighbors": 5, "weights": "distance"},
    ),
    ModelInfo(
        "mlp",
        "scikit-learn multi-layer perceptron (one hidden layer of 100).",
        LazyFactory("sklearn.neural_network.MLPClassifier"),
        {"max_iter": 300, "early_stopping": False, "random_state": 0},
    ),
):
    register_model(_info)


def _load_neural() -> None:
    """Register the torch models when the neural extra (torch) is installed."""
    if "torch_mlp" not in MODELS and importlib.util.find_spec("torch") is not None:
        importlib.import_module("activelab.core.learning.neural.register")


def model_names() -> list[str]:
    _load_neural()
    return sorted(MODELS)


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
    """The registered model ``name`` (or a scikit-learn class path); ModelError if unknown."""
    if name not in MODELS:
        _load_neural()
    if name not in MODELS:
        info = _sklearn_class(name)
        if info is not None:
            return info
        raise ModelError(
            f"Unknown model '{name}'. Available models: {', '.join(model_names())}, or any "
            "scikit-learn classifier by class path (e.g. sklearn.ensemble.ExtraTreesClassifier)."
        )
    return MODELS[name]


def resolve_model(name: str, params: Mapping[str, Any] | None = None,
                  image_shape: tuple[int, int, int] | None = None) -> ModelInfo:
    """Model ``name`` with the user's ``params`` (checked when they were set; see
    ``model_params``), plus the images' (C, H, W) for a model that needs it (unless given).
    Resolved once per retrain and passed down. Raises ModelError for an unknown model."""
    info = model_info(name)
    params = dict(params or {})
    if info.needs_image_shape and image_shape is not None and "image_shape" not in params:
        params["image_shape"] = tuple(image_shape)
    return replace(info, params=params)


def make_model(name: str, params: Mapping[str, Any] | None = None, multilabel: bool = False) -> Any:
    """A fresh, unfitted estimator for ``name`` with its defaults overridden by ``params``."""
    return resolve_model(name, params).build(multilabel)
