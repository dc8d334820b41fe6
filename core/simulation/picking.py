"""The runs of a simulation: one unit (a repeat's full model, or one strategy's run of a
repeat), and inside it each query: audit picks, fallbacks and the strategy call.

Split from ``activelab.core.simulation.simulate`` (which re-exports what used to live there):
``simulate`` checks the input and plans the units, ``run_unit`` runs one of them exactly as the
app's loop would, ``run_in_process`` runs them all here (the embedded engine;
``activelab.core.simulation.on_dask`` runs them as Dask tasks).
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np
from threadpoolctl import threadpool_limits

from activelab.core.errors import StrategyError
from activelab.core.learning.fitting import FittedTask
from activelab.core.learning.strategy_inputs import (
    fallback_strategy, input_norms, representation_note, task_outputs,
)
from activelab.core.querying.registry import get_strategy
from activelab.core.querying.runner import run_strategy, wanted_inputs
from activelab.core.progress import NULL_PROGRESS, Progress
from activelab.core.querying.strategy_api import PickRecord, QueryContext, Strategy
from activelab.core.simulation.evaluation import Recorder, RepeatData, repeat_data

if TYPE_CHECKING:   # pragma: no cover
    from activelab.core.simulation.simulate import SimulationPlan

#: Share of a batch of a strategy that learns from audit picks (auto) that is audit picks.
AUDIT_RATE = 0.1


def _n_rows(X: Any) -> int:
    return int(X.shape[0])


@dataclass
class UnitResult:
    """What one unit recorded: curve and kappa rows (one strategy's run), or the repeat's
    full-pool and majority scores; ``notes`` the plan's notes plus those the unit added."""

    unit: tuple[int, str | None]
    curve_rows: list[tuple[str, int, int, float, float]] = field(default_factory=list)
    kappa_rows: list[tuple[str, int, int, float]] = field(default_factory=list)
    full: tuple[float, float] | None = None
    majority: tuple[float, float] | None = None
    notes: list[str] = field(default_factory=list)


def initial_labeled(y_train: np.ndarray, initial: int, rng: np.random.Generator) -> np.ndarray:
    """A random start set of ``initial`` pool positions holding at least two classes if possible.

    Random so that it reflects a real cold start; when it happens to hold one class only, the
    last pick is swapped for a random sample of another class (a model needs two classes).
    """
    perm = rng.permutation(len(y_train))
    start = perm[:initial].copy()
    if initial >= 2 and len(np.unique(y_train[start])) < 2:
        other = perm[initial:][y_train[perm[initial:]] != y_train[start[0]]]
        if other.size:
            start[-1] = other[0]
    return start.astype(np.int64)


def _strategy_rng(seed: int, repeat: int, name: str) -> np.random.Generator:
    """A generator per (seed, repeat, strategy): a strategy's picks do not depend on which
    other strategies run alongside it."""
    return np.random.default_rng([seed, repeat, zlib.crc32(name.encode("utf-8"))])


def run_in_process(plan: SimulationPlan, progress: Progress) -> list[UnitResult]:
    """The embedded runner: every unit of ``plan`` one after the other in this process (a
    repeat's split computed once for its units)."""
    total = sum(plan.weight(u) for u in plan.units)
    done, out = 0, []
    cache: dict[int, RepeatData] = {}
    for unit in plan.units:
        w = plan.weight(unit)
        out.append(run_unit(plan, unit, progress.sub(done / total, (done + w) / total), cache))
        done += w
    return out


def run_unit(plan: SimulationPlan, unit: tuple[int, str | None],
             progress: Progress = NULL_PROGRESS,
             cache: dict[int, RepeatData] | None = None) -> UnitResult:
    """Run one unit of ``plan`` (see ``SimulationPlan.units``) and return what it recorded.
    ``cache``: repeat -> its data, reused by the units of the same repeat (only the latest
    repeat is kept)."""
    r, name_ = unit
    notes = list(plan.notes)
    data = (cache or {}).get(r)
    if data is None:
        data = repeat_data(plan.X, plan.y, plan.X_dense, r, plan.seed, plan.test_size, notes,
                           plan.held_out, plan.stop_set_size)
        if cache is not None:
            cache.clear()
            cache[r] = data
    rec = Recorder(plan.classes)
    # Many small fits: BLAS/OpenMP threads only add overhead (and oversubscribe a shared CPU).
    with threadpool_limits(limits=1):
        if name_ is None:
            progress.update(0.0, f"repeat {r + 1}/{plan.repeats}: full training split")
            rec.full_model(r, plan.fitter.fit_task(data.X_train, data.y_train, plan.classes), data)
            return UnitResult(unit, full=rec.full[r], majority=rec.majority[r], notes=notes)
        X_train, y_train = data.X_train, data.y_train
        labeled = initial_labeled(y_train, plan.steps[0], np.random.default_rng([plan.seed, r]))
        rng = _strategy_rng(plan.seed, r, name_)
        run = _Run(name_, plan.strategy_params.get(name_), notes, plan.pretrained_dense,
                   plan.audit_rate, plan.bootstrap_stand_in)
        for i, n_labels in enumerate(plan.steps):
            progress.update(i / len(plan.steps), f"{name_} · repeat {r + 1}/{plan.repeats} · "
                                                 f"{n_labels}/{plan.budget} labels")
            fitted = plan.fitter.fit_task(X_train[labeled], y_train[labeled], plan.classes)
            rec.round(name_, r, len(labeled), fitted, data)
            if i + 1 == len(plan.steps):
                break
            picked = run.query(plan.resolved[name_], fitted, labeled, X_train, y_train,
                               data.dense_train, plan.steps[i + 1] - len(labeled), rng, i)
            labeled = np.concatenate([labeled, picked])
    return UnitResult(unit, rec.curve_rows, rec.kappa_rows, notes=notes)


@dataclass
class _Run:
    """One strategy's run in one repeat: its settings and the picks' provenance so far
    (``PickRecord``s, for a strategy that learns from them)."""

    name: str
    given: Mapping[str, Any] | None
    notes: list[str]
    pretrained_dense: bool = False
    audit_rate: float = AUDIT_RATE
    bootstrap_stand_in: bool = False
    history: list[PickRecord] = field(default_factory=list)

    def query(self, strat: Strategy, fitted: FittedTask, labeled: np.ndarray, X_train: Any,
              y_train: np.ndarray, dense_train: np.ndarray | None, n: int,
              rng: np.random.Generator, version: int) -> np.ndarray:
        """n more pool positions; a strategy that reads the history first sets aside audit
        picks (uniform, their prediction by ``fitted`` recorded) as the app does."""
        audit = np.empty(0, dtype=np.int64)
        wants_history = "history" in strat.requires | strat.optional
        if wants_history and n >= 2:
            mask = np.ones(_n_rows(X_train), dtype=bool)
            mask[labeled] = False
            cand = np.flatnonzero(mask)
            k = min(max(1, int(round(self.audit_rate * n))), n - 1, len(cand))
            audit = np.sort(rng.choice(cand, size=k, replace=False)).astype(np.int64)
            pred = np.asarray(fitted.classes, dtype=object)[
                fitted.predict_proba(X_train[audit]).argmax(axis=1)]
            for hit in pred == y_train[audit]:
                self.history.append(PickRecord(version, "audit:random", True, bool(hit)))
        picked, detail = _query(strat, fitted, labeled, X_train,
                                y_train, dense_train, n - len(audit), rng, self.given,
                                self.notes, exclude=audit, pretrained_dense=self.pretrained_dense,
                                history=tuple(self.history),
                                bootstrap_stand_in=self.bootstrap_stand_in)
        if wants_history:
            used = f"{self.name}:{detail}" if detail else self.name
            self.history.extend(PickRecord(version, used) for _ in picked)
        return np.concatenate([audit, picked])


def _query(strat: Strategy, fitted: FittedTask, labeled: np.ndarray, X_train: Any,
           y_train: np.ndarray, dense_train: np.ndarray | None, n: int, rng: np.random.Generator,
           given: Mapping[str, Any] | None, notes: list[str] | None = None, *,
           exclude: np.ndarray | None = None, pretrained_dense: bool = False,
           history: tuple[PickRecord, ...] = (),
           bootstrap_stand_in: bool = False) -> tuple[np.ndarray, str]:
    """Ask ``strat`` for n more pool positions among those not labeled yet, and what chose
    them inside the strategy (``QueryResult.detail``). A committee or Bayesian strategy whose
    inputs cannot be fitted falls back (said once in ``notes``); a distance strategy on raw
    features is flagged there. ``exclude``: positions picked already this round (audit picks), unlabeled yet."""
    n_pool = _n_rows(X_train)
    mask = np.ones(n_pool, dtype=bool)
    mask[labeled] = False
    if exclude is not None:
        mask[exclude] = False
    candidates = np.flatnonzero(mask).astype(np.int64)
    outputs: dict[str, Any] = {}
    # Fill what the strategy needs, plus what it can use when cheap (probabilities); optional
    # committees / MC samples cost extra fits, so only those its parameters ask for.
    wanted = wanted_inputs(strat, given)
    if wanted & {"proba", "committee", "mc_samples", "errors"}:
        outputs = task_outputs(
            {"label": fitted}, X_train, wanted, labeled={"label": (labeled, y_train[labeled])},
            rng=rng, committee=strat.committee(given), bootstrap_stand_in=bootstrap_stand_in)
    reads_rows = bool(wanted & {"features", "embeddings", "input_norms"})
    learned = fitted.embed(X_train) if fitted.model.has_embeddings and reads_rows else None
    embeddings = learned if learned is not None else (dense_train if pretrained_dense else None)
    ctx = QueryContext(n_pool=n_pool, candidates=candidates, rng=rng,
                       labeled=np.asarray(labeled, dtype=np.int64), features=dense_train,
                       embeddings=embeddings, tasks=outputs, history=history,
                       input_norms=input_norms(X_train, learned) if "input_norms" in wanted
                       else None)
    fallback = fallback_strategy(strat, outputs, wanted=wanted)
    if fallback is not None:   # no committee could be fitted on this round's labels
        said = f"fallback to {fallback[0]}: {strat.name} "
        if notes is not None and not any(n.startswith(said) for n in notes):
            notes.append(f"{fallback[1]}; first at {len(labeled)} labels.")
        strat, given = get_strategy(fallback[0]), None
        if not outputs:        # the fallback reads probabilities the strategy did not need
            outputs = task_outputs({"label": fitted}, X_train, {"proba"})
            ctx = replace(ctx, tasks=outputs)
    note = representation_note(strat, embeddings is not None)
    if note and notes is not None and note not in notes:
        notes.append(note)
    result = run_strategy(strat, ctx, n, given)
    picked = result.indices
    if len(picked) != min(n, len(candidates)):
        raise StrategyError(
            f"Strategy '{strat.name}' returned {len(picked)} samples when {n} were asked for."
        )
    return picked.astype(np.int64), result.detail
