"""Several modalities in one shared space: an encoder per modality (CNN on image pixels; a
linear layer + small MLP on text embeddings or TF-IDF; an MLP on tabular features), each
projected to ``proj_dim``, fused by concatenation or a learned attention over the modalities
present, then one head per task (as in ``MultiTaskClassifier``).

Input X is a dict modality -> rows (the loop passes ``FeatureSet.blocks`` row-subsetted):
``"image"`` (N, C*H*W) float32 in [0, 1], ``"text"`` dense or sparse, ``"tabular"`` dense;
any other name is treated like tabular. A row whose dense block is all NaN, or whose entry in
``X["__mask__"][modality]`` is False, lacks that modality: it is masked out of the fusion and
of that modality's losses, and the sample still trains and predicts.

Optional alignment: ``align_weight > 0`` adds a symmetric InfoNCE (CLIP) loss between the
projections of every pair of modalities, on labeled rows and on ``fit(..., X_unlabeled=...)``
pool rows, so the unlabeled pool shapes the shared space before many labels exist.

Modality dropout (``modality_dropout``) hides a present modality of a training row from the
fusion at random, so the fused head does not lean on one modality (e.g. memorising photos)
and copes with missing ones.

Per-modality heads (trained with weight ``modality_head_weight``) give
``predict_proba_by_modality`` for co-testing (cross-modal disagreement).
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import scipy.sparse as sp

from activelab.core.errors import ModelError
from activelab.core.learning.neural import training
from activelab.core.learning.neural.base import infer_image_shape, torch_threads
from activelab.core.learning.neural.multitask import MultiTaskClassifier
from activelab.core.learning.neural.nets import CNNEncoder, MLPEncoder

MASK_KEY = "__mask__"
_ORDER = {"image": 0, "text": 1, "tabular": 2}


class MultimodalClassifier(MultiTaskClassifier):
    """Per-modality encoders -> shared space -> fusion -> multi-task heads."""

    multitask = True
    needs_blocks = True

    def __init__(
        self,
        tasks: Mapping[str, Any] | None = None,
        proj_dim: int = 128,
        fusion: str = "concat",
        align_weight: float = 0.0,
        temperature: float = 0.1,
        modality_head_weight: float = 0.5,
        modality_dropout: float = 0.3,
        hidden: tuple[int, ...] = (256,),
        text_hidden: tuple[int, ...] = (128,),
        image_shape: tuple[int, int, int] | None = None,
        dropout: float = 0.2,
        weight_decay: float = 1e-4,
        lr: float = 1e-3,
        max_epochs: int = 100,
        batch_size: int = 64,
        patience: int = 5,
        val_fraction: float = 0.15,
        warm_start: bool = True,
        random_state: int | None = 0,
        n_threads: int = 1,
    ) -> None:
        self.tasks = tasks
        self.proj_dim = proj_dim
        self.fusion = fusion
        self.align_weight = align_weight
        self.temperature = temperature
        self.modality_head_weight = modality_head_weight
        self.modality_dropout = modality_dropout
        self.hidden = hidden
        self.text_hidden = text_hidden
        self.image_shape = image_shape
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.patience = patience
        self.val_fraction = val_fraction
        self.warm_start = warm_start
        self.random_state = random_state
        self.n_threads = n_threads

    # -- net ------------------------------------------------------------------------------
    def _encoder(self, block: Mapping[str, Any]):
        p = int(self.proj_dim)
        if block["kind"] == "cnn":
            return CNNEncoder(block["image_shape"], p, self.dropout, linear_out=True)
        hidden = self.text_hidden if block["kind"] == "text" else self.hidden
        return MLPEncoder(block["d_in"], hidden, self.dropout, out_dim=p)

    def _fusion(self) -> str:
        if self.fusion not in ("concat", "attention"):
            raise ModelError(f"fusion must be 'concat' or 'attention'; got {self.fusion!r}.")
        return self.fusion

    def _modality_heads(self) -> bool:
        return True

    # -- inputs ---------------------------------------------------------------------------
    def _to_blocks(self, X: Any, spec_blocks: list | None = None):
        if not isinstance(X, Mapping):
            raise ModelError(
                "The multimodal model takes a dict modality -> feature rows "
                "(FeatureSet.blocks), not a single matrix."
            )
        masks = dict(X.get(MASK_KEY) or {})
        given = [m for m in X if m != MASK_KEY]
        if not given:
            raise ModelError("The multimodal model got no modality blocks.")
        n = _n_rows(X[given[0]])
        if spec_blocks is None:
            names = sorted(given, key=lambda m: (_ORDER.get(m, 9), m))
        else:
            names = [b["name"] for b in spec_blocks]
            extra = set(given) - set(names)
            if extra:
                raise ModelError(
                    f"Modalities {sorted(extra)} were not present when the model was fitted "
                    f"(it knows {names}); rebuild the model for the new modalities."
                )
        blocks, present, spec = [], np.zeros((n, len(names)), dtype=np.float32), []
        for j, m in enumerate(names):
            if m in X:
                block = _as_block(X[m], m, n)
                has = _present_rows(block)
            else:  # a modality absent from this call: every row lacks it
                d = spec_blocks[j]["d_in"]
                block, has = sp.csr_matrix((n, d), dtype=np.float32), np.zeros(n, dtype=bool)
            if m in masks:
                mk = np.asarray(masks[m], dtype=bool)
                if mk.shape != (n,):
                    raise ModelError(f"The mask of modality '{m}' has shape {mk.shape}; expected ({n},).")
                has = has & mk
            d = block.shape[1]
            if spec_blocks is not None and d != spec_blocks[j]["d_in"]:
                raise ModelError(
                    f"Modality '{m}' has {d} features but the model was fitted on "
                    f"{spec_blocks[j]['d_in']}; rebuild the model after changing features."
                )
            kind = "cnn" if m == "image" else "text" if m == "text" else "mlp"
            shape = None
            if kind == "cnn":
                shape = list(self.image_shape) if self.image_shape else list(infer_image_shape(d))
            blocks.append(block)
            present[:, j] = has
            spec.append({"name": m, "kind": kind, "d_in": d, "image_shape": shape})
        return blocks, present, spec

    def _unlabeled(self, X_unlabeled: Any, spec_blocks: list):
        if X_unlabeled is None or float(self.align_weight) <= 0:
            return None
        blocks, present, _ = self._to_blocks(X_unlabeled, spec_blocks)
        return blocks, present

    def fit(
        self, X: Any, targets: Mapping[str, Any], init_from: Any = None, X_unlabeled: Any = None
    ) -> "MultimodalClassifier":
        """Fit on labeled rows; ``X_unlabeled`` (same modalities) feeds only the alignment."""
        super().fit(X, targets, init_from=init_from, X_unlabeled=X_unlabeled)
        self.modalities_ = [b["name"] for b in self.net_spec_["blocks"]]
        return self

    # -- co-testing -----------------------------------------------------------------------
    def predict_proba_by_modality(self, X: Any) -> dict[str, dict[str, np.ndarray]]:
        """{modality: {task: (N, C)}} from each modality's own head; NaN rows where a sample
        lacks that modality."""
        self._check_fitted()
        torch_threads(self.n_threads)
        blocks, present, _ = self._to_blocks(X, self.net_spec_["blocks"])
        per = training.predict_by_block(self.nets_[0], blocks, present, self.multilabel_)
        return {
            m: dict(zip(self.task_names_, per[b])) for b, m in enumerate(self.modalities_)
        }


def _n_rows(block: Any) -> int:
    return block.shape[0] if hasattr(block, "shape") else len(block)


def _as_block(block: Any, name: str, n: int):
    if sp.issparse(block):
        out = block.tocsr().astype(np.float32)
    else:
        out = np.asarray(block, dtype=np.float32)
        if out.ndim == 1:
            out = out[:, None]
    if out.ndim != 2 or out.shape[0] != n:
        raise ModelError(
            f"Modality '{name}' has shape {out.shape}; every modality needs {n} rows (aligned)."
        )
    return out


def _present_rows(block) -> np.ndarray:
    """Dense rows that are entirely NaN lack the modality; sparse rows are always present."""
    if sp.issparse(block):
        return np.ones(block.shape[0], dtype=bool)
    return ~np.isnan(block).all(axis=1)
