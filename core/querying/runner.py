"""Run a registered strategy on a QueryContext: say which inputs it needs, validate them,
score, select."""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from activelab.core.errors import StrategyError
from activelab.core.querying.params import StrategyName
from activelab.core.querying.strategy_api import QueryContext, QueryResult, Strategy, top_k

#: Inputs that cost model fits or extra passes: computed only when a strategy requires them.
EXPENSIVE_INPUTS = frozenset({"committee", "mc_samples", "by_modality", "errors"})


def wanted_inputs(strategy: Strategy, params: Mapping[str, Any] | None = None) -> frozenset[str]:
    """The inputs to compute for ``strategy`` with ``params``: what it requires, its cheap
    optional ones, and what a strategy named by one of its parameters requires (e.g. the
    committee of ``exploration_mix`` with ``base="vote_entropy"``)."""
    from activelab.core.querying.registry import registry

    wanted = set(strategy.requires) | (set(strategy.optional) - EXPENSIVE_INPUTS)
    resolved = strategy.resolve_params(params)
    for p in strategy.params:
        if p.type is StrategyName and resolved[p.name] != strategy.name:
            wanted |= set(registry().get(resolved[p.name]).requires) & set(strategy.optional)
    return frozenset(wanted)


def validate_context(strategy: Strategy, ctx: QueryContext) -> None:
    """Raise StrategyError with a plain message when inputs cannot serve this strategy."""
    cand = np.asarray(ctx.candidates)
    if cand.ndim != 1 or not np.issubdtype(cand.dtype, np.integer):
        raise StrategyError("Candidates must be a 1-D array of integer pool indices.")
    if cand.size and (cand.min() < 0 or cand.max() >= ctx.n_pool):
        raise StrategyError(
            f"Candidate indices must lie in [0, {ctx.n_pool}); got {cand.min()}..{cand.max()}."
        )
    # Sorted candidates (the usual case) are checked in O(N); otherwise sort to find repeats.
    strictly_sorted = cand.size < 2 or bool(np.all(cand[1:] > cand[:-1]))
    if not strictly_sorted and cand.size != np.unique(cand).size:
        raise StrategyError("Candidate indices must be unique.")
    if "features" in strategy.requires and ctx.features is None and ctx.embeddings is None:
        raise StrategyError(
            f"Strategy '{strategy.name}' needs pool features or embeddings; none were given."
        )
    for arr_name in ("features", "embeddings"):
        arr = getattr(ctx, arr_name)
        if arr is not None and (arr.ndim != 2 or arr.shape[0] != ctx.n_pool):
            raise StrategyError(
                f"{arr_name} must have shape (n_pool={ctx.n_pool}, d); got {arr.shape}."
            )
    if ctx.input_norms is not None and np.shape(ctx.input_norms) != (ctx.n_pool,):
        raise StrategyError(f"input_norms must have shape (n_pool={ctx.n_pool},); got "
                            f"{np.shape(ctx.input_norms)}.")
    for need, attr in (("proba", "proba"), ("mc_samples", "mc_samples"), ("committee", "committee")):
        if need not in strategy.requires:
            continue
        present = [t for t, out in ctx.tasks.items() if getattr(out, attr) is not None]
        if not present:
            what = {
                "proba": "class probabilities from a fitted model",
                "mc_samples": "sampled predictions (MC dropout or an ensemble)",
                "committee": "predictions of a committee of models",
            }[need]
            notes = "; ".join(n for out in ctx.tasks.values() for n in out.notes)
            raise StrategyError(
                f"Strategy '{strategy.name}' needs {what}, and none were produced"
                f"{f' ({notes})' if notes else ' (no task has a fitted model that provides them)'}."
                " Pick another strategy, e.g. margin."
            )
        for t in present:
            arr = getattr(ctx.tasks[t], attr)
            axis = 0 if attr == "proba" else 1
            if arr.ndim != (2 if attr == "proba" else 3) or arr.shape[axis] != ctx.n_pool:
                raise StrategyError(
                    f"Task '{t}': {attr} has shape {arr.shape}, which does not match a pool "
                    f"of {ctx.n_pool} samples."
                )


def run_strategy(
    strategy: Strategy, ctx: QueryContext, n: int, params: Mapping[str, Any] | None = None
) -> QueryResult:
    """Pick up to n candidates with ``strategy``; indices are pool indices, best first."""
    if n < 0:
        raise StrategyError(f"The number of samples to query must be >= 0; got {n}.")
    validate_context(strategy, ctx)
    kwargs = strategy.function_params(strategy.resolve_params(params))
    n = min(int(n), len(ctx.candidates))
    if n == 0:
        return QueryResult(np.empty(0, dtype=np.int64), np.empty(0), np.empty(0))
    if strategy.kind == "score":
        scores = _scores(strategy, ctx, kwargs)
        pos = top_k(scores, n, ctx.rng)
        return QueryResult(ctx.candidates[pos].astype(np.int64), scores[pos], scores)
    result = strategy.func(ctx, n, **kwargs)
    if not isinstance(result, QueryResult):
        raise StrategyError(f"Batch strategy '{strategy.name}' must return a QueryResult.")
    idx = np.asarray(result.indices, dtype=np.int64)
    if idx.size != np.unique(idx).size or not np.isin(idx, ctx.candidates).all():
        raise StrategyError(
            f"Strategy '{strategy.name}' returned indices that are repeated or not candidates."
        )
    return QueryResult(idx, np.asarray(result.scores, dtype=np.float64), result.candidate_scores,
                       result.detail)


def score_candidates(strategy: Strategy, ctx: QueryContext,
                     params: Mapping[str, Any] | None = None) -> np.ndarray:
    """The scores (float64, one per candidate) of a score-based strategy; StrategyError for a
    batch strategy or inputs that cannot serve it."""
    if strategy.kind != "score":
        raise StrategyError(
            f"Strategy '{strategy.name}' picks whole batches and gives no score per candidate; "
            "name a score-based strategy.")
    validate_context(strategy, ctx)
    return _scores(strategy, ctx, strategy.function_params(strategy.resolve_params(params)))


def _scores(strategy: Strategy, ctx: QueryContext, kwargs: Mapping[str, Any]) -> np.ndarray:
    scores = np.asarray(strategy.func(ctx, **kwargs), dtype=np.float64)
    if scores.shape != (len(ctx.candidates),):
        raise StrategyError(
            f"Strategy '{strategy.name}' returned {scores.shape} scores for "
            f"{len(ctx.candidates)} candidates."
        )
    return scores


def percentile_in_pool(candidate_scores: np.ndarray | None, score: float) -> float | None:
    """Share of candidates (0-100) whose score is at or below ``score``."""
    if candidate_scores is None or len(candidate_scores) == 0:
        return None
    return float(100.0 * np.count_nonzero(candidate_scores <= score) / len(candidate_scores))
