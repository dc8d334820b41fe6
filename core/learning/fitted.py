"""A fitted model as the rest of activelab sees it: one ``FittedTask`` per labeling task.

Whether the task has its own estimator or shares one multi-task network with the other tasks,
its outputs are the same: pool probabilities with columns in the task's class order, and, when
the model's capabilities (``ModelInfo``) say it has them, sampled predictions, a committee,
embeddings and per-modality predictions. Plus the small helpers on labels every fit uses.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import scipy.sparse as sp

from activelab.core.learning.models import ModelInfo

PREDICT_CHUNK = 65536


def take_rows(X: Any, idx: np.ndarray) -> Any:
    """Rows ``idx`` of a matrix, or of every block of a dict of blocks (multimodal input)."""
    if isinstance(X, Mapping):
        return {k: take_rows(v, idx) for k, v in X.items()}
    return X[idx]


def n_rows(X: Any) -> int:
    if isinstance(X, Mapping):
        return n_rows(next(iter(v for k, v in X.items() if not k.startswith("__"))))
    return X.shape[0]


def dense_if_needed(model: ModelInfo, X: Any) -> Any:
    """X as a dense array when ``model`` cannot take sparse input."""
    if model.dense_only and sp.issparse(X):
        return X.toarray()
    return X


def label_matrix(values: Sequence[Any], classes: Sequence[str]) -> np.ndarray:
    """Multi-label values (lists of class names) as a binary (n, C) matrix."""
    pos = {c: i for i, c in enumerate(classes)}
    Y = np.zeros((len(values), len(classes)), dtype=np.int64)
    for r, v in enumerate(values):
        for c in (v if isinstance(v, (list, tuple)) else [v]):
            if c in pos:
                Y[r, pos[c]] = 1
    return Y


def can_fit(y: Sequence[Any], multilabel: bool) -> bool:
    """A task can be modelled once two different classes (or label sets) are labeled."""
    if multilabel:
        return len(y) >= 2 and len({tuple(sorted(v)) for v in y}) >= 2
    return len(set(y)) >= 2


@dataclass
class FittedTask:
    """A fitted estimator for one task with probabilities aligned to the task's classes.

    ``model`` is the resolved model it was built from (its capabilities say which outputs
    it has). ``task_key`` is set when ``estimator`` is one multi-task model shared by every
    task: its outputs are dicts keyed by task, computed once per input and shared through
    ``memo``.
    """

    estimator: Any
    classes: tuple[str, ...]
    multilabel: bool
    model: ModelInfo
    task_key: str | None = None
    memo: dict | None = field(default=None, repr=False, compare=False)

    @property
    def model_name(self) -> str:
        return self.model.name

    def _shared(self, method: str, X: Any, *args: Any) -> Any:
        key = (method, id(X), args)
        if self.memo is not None and key in self.memo:
            return self.memo[key][1]
        out = getattr(self.estimator, method)(X, *args)
        if self.memo is not None:
            self.memo.clear() if len(self.memo) > 8 else None
            self.memo[key] = (X, out)        # keep X alive so its id is not reused
        return out

    def predict_proba(self, X: Any) -> np.ndarray:
        """(N, C) float32 probabilities, columns in the task's class order."""
        if self.task_key is not None:
            return np.asarray(self._shared("predict_proba", X)[self.task_key], dtype=np.float32)
        n = n_rows(X)
        out = np.zeros((n, len(self.classes)), dtype=np.float32)
        cols = self._column_map()
        for start in range(0, n, PREDICT_CHUNK):
            stop = min(n, start + PREDICT_CHUNK)
            Xc = dense_if_needed(self.model, take_rows(X, np.arange(start, stop)))
            p = np.asarray(self.estimator.predict_proba(Xc), dtype=np.float32)
            if p.ndim == 1:
                p = p[:, None]
            out[start:stop][:, cols] = p
        return out

    def _column_map(self) -> np.ndarray:
        if self.multilabel:
            return np.arange(len(self.classes))
        est_classes = [str(c) for c in getattr(self.estimator, "classes_", self.classes)]
        pos = {c: i for i, c in enumerate(self.classes)}
        return np.array([pos[c] for c in est_classes], dtype=np.int64)

    def sample_proba(self, X: Any, n_samples: int) -> np.ndarray | None:
        """(S, N, C) sampled predictions (MC dropout, ensemble members); None when the model
        has no sampler."""
        if not self.model.has_mc_samples:
            return None
        if self.task_key is not None:
            s = self._shared("predict_proba_samples", X, n_samples)[self.task_key]
            return np.asarray(s, dtype=np.float32)
        s = np.asarray(self.estimator.predict_proba_samples(dense_if_needed(self.model, X),
                                                            n_samples), dtype=np.float32)
        out = np.zeros((s.shape[0], s.shape[1], len(self.classes)), dtype=np.float32)
        out[:, :, self._column_map()] = s
        return out

    def committee_proba(self, X: Any) -> np.ndarray | None:
        """(M, N, C) predictions of the model's own members (a deep ensemble); else None."""
        if not self.model.has_committee:
            return None
        return np.asarray(self.estimator.committee_proba(X), dtype=np.float32)

    def proba_by_modality(self, X: Any, task: str) -> dict[str, np.ndarray] | None:
        """modality -> (N, C) predictions of each modality's own head (multimodal models)."""
        if not self.model.has_modality_heads:
            return None
        out: dict[str, np.ndarray] = {}
        for modality, per in self.estimator.predict_proba_by_modality(X).items():
            arr = per
            if isinstance(per, Mapping):
                arr = per.get(task, next(iter(per.values())) if len(per) == 1 else None)
            if arr is not None:
                out[modality] = np.asarray(arr, dtype=np.float32)
        return out or None

    def embed(self, X: Any) -> np.ndarray | None:
        """(N, e) float32 embeddings of the model; None when it has none."""
        if not self.model.has_embeddings:
            return None
        if self.task_key is not None:
            return np.asarray(self._shared("embed", X), np.float32)
        return np.asarray(self.estimator.embed(dense_if_needed(self.model, X)), np.float32)


def prediction_summary(p: np.ndarray, classes: Sequence[str], multilabel: bool) -> tuple[np.ndarray, np.ndarray]:
    """Predicted label (object array; lists for multi-label) and confidence per row."""
    classes_arr = np.asarray(classes, dtype=object)
    if multilabel:
        labels = np.empty(p.shape[0], dtype=object)
        on = p >= 0.5
        for i in range(p.shape[0]):
            labels[i] = [str(c) for c in classes_arr[on[i]]]
        conf = np.maximum(p, 1 - p).mean(axis=1) if p.shape[1] else np.ones(p.shape[0])
        return labels, conf.astype(np.float32)
    return classes_arr[p.argmax(axis=1)], p.max(axis=1).astype(np.float32)
