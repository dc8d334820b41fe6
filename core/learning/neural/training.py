"""The training loop shared by every torch model: masked multi-task loss, optional cross-modal
alignment (symmetric InfoNCE) on labeled and unlabeled rows, early stopping on a held-out
slice of the labeled rows, and chunked prediction (probabilities, MC samples, embeddings).

Inputs are plain: ``blocks`` is a list of 2-D arrays (dense numpy or scipy sparse, densified
per batch), ``present`` an (N, M) float mask of which blocks a row has, and the targets per
task either int64 class indices (-1 = unlabeled) or an (N, C) float matrix (NaN = unlabeled).
"""
from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass, field
from typing import Iterator, Sequence

import numpy as np
import scipy.sparse as sp
import torch
import torch.nn.functional as F

from activelab.core.learning.neural.nets import FusionNet, enable_mc_dropout

PREDICT_CHUNK = 1024
MIN_STEPS = 6  # gradient steps per epoch at least (small labeled sets repeat their rows)
#: a validation slice of a few rows is noise: with 3 held-out rows of 20 labels, early
#: stopping kept near-random epoch-1 weights and the CNN predicted one class in 4 of 8 fits
#: (Fashion-MNIST, 20-40 labels); below 10 rows (0.15 x ~67 labels) all labels train
MIN_VAL_ROWS = 10


@dataclass(frozen=True)
class TrainConfig:
    lr: float = 1e-3
    weight_decay: float = 1e-4
    max_epochs: int = 100
    batch_size: int = 64
    patience: int = 5
    val_fraction: float = 0.15
    seed: int = 0
    align_weight: float = 0.0
    temperature: float = 0.1
    modality_head_weight: float = 0.0
    modality_dropout: float = 0.0


@dataclass
class TrainLog:
    """What one fit did: epochs run, the epoch whose weights were kept, the loss history."""

    epochs: int = 0
    best_epoch: int = 0
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    align_loss: list[float] = field(default_factory=list)


@contextlib.contextmanager
def seeded(seed: int, n_threads: int) -> Iterator[None]:
    """Run with torch's global RNG seeded (and restored afterwards) and the thread count set."""
    torch.set_num_threads(max(1, int(n_threads)))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        yield


def rows_tensor(block, idx: np.ndarray | None = None) -> torch.Tensor:
    """Rows of a block as a float32 tensor (sparse COO for a sparse block, which only the
    first linear layer reads); NaN (missing modality) -> 0."""
    part = block if idx is None else block[idx]
    if sp.issparse(part):
        coo = part.tocoo()
        indices = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
        values = torch.from_numpy(np.nan_to_num(coo.data.astype(np.float32)))
        return torch.sparse_coo_tensor(indices, values, coo.shape, check_invariants=False).coalesce()
    arr = np.asarray(part, dtype=np.float32)
    if not np.isfinite(arr).all():
        arr = np.nan_to_num(arr, nan=0.0, posinf=0.0, neginf=0.0)
    return torch.from_numpy(np.ascontiguousarray(arr))


def task_losses(
    logits: Sequence[torch.Tensor], targets: Sequence[torch.Tensor], multilabel: Sequence[bool]
) -> torch.Tensor:
    """Sum over tasks of each task's mean loss over the rows labeled for it (masked loss)."""
    total = logits[0].new_zeros(())
    for lg, y, ml in zip(logits, targets, multilabel):
        if ml:
            known = ~torch.isnan(y)
            if known.any():
                total = total + F.binary_cross_entropy_with_logits(
                    lg[known], y[known], reduction="mean"
                )
        else:
            known = y >= 0
            if known.any():
                total = total + F.cross_entropy(lg[known], y[known], reduction="mean")
    return total


def modality_losses(net: FusionNet, zs, present, targets, multilabel) -> torch.Tensor:
    """Auxiliary loss of the per-modality heads, each on the rows that have that modality."""
    total = present.new_zeros(())
    for i, logits in enumerate(net.modality_logits(zs)):
        rows = present[:, i] > 0
        if rows.any():
            total = total + task_losses(
                [lg[rows] for lg in logits], [y[rows] for y in targets], multilabel
            )
    return total


def info_nce(zs: Sequence[torch.Tensor], present: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE (CLIP) between every pair of blocks, over rows that have both."""
    total = present.new_zeros(())
    for i in range(len(zs)):
        for j in range(i + 1, len(zs)):
            both = (present[:, i] > 0) & (present[:, j] > 0)
            if int(both.sum()) < 2:
                continue
            a = F.normalize(zs[i][both], dim=1)
            b = F.normalize(zs[j][both], dim=1)
            sim = a @ b.T / temperature
            lab = torch.arange(sim.shape[0])
            total = total + 0.5 * (F.cross_entropy(sim, lab) + F.cross_entropy(sim.T, lab))
    return total


def _batch_targets(targets: Sequence[np.ndarray], idx: np.ndarray) -> list[torch.Tensor]:
    out = []
    for t in targets:
        part = t[idx]
        out.append(torch.from_numpy(np.ascontiguousarray(part)))
    return out


def _batches(order: np.ndarray, size: int) -> list[np.ndarray]:
    """Consecutive slices; a trailing batch of one row joins the previous (batch norm)."""
    chunks = [order[i : i + size] for i in range(0, len(order), size)]
    if len(chunks) > 1 and len(chunks[-1]) < 2:
        chunks[-2] = np.concatenate([chunks[-2], chunks.pop()])
    return chunks


def _xs(blocks, idx) -> list[torch.Tensor]:
    return [rows_tensor(b, idx) for b in blocks]


def _val_loss(net, blocks, present, targets, multilabel, idx, batch) -> float:
    net.eval()
    total, n = 0.0, 0
    with torch.no_grad():
        for chunk in _batches(idx, max(batch, 256)):
            logits, _, _ = net(_xs(blocks, chunk), torch.from_numpy(present[chunk]))
            loss = task_losses(logits, _batch_targets(targets, chunk), multilabel)
            total += loss.item() * len(chunk)
            n += len(chunk)
    return total / max(n, 1)


def _drop_modalities(pres: torch.Tensor, p: float) -> torch.Tensor:
    """Hide each present modality of a row from the fusion with probability p (never all of
    them), so the fused head cannot lean on one modality alone and learns to cope with
    missing ones."""
    if p <= 0:
        return pres
    keep = (torch.rand(pres.shape) >= p).float() * pres
    none_left = keep.sum(dim=1) == 0
    keep[none_left] = pres[none_left]
    return keep


def _epoch_order(tr: np.ndarray, batch_size: int, rng: np.random.Generator) -> np.ndarray:
    """One epoch: a permutation of the training rows, repeated for small labeled sets so an
    epoch has at least MIN_STEPS gradient steps (else early stopping sees a plateau after a
    handful of updates when only a few dozen samples are labeled)."""
    reps = max(1, -(-MIN_STEPS * int(batch_size) // max(len(tr), 1)))
    reps = min(reps, MIN_STEPS)
    return np.concatenate([rng.permutation(tr) for _ in range(reps)])


def split_validation(labeled: np.ndarray, val_fraction: float, rng: np.random.Generator):
    """Seeded (train, val) split of the labeled rows; no validation slice smaller than
    MIN_VAL_ROWS (early stopping then watches the training loss)."""
    order = rng.permutation(labeled)
    n_val = int(round(val_fraction * len(order)))
    if n_val < MIN_VAL_ROWS:
        n_val = 0
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def train(
    net: FusionNet,
    blocks: Sequence,
    present: np.ndarray,
    targets: Sequence[np.ndarray],
    multilabel: Sequence[bool],
    cfg: TrainConfig,
    unlabeled: tuple[Sequence, np.ndarray] | None = None,
) -> TrainLog:
    """Train ``net`` in place with early stopping; the best epoch's weights are kept.

    Early stopping watches the masked task loss on a held-out slice of the labeled rows (or
    the training loss when that slice would hold fewer than MIN_VAL_ROWS rows).
    ``unlabeled`` = (blocks, present) of pool rows that feed only the alignment loss.
    """
    rng = np.random.default_rng(cfg.seed)
    labeled = np.flatnonzero(_any_label(targets, multilabel))
    tr, va = split_validation(labeled, cfg.val_fraction, rng)
    # fused: one kernel per step instead of a dozen tensor passes (Adam dominated CPU time)
    opt = torch.optim.AdamW(
        net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True
    )
    log = TrainLog()
    best, best_state, waited = np.inf, copy.deepcopy(net.state_dict()), 0
    use_align = cfg.align_weight > 0 and len(blocks) > 1
    n_unl = 0 if unlabeled is None else unlabeled[1].shape[0]
    for epoch in range(1, int(cfg.max_epochs) + 1):
        net.train()
        ep_loss, ep_align, n_seen = 0.0, 0.0, 0
        for chunk in _batches(_epoch_order(tr, cfg.batch_size, rng), int(cfg.batch_size)):
            pres = torch.from_numpy(present[chunk])
            hs = net.stems(_xs(blocks, chunk))
            zs = net.project(hs)
            fuse_pres = _drop_modalities(pres, cfg.modality_dropout) if len(blocks) > 1 else pres
            logits = net.heads_from(net.fuse_blocks(zs, fuse_pres))
            ys = _batch_targets(targets, chunk)
            loss = task_losses(logits, ys, multilabel)
            if cfg.modality_head_weight > 0:
                loss = loss + cfg.modality_head_weight * modality_losses(
                    net, zs, pres, ys, multilabel
                )
            if use_align:
                a_zs, a_pres = zs, pres
                if n_unl >= 2:
                    u = rng.choice(n_unl, size=min(n_unl, len(chunk)), replace=False)
                    u_pres = torch.from_numpy(unlabeled[1][u])
                    u_zs = net.project(net.stems(_xs(unlabeled[0], u)))
                    a_zs = [torch.cat([z, w]) for z, w in zip(zs, u_zs)]
                    a_pres = torch.cat([pres, u_pres])
                align = info_nce(a_zs, a_pres, cfg.temperature)
                loss = loss + cfg.align_weight * align
                ep_align += align.item() * len(chunk)
            opt.zero_grad()
            loss.backward()
            opt.step()
            ep_loss += loss.item() * len(chunk)
            n_seen += len(chunk)
        train_loss = ep_loss / max(n_seen, 1)
        log.train_loss.append(train_loss)
        log.align_loss.append(ep_align / max(n_seen, 1))
        monitor = (
            _val_loss(net, blocks, present, targets, multilabel, va, cfg.batch_size)
            if len(va)
            else train_loss
        )
        log.val_loss.append(monitor)
        log.epochs = epoch
        # an improvement must be worth it: separable data keeps shrinking the loss by crumbs
        # for many epochs without changing any prediction
        if monitor < best - 1e-3:
            best, best_state, waited, log.best_epoch = monitor, copy.deepcopy(net.state_dict()), 0, epoch
        else:
            waited += 1
            if waited >= int(cfg.patience):
                break
    net.load_state_dict(best_state)
    net.eval()
    return log


def _any_label(targets: Sequence[np.ndarray], multilabel: Sequence[bool]) -> np.ndarray:
    known = None
    for t, ml in zip(targets, multilabel):
        k = (~np.isnan(t)).any(axis=1) if ml else t >= 0
        known = k if known is None else known | k
    return known


def _to_proba(logits: torch.Tensor, ml: bool) -> np.ndarray:
    return (torch.sigmoid(logits) if ml else torch.softmax(logits, dim=1)).numpy()


def predict(net: FusionNet, blocks, present, multilabel) -> tuple[list[np.ndarray], np.ndarray]:
    """Per-task probabilities (N, C) and the shared embedding (N, e), in eval mode."""
    net.eval()
    n = present.shape[0]
    probs: list[list[np.ndarray]] = [[] for _ in multilabel]
    embs = []
    with torch.no_grad():
        for start in range(0, n, PREDICT_CHUNK):
            idx = np.arange(start, min(n, start + PREDICT_CHUNK))
            logits, emb, _ = net(_xs(blocks, idx), torch.from_numpy(present[idx]))
            for k, (lg, ml) in enumerate(zip(logits, multilabel)):
                probs[k].append(_to_proba(lg, ml))
            embs.append(emb.numpy())
    return [np.concatenate(p) for p in probs], np.concatenate(embs)


def predict_samples(
    net: FusionNet, blocks, present, multilabel, n_samples: int, seed: int
) -> list[np.ndarray]:
    """MC-dropout samples per task, (S, N, C): dropout on, batch norm frozen, stems once."""
    n = present.shape[0]
    parts: list[list[np.ndarray]] = [[] for _ in multilabel]
    enable_mc_dropout(net)
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():
            torch.manual_seed(int(seed))
            for start in range(0, n, PREDICT_CHUNK):
                idx = np.arange(start, min(n, start + PREDICT_CHUNK))
                pres = torch.from_numpy(present[idx])
                hs = net.stems(_xs(blocks, idx))
                draws: list[list[np.ndarray]] = [[] for _ in multilabel]
                for _ in range(int(n_samples)):
                    logits, _, _ = net.forward_from_stems(hs, pres)
                    for k, (lg, ml) in enumerate(zip(logits, multilabel)):
                        draws[k].append(_to_proba(lg, ml))
                for k in range(len(multilabel)):
                    parts[k].append(np.stack(draws[k]))
    finally:
        net.eval()
    return [np.concatenate(p, axis=1) for p in parts]


def predict_by_block(net: FusionNet, blocks, present, multilabel) -> list[list[np.ndarray]]:
    """[block][task] -> (N, C) from each block's own head; NaN rows where the block is absent."""
    if net.mod_heads is None:
        return []
    net.eval()
    n = present.shape[0]
    parts = [[[] for _ in multilabel] for _ in net.names]
    with torch.no_grad():
        for start in range(0, n, PREDICT_CHUNK):
            idx = np.arange(start, min(n, start + PREDICT_CHUNK))
            zs = net.project(net.stems(_xs(blocks, idx)))
            for b, logits in enumerate(net.modality_logits(zs)):
                for k, (lg, ml) in enumerate(zip(logits, multilabel)):
                    p = _to_proba(lg, ml)
                    p[present[idx, b] <= 0] = np.nan
                    parts[b][k].append(p)
    return [[np.concatenate(p) for p in per_task] for per_task in parts]
