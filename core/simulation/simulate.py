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

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from activelab.core.errors import DataError, StrategyError
from activelab.core.learning.fitting import Fitter
from activelab.core.learning.models import resolve_model
from activelab.core.progress import NULL_PROGRESS, Progress
from activelab.core.querying.registry import get_strategy
from activelab.core.querying.strategy_api import Strategy
from activelab.core.loop.stopping import (
    AGGREGATE, AGGREGATES, KAPPA_THRESHOLD, STOP_SET_SIZE, WINDOW,
)
from activelab.core.simulation.evaluation import (
    KAPPA_COLUMNS, Recorder, as_rows,
)
from activelab.core.simulation.picking import (
    AUDIT_RATE, _n_rows, _query, _Run, _strategy_rng, UnitResult, initial_labeled, run_in_process,
    run_unit,
)
from activelab.core.simulation.summary import METRICS, TARGET_FRACTION, per_repeat

CURVE_COLUMNS = ["strategy", "repeat", "n_labels", "accuracy", "macro_f1"]
REFERENCE = "random"
#: What other modules import from here (some of it now lives in ``picking``).
__all__ = ["CURVE_COLUMNS", "REFERENCE", "AUDIT_RATE", "SimulationResult", "SimulationPlan",
           "UnitResult", "UnitRunner", "simulate", "gather", "initial_labeled", "run_unit",
           "run_in_process", "_Run", "_query", "_strategy_rng"]


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


@dataclass
class SimulationPlan:
    """Everything a simulation's runs read, checked and resolved before any model is fitted.

    ``units`` lists the independent pieces of work in the order the embedded engine runs them:
    per repeat ``(r, None)`` (the full-pool model and the majority baseline), then ``(r, name)``
    per strategy (one strategy's whole run of that repeat). Each unit's result depends only on
    the plan and the unit (seeded per repeat and strategy), so units can run in any order or
    in parallel (``activelab.core.simulation.on_dask``) and give the same result.
    """

    X: Any
    y: np.ndarray
    X_dense: np.ndarray | None
    held_out: tuple[Any, np.ndarray] | None
    classes: tuple[str, ...]
    fitter: Fitter
    names: list[str]
    resolved: dict[str, Strategy]
    strategy_params: dict[str, Any]
    steps: list[int]
    budget: int
    seed: int
    test_size: float
    stop_set_size: int
    pretrained_dense: bool
    audit_rate: float
    bootstrap_stand_in: bool
    repeats: int
    notes: list[str]
    result_args: dict[str, Any]

    @property
    def units(self) -> list[tuple[int, str | None]]:
        return [(r, n) for r in range(self.repeats) for n in [None, *self.names]]

    def weight(self, unit: tuple[int, str | None]) -> int:
        """Models a unit fits (its share of the progress)."""
        return 1 if unit[1] is None else len(self.steps)


#: Runs a plan's units; returns one UnitResult per unit of ``plan.units``, in that order.
UnitRunner = Callable[[SimulationPlan, Progress], list[UnitResult]]


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
    runner: UnitRunner | None = None,
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
    +50); default every ``batch`` labels. ``runner``: what runs the plan's units (default
    one after the other in this process; ``activelab.core.simulation.on_dask.DaskRunner``
    runs them as parallel Dask tasks with the same result).
    Raises DataError / StrategyError on bad input, before any model is fitted.
    """
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
    settings = {
        "model": model, "model_params": params, "initial": initial, "batch": batch,
        "budget": budget, "repeats": repeats, "test_size": None if held_out else test_size,
        "seed": seed, "n_samples": len(y_arr) + (n_test if held_out else 0),
        "n_train": n_train, "n_test": n_test, "classes": list(classes), "steps": list(steps),
        "test_data": held_out is not None, "target_metric": target_metric, "target": target,
        "stop_set_size": min(stop_set_size, n_train), "stop_kappa": stop_kappa,
        "stop_window": stop_window, "stop_aggregate": stop_aggregate,
    }
    plan = SimulationPlan(
        X, y_arr, X_dense, held_out, classes, fitter, names, resolved, strategy_params,
        list(steps), budget, seed, test_size, stop_set_size, pretrained_dense, audit_rate,
        bootstrap_stand_in, repeats, notes,
        {"reference_added": reference_added, "name": name, "settings": settings,
         "target_metric": target_metric, "target": target, "kappa": stop_kappa,
         "window": stop_window, "aggregate": stop_aggregate})
    parts = (runner or run_in_process)(plan, progress)
    progress.update(1.0, "simulation finished")
    return gather(plan, parts)


def _note_key(note: str) -> str:
    """What makes two notes the same statement (the checks inside the runs say a fallback
    once per strategy and the unstratified split once)."""
    if note.startswith("fallback to "):
        return note.partition(" needs ")[0]
    return "unstratified" if "unstratified" in note else note


def gather(plan: SimulationPlan, parts: Sequence[UnitResult]) -> SimulationResult:
    """The SimulationResult of a plan from its units' results (in ``plan.units`` order);
    notes in order of first appearance, each statement once."""
    from activelab.core.simulation.summary import strategy_table

    rec = Recorder(plan.classes)
    notes, seen = [], set()
    for part in parts:
        rec.curve_rows.extend(part.curve_rows)
        rec.kappa_rows.extend(part.kappa_rows)
        if part.full is not None:
            rec.full[part.unit[0]] = part.full
            rec.majority[part.unit[0]] = part.majority
        for note in part.notes:
            if _note_key(note) not in seen:
                seen.add(_note_key(note))
                notes.append(note)
    a = plan.result_args
    curves = pd.DataFrame(rec.curve_rows, columns=CURVE_COLUMNS)
    kappas = pd.DataFrame(rec.kappa_rows, columns=KAPPA_COLUMNS)
    rows = per_repeat(curves, rec.full, rec.majority, kappas, seed=plan.seed, budget=plan.budget,
                      target_metric=a["target_metric"], target=a["target"], kappa=a["kappa"],
                      window=a["window"], aggregate=a["aggregate"])
    return SimulationResult(curves, rec.full_accuracy, strategy_table(rows), tuple(plan.names),
                            a["reference_added"], a["name"], a["settings"], notes, rows, kappas)


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


