"""The built-in strategies, registered through the ``activelab.strategies`` entry point
exactly like a third-party plug-in."""
from __future__ import annotations

from activelab.core.querying.strategy_api import Param, Strategy
from activelab.strategies import cotesting  # noqa: I001  (co-testing, added by the neural-models work)
from activelab.strategies import baseline, bayesian, committee, density, diversity, hybrid, uncertainty

_BASE = Param("base", str, "entropy", "Uncertainty measure that is weighted.",
              choices=density.BASES)


#: Committee parameters: read by the loop when it builds the committee, not by the score.
COMMITTEE_PARAMS = (
    Param("committee", str, "bootstrap",
          "bootstrap: copies of the chosen model on bootstrap resamples; models: several "
          "different model types (logistic regression, random forest, extra trees, k-NN).",
          choices=("bootstrap", "models")),
    Param("n_members", int, 5, "Committee size (bootstrap mode).", minimum=2, maximum=50),
)


def _committee_strategy(score):
    def run(ctx, committee: str = "bootstrap", n_members: int = 5):
        return score(ctx)

    run.__name__ = score.__name__
    run.__doc__ = score.__doc__
    return run


def strategies() -> list[Strategy]:
    proba = frozenset({"proba"})
    feats = frozenset({"features"})
    both = frozenset({"proba", "features"})
    com = frozenset({"committee"})
    mc = frozenset({"mc_samples"})
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
        Strategy(
            "density_weighted",
            "Uncertainty times representativeness^beta (information density, no N x N matrix).",
            density.density_weighted,
            params=(
                _BASE,
                Param("beta", float, 1.0, "Weight of representativeness.", minimum=0.0),
                Param("mode", str, "knn", "knn: k nearest neighbours among a reference "
                      "sample; centroids: k-means centroids; exact: all pool samples (small "
                      "pools, O(N^2) time).", choices=density.MODES),
                Param("metric", str, "cosine", "Distance behind similarity 1/(1+d).",
                      choices=density.METRICS),
                Param("k", int, 10, "Neighbours per sample (knn mode).", minimum=1),
                Param("reference_size", int, 1000, "Pool samples the neighbours are drawn "
                      "from (knn mode; the whole pool when smaller).", minimum=2),
                Param("n_centroids", int, 50, "k-means centroids (centroids mode).", minimum=1),
            ),
            requires=both,
        ),
        Strategy(
            "coreset",
            "Greedy k-center: each pick is the candidate farthest from labeled and chosen ones.",
            diversity.coreset,
            kind="batch",
            requires=feats,
        ),
        Strategy(
            "cluster",
            "k-means over the candidates; the most uncertain per cluster (nearest the centroid "
            "without a model).",
            diversity.cluster,
            kind="batch",
            params=(Param("base", str, "entropy", "Uncertainty used within a cluster.",
                          choices=density.BASES),),
            requires=feats,
            optional=proba,
        ),
        Strategy(
            "ranked_batch",
            "Ranked batch (Cardoso et al.): uncertainty blended with distance to labeled+chosen.",
            diversity.ranked_batch,
            kind="batch",
            params=(Param("base", str, "least_confidence", "Uncertainty measure.",
                          choices=density.BASES),),
            requires=both,
        ),
        Strategy(
            "vote_entropy",
            "Query by committee: entropy of the committee members' votes.",
            _committee_strategy(committee.vote_entropy),
            params=COMMITTEE_PARAMS,
            requires=com,
        ),
        Strategy(
            "consensus_entropy",
            "Query by committee: entropy of the committee's mean (consensus) distribution.",
            _committee_strategy(committee.consensus_entropy),
            params=COMMITTEE_PARAMS,
            requires=com,
        ),
        Strategy(
            "kl_max_disagreement",
            "Query by committee: largest KL divergence of a member from the consensus.",
            _committee_strategy(committee.kl_max_disagreement),
            params=COMMITTEE_PARAMS,
            requires=com,
        ),
        Strategy(
            "bald",
            "BALD: mutual information between prediction and model over sampled predictions.",
            bayesian.bald,
            requires=mc,
        ),
        Strategy(
            "variation_ratios",
            "1 - share of sampled predictions agreeing with the modal class.",
            bayesian.variation_ratios,
            requires=mc,
        ),
        Strategy(
            "badge",
            "BADGE: k-means++ seeding on gradient embeddings (uncertain and diverse).",
            hybrid.badge,
            kind="batch",
            requires=both,
        ),
        Strategy(
            "exploration_mix",
            "A base strategy's picks with a fraction of the batch uniformly random.",
            hybrid.exploration_mix,
            kind="batch",
            params=(
                Param("base", str, "entropy", "Score-based strategy that picks the rest.",
                      choices=tuple(sorted(hybrid.MIX_BASES))),
                Param("random_fraction", float, 0.1, "Share of the batch picked at random.",
                      minimum=0.0, maximum=1.0),
            ),
            requires=proba,
            optional=frozenset({"features", "mc_samples", "committee"}),
        ),
    ] + cotesting.strategies()  # co-testing (strategies/cotesting.py, neural models)
