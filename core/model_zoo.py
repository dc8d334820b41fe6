"""Small model constructors that scikit-learn does not provide in one call."""
from __future__ import annotations

from typing import Any


def calibrated_linear_svm(C: float = 1.0, **kwargs: Any) -> Any:
    """A linear SVM whose scores are calibrated into probabilities (sigmoid, 3-fold)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import LinearSVC

    return CalibratedClassifierCV(LinearSVC(C=C, **kwargs), method="sigmoid", cv=3)
