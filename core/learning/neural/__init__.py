"""Torch models (the ``neural`` extra): an MLP/CNN classifier with the scikit-learn surface,
a deep ensemble, a multi-task network and a multimodal multi-task network.

Every torch import of activelab lives in this package, so the base install works without torch.
Importing ``activelab.core.learning.neural`` itself does not import torch; the submodules do.
"""
from __future__ import annotations

__all__ = [
    "TorchClassifier",
    "DeepEnsembleClassifier",
    "MultiTaskClassifier",
    "MultimodalClassifier",
]


def __getattr__(name: str):
    if name in ("TorchClassifier", "DeepEnsembleClassifier"):
        from activelab.core.learning.neural import classifier

        return getattr(classifier, name)
    if name == "MultiTaskClassifier":
        from activelab.core.learning.neural.multitask import MultiTaskClassifier

        return MultiTaskClassifier
    if name == "MultimodalClassifier":
        from activelab.core.learning.neural.multimodal import MultimodalClassifier

        return MultimodalClassifier
    raise AttributeError(name)
