"""A warm-started refit (a few new labels on top of the model in use) is bounded, so a
retrain in the loop takes a fraction of a cold fit even when the user set a long schedule."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from activelab.core.learning.neural import base  # noqa: E402
from activelab.core.learning.neural.classifier import TorchClassifier  # noqa: E402
from activelab.core.learning.neural.multitask import MultiTaskClassifier  # noqa: E402


def noisy(n=400, d=10, seed=0):
    """Overlapping classes: a cold fit keeps improving its validation loss for a while."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = (rng.normal(scale=0.6, size=(3, d))[y] + rng.normal(size=(n, d))).astype(np.float32)
    return X, np.array(["a", "b", "c"])[y]


def test_warm_refit_stops_within_the_warm_caps_even_with_long_patience():
    X, y = noisy()
    make = lambda: TorchClassifier(hidden=(32,), max_epochs=300, patience=100, lr=1e-4)  # noqa: E731
    prev = make().fit(X[:300], y[:300])
    warm = make().fit(X[:310], y[:310], init_from=prev)
    assert prev.n_epochs_ > base.WARM_MAX_EPOCHS  # the user's schedule is long
    assert warm.warm_started_
    assert warm.n_epochs_ <= base.WARM_MAX_EPOCHS
    # the bounded refit still learned the task as well as the model it started from
    acc_prev = (prev.predict(X[310:]) == y[310:]).mean()
    acc_warm = (warm.predict(X[310:]) == y[310:]).mean()
    assert acc_warm >= acc_prev - 0.05


def test_cold_fit_keeps_the_users_schedule():
    X, y = noisy()
    cold = TorchClassifier(hidden=(32,), max_epochs=300, patience=100, lr=1e-4).fit(X, y)
    assert not cold.warm_started_
    assert cold.n_epochs_ > base.WARM_MAX_EPOCHS


def test_multitask_warm_refit_is_bounded_too():
    X, y = noisy()
    tasks = {"t": (["a", "b", "c"], False)}
    make = lambda: MultiTaskClassifier(tasks=tasks, hidden=(32,), max_epochs=300, patience=100, lr=1e-4)  # noqa: E731
    prev = make().fit(X[:300], {"t": y[:300].astype(object)})
    warm = make().fit(X[:310], {"t": y[:310].astype(object)}, init_from=prev)
    assert warm.warm_started_ and warm.n_epochs_ <= base.WARM_MAX_EPOCHS
