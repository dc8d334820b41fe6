"""Temporary stand-in for core.training (proba only) until the lead's module lands."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sklearn.base import clone

from core.models import make_model
from core.strategy_api import QueryContext, TaskOutput


class FittedTask:
    def __init__(self, estimator: Any, classes: Sequence[str], constant: str | None = None):
        self.estimator = estimator
        self.classes = tuple(classes)
        self._constant = constant

    def predict_proba(self, X: Any) -> np.ndarray:
        n = X.shape[0]
        out = np.zeros((n, len(self.classes)))
        if self._constant is not None:
            out[:, self.classes.index(self._constant)] = 1.0
            return out
        p = self.estimator.predict_proba(X)
        for j, c in enumerate(self.estimator.classes_):
            out[:, self.classes.index(str(c))] = p[:, j]
        return out


def fit_task_model(model_name, params, X, y, classes, multilabel=False, previous=None):
    y = np.asarray(y, dtype=object)
    if len(set(y.tolist())) < 2:
        return FittedTask(None, classes, constant=str(y[0]))
    est = clone(make_model(model_name, params))
    est.fit(X, y.astype(str))
    return FittedTask(est, classes)


def task_outputs(fitted, X_model, requires, *, model_name, params, X_train, y_train_by_task,
                 rng, n_committee=5):
    return {t: TaskOutput(proba=f.predict_proba(X_model), classes=f.classes) for t, f in fitted.items()}


def build_context(n_pool, candidates, labeled, features_dense, outputs, rng, embeddings=None,
                  aggregate="mean"):
    return QueryContext(n_pool=n_pool, candidates=candidates, rng=rng, labeled=labeled,
                        features=features_dense, embeddings=embeddings, tasks=outputs,
                        aggregate=aggregate)
