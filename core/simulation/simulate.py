"""Simulated active learning: the known labels play the expert.

Before spending an expert's time, compare query strategies on data that is already labeled:
per repeat, split the data (stratified, seeded) into a training pool and a held-out test split
(or, with ``test``, use every row as the pool and a fixed test set), start every strategy from
the same small random labeled set, and let each strategy ask for ``batch`` more labels per
round until ``budget`` labels. Each round fits a fresh model on the labeled set and records
accuracy and macro-F1 on the evaluation rows and its predictions on a stop set
(``activelab.core.simulation.evaluation``). A model fitted on the whole pool gives the
reference ("full-data") scores; the majority class gives the baseline.

Pure arrays in, a ``SimulationResult`` out; no files, no UI. ``activelab.core.simulation.summary``
computes the figures, ``activelab.core.simulation.report`` writes the CSVs, the plot and the table.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from activelab.core.errors import DataError, StrategyError
from activelab.core.learning.fitting import Fitter, FittedTask
from activelab.core.learning.models import resolve_model
from activelab.core.learning.strategy_inputs import (
    fallback_strategy, input_norms, representation_note, task_outputs,
)
from activelab.core.progress import NULL_PROGRESS, Progress
from activelab.core.querying.registry import get_strategy
from activelab.core.querying.runner import run_strategy, wanted_inputs
from activelab.core.querying.strategy_api import PickRecord, QueryContext, Strategy
from activelab.core.loop.stopping import (
    AGGREGATE, AGGREGATES, KAPPA_THRESHOLD, STOP_SET_SIZE, WINDOW,
)
from activelab.core.simulation.evaluation import KAPPA_COLUMNS, Recorder, as_rows, repeat_data
from activelab.core.simulation.summary import METRICS, TARGET_FRACTION, per_repeat

CURVE_COLUMNS = ["strategy", "repeat", "n_labels", "accuracy", "macro_f1"]
REFERENCE = "random"
#: Share of a batch of a strategy that learns from audit picks (auto) that is audit picks.
AUDIT_RATE = 0.1


@dataclass
class SimulationResult:
    """Learning curves per strategy and repeat, the full-split reference and the summary.

    curves:        one row per (strategy, repeat, round): CURVE_COLUMNS.
    full_accuracy: repeat -> test accuracy of a model fitted on that repeat's whole training pool.
    summary:       one row per strategy (``activelab.core.simulation.summary.strategy_table``).
    notes:         what was decided on the user's behalf (reference added, budget capped, ...).
    per_repeat:    one row per (strategy, repeat) (``summary.REPEAT_COLUMNS``): what the
                   summary is computed from, written as summary.csv.
    kappas:        successive stop-set kappas per (strategy, repeat, round)
                   (``evaluation.KAPPA_COLUMNS``), written as kappas.csv.
    """

    curves: pd.DataFrame
    full_accuracy: dict[int, float]
    summary: pd.DataFrame
    strategies: tuple[str, ...] = ()
    reference_added: bool = False
    name: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    per_repeat: pd.DataFrame = field(default_factory=pd.DataFrame)
    kappas: pd.DataFrame = field(default_factory=pd.DataFrame)


def _n_rows(X: Any) -> int:
    return int(X.shape[0])


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


def _label_steps(initial: int, batch: int, budget: int) -> list[int]:
    steps = list(range(initial, budget, batch))
    if not steps or steps[-1] != budget:
        steps.append(budget)
    return steps


def _checked_steps(steps: Sequence[int], initial: int, budget: int) -> list[int]:
    """``steps`` as given when they rise strictly from ``initial`` to ``budget`` (the budget
    capped at the pool: sizes beyond it dropped), else DataError."""
    out = [int(n) for n in steps if int(n) <= budget]
    if out and out[-1] != budget:
        out.append(budget)
    if not out or out[0] != initial or any(b <= a for a, b in zip(out, out[1:])):
        raise DataError(f"The label steps must rise from --initial ({initial}) to --budget "
                        f"({budget}); got {list(steps)[:6]}...")
    return out


def _strategy_rng(seed: int, repeat: int, name: str) -> np.random.Generator:
    """A generator per (seed, repeat, strategy): a strategy's picks do not depend on which
    other strategies run alongside it."""
    return np.random.default_rng([seed, repeat, zlib.crc32(name.encode("utf-8"))])


def _validate(y: np.ndarray, n: int, initial: int, batch: int, budget: int, repeats: int,
              test_size: float) -> None:
    if len(y) != n:
        raise DataError(
            f"The label column has {len(y)} values but the features have {n} rows; they must "
            "describe the same samples."
        )
    if any(v is None or (isinstance(v, float) and np.isnan(v)) for v in y):
        raise DataError("Some labels are missing; drop unlabeled rows before simulating.")
    if len(np.unique(y)) < 2:
        raise DataError(
            "The label column holds a single class; a simulation needs at least two classes."
        )
    if initial < 2 or batch < 1 or repeats < 1:
        raise DataError(
            f"--initial must be at least 2 (a model needs two classes), --batch and --repeats "
            f"at least 1; got {initial}, {batch}, {repeats}."
        )
    if budget < initial:
        raise DataError(f"--budget ({budget}) must be at least --initial ({initial}).")
    if not 0.0 < test_size < 1.0:
        raise DataError(f"--test-size must lie strictly between 0 and 1; got {test_size}.")


def simulate(
    X_model: Any,
    y: Sequence[Any],
    *,
    X_dense: np.ndarray | None = None,
    strategies: Sequence[str],
    model: str = "logistic_regression",
    model_params: Mapping[str, Any] | None = None,
    initial: int = 10,
    batch: int = 10,
    budget: int = 200,
    repeats: int = 3,
    test_size: float = 0.25,
    seed: int = 0,
    progress: Progress | None = None,
    strategy_params: Mapping[str, Mapping[str, Any]] | None = None,
    name: str = "",
    test: tuple[Any, Sequence[Any]] | None = None,
    target_metric: str = "accuracy",
    target: float = TARGET_FRACTION,
    stop_set_size: int = STOP_SET_SIZE,
    stop_kappa: float = KAPPA_THRESHOLD,
    stop_window: int = WINDOW,
    stop_aggregate: str = AGGREGATE,
    pretrained_dense: bool = False,
    audit_rate: float = AUDIT_RATE,
    bootstrap_stand_in: bool = False,
    steps: Sequence[int] | None = None,
) -> SimulationResult:
    """Run every strategy for every repeat and return curves, full-data scores and summary.

    ``X_model`` (dense or sparse, N rows) is what the model trains on; ``X_dense`` (N, d) is the
    dense view distance-based strategies read (defaults to X_model when that is dense).
    ``random`` is always run as the reference; it is added (and the result says so) if missing.
    ``test``: (X_test, y_test), a fixed test set in the same feature space (built by
    features fitted on the pool only, see ``activelab.core.features.held_out``); every row of
    X is then the pool and ``test_size`` is not used. ``target_metric`` ("accuracy" or
    "macro_f1") and ``target`` (a fraction of the full-data model's score) define "labels to
    target". ``stop_set_size``: pool samples the stopping rule compares successive models on;
    ``stop_kappa``, ``stop_window``, ``stop_aggregate``: the rule's settings (see
    ``activelab.core.loop.stopping.first_stop_from_kappas``). ``pretrained_dense``: X_dense
    comes from pretrained encoders (MiniLM, EfficientNet) and serves as embeddings (without
    embeddings, core-set and density weighting are flagged in ``notes``). ``audit_rate``: share of each batch of a
    strategy that learns from audit picks (``auto``) picked uniformly at random, at least
    one, their predictions recorded before the label as in the app. ``bootstrap_stand_in``:
    BALD / variation ratios on a model without posterior samples use a bootstrap committee
    (off: they fall back to margin; on only to measure it). ``steps``: the labeled-set sizes
    a model is fitted at, increasing from ``initial`` to ``budget`` (e.g. +20 per round, then
    +50); default every ``batch`` labels.
    """
    from activelab.core.simulation.summary import strategy_table

    progress = progress or NULL_PROGRESS
    X = as_rows(X_model)
    y_arr = _label_array(y)
    _validate(y_arr, _n_rows(X), initial, batch, budget, repeats,
              test_size if test is None else 0.5)
    if target_metric not in METRICS:
        raise DataError(f"--target-metric must be one of {', '.join(METRICS)}; got "
                        f"'{target_metric}'.")
    if not 0.0 < target <= 1.0:
        raise DataError(f"--target must lie in (0, 1] (a fraction of the full-data model's "
                        f"score); got {target}.")
    if not 0.0 < stop_kappa <= 1.0 or stop_window < 1 or stop_aggregate not in AGGREGATES:
        raise DataError(f"The stopping rule needs a kappa threshold in (0, 1], a window >= 1 "
                        f"and an aggregate in {AGGREGATES}; got {stop_kappa}, {stop_window}, "
                        f"{stop_aggregate!r}.")
    if X_dense is None and not sp.issparse(X):
        X_dense = np.asarray(X, dtype=np.float32) if np.asarray(X).ndim == 2 else None
    held_out = None
    if test is not None:
        held_out = _test_set(test, X)
    classes = tuple(sorted(set(y_arr.tolist()) | (set(held_out[1].tolist()) if held_out else set())))
    params = dict(model_params or {})
    fitter = Fitter(resolve_model(model, params))     # resolved once, for every fit below
    strategy_params = dict(strategy_params or {})

    names = list(dict.fromkeys(s.strip() for s in strategies if s and s.strip()))
    if not names:
        raise StrategyError("No strategy was given; name at least one (e.g. 'least_confidence').")
    notes: list[str] = []
    reference_added = REFERENCE not in names
    if reference_added:
        names.insert(0, REFERENCE)
        notes.append("'random' was added as the reference strategy.")
    resolved: dict[str, Strategy] = {n: get_strategy(n) for n in names}
    for n, strat in resolved.items():
        strat.resolve_params(strategy_params.get(n))  # fail before any work is done
        if "features" in strat.requires and X_dense is None:
            raise StrategyError(
                f"Strategy '{n}' needs dense features of the pool, and only sparse model inputs "
                "were given. Pass a dense view (X_dense) or choose another strategy."
            )

    if held_out is not None:
        n_test, n_train = len(held_out[1]), len(y_arr)
        unseen = sorted(set(held_out[1].tolist()) - set(y_arr.tolist()))
        if unseen:
            notes.append(f"The test set holds classes the pool does not ({', '.join(unseen[:5])}"
                         f"{', ...' if len(unseen) > 5 else ''}); no model can predict them.")
    else:
        n_test = int(np.ceil(test_size * len(y_arr)))
        n_train = len(y_arr) - n_test
    if budget > n_train:
        notes.append(f"The budget was capped at the training pool size ({n_train}).")
        budget = n_train
    initial = min(initial, budget)
    steps = _label_steps(initial, batch, budget) if steps is None else \
        _checked_steps(steps, initial, budget)
    total = repeats * (1 + len(names) * len(steps))
    done = 0

    rec = Recorder(classes)
    # Many small fits: BLAS/OpenMP threads only add overhead (and oversubscribe a shared CPU).
    with threadpool_limits(limits=1):
        for r in range(repeats):
            data = repeat_data(X, y_arr, X_dense, r, seed, test_size, notes, held_out,
                               stop_set_size)
            X_train, y_train, dense_train = data.X_train, data.y_train, data.dense_train
            progress.update(done / total, f"repeat {r + 1}/{repeats}: full training split")
            full = fitter.fit_task(X_train, y_train, classes)
            rec.full_model(r, full, data)
            done += 1
            start = initial_labeled(y_train, initial, np.random.default_rng([seed, r]))
            for name_ in names:
                strat = resolved[name_]
                rng = _strategy_rng(seed, r, name_)
                labeled = start.copy()
                run = _Run(name_, strategy_params.get(name_), notes, pretrained_dense,
                           audit_rate, bootstrap_stand_in)
                for i, n_labels in enumerate(steps):
                    progress.update(done / total, f"{name_} · repeat {r + 1}/{repeats} · "
                                                  f"{n_labels}/{budget} labels")
                    fitted = fitter.fit_task(X_train[labeled], y_train[labeled], classes)
                    rec.round(name_, r, len(labeled), fitted, data)
                    done += 1
                    if i + 1 == len(steps):
                        break
                    picked = run.query(strat, fitted, labeled, X_train, y_train, dense_train,
                                       steps[i + 1] - len(labeled), rng, i)
                    labeled = np.concatenate([labeled, picked])
    progress.update(1.0, "simulation finished")
    curves = pd.DataFrame(rec.curve_rows, columns=CURVE_COLUMNS)
    kappas = pd.DataFrame(rec.kappa_rows, columns=KAPPA_COLUMNS)
    rows = per_repeat(curves, rec.full, rec.majority, kappas, seed=seed, budget=budget,
                      target_metric=target_metric, target=target, kappa=stop_kappa,
                      window=stop_window, aggregate=stop_aggregate)
    summary = strategy_table(rows)
    settings = {
        "model": model, "model_params": params, "initial": initial, "batch": batch,
        "budget": budget, "repeats": repeats, "test_size": None if held_out else test_size,
        "seed": seed, "n_samples": len(y_arr) + (n_test if held_out else 0),
        "n_train": n_train, "n_test": n_test, "classes": list(classes), "steps": list(steps),
        "test_data": held_out is not None, "target_metric": target_metric, "target": target,
        "stop_set_size": min(stop_set_size, n_train), "stop_kappa": stop_kappa,
        "stop_window": stop_window, "stop_aggregate": stop_aggregate,
    }
    return SimulationResult(curves, rec.full_accuracy, summary, tuple(names), reference_added,
                            name, settings, notes, rows, kappas)


def _label_array(y: Sequence[Any]) -> np.ndarray:
    """Labels as text (None where missing), an object array."""
    return np.asarray([str(v) if v is not None and not (isinstance(v, float) and np.isnan(v))
                       else None for v in y], dtype=object)


def _test_set(test: tuple[Any, Sequence[Any]], X_pool: Any) -> tuple[Any, np.ndarray]:
    """The fixed test set as (rows, labels), checked against the pool's features."""
    X_test, y_test = as_rows(test[0]), _label_array(test[1])
    if _n_rows(X_test) != len(y_test):
        raise DataError(f"The test set has {len(y_test)} labels but {_n_rows(X_test)} feature "
                        "rows; they must describe the same samples.")
    if len(y_test) == 0:
        raise DataError("The test set has no rows.")
    if any(v is None for v in y_test):
        raise DataError("Some test labels are missing; drop unlabeled rows of the test set.")
    if X_test.shape[1:] != X_pool.shape[1:]:
        raise DataError(f"The test set has {X_test.shape[1]} feature columns and the pool "
                        f"{X_pool.shape[1]}; build both with the same (pool-fitted) features.")
    return X_test, y_test


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
