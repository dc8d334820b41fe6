"""A toy third-party strategy plug-in (copied into a fake installed distribution by tests)."""
from __future__ import annotations

import numpy as np

from activelab.core.querying.strategy_api import Param, QueryContext, Strategy


def farthest_from_zero(ctx: QueryContext, power: float = 2.0) -> np.ndarray:
    """Candidates with the largest feature norm."""
    X = ctx.representation()[ctx.candidates]
    return (np.abs(X) ** power).sum(axis=1)


def strategies() -> list[Strategy]:
    return [Strategy("toy_norm", "Largest feature norm (toy plug-in).", farthest_from_zero,
                     params=(Param("power", float, 2.0, "Norm power.", minimum=0.5),),
                     requires=frozenset({"features"}))]
