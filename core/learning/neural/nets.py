"""Network building blocks: one encoder per input block, a fusion, one head per task.

Every model of this package is a ``FusionNet``: the single-task classifier is a net with one
block ("x") and one task; the multi-task net has one block and several heads; the multimodal
net has an encoder per modality fused into a shared space. Each encoder is split into a
deterministic ``stem`` (no dropout) and a ``rest``, so MC-dropout sampling computes the costly
stem (the conv stack, the wide first layer) once and re-samples only the cheap remainder.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


#: attention fusion: several heads, each a weighting over modalities, so different tasks can
#: read different modalities (one weighting would have to pick one for all tasks)
ATTENTION_HEADS = 4


class SparseAwareLinear(nn.Linear):
    """A linear layer that also takes a sparse COO batch (TF-IDF rows) without densifying:
    forward and weight gradient then cost O(nnz x out) instead of O(rows x d_in x out)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.is_sparse:
            return torch.sparse.mm(x, self.weight.t()) + self.bias
        return super().forward(x)


class MLPEncoder(nn.Module):
    """Linear+ReLU layers with dropout between them; optional linear projection at the end."""

    def __init__(
        self, d_in: int, hidden: Sequence[int], dropout: float, out_dim: int | None = None
    ) -> None:
        super().__init__()
        hidden = tuple(int(h) for h in hidden) or (int(out_dim or 128),)
        self.stem = nn.Sequential(SparseAwareLinear(d_in, hidden[0]), nn.ReLU())
        layers: list[nn.Module] = []
        prev = hidden[0]
        for h in hidden[1:]:
            layers += [nn.Dropout(dropout), nn.Linear(prev, h), nn.ReLU()]
            prev = h
        if out_dim is not None:
            layers += [nn.Dropout(dropout), nn.Linear(prev, int(out_dim))]
            prev = int(out_dim)
        self.rest = nn.Sequential(*layers)
        self.out_dim = prev

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rest(self.stem(x))


class CNNEncoder(nn.Module):
    """Three conv blocks (conv-BN-ReLU-maxpool) on flattened pixels reshaped to (C, H, W)."""

    def __init__(
        self,
        image_shape: Sequence[int],
        out_dim: int,
        dropout: float,
        channels: Sequence[int] = (8, 16, 32),
        linear_out: bool = False,
    ) -> None:
        super().__init__()
        self.image_shape = tuple(int(s) for s in image_shape)
        prev = self.image_shape[0]
        blocks: list[nn.Module] = []
        for ch in channels:
            blocks += [
                nn.Conv2d(prev, ch, 3, padding=1),
                nn.BatchNorm2d(ch),
                nn.ReLU(),
                nn.MaxPool2d(2, ceil_mode=True),
            ]
            prev = ch
        blocks += [nn.AdaptiveAvgPool2d(2), nn.Flatten()]
        self._conv = nn.Sequential(*blocks)
        tail: list[nn.Module] = [nn.Dropout(dropout), nn.Linear(prev * 4, int(out_dim))]
        if not linear_out:
            tail.append(nn.ReLU())
        self.rest = nn.Sequential(*tail)
        self.out_dim = int(out_dim)

    def stem(self, x: torch.Tensor) -> torch.Tensor:
        if x.is_sparse:
            x = x.to_dense()
        return self._conv(x.reshape((x.shape[0],) + self.image_shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rest(self.stem(x))


class FusionNet(nn.Module):
    """Encoders per block -> fusion ("single", "concat", "attention") -> one head per task.

    ``modality_heads`` adds a head per (block, task) on each block's own projection, used for
    co-testing (per-modality predictions) and trained with an auxiliary loss.
    """

    def __init__(
        self,
        encoders: dict[str, nn.Module],
        n_classes: Sequence[int],
        dropout: float,
        fusion: str = "concat",
        modality_heads: bool = False,
    ) -> None:
        super().__init__()
        self.names = list(encoders)
        self.encoders = nn.ModuleList(encoders[m] for m in self.names)
        dims = [enc.out_dim for enc in self.encoders]
        if len(self.names) == 1:
            fusion = "single"
        self.fusion = fusion
        if fusion == "single":
            self.emb_dim = dims[0]
        elif fusion == "concat":
            self.emb_dim = max(dims)
            self.fuse = nn.Sequential(nn.Linear(sum(dims) + len(dims), self.emb_dim), nn.ReLU())
        elif fusion == "attention":
            if len(set(dims)) != 1:
                raise ValueError("attention fusion needs every modality projected to one size")
            self.emb_dim = dims[0]
            self.attn = nn.Sequential(
                nn.Linear(dims[0], 64), nn.Tanh(), nn.Linear(64, ATTENTION_HEADS)
            )
            self.attn_out = nn.Sequential(
                nn.Linear(ATTENTION_HEADS * dims[0], dims[0]), nn.ReLU()
            )
        else:
            raise ValueError(f"unknown fusion {fusion!r}")
        # each modality's projection is layer-normalised before fusion, so one encoder's scale
        # (a CNN whose batch norm shifts between train and eval) cannot swamp the others
        self.norms = (
            nn.ModuleList(nn.LayerNorm(d) for d in dims) if fusion != "single" else None
        )
        self.drop = nn.Dropout(dropout)
        self.heads = nn.ModuleList(nn.Linear(self.emb_dim, int(c)) for c in n_classes)
        self.mod_heads = (
            nn.ModuleList(
                nn.ModuleList(nn.Linear(d, int(c)) for c in n_classes) for d in dims
            )
            if modality_heads
            else None
        )

    def stems(self, xs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """The deterministic part of every encoder (no dropout inside)."""
        return [enc.stem(x) for enc, x in zip(self.encoders, xs)]

    def project(self, hs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        return [enc.rest(h) for enc, h in zip(self.encoders, hs)]

    def fuse_blocks(self, zs: Sequence[torch.Tensor], masks: torch.Tensor) -> torch.Tensor:
        """The shared embedding; ``masks`` (N, M) is 1 where a modality is present."""
        if self.fusion == "single":
            return zs[0]
        zs = [norm(z) for norm, z in zip(self.norms, zs)]
        if self.fusion == "concat":
            parts = [z * masks[:, i : i + 1] for i, z in enumerate(zs)]
            return self.fuse(torch.cat(parts + [masks], dim=1))
        stacked = torch.stack(list(zs), dim=1)  # (N, M, d)
        weights = self.attention_weights(zs, masks)  # (N, M, H)
        pooled = torch.einsum("nmh,nmd->nhd", weights, stacked)
        return self.attn_out(pooled.reshape(pooled.shape[0], -1))

    def attention_weights(self, zs: Sequence[torch.Tensor], masks: torch.Tensor) -> torch.Tensor:
        """(N, M, H): per attention head, a softmax over the modalities a row has."""
        stacked = torch.stack(list(zs), dim=1)
        scores = self.attn(stacked)  # (N, M, H)
        scores = scores.masked_fill((masks <= 0).unsqueeze(-1), float("-inf"))
        return torch.nan_to_num(torch.softmax(scores, dim=1), nan=0.0)  # no modality: zeros

    def heads_from(self, emb: torch.Tensor) -> list[torch.Tensor]:
        e = self.drop(emb)
        return [head(e) for head in self.heads]

    def modality_logits(self, zs: Sequence[torch.Tensor]) -> list[list[torch.Tensor]]:
        if self.mod_heads is None:
            return []
        return [[h(torch.relu(z)) for h in hs] for z, hs in zip(zs, self.mod_heads)]

    def forward_from_stems(self, hs: Sequence[torch.Tensor], masks: torch.Tensor):
        """Returns (task logits, embedding, per-block projections)."""
        zs = self.project(hs)
        emb = self.fuse_blocks(zs, masks)
        return self.heads_from(emb), emb, zs

    def forward(self, xs: Sequence[torch.Tensor], masks: torch.Tensor):
        return self.forward_from_stems(self.stems(xs), masks)


def enable_mc_dropout(net: nn.Module) -> None:
    """Eval mode (batch norm frozen) with only the dropout layers sampling."""
    net.eval()
    for mod in net.modules():
        if isinstance(mod, nn.Dropout):
            mod.train()
