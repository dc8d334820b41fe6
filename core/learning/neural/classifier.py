"""A torch classifier with the scikit-learn surface (MLP or small CNN), and a deep ensemble.

Every strategy works on it unchanged through ``predict_proba``/``classes_``; it adds
``predict_proba_samples`` (MC dropout, for BALD), ``embed`` (penultimate layer, for core-set
and the pool map) and, for the ensemble, ``committee_proba`` (query-by-committee).

Warm start: ``fit(X, y, init_from=previous_fitted_model)`` starts from the previous weights
when the classes and input width are unchanged (the loop trains a clone, so the clone has no
weights of its own; pass the model in use). With ``warm_start=True`` a second ``fit`` of the
same object also continues from its own weights.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_consistent_length, column_or_1d, validate_data

from activelab.core.errors import ModelError
from activelab.core.learning.neural.base import TorchBase, infer_image_shape


class TorchClassifier(ClassifierMixin, TorchBase):
    """MLP (tabular, embeddings, TF-IDF) or small CNN (images from pixels) trained with Adam,
    dropout, weight decay and early stopping on a held-out slice of the labeled rows.

    A 2-D 0/1 ``y`` (multi-label indicator) trains sigmoid outputs, one per column.
    """

    supports_multilabel = True

    def __init__(
        self,
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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.non_deterministic = False
        return tags

    # -- fitting --------------------------------------------------------------------------
    def _spec(self, d: int) -> dict:
        if self.arch not in ("mlp", "cnn"):
            raise ModelError(f"arch must be 'mlp' or 'cnn'; got {self.arch!r}.")
        shape = None
        if self.arch == "cnn":
            shape = list(self.image_shape) if self.image_shape else list(infer_image_shape(d))
            if int(np.prod(shape)) != d:
                raise ModelError(
                    f"image_shape {tuple(shape)} holds {int(np.prod(shape))} pixels, but the "
                    f"features have {d} columns. Set image_shape to the images' (C, H, W)."
                )
        return {"blocks": [{"name": "x", "kind": self.arch, "d_in": d, "image_shape": shape}]}

    def fit(self, X: Any, y: Any, init_from: Any = None) -> "TorchClassifier":
        """Fit on (X, y); ``init_from`` is a fitted model to warm-start from (see module doc)."""
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float32, reset=True)
        check_consistent_length(X, y)  # ValueError, as scikit-learn callers expect
        y_arr = np.asarray(y)
        if y_arr.ndim == 2 and y_arr.shape[1] > 1 and type_of_target(y_arr) == "multilabel-indicator":
            classes = np.arange(y_arr.shape[1])
            target, multilabel = y_arr.astype(np.float32), True
        else:
            y_arr = column_or_1d(y, warn=True)
            check_classification_targets(y_arr)
            classes, inv = np.unique(y_arr, return_inverse=True)
            target, multilabel = inv.astype(np.int64), False
        spec = self._spec(X.shape[1])
        spec["n_classes"] = [len(classes)]
        present = np.ones((X.shape[0], 1), dtype=np.float32)
        self._fit_nets(spec, [X], present, [target], [multilabel], classes, init_from)
        return self

    # -- prediction -----------------------------------------------------------------------
    def _blocks(self, X: Any):
        self._check_fitted()
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float32, reset=False)
        return [X], np.ones((X.shape[0], 1), dtype=np.float32)

    def predict_proba(self, X: Any) -> np.ndarray:
        """(N, C) probabilities in the order of ``classes_``."""
        probs, _ = self._predict_all(*self._blocks(X))
        return probs[0]

    def predict(self, X: Any) -> np.ndarray:
        p = self.predict_proba(X)
        if self.multilabel_[0]:
            return (p >= 0.5).astype(int)
        return self.classes_[np.argmax(p, axis=1)]

    def predict_proba_samples(self, X: Any, n_samples: int = 20) -> np.ndarray:
        """(S, N, C) MC-dropout samples (dropout on, batch norm frozen); seeded."""
        return self._samples(*self._blocks(X), n_samples)[0]

    def embed(self, X: Any) -> np.ndarray:
        """(N, e) penultimate-layer embeddings (the representation the head reads)."""
        return self._predict_all(*self._blocks(X))[1]


class DeepEnsembleClassifier(TorchClassifier):
    """``n_members`` TorchClassifiers with different seeds (init, batch order, validation
    slice). ``predict_proba`` is their mean; ``committee_proba`` gives (M, N, C) for
    query-by-committee, and ``predict_proba_samples`` returns the same members' predictions.
    """

    def __init__(
        self,
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
        n_members: int = 5,
    ) -> None:
        super().__init__(
            arch=arch, hidden=hidden, dropout=dropout, weight_decay=weight_decay, lr=lr,
            max_epochs=max_epochs, batch_size=batch_size, patience=patience,
            val_fraction=val_fraction, warm_start=warm_start, image_shape=image_shape,
            random_state=random_state, n_threads=n_threads,
        )
        self.n_members = n_members

    def _n_members(self) -> int:
        if int(self.n_members) < 2:
            raise ModelError(f"A deep ensemble needs at least 2 members; got {self.n_members}.")
        return int(self.n_members)

    def committee_proba(self, X: Any) -> np.ndarray:
        """(M, N, C): each member's probabilities."""
        return self._committee(*self._blocks(X))[0]

    def predict_proba_samples(self, X: Any, n_samples: int = 20) -> np.ndarray:
        """The members' predictions (M, N, C); ``n_samples`` is ignored."""
        return self.committee_proba(X)
