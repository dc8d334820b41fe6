"""One network for several labeling tasks: a shared trunk, one head per task (softmax for
single-label, sigmoid for multi-label), trained with a loss masked to the tasks each sample
is labeled for.

The loop calls it when the model's ``multitask`` attribute is True::

    model = MultiTaskClassifier(tasks={"category": (["a", "b"], False),
                                       "tags": (["x", "y", "z"], True)})
    model.fit(X, {"category": np.array(["a", None, "b"], dtype=object),
                  "tags": np.array([[1, 0, 1], [np.nan] * 3, [0, 0, 1]])},
              init_from=previous_model)
    model.predict_proba(X)  # {"category": (N, 2), "tags": (N, 3)}, columns in class order

``tasks`` maps a task name to (classes, multilabel); a TaskSpec works too. With
``tasks=None`` the tasks are inferred from the targets at fit time (single-label classes
sorted; a 2-D target is multi-label with classes "0", "1", ...).
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import scipy.sparse as sp

from activelab.core.errors import ModelError
from activelab.core.learning.neural.base import TorchBase, infer_image_shape


def normalize_tasks(tasks: Any) -> dict[str, tuple[list, bool]]:
    """{name: (classes, multilabel)} from a dict of tuples or of TaskSpec-like objects."""
    out: dict[str, tuple[list, bool]] = {}
    for name, spec in dict(tasks).items():
        if hasattr(spec, "classes"):
            classes, ml = list(spec.classes), bool(getattr(spec, "multilabel", False))
        else:
            classes, ml = list(spec[0]), bool(spec[1])
        out[str(name)] = (classes, ml)
    return out


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def infer_tasks(targets: Mapping[str, Any]) -> dict[str, tuple[list, bool]]:
    out: dict[str, tuple[list, bool]] = {}
    for name, t in targets.items():
        arr = np.asarray(t, dtype=object) if not isinstance(t, np.ndarray) else t
        if arr.ndim == 2:
            out[name] = ([str(i) for i in range(arr.shape[1])], True)
        else:
            values = sorted({v for v in arr.tolist() if not _is_missing(v)}, key=str)
            out[name] = (values, False)
    return out


def encode_targets(
    tasks: dict[str, tuple[list, bool]], targets: Mapping[str, Any], n: int
) -> list[np.ndarray]:
    """Per task: int64 class indices (-1 unlabeled) or an (n, C) float32 matrix (NaN rows)."""
    unknown = set(targets) - set(tasks)
    if unknown:
        raise ModelError(
            f"Targets were given for tasks {sorted(unknown)} that the model does not know; "
            f"its tasks are {sorted(tasks)}. Rebuild the model with the project's tasks."
        )
    out: list[np.ndarray] = []
    for name, (classes, ml) in tasks.items():
        t = targets.get(name)
        if ml:
            out.append(_multilabel_target(name, classes, t, n))
            continue
        idx = np.full(n, -1, dtype=np.int64)
        if t is not None:
            values = np.asarray(t, dtype=object).ravel()
            if values.shape[0] != n:
                raise ModelError(f"Task '{name}': {values.shape[0]} targets for {n} rows.")
            lookup = {c: i for i, c in enumerate(classes)}
            lookup.update({str(c): i for i, c in enumerate(classes)})
            for r, v in enumerate(values.tolist()):
                if _is_missing(v):
                    continue
                if v not in lookup and str(v) not in lookup:
                    raise ModelError(
                        f"Task '{name}', row {r}: label {v!r} is not one of its classes "
                        f"{list(classes)}. Add the class to the task first."
                    )
                idx[r] = lookup[v] if v in lookup else lookup[str(v)]
        out.append(idx)
    return out


def _multilabel_target(name: str, classes: list, t: Any, n: int) -> np.ndarray:
    c = len(classes)
    if t is None:
        return np.full((n, c), np.nan, dtype=np.float32)
    arr = np.asarray(t)
    if arr.ndim == 2:
        if arr.shape != (n, c):
            raise ModelError(f"Task '{name}': targets of shape {arr.shape}, expected ({n}, {c}).")
        return arr.astype(np.float32)
    # an object array of label lists (None = unlabeled)
    out = np.full((n, c), np.nan, dtype=np.float32)
    pos = {str(k): i for i, k in enumerate(classes)}
    for r, v in enumerate(np.asarray(t, dtype=object).tolist()):
        if _is_missing(v):
            continue
        out[r] = 0.0
        for lab in v:
            if str(lab) not in pos:
                raise ModelError(
                    f"Task '{name}', row {r}: label {lab!r} is not one of its classes {classes}."
                )
            out[r, pos[str(lab)]] = 1.0
    return out


class MultiTaskClassifier(TorchBase):
    """Shared MLP (or CNN) trunk with one head per task; masked multi-task loss."""

    multitask = True
    needs_blocks = False
    supports_multilabel = True  # multi-label tasks are heads of their own (no one-vs-rest)

    def __init__(
        self,
        tasks: Mapping[str, Any] | None = None,
        arch: str = "mlp",
        hidden: tuple[int, ...] = (256,),
        dropout: float = 0.2,
        weight_decay: float = 1e-4,
        lr: float = 1e-3,
        max_epochs: int = 100,
        batch_size: int = 64,
        patience: int = 5,
        val_fraction: float = 0.15,
        warm_start: bool = True,
        image_shape: tuple[int, int, int] | None = None,
        random_state: int | None = 0,
        n_threads: int = 1,
    ) -> None:
        self.tasks = tasks
        self.arch = arch
        self.hidden = hidden
        self.dropout = dropout
        self.weight_decay = weight_decay
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.patience = patience
        self.val_fraction = val_fraction
        self.warm_start = warm_start
        self.image_shape = image_shape
        self.random_state = random_state
        self.n_threads = n_threads

    # -- inputs ---------------------------------------------------------------------------
    def _to_blocks(self, X: Any, spec_blocks: list | None = None):
        """(blocks, present, spec-blocks) for X; one block "x" here.

        ``spec_blocks`` None means fitting (the spec is read off X); otherwise X must match it.
        """
        if sp.issparse(X):
            X = X.tocsr().astype(np.float32)
        else:
            X = np.asarray(X, dtype=np.float32)
        if X.ndim != 2:
            raise ModelError(f"X must be a 2-D feature matrix; got shape {X.shape}.")
        d = X.shape[1]
        if spec_blocks is not None and d != spec_blocks[0]["d_in"]:
            raise ModelError(
                f"X has {d} features but the model was fitted on {spec_blocks[0]['d_in']}; "
                "rebuild the model after changing features."
            )
        shape = None
        if self.arch == "cnn":
            shape = list(self.image_shape) if self.image_shape else list(infer_image_shape(d))
        elif self.arch != "mlp":
            raise ModelError(f"arch must be 'mlp' or 'cnn'; got {self.arch!r}.")
        spec = [{"name": "x", "kind": self.arch, "d_in": d, "image_shape": shape}]
        return [X], np.ones((X.shape[0], 1), dtype=np.float32), spec

    # -- fitting --------------------------------------------------------------------------
    def fit(self, X: Any, targets: Mapping[str, Any], init_from: Any = None, **kw: Any):
        """Fit on the rows of X; ``targets`` maps task -> labels (see module doc)."""
        if not isinstance(targets, Mapping):
            raise ModelError(
                "A multi-task model is fitted with a dict task -> targets, not a single y."
            )
        blocks, present, spec_blocks = self._to_blocks(X)
        n = present.shape[0]
        tasks = normalize_tasks(self.tasks) if self.tasks else infer_tasks(targets)
        if not tasks:
            raise ModelError("The multi-task model has no tasks; give tasks={name: (classes, multilabel)}.")
        arrays = encode_targets(tasks, targets, n)
        multilabel = [ml for _, ml in tasks.values()]
        labeled = np.zeros(n, dtype=bool)
        for a, ml in zip(arrays, multilabel):
            labeled |= (~np.isnan(a)).any(axis=1) if ml else a >= 0
        if not labeled.any():
            raise ModelError("No row carries a label for any task yet; label a few samples first.")
        classes = {t: np.asarray(c, dtype=object) for t, (c, _) in tasks.items()}
        spec = {"blocks": spec_blocks, "n_classes": [len(c) for c, _ in tasks.values()]}
        self._fit_nets(
            spec, blocks, present, arrays, multilabel, classes, init_from,
            self._unlabeled(kw.get("X_unlabeled"), spec_blocks),
        )
        self.task_names_ = list(tasks)
        self.n_labeled_ = int(labeled.sum())
        return self

    def _unlabeled(self, X_unlabeled: Any, spec_blocks: list):
        """(blocks, present) of unlabeled rows for the alignment loss (multimodal only)."""
        return None

    # -- prediction -----------------------------------------------------------------------
    def _by_task(self, arrays: list[np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip(self.task_names_, arrays))

    def predict_proba(self, X: Any) -> dict[str, np.ndarray]:
        """{task: (N, C)} with columns in the task's class order."""
        self._check_fitted()
        blocks, present, _ = self._to_blocks(X, self.net_spec_["blocks"])
        return self._by_task(self._predict_all(blocks, present)[0])

    def predict(self, X: Any) -> dict[str, np.ndarray]:
        """{task: labels (N,)} for single-label tasks, {task: (N, C) 0/1} for multi-label."""
        out = {}
        for (t, p), ml in zip(self.predict_proba(X).items(), self.multilabel_):
            out[t] = (p >= 0.5).astype(int) if ml else self.classes_[t][np.argmax(p, axis=1)]
        return out

    def predict_proba_samples(self, X: Any, n_samples: int = 20) -> dict[str, np.ndarray]:
        """{task: (S, N, C)} MC-dropout samples."""
        self._check_fitted()
        blocks, present, _ = self._to_blocks(X, self.net_spec_["blocks"])
        return self._by_task(self._samples(blocks, present, n_samples))

    def embed(self, X: Any) -> np.ndarray:
        """(N, e) shared-trunk embeddings."""
        self._check_fitted()
        blocks, present, _ = self._to_blocks(X, self.net_spec_["blocks"])
        return self._predict_all(blocks, present)[1]
