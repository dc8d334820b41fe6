"""The built-in strategies, registered through the ``activelab.strategies`` entry point
exactly like a third-party plug-in."""
from __future__ import annotations

from core.strategy_api import Strategy
from strategies import baseline, uncertainty


def strategies() -> list[Strategy]:
    proba = frozenset({"proba"})
    return [
        Strategy("random", "Uniformly random samples (the baseline).", baseline.random_scores),
        Strategy(
            "least_confidence",
            "Samples whose most likely class has the lowest probability.",
            uncertainty.least_confidence,
            requires=proba,
        ),
        Strategy(
            "margin",
            "Samples with the smallest gap between the two most likely classes.",
            uncertainty.margin,
            requires=proba,
        ),
        Strategy(
            "entropy",
            "Samples with the highest entropy of the predicted class distribution.",
            uncertainty.entropy,
            requires=proba,
        ),
    ]
