"""Random sampling: the baseline every other strategy must beat."""
from __future__ import annotations

import numpy as np

from activelab.core.querying.strategy_api import QueryContext, strategy


@strategy("random", "Uniformly random samples (the baseline).")
def random_scores(ctx: QueryContext) -> np.ndarray:
    """Uniform random scores from the seeded generator (so picks are reproducible)."""
    return ctx.rng.random(len(ctx.candidates))
