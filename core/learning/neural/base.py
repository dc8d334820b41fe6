"""Shared machinery of the torch estimators: build the net from a plain spec, warm start,
seeded training of one or several members, and the prediction helpers.

A fitted estimator holds ``nets_`` (one FusionNet, or one per ensemble member) and
``net_spec_``, a JSON-able description of the inputs (block names, kinds, widths, image shape)
and the class counts, from which ``activelab.core.learning.neural.weights`` rebuilds the net before loading
plain tensors.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping, Sequence

import numpy as np
from sklearn.base import BaseEstimator

from activelab.core.errors import ModelError
from activelab.core.learning.neural import training
from activelab.core.learning.neural.nets import CNNEncoder, FusionNet, MLPEncoder

#: a warm-started refit starts near a minimum: it stops after this many epochs without
#: improvement and runs at most WARM_MAX_EPOCHS (a retrain after a few new labels must take
#: a fraction of a cold fit; 500 labels, multimodal 3 tasks: 7 epochs 4.9 s -> ~3 s)
WARM_PATIENCE = 2
WARM_MAX_EPOCHS = 10


def infer_image_shape(d: int) -> tuple[int, int, int]:
    """(C, H, W) of a square grey or RGB image flattened to ``d`` values."""
    for c in (1, 3):
        side = int(round((d / c) ** 0.5))
        if side * side * c == d:
            return (c, side, side)
    raise ModelError(
        f"The CNN needs images, but {d} features are not a square grey or RGB image. "
        "Give image_shape=(C, H, W) or pick the MLP (arch='mlp')."
    )


class TorchBase(BaseEstimator):
    """Common fit/predict plumbing; subclasses define the encoders and the public surface."""

    #: how many independently trained nets (the deep ensemble overrides this)
    def _n_members(self) -> int:
        return 1

    # -- building -------------------------------------------------------------------------
    def _encoder(self, block: Mapping[str, Any]):
        """An encoder for one block of the spec (overridden by the multimodal model)."""
        hidden = tuple(self.hidden) or (128,)
        if block["kind"] == "cnn":
            return CNNEncoder(block["image_shape"], hidden[-1], self.dropout)
        return MLPEncoder(block["d_in"], hidden, self.dropout)

    def _fusion(self) -> str:
        return "single"

    def _modality_heads(self) -> bool:
        return False

    def build_net(self, spec: Mapping[str, Any]) -> FusionNet:
        """A fresh (randomly initialised) net for ``spec``."""
        encoders = {b["name"]: self._encoder(b) for b in spec["blocks"]}
        return FusionNet(
            encoders,
            spec["n_classes"],
            self.dropout,
            fusion=self._fusion(),
            modality_heads=self._modality_heads(),
        )

    def _config(self, seed: int) -> training.TrainConfig:
        return training.TrainConfig(
            lr=float(self.lr),
            weight_decay=float(self.weight_decay),
            max_epochs=int(self.max_epochs),
            batch_size=int(self.batch_size),
            patience=int(self.patience),
            val_fraction=float(self.val_fraction),
            seed=int(seed),
            align_weight=float(getattr(self, "align_weight", 0.0)),
            temperature=float(getattr(self, "temperature", 0.1)),
            modality_head_weight=float(getattr(self, "modality_head_weight", 0.0)),
            modality_dropout=float(getattr(self, "modality_dropout", 0.0)),
        )

    # -- warm start -----------------------------------------------------------------------
    def _warm_states(self, init_from: Any, spec: Mapping[str, Any], classes: Any) -> list | None:
        """State dicts to start from, or None when there is nothing compatible.

        Compatible means: fitted, same classes, same input spec, and every tensor has the
        same shape (a changed hidden size or a new class starts cold).
        """
        source = init_from
        if source is None and self.warm_start and hasattr(self, "nets_"):
            source = self
        if source is None or not hasattr(source, "nets_"):
            return None
        if getattr(source, "net_spec_", None) != spec or not _same_classes(
            getattr(source, "classes_", None), classes
        ):
            return None
        states = [net.state_dict() for net in source.nets_]
        if len(states) < self._n_members():
            return None
        with training.seeded(0, self.n_threads):  # leaves the caller's torch RNG untouched
            probe = self.build_net(spec).state_dict()
        for st in states:
            if st.keys() != probe.keys() or any(st[k].shape != probe[k].shape for k in st):
                return None
        return states[: self._n_members()]

    # -- training -------------------------------------------------------------------------
    def _fit_nets(
        self,
        spec: dict,
        blocks: Sequence,
        present: np.ndarray,
        targets: Sequence[np.ndarray],
        multilabel: Sequence[bool],
        classes: Any,
        init_from: Any = None,
        unlabeled: tuple | None = None,
    ) -> None:
        states = self._warm_states(init_from, spec, classes)
        nets, logs = [], []
        for m in range(self._n_members()):
            seed = int(self.random_state or 0) + 1000 * m
            cfg = self._config(seed)
            if states is not None:
                cfg = dataclasses.replace(
                    cfg,
                    patience=min(cfg.patience, WARM_PATIENCE),
                    max_epochs=min(cfg.max_epochs, WARM_MAX_EPOCHS),
                )
            with training.seeded(seed, self.n_threads):
                net = self.build_net(spec)
                if states is not None:
                    net.load_state_dict(states[m])
                log = training.train(net, blocks, present, targets, multilabel, cfg, unlabeled)
            nets.append(net)
            logs.append(log)
        self.nets_ = nets
        self.classes_ = classes
        self.net_spec_ = spec
        self.train_logs_ = logs
        self.n_epochs_ = int(sum(lg.epochs for lg in logs))
        self.warm_started_ = states is not None
        self.multilabel_ = list(multilabel)

    def _check_fitted(self) -> None:
        if not hasattr(self, "nets_"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit with labeled data first."
            )

    # -- prediction -----------------------------------------------------------------------
    def _predict_all(self, blocks, present) -> tuple[list[np.ndarray], np.ndarray]:
        """Per-task probabilities averaged over members, and member 0's embedding."""
        self._check_fitted()
        torch_threads(self.n_threads)
        probs, emb = None, None
        for net in self.nets_:
            p, e = training.predict(net, blocks, present, self.multilabel_)
            probs = p if probs is None else [a + b for a, b in zip(probs, p)]
            emb = e if emb is None else emb
        return [p / len(self.nets_) for p in probs], emb

    def _samples(self, blocks, present, n_samples: int) -> list[np.ndarray]:
        self._check_fitted()
        torch_threads(self.n_threads)
        n_samples = int(n_samples)
        if n_samples < 1:
            raise ModelError(f"n_samples must be at least 1; got {n_samples}.")
        seed = int(self.random_state or 0) + 7
        if len(self.nets_) == 1:
            return training.predict_samples(
                self.nets_[0], blocks, present, self.multilabel_, n_samples, seed
            )
        return self._committee(blocks, present)

    def _committee(self, blocks, present) -> list[np.ndarray]:
        self._check_fitted()
        torch_threads(self.n_threads)
        per_member = [training.predict(net, blocks, present, self.multilabel_)[0] for net in self.nets_]
        return [np.stack([m[k] for m in per_member]) for k in range(len(self.multilabel_))]


def torch_threads(n: int) -> None:
    import torch

    torch.set_num_threads(max(1, int(n)))


def _same_classes(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return False
    if isinstance(a, dict) or isinstance(b, dict):
        if not (isinstance(a, dict) and isinstance(b, dict)) or a.keys() != b.keys():
            return False
        return all(_same_classes(a[k], b[k]) for k in a)
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.all(a == b))
