"""``auto``: choose among a portfolio of strategies while labeling, as a bandit.

Active Learning by Learning (Hsu & Lin 2015): each strategy of the portfolio is an expert of
the EXP4.P bandit (Beygelzimer et al. 2011); a batch is chosen by one of them, drawn with
probability p_k = (1 - K p_min) w_k / sum(w) + p_min. Its reward is an unbiased estimate of
the accuracy the model trained with that batch reaches: the importance-weighted accuracy on
the audit picks of the next batch (uniformly random candidates whose prediction by that model
was recorded before the label; each weighs |candidates| / n_audit, so the weighted accuracy
is their hit rate). The chosen expert's reward is importance-weighted by 1 / p_k and every
expert gets EXP4.P's variance bonus:

    w_k <- w_k exp(p_min / 2 (r 1[k chosen] / p_k + sqrt(ln(K / delta) / (K T)) / p_k)),
    p_min = sqrt(ln K / (K T)),  T = ``horizon`` (the expected number of batches).

State: none of its own. The labels' provenance (``QueryContext.history``: which expert chose
each pick, ``auto:margin``, and whether each audit pick's recorded prediction was right) is in
the project store, so the weights are replayed from it at every query: they survive restarts
and follow undo. Rounds whose reward is not known yet (no audit pick since) leave the weights
as they are. Rewards are credited in round order; the probability used for the importance
weight is the replayed one.
"""
from __future__ import annotations

from typing import Annotated, Sequence

import numpy as np

from activelab.core.errors import StrategyError
from activelab.core.querying.strategy_api import (
    Doc, PickRecord, QueryContext, QueryResult, strategy, strategy_batch,
)

PORTFOLIO = "margin,entropy,badge,density_weighted,random"
NAME = "auto"


def rounds_of(history: Sequence[PickRecord], arms: Sequence[str]) -> list[tuple[int, float | None]]:
    """(arm index, reward or None) per auto round, oldest first. A round is a model version
    whose non-audit picks were chosen by ``auto:<arm>``; its reward is the hit rate of the
    first later version's audit picks (the accuracy of the model trained with that round's
    labels), credited to the latest round before them."""
    by_version: dict[int, list[PickRecord]] = {}
    for rec in history:
        by_version.setdefault(int(rec.model_version), []).append(rec)
    index = {a: i for i, a in enumerate(arms)}
    rounds: list[list] = []
    for v in sorted(by_version):
        recs = by_version[v]
        audits = [r.correct for r in recs if r.audit and r.correct is not None]
        if audits and rounds and rounds[-1][1] is None:
            rounds[-1][1] = float(np.mean(audits))
        chosen = [r.strategy.split(":", 1)[1] for r in recs
                  if not r.audit and r.strategy.startswith(f"{NAME}:")]
        chosen = [c for c in chosen if c in index]
        if chosen:
            arm = max(set(chosen), key=chosen.count)
            rounds.append([index[arm], None])
    return [(a, r) for a, r in rounds]


def expert_probabilities(history: Sequence[PickRecord], arms: Sequence[str], horizon: int = 30,
                         delta: float = 0.1) -> np.ndarray:
    """(K,) probability of choosing each expert next, replayed from ``history`` with the
    EXP4.P update of the module doc. Uniform before any reward."""
    k = len(arms)
    if k == 0:
        raise StrategyError("auto needs at least one strategy in its portfolio.")
    T = max(int(horizon), 1)
    p_min = min(np.sqrt(np.log(k) / (k * T)) if k > 1 else 0.0, 1.0 / k)
    bonus = np.sqrt(np.log(k / delta) / (k * T))
    log_w = np.zeros(k)

    def probs() -> np.ndarray:
        w = np.exp(log_w - log_w.max())
        return (1.0 - k * p_min) * w / w.sum() + p_min

    for arm, reward in rounds_of(history, arms):
        if reward is None:
            continue
        p = probs()
        r_hat = np.zeros(k)
        r_hat[arm] = reward / p[arm]
        log_w += p_min / 2.0 * (r_hat + bonus / p)
    return probs()


@strategy(NAME, "Active Learning by Learning: a bandit picks among strategies, rewarded by "
          "audit accuracy.", requires={"proba"}, optional={"features", "history"})
def auto(ctx: QueryContext, n: int, portfolio: Annotated[str, Doc(
        "Comma-separated strategies the bandit chooses among (score or batch strategies "
        "that need no committee).")] = PORTFOLIO,
         horizon: Annotated[int, Doc("Expected number of batches (EXP4.P's T).", minimum=1)] = 30,
         ) -> QueryResult:
    """Draw an expert from the replayed EXP4.P probabilities (Hsu & Lin 2015) and let it pick
    the batch; ``QueryResult.detail`` names it. An expert whose inputs are missing here is
    passed over for the next draw."""
    arms = [a.strip() for a in portfolio.split(",") if a.strip()]
    if NAME in arms:
        raise StrategyError("auto cannot be a member of its own portfolio.")
    p = expert_probabilities(ctx.history, arms, horizon)
    open_ = np.ones(len(arms), dtype=bool)
    first_error: StrategyError | None = None
    while open_.any():
        q = np.where(open_, p, 0.0)
        k = int(ctx.rng.choice(len(arms), p=q / q.sum()))
        try:
            res = strategy_batch(ctx, arms[k], n)
        except StrategyError as exc:
            first_error = first_error or exc
            open_[k] = False
            continue
        return QueryResult(res.indices, res.scores, res.candidate_scores,
                           detail=f"{arms[k]}")
    raise StrategyError(f"No strategy of auto's portfolio ({', '.join(arms)}) could run: "
                        f"{first_error}")
