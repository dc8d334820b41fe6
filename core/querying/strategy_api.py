"""The query-strategy contract: plain inputs in, an explicit result out.

A strategy reads model outputs and features; it never fits or mutates a model. Randomness only
comes through ``QueryContext.rng``. Score-based strategies return a score per candidate and let
the shared selector pick the top ones; batch strategies pick the batch themselves.

A strategy is declared beside its function with ``@strategy``; its parameters (names,
defaults, types) are read from the function's signature, so each default has one source::

    @strategy("top_two_ratio", "Ratio of the two most likely classes.", requires={"proba"})
    def top_two_ratio(ctx: QueryContext, power: Annotated[float, Doc("Exponent.")] = 1.0):
        ...

The older form, a ``Strategy(...)`` object with its ``Param``s listed, is accepted as well.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from types import ModuleType
from typing import Annotated, Any, Callable, ClassVar, Mapping, TypeVar, get_args, get_origin

import numpy as np

from activelab.core.errors import StrategyError
from activelab.core.querying.params import Doc, Param, StrategyName

#: What a strategy may ask the loop to provide.
REQUIREMENTS = frozenset(
    {"proba", "features", "embeddings", "mc_samples", "committee", "by_modality", "errors",
     "input_norms", "history"}
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
    errors:     (rows, wrong, proba): pool rows whose prediction is known to be right or
                wrong, int64 (k,); bool (k,) True where the model erred; (k, C) the
                probabilities that prediction came from. Out-of-fold predictions on the
                labeled rows and the recorded predictions of audit picks; optional.
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
    errors: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


@dataclass(frozen=True)
class PickRecord:
    """One labeled pick as the loop recorded it: the model version whose queue it came from,
    the strategy that chose it (``auto:margin`` for a portfolio's arm), whether it was a
    uniformly random audit pick, and for an audit pick whether that model's prediction, made
    before the label, was right (None when unknown). What ``auto`` learns from."""

    model_version: int
    strategy: str
    audit: bool = False
    correct: bool | None = None


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
    input_norms: (N,) L2 norm of each pool row's input to the model's last linear layer (its
                embedding, or the model's own feature row), bias included; optional (EGL).
    history:    the labeled picks so far, oldest first (``PickRecord``); optional (auto).
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
    input_norms: np.ndarray | None = None
    history: tuple[PickRecord, ...] = ()

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
    ``detail`` (optional) names what chose the batch inside the strategy (``auto``'s arm); the
    loop records it as ``strategy:detail`` in the picks' provenance.
    """

    indices: np.ndarray
    scores: np.ndarray
    candidate_scores: np.ndarray | None = None
    detail: str = ""


ScoreFn = Callable[..., np.ndarray]
BatchFn = Callable[..., QueryResult]
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Committee:
    """How the loop builds the committee of a strategy that requires one: the one place for
    the committee's kind, size and members.

    kind "bootstrap": ``n_members`` copies of the project's model, each fitted on a bootstrap
    resample of the labeled set; kind "models": one member of each of ``model_types``, all
    fitted on the labeled set. A model that is a committee itself (a deep ensemble) is used
    as it is. Every strategy that requires "committee" gets the parameters ``committee``
    (the kind) and ``n_members``; the loop reads them, the strategy's function does not.
    """

    kind: str = "bootstrap"
    n_members: int = 5
    model_types: tuple[str, ...] = ("logistic_regression", "sklearn.ensemble.ExtraTreesClassifier",
                                    "random_forest", "knn")
    KINDS: ClassVar[tuple[str, ...]] = ("bootstrap", "models")
    MIN_MEMBERS: ClassVar[int] = 2
    MAX_MEMBERS: ClassVar[int] = 50

    @classmethod
    def params(cls) -> tuple[Param, ...]:
        """The committee parameters every committee strategy has (read by the loop)."""
        return (
            Param("committee", str, cls.kind,
                  "bootstrap: copies of the chosen model on bootstrap resamples; models: several "
                  "different model types (logistic regression, random forest, extra trees, k-NN).",
                  choices=cls.KINDS, engine=True),
            Param("n_members", int, cls.n_members, "Committee size (bootstrap mode).",
                  minimum=cls.MIN_MEMBERS, maximum=cls.MAX_MEMBERS, engine=True),
        )

    @classmethod
    def from_params(cls, resolved: Mapping[str, Any]) -> "Committee":
        """The committee a strategy's resolved parameters ask for (defaults where it has none)."""
        return cls(kind=str(resolved.get("committee", cls.kind)),
                   n_members=int(resolved.get("n_members", cls.n_members)))


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
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise StrategyError(f"Strategy '{self.name}' lists a parameter twice: {names}.")

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

    def function_params(self, resolved: Mapping[str, Any]) -> dict[str, Any]:
        """The resolved parameters the strategy's function takes (engine parameters, read by
        the loop to build its inputs, left out)."""
        engine = {p.name for p in self.params if p.engine}
        return {k: v for k, v in resolved.items() if k not in engine}

    def committee(self, params: Mapping[str, Any] | None = None) -> Committee:
        """The committee this strategy asks for with ``params`` (see ``Committee``)."""
        return Committee.from_params(self.resolve_params(params))


def strategy(name: str | None = None, description: str | None = None, *,
             requires: frozenset[str] | set[str] | tuple[str, ...] = frozenset(),
             optional: frozenset[str] | set[str] | tuple[str, ...] = frozenset(),
             kind: str | None = None) -> Callable[[F], F]:
    """Declare a query strategy beside its function; the function is returned unchanged,
    with the ``Strategy`` in its ``__strategy__`` attribute (what the registry loads).

    The function takes the ``QueryContext`` first; a batch strategy takes ``n`` (the batch
    size) next, which is how its kind is told apart (or say ``kind=``). Every other
    parameter is a ``Param``: name and default from the signature, type from the annotation
    (else from the default), description, choices and range from a ``Doc`` in
    ``Annotated[type, Doc(...)]``. ``name`` defaults to the function's name, ``description``
    to the first line of its docstring. A strategy that requires "committee" also gets the
    ``Committee`` parameters. Raises StrategyError for a parameter without a default or an
    annotation that cannot be read.
    """
    def declare(func: F) -> F:
        label = name or func.__name__
        target = inspect.unwrap(func)
        args = [p for p in inspect.signature(target).parameters.values()
                if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        batch = len(args) > 1 and args[1].name == "n" and args[1].default is args[1].empty
        k = kind or ("batch" if batch else "score")
        if not args or (k == "batch" and not batch):
            raise StrategyError(
                f"Strategy '{label}': the function takes the QueryContext first"
                f"{' and the batch size n next' if k == 'batch' else ''}.")
        params = tuple(_param_of(label, target, p) for p in args[2 if k == "batch" else 1:])
        if "committee" in set(requires):
            own = {p.name for p in params}
            params += tuple(p for p in Committee.params() if p.name not in own)
        doc = (description or (inspect.getdoc(func) or "").strip().split("\n")[0]).strip()
        func.__strategy__ = Strategy(  # type: ignore[attr-defined]
            label, doc, func, kind=k, params=params, requires=frozenset(requires),
            optional=frozenset(optional))
        return func

    return declare


def _param_of(strategy_name: str, func: Callable[..., Any], p: inspect.Parameter) -> Param:
    """The Param of function parameter ``p`` (see ``strategy``)."""
    if p.default is p.empty:
        raise StrategyError(
            f"Strategy '{strategy_name}': parameter '{p.name}' needs a default value (the one "
            "the strategy runs with unless the user sets another).")
    hint: Any = p.annotation
    if isinstance(hint, str):
        try:
            hint = eval(hint, getattr(func, "__globals__", {}))  # noqa: S307 - the author's own annotation
        except Exception as exc:  # noqa: BLE001 - any failure is the annotation's
            raise StrategyError(
                f"Strategy '{strategy_name}': the annotation of parameter '{p.name}' ({hint}) "
                f"cannot be read: {type(exc).__name__}: {exc}.") from None
    doc = Doc()
    if get_origin(hint) is Annotated:
        hint, *meta = get_args(hint)
        doc = next((m for m in meta if isinstance(m, Doc)), doc)
    kind = hint if hint in (bool, int, float, str, StrategyName) else type(p.default)
    choices = tuple(doc.choices) if doc.choices is not None else None
    return Param(p.name, kind, p.default, doc.description, choices, doc.minimum, doc.maximum)


def strategies_in(module: ModuleType) -> list[Strategy]:
    """The strategies declared with ``@strategy`` in ``module``, in the order of the module."""
    return [obj.__strategy__ for obj in vars(module).values()
            if isinstance(getattr(obj, "__strategy__", None), Strategy)
            and getattr(obj, "__module__", None) == module.__name__]


def strategy_scores(ctx: QueryContext, name: str) -> np.ndarray:
    """The scores (one per candidate) the registered score strategy ``name`` gives with its
    default parameters: how one strategy builds on another, built-in or plug-in. Raises
    StrategyError for an unknown name, a batch strategy, or inputs it needs that are missing."""
    from activelab.core.querying.registry import get_strategy
    from activelab.core.querying.runner import score_candidates

    return score_candidates(get_strategy(name), ctx)


def strategy_batch(ctx: QueryContext, name: str, n: int) -> QueryResult:
    """The batch of ``n`` the registered strategy ``name`` picks with its default parameters
    (score or batch strategy): how a portfolio runs its members. Raises StrategyError for an
    unknown name or inputs it needs that are missing."""
    from activelab.core.querying.registry import get_strategy
    from activelab.core.querying.runner import run_strategy

    return run_strategy(get_strategy(name), ctx, n)


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
