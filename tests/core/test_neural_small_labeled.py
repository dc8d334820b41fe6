"""With a few dozen labels the torch models train on all of them: a validation slice of a
handful of rows made early stopping keep near-random weights (a CNN that predicts one class)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from activelab.core.learning.neural import training  # noqa: E402


@pytest.mark.parametrize("n", [20, 40, 60])
def test_no_validation_slice_of_a_few_rows(n):
    tr, va = training.split_validation(np.arange(n), 0.15, np.random.default_rng(0))
    assert len(va) == 0 and len(tr) == n


def test_validation_slice_once_it_is_large_enough():
    tr, va = training.split_validation(np.arange(200), 0.15, np.random.default_rng(0))
    assert len(va) == 30 and len(tr) == 170
    assert not set(tr) & set(va)
