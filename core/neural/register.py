"""Register the torch models in ``core.models`` (imported lazily by ``_load_neural``; fails
with ImportError when torch is missing, which the registry treats as "no neural extra").

Registering does not import torch (~4 s): names and descriptions are declared here and each
factory imports its module when a model is built, so listing models stays instant.
"""
from __future__ import annotations

import importlib.util
from typing import Any

from core.models import ModelInfo, register_model

if importlib.util.find_spec("torch") is None:  # what tells the registry torch is absent
    raise ImportError("torch is not installed (the 'neural' extra)")


def _torch_mlp(**params: Any):
    from core.neural.classifier import TorchClassifier

    return TorchClassifier(**{"arch": "mlp", **params})


def _torch_cnn(**params: Any):
    from core.neural.classifier import TorchClassifier

    return TorchClassifier(**{"arch": "cnn", **params})


def _deep_ensemble(**params: Any):
    from core.neural.classifier import DeepEnsembleClassifier

    return DeepEnsembleClassifier(**params)


def _multitask_mlp(**params: Any):
    from core.neural.multitask import MultiTaskClassifier

    return MultiTaskClassifier(**params)


def _multimodal(**params: Any):
    from core.neural.multimodal import MultimodalClassifier

    return MultimodalClassifier(**params)


for _info in (
    ModelInfo(
        "torch_mlp",
        "Torch MLP (dropout, early stopping, warm start; MC-dropout samples for BALD).",
        _torch_mlp,
        {"hidden": (256,), "dropout": 0.2, "max_epochs": 100},
        neural=True,
    ),
    ModelInfo(
        "torch_cnn",
        "Small torch CNN on image pixels (3 conv blocks; MC-dropout samples for BALD).",
        _torch_cnn,
        {"hidden": (128,), "dropout": 0.3, "max_epochs": 60},
        dense_only=True,
        neural=True,
        input_block="image",
    ),
    ModelInfo(
        "deep_ensemble",
        "Five torch MLPs with different seeds (a committee for query-by-committee).",
        _deep_ensemble,
        {"n_members": 5, "hidden": (256,), "max_epochs": 60},
        neural=True,
    ),
    ModelInfo(
        "multitask_mlp",
        "One torch MLP with a head per task, trained on partially labeled samples.",
        _multitask_mlp,
        {"hidden": (256,), "dropout": 0.2},
        neural=True,
        multitask=True,
    ),
    ModelInfo(
        "multimodal",
        "Encoder per modality (CNN image, text, tabular) fused in a shared space, a head per "
        "task; optional image-text alignment; per-modality heads for co-testing.",
        _multimodal,
        {"proj_dim": 128, "fusion": "concat", "align_weight": 0.0},
        neural=True,
        multitask=True,
        needs_blocks=True,
    ),
):
    register_model(_info)
