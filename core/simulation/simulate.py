"""Simulated active learning: the known labels play the expert.

Before spending an expert's time, compare query strategies on data that is already labeled:
per repeat, split the data (stratified, seeded) into a training pool and a held-out test split,
start every strategy from the same small random labeled set, and let each strategy ask for
``batch`` more labels per round until ``budget`` labels. Each round fits a fresh model on the
labeled set and records accuracy and macro-F1 on the test split. A model fitted on the whole
training split gives the reference ("full") accuracy.

Pure arrays in, a ``SimulationResult`` out; no files, no UI. ``activelab.core.simulation.report`` writes the
CSV, the plot and the summary table.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from activelab.core.errors import DataError, StrategyError
from activelab.core.learning.fitting import Fitter, FittedTask
from activelab.core.learning.models import resolve_model
from activelab.core.learning.strategy_inputs import fallback_strategy, task_outputs
from activelab.core.progress import NULL_PROGRESS, Progress
from activelab.core.querying.registry import get_strategy
from activelab.core.querying.runner import run_strategy, wanted_inputs
from activelab.core.querying.strategy_api import QueryContext, Strategy

CURVE_COLUMNS = ["strategy", "repeat", "n_labels", "accuracy", "macro_f1"]
REFERENCE = "random"


@dataclass
class SimulationResult:
    """Learning curves per strategy and repeat, the full-split reference and the summary.

    curves:        one row per (strategy, repeat, round): CURVE_COLUMNS.
    full_accuracy: repeat -> test accuracy of a model fitted on that repeat's whole training pool.
    summary:       one row per strategy (see ``activelab.core.simulation.report.summarize``).
    notes:         what was decided on the user's behalf (reference added, budget capped, ...).
    """

    curves: pd.DataFrame
    full_accuracy: dict[int, float]
    summary: pd.DataFrame
    strategies: tuple[str, ...] = ()
    reference_added: bool = False
    name: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _as_rows(X: Any) -> Any:
    """Row-indexable view of X: CSR for sparse input, an ndarray otherwise."""
    if sp.issparse(X):
        return X.tocsr()
    return np.asarray(X)


def _n_rows(X: Any) -> int:
    return int(X.shape[0])


def _split(y: np.ndarray, test_size: float, seed: int, notes: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Stratified train/test split of row indices; plain random when a class is too rare."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(len(y))
    _, counts = np.unique(y, return_counts=True)
    stratify = y if counts.min() >= 2 else None
    if stratify is None and "unstratified" not in " ".join(notes):
        notes.append(
            "A class has a single sample, so the train/test split is random (unstratified)."
        )
    train, test = train_test_split(idx, test_size=test_size, random_state=seed, stratify=stratify)
    return np.sort(train), np.sort(test)


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


def _scores(fitted: Any, X_test: Any, y_test: np.ndarray, classes: tuple[str, ...]) -> tuple[float, float]:
    """Accuracy and macro-F1 (over every class of the task; an absent class scores 0)."""
    proba = fitted.predict_proba(X_test)
    pred = np.argmax(proba, axis=1)
    truth = np.searchsorted(np.asarray(classes, dtype=object), y_test)
    acc = float(np.mean(pred == truth))
    k = len(classes)
    tp = np.bincount(truth[pred == truth], minlength=k).astype(np.float64)
    n_pred = np.bincount(pred, minlength=k)
    n_true = np.bincount(truth, minlength=k)
    denom = n_pred + n_true
    f1 = np.divide(2.0 * tp, denom, out=np.zeros(k), where=denom > 0)
    present = denom > 0   # like scikit-learn's labels=None: classes seen in truth or prediction
    return acc, float(f1[present].mean())


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
) -> SimulationResult:
    """Run every strategy for every repeat and return curves, full-split accuracy and summary.

    ``X_model`` (dense or sparse, N rows) is what the model trains on; ``X_dense`` (N, d) is the
    dense view distance-based strategies read (defaults to X_model when that is dense).
    ``random`` is always run as the reference; it is added (and the result says so) if missing.
    """
    from activelab.core.simulation.report import summarize

    progress = progress or NULL_PROGRESS
    X = _as_rows(X_model)
    y_arr = np.asarray([str(v) if v is not None and not (isinstance(v, float) and np.isnan(v))
                        else None for v in y], dtype=object)
    _validate(y_arr, _n_rows(X), initial, batch, budget, repeats, test_size)
    if X_dense is None and not sp.issparse(X):
        X_dense = np.asarray(X, dtype=np.float32) if np.asarray(X).ndim == 2 else None
    classes = tuple(sorted(set(y_arr.tolist())))
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

    n_test = int(np.ceil(test_size * len(y_arr)))
    n_train = len(y_arr) - n_test
    if budget > n_train:
        notes.append(f"The budget was capped at the training pool size ({n_train}).")
        budget = n_train
    initial = min(initial, budget)
    steps = _label_steps(initial, batch, budget)
    total = repeats * (1 + len(names) * len(steps))
    done = 0

    rows: list[tuple[str, int, int, float, float]] = []
    full_accuracy: dict[int, float] = {}
    # Many small fits: BLAS/OpenMP threads only add overhead (and oversubscribe a shared CPU).
    with threadpool_limits(limits=1):
        for r in range(repeats):
            train, test = _split(y_arr, test_size, seed + r, notes)
            X_train, X_test = X[train], X[test]
            y_train, y_test = y_arr[train], y_arr[test]
            dense_train = None if X_dense is None else np.asarray(X_dense[train])
            progress.update(done / total, f"repeat {r + 1}/{repeats}: full training split")
            full = fitter.fit_task(X_train, y_train, classes)
            full_accuracy[r] = _scores(full, X_test, y_test, classes)[0]
            done += 1
            start = initial_labeled(y_train, initial, np.random.default_rng([seed, r]))
            for name_ in names:
                strat = resolved[name_]
                rng = _strategy_rng(seed, r, name_)
                labeled = start.copy()
                for i, n_labels in enumerate(steps):
                    progress.update(done / total, f"{name_} · repeat {r + 1}/{repeats} · "
                                                  f"{n_labels}/{budget} labels")
                    fitted = fitter.fit_task(X_train[labeled], y_train[labeled], classes)
                    acc, f1 = _scores(fitted, X_test, y_test, classes)
                    rows.append((name_, r, int(len(labeled)), acc, f1))
                    done += 1
                    if i + 1 == len(steps):
                        break
                    picked = _query(strat, fitted, labeled, X_train, y_train, dense_train,
                                    steps[i + 1] - len(labeled), rng,
                                    strategy_params.get(name_), notes)
                    labeled = np.concatenate([labeled, picked])
    progress.update(1.0, "simulation finished")
    curves = pd.DataFrame(rows, columns=CURVE_COLUMNS)
    summary = summarize(curves, full_accuracy)
    settings = {
        "model": model, "model_params": params, "initial": initial, "batch": batch,
        "budget": budget, "repeats": repeats, "test_size": test_size, "seed": seed,
        "n_samples": len(y_arr), "n_train": n_train, "n_test": n_test, "classes": list(classes),
    }
    return SimulationResult(curves, full_accuracy, summary, tuple(names), reference_added,
                            name, settings, notes)


def _query(strat: Strategy, fitted: FittedTask, labeled: np.ndarray, X_train: Any,
           y_train: np.ndarray, dense_train: np.ndarray | None, n: int, rng: np.random.Generator,
           given: Mapping[str, Any] | None, notes: list[str] | None = None) -> np.ndarray:
    """Ask ``strat`` for n more pool positions among those not labeled yet. A committee or
    Bayesian strategy whose inputs cannot be fitted falls back (said once in ``notes``)."""
    n_pool = _n_rows(X_train)
    mask = np.ones(n_pool, dtype=bool)
    mask[labeled] = False
    candidates = np.flatnonzero(mask).astype(np.int64)
    outputs: dict[str, Any] = {}
    # Fill what the strategy needs, plus what it can use when cheap (probabilities); optional
    # committees / MC samples cost extra fits, so only those its parameters ask for.
    wanted = wanted_inputs(strat, given)
    if wanted & {"proba", "committee", "mc_samples"}:
        outputs = task_outputs(
            {"label": fitted}, X_train, wanted, labeled={"label": (labeled, y_train[labeled])},
            rng=rng, committee=strat.committee(given))
    ctx = QueryContext(n_pool=n_pool, candidates=candidates, rng=rng,
                       labeled=np.asarray(labeled, dtype=np.int64), features=dense_train,
                       tasks=outputs)
    fallback = fallback_strategy(strat, outputs)
    if fallback is not None:   # no committee could be fitted on this round's labels
        said = f"fallback to {fallback[0]}: {strat.name} "
        if notes is not None and not any(n.startswith(said) for n in notes):
            notes.append(f"{fallback[1]}; first at {len(labeled)} labels.")
        strat, given = get_strategy(fallback[0]), None
    picked = run_strategy(strat, ctx, n, given).indices
    if len(picked) != min(n, len(candidates)):
        raise StrategyError(
            f"Strategy '{strat.name}' returned {len(picked)} samples when {n} were asked for."
        )
    return picked.astype(np.int64)
