"""Small models that scikit-learn does not provide in one call, made to fit at few labels.

* ``CalibratedLinearSVM``: a linear SVM with sigmoid-calibrated probabilities. The calibration
  folds are chosen from the smallest class count (3 at most), so a class labeled twice gets a
  2-fold calibration, and a class labeled once gets none (a sigmoid of the SVM's decision
  values) instead of "less than 3 examples" failing the fit.
* ``FewLabelKNeighborsClassifier``: k-nearest neighbours that asks for at most as many
  neighbours as there are training samples (k=5 on 4 labels uses 4).

Both are scikit-learn estimators: their parameters are validated by scikit-learn's own
``_parameter_constraints`` (see ``activelab.core.learning.model_params``).
"""
from __future__ import annotations

import copy
from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import Interval

_SVC_PARAMS = ("C", "penalty", "loss", "dual", "tol", "fit_intercept", "intercept_scaling",
               "class_weight", "max_iter", "random_state")


class CalibratedLinearSVM(ClassifierMixin, BaseEstimator):
    """Linear SVM (``sklearn.svm.LinearSVC``) with probabilities from sigmoid calibration.

    ``calibration_folds`` is an upper bound: fit uses min(calibration_folds, smallest class
    count) folds, and no calibration at all (a per-class sigmoid of the decision values,
    normalised) when a class has a single example. ``calibrated_`` says which happened.
    """

    _parameter_constraints: dict = {
        **{k: LinearSVC._parameter_constraints[k] for k in _SVC_PARAMS},
        "calibration_folds": [Interval(Integral, 2, None, closed="left")],
    }

    def __init__(self, C: float = 1.0, penalty: str = "l2", loss: str = "squared_hinge",
                 dual: Any = "auto", tol: float = 1e-4, fit_intercept: bool = True,
                 intercept_scaling: float = 1, class_weight: Any = None, max_iter: int = 1000,
                 random_state: Any = None, calibration_folds: int = 3) -> None:
        self.C = C
        self.penalty = penalty
        self.loss = loss
        self.dual = dual
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.random_state = random_state
        self.calibration_folds = calibration_folds

    def fit(self, X: Any, y: Any) -> "CalibratedLinearSVM":
        """Fit on X (n, d), y (n,). Raises ValueError (scikit-learn's) on bad parameters/data."""
        from sklearn.calibration import CalibratedClassifierCV

        self._validate_params()
        y = np.asarray(y)
        classes, counts = np.unique(y, return_counts=True)
        if classes.size < 2:
            raise ValueError(f"A linear SVM needs two classes to fit; got only {classes.tolist()}.")
        svc = LinearSVC(**{k: getattr(self, k) for k in _SVC_PARAMS})
        folds = int(min(self.calibration_folds, counts.min()))
        if folds >= 2:
            self.model_ = CalibratedClassifierCV(svc, method="sigmoid", cv=folds).fit(X, y)
        else:
            self.model_ = svc.fit(X, y)
        self.calibrated_ = folds >= 2
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """(n, n_classes) probabilities, columns in ``classes_`` order."""
        if self.calibrated_:
            return self.model_.predict_proba(X)
        from scipy.special import expit

        d = np.asarray(self.model_.decision_function(X), dtype=np.float64)
        if d.ndim == 1:
            p1 = expit(d)
            return np.column_stack([1.0 - p1, p1])
        p = expit(d)
        return p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


class FewLabelKNeighborsClassifier(KNeighborsClassifier):
    """``KNeighborsClassifier`` that uses min(n_neighbors, n training samples) neighbours."""

    def _clipped(self) -> KNeighborsClassifier:
        if self.n_neighbors <= self.n_samples_fit_:
            return self
        other = copy.copy(self)             # shares the fitted index; self is not mutated
        other.n_neighbors = int(self.n_samples_fit_)
        return other

    def predict_proba(self, X: Any) -> np.ndarray:
        me = self._clipped()
        return KNeighborsClassifier.predict_proba(me, X)

    def predict(self, X: Any) -> np.ndarray:
        me = self._clipped()
        return KNeighborsClassifier.predict(me, X)

    def kneighbors(self, X: Any = None, n_neighbors: int | None = None,
                   return_distance: bool = True) -> Any:
        if n_neighbors is None:
            n_neighbors = min(self.n_neighbors, self.n_samples_fit_ - (1 if X is None else 0))
        return KNeighborsClassifier.kneighbors(self, X, n_neighbors, return_distance)
