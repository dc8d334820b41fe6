"""Register the torch models in ``activelab.core.learning.models`` (imported by
``models._load_neural`` when torch is installed: the ``neural`` extra).

Registering does not import torch (~4 s): names, descriptions and capabilities are declared
here and each factory imports its module when a model is built, so listing models stays
instant.
"""
from __future__ import annotations

from typing import Any

from activelab.core.learning.model_params import IMAGE_SHAPE, POSITIVE_INTS
from activelab.core.learning.models import ModelInfo, register_model

#: What every torch model can do: its own threads and multi-label heads, warm starts from
#: the previous fit, MC-dropout samples (BALD), embeddings (core-set, the pool map); three
#: cross-validation folds (each fold is a full network fit).
TORCH = dict(is_torch=True, native_multilabel=True, supports_warm_start=True,
             has_mc_samples=True, has_embeddings=True, cv_folds=3)


def _net_constraints(**extra: Any) -> dict[str, list]:
    """The typed parameters shared by the torch models (their constructors' arguments), in
    scikit-learn's constraint vocabulary, plus ``extra`` (each a list of constraints)."""
    from numbers import Integral, Real

    from sklearn.utils._param_validation import Interval

    def at_least(kind: type, low: float, closed: str = "left") -> list:
        return [Interval(kind, low, None, closed=closed)]

    return {
        "hidden": [POSITIVE_INTS],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": at_least(Real, 0),
        "lr": at_least(Real, 0, "neither"),
        "max_epochs": at_least(Integral, 1),
        "batch_size": at_least(Integral, 1),
        "patience": at_least(Integral, 0),
        "val_fraction": [Interval(Real, 0, 1, closed="left")],
        "warm_start": ["boolean"],
        "image_shape": [IMAGE_SHAPE, None],
        "random_state": [Interval(Integral, 0, None, closed="left"), None],
        "n_threads": at_least(Integral, 1),
        **extra,
    }


def _arch() -> list:
    from sklearn.utils._param_validation import StrOptions

    return [StrOptions({"mlp", "cnn"})]


def _classifier_constraints() -> dict[str, list]:
    return _net_constraints(arch=_arch())


def _ensemble_constraints() -> dict[str, list]:
    from numbers import Integral

    from sklearn.utils._param_validation import Interval

    return _net_constraints(arch=_arch(), n_members=[Interval(Integral, 2, None, closed="left")])


def _multimodal_constraints() -> dict[str, list]:
    from numbers import Integral, Real

    from sklearn.utils._param_validation import Interval, StrOptions

    return _net_constraints(
        proj_dim=[Interval(Integral, 1, None, closed="left")],
        fusion=[StrOptions({"concat", "attention"})],
        align_weight=[Interval(Real, 0, None, closed="left")],
        temperature=[Interval(Real, 0, None, closed="neither")],
        modality_head_weight=[Interval(Real, 0, None, closed="left")],
        modality_dropout=[Interval(Real, 0, 1, closed="left")],
        text_hidden=[POSITIVE_INTS],
    )


def _torch_mlp(**params: Any):
    from activelab.core.learning.neural.classifier import TorchClassifier

    return TorchClassifier(**{"arch": "mlp", **params})


def _torch_cnn(**params: Any):
    from activelab.core.learning.neural.classifier import TorchClassifier

    return TorchClassifier(**{"arch": "cnn", **params})


def _deep_ensemble(**params: Any):
    from activelab.core.learning.neural.classifier import DeepEnsembleClassifier

    return DeepEnsembleClassifier(**params)


def _multitask_mlp(**params: Any):
    from activelab.core.learning.neural.multitask import MultiTaskClassifier

    return MultiTaskClassifier(**params)


def _multimodal(**params: Any):
    from activelab.core.learning.neural.multimodal import MultimodalClassifier

    return MultimodalClassifier(**params)


for _info in (
    ModelInfo(
        "torch_mlp",
        "Torch MLP (dropout, early stopping, warm start; MC-dropout samples for BALD).",
        _torch_mlp,
        {"hidden": (256,), "dropout": 0.2, "max_epochs": 100},
        **TORCH,
        param_constraints=_classifier_constraints,
    ),
    ModelInfo(
        "torch_cnn",
        "Small torch CNN on image pixels (3 conv blocks; MC-dropout samples for BALD).",
        _torch_cnn,
        {"hidden": (128,), "dropout": 0.3, "max_epochs": 60},
        **TORCH,
        dense_only=True,
        input_block="image",
        needs_image_shape=True,
        param_constraints=_classifier_constraints,
    ),
    ModelInfo(
        "deep_ensemble",
        "Five torch MLPs with different seeds (a committee for query-by-committee).",
        _deep_ensemble,
        {"n_members": 5, "hidden": (256,), "max_epochs": 60},
        **TORCH,
        has_committee=True,
        param_constraints=_ensemble_constraints,
    ),
    ModelInfo(
        "multitask_mlp",
        "One torch MLP with a head per task, trained on partially labeled samples.",
        _multitask_mlp,
        {"hidden": (256,), "dropout": 0.2},
        **TORCH,
        shared_multitask=True,
        param_constraints=_classifier_constraints,
    ),
    ModelInfo(
        "multimodal",
        "Encoder per modality (CNN image, text, tabular) fused in a shared space, a head per "
        "task; optional image-text alignment; per-modality heads for co-testing.",
        _multimodal,
        {"proj_dim": 128, "fusion": "concat", "align_weight": 0.0},
        **TORCH,
        shared_multitask=True,
        multimodal=True,
        needs_image_shape=True,
        has_modality_heads=True,
        param_constraints=_multimodal_constraints,
    ),
):
    register_model(_info)
