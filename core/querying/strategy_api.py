"""The query-strategy contract: plain inputs in, an explicit result out.

A strategy reads model outputs and features; it never fits or mutates a model. Randomness only
comes through ``QueryContext.rng``. Score-based strategies return a score per candidate and let
the shared selector pick the top ones; batch strategies pick the batch themselves.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any, Callable, Mapping

import numpy as np

from activelab.core.errors import StrategyError

#: What a strategy may ask the loop to provide.
REQUIREMENTS = frozenset(
    {"proba", "features", "embeddings", "mc_samples", "committee", "by_modality"}
)


@dataclass(frozen=True)
class TaskOutput:
    """Model outputs for one task, over the whole pool (row i is pool sample i).

    proba:      (N, C) class probabilities (rows sum to 1 for single-label; independent
                per-class probabilities for multi-label).
    mc_samples: (S, N, C) sampled predictions (MC dropout / posterior samples), optional.
    committee:  (M, N, C) predictions of M committee members, optional.
    by_modality: modality -> (N, C) predictions of each modality's own head (multimodal
                models), optional; NaN rows where a sample lacks that modality.
    notes:      why an input that was asked for is missing (e.g. a committee that could not
                be fitted on these labels), one sentence each.
    """

    proba: np.ndarray | None = None
    multilabel: bool = False
    classes: tuple[str, ...] = ()
    mc_samples: np.ndarray | None = None
    committee: np.ndarray | None = None
    by_modality: Mapping[str, np.ndarray] | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class QueryContext:
    """Everything a strategy may read. Arrays are never modified by a strategy.

    candidates: pool indices that may be picked (unlabeled, not skipped), int64, unique.
    labeled:    pool indices already labeled (for diversity / distance to the labeled set).
    features:   (N, d) dense float32 features of the pool, optional.
    embeddings: (N, e) model embeddings of the pool, optional (used instead of features by
                distance-based strategies when present).
    tasks:      per-task model outputs.
    aggregate:  how per-task scores combine: "mean", "max" or "weighted" (uses task_weights).
    """

    n_pool: int
    candidates: np.ndarray
    rng: np.random.Generator
    labeled: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    features: np.ndarray | None = None
    embeddings: np.ndarray | None = None
    tasks: Mapping[str, TaskOutput] = field(default_factory=dict)
    aggregate: str = "mean"
    task_weights: Mapping[str, float] | None = None

    def representation(self) -> np.ndarray:
        """Embeddings when a model provides them, else features (for distance-based picks)."""
        if self.embeddings is not None:
            return self.embeddings
        if self.features is not None:
            return self.features
        raise StrategyError(
            "This strategy needs features or model embeddings of the pool, and neither was "
            "given. Build the project's features first (activelab creates them on import)."
        )


@dataclass(frozen=True)
class QueryResult:
    """The chosen pool indices in rank order (best first), and the score that ranked each.

    candidate_scores (optional) holds the score of every candidate, aligned with
    ``QueryContext.candidates``, so callers can report a pick's percentile in the pool.
    """

    indices: np.ndarray
    scores: np.ndarray
    candidate_scores: np.ndarray | None = None


@dataclass(frozen=True)
class Param:
    """A typed strategy parameter (shown by ``activelab strategies`` and in the GUI)."""

    name: str
    type: type
    default: Any
    description: str = ""
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None

    def describe(self) -> str:
        """What the parameter accepts, in words (used in error messages)."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        word = {bool: "true or false", int: "an integer", float: "a number",
                str: "text"}.get(self.type, self.type.__name__)
        if self.minimum is not None and self.maximum is not None:
            return f"{word} from {self.minimum:g} to {self.maximum:g}"
        if self.minimum is not None:
            return f"{word} >= {self.minimum:g}"
        if self.maximum is not None:
            return f"{word} <= {self.maximum:g}"
        return word

    def _typed(self, value: Any) -> Any:
        """``value`` as ``self.type`` without losing information (1.5 is no int, 'maybe' no
        bool); raises ValueError otherwise."""
        t = self.type
        if t is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(value)
        if isinstance(value, bool) and t in (int, float):
            raise ValueError(value)
        if t is int:
            if isinstance(value, Integral):
                return int(value)
            if isinstance(value, float) and value.is_integer():
                return int(value)
            if isinstance(value, str):
                return int(value.strip())
            raise ValueError(value)
        if t is float:
            v = float(value) if isinstance(value, (Real, str)) else None
            if v is None or not math.isfinite(v):
                raise ValueError(value)
            return v
        return t(value)

    def coerce(self, value: Any) -> Any:
        """``value`` converted to the parameter's type and checked against its choices and
        range; raises StrategyError naming the parameter, the value and what is allowed."""
        try:
            v = self._typed(value)
        except (TypeError, ValueError):
            v = None
            ok = False
        else:
            ok = not ((self.choices is not None and v not in self.choices)
                      or (self.minimum is not None and v < self.minimum)
                      or (self.maximum is not None and v > self.maximum))
        if not ok:
            raise StrategyError(
                f"Parameter '{self.name}' must be {self.describe()}; got {value!r}."
            )
        return v


ScoreFn = Callable[..., np.ndarray]
BatchFn = Callable[..., QueryResult]


@dataclass(frozen=True)
class Strategy:
    """A registered query strategy.

    kind "score": ``func(ctx, **params) -> scores`` of shape (len(ctx.candidates),), higher
    means more informative; the shared selector takes the top n (ties broken by ctx.rng).
    kind "batch": ``func(ctx, n, **params) -> QueryResult``.
    """

    name: str
    description: str
    func: Callable[..., Any]
    kind: str = "score"
    params: tuple[Param, ...] = ()
    requires: frozenset[str] = frozenset()
    source: str = "builtin"
    #: Inputs used when available but not required (e.g. cluster uses probabilities when a
    #: model exists and falls back to centroid distance otherwise). The loop fills these when
    #: it can; validation does not demand them.
    optional: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.kind not in ("score", "batch"):
            raise StrategyError(f"Strategy '{self.name}': kind must be 'score' or 'batch'.")
        unknown = (set(self.requires) | set(self.optional)) - REQUIREMENTS
        if unknown:
            raise StrategyError(
                f"Strategy '{self.name}' requires unknown inputs {sorted(unknown)}; "
                f"known: {sorted(REQUIREMENTS)}."
            )

    def resolve_params(self, given: Mapping[str, Any] | None) -> dict[str, Any]:
        given = dict(given or {})
        out: dict[str, Any] = {}
        by_name = {p.name: p for p in self.params}
        for key in given:
            if key not in by_name:
                raise StrategyError(
                    f"Strategy '{self.name}' has no parameter '{key}'. "
                    f"Its parameters: {sorted(by_name) or 'none'}."
                )
        for p in self.params:
            try:
                out[p.name] = p.coerce(given[p.name]) if p.name in given else p.default
            except StrategyError as exc:
                text = str(exc)
                raise StrategyError(f"Strategy '{self.name}': {text[:1].lower()}{text[1:]}") \
                    from None
        return out


def aggregate_task_scores(
    ctx: QueryContext, score_one: Callable[[TaskOutput, np.ndarray], np.ndarray | None]
) -> np.ndarray:
    """Apply ``score_one(task_output, candidates)`` to each task and combine per ctx.aggregate.

    ``score_one`` returns one score per candidate, or None when the task has nothing to score
    (for example no model yet); such tasks are left out. Raises StrategyError if none scored.
    """
    scored: list[tuple[str, np.ndarray]] = []
    for name, out in ctx.tasks.items():
        s = score_one(out, ctx.candidates)
        if s is None:
            continue
        s = np.asarray(s, dtype=np.float64)
        if s.shape != (len(ctx.candidates),):
            raise StrategyError(
                f"Task '{name}': a score per candidate was expected "
                f"({len(ctx.candidates)}), got shape {s.shape}."
            )
        scored.append((name, s))
    if not scored:
        raise StrategyError(
            "No task has model predictions yet, so an uncertainty score cannot be computed. "
            "Label at least two classes of a task (the loop uses diverse picks until then)."
        )
    if len(scored) == 1:
        return scored[0][1]
    stack = np.vstack([s for _, s in scored])
    if ctx.aggregate == "mean":
        return stack.mean(axis=0)
    if ctx.aggregate == "max":
        return stack.max(axis=0)
    if ctx.aggregate == "weighted":
        weights = dict(ctx.task_weights or {})
        w = np.array([float(weights.get(name, 1.0)) for name, _ in scored])
        if np.any(w < 0) or w.sum() <= 0:
            raise StrategyError("Task weights must be non-negative and not all zero.")
        return (w[:, None] * stack).sum(axis=0) / w.sum()
    raise StrategyError(
        f"Unknown multi-task aggregation '{ctx.aggregate}'; use 'mean', 'max' or 'weighted'."
    )


def top_k(scores: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of the n highest scores, best first; ties broken by the seeded generator.

    O(N) selection (argpartition) followed by a sort of the n picked, so it stays fast at 1M.
    """
    scores = np.asarray(scores)
    m = scores.shape[0]
    n = min(int(n), m)
    if n <= 0:
        return np.empty(0, dtype=np.int64)
    tiebreak = rng.random(m)
    # NaN scores rank last (copied only when there are any: at 1M every pass counts).
    s = np.where(np.isnan(scores), -np.inf, scores) if np.isnan(scores).any() else scores
    if n < m:
        part = np.argpartition(s, m - n)[m - n:]
        kth = s[part].min()
        # Every candidate tied with the n-th score competes for the last places by tiebreak.
        tied = np.flatnonzero(s == kth)
        above = part[s[part] > kth]
        need = n - len(above)
        if len(tied) > need:
            tied = tied[np.argsort(-tiebreak[tied], kind="stable")[:need]]
        part = np.concatenate([above, tied])
    else:
        part = np.arange(m)
    order = np.lexsort((-tiebreak[part], -s[part]))
    return part[order].astype(np.int64)
