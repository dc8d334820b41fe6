"""What a strategy reads, built from the fitted models: one ``TaskOutput`` per task.

Pool probabilities always; sampled predictions, a committee and per-modality predictions only
when the strategy needs them (``activelab.core.querying.runner.wanted_inputs``), since they
cost extra passes or fits. Where they come from is read off the model's capabilities:

* sampled predictions ("mc_samples"): real posterior samples only: the model's own sampler
  (MC dropout in the torch models) or its own members (a deep ensemble). A model without
  either (every scikit-learn model) gets none, and BALD / variation ratios fall back to
  margin, saying why: the bootstrap stand-in (a committee of ``BOOTSTRAP_SAMPLES`` copies of
  the model on resamples; Beluch et al. 2018) was below random on every shared set measured
  (benchmarks/results/strategy_families.txt). ``bootstrap_stand_in=True`` still builds it (to measure);
* a committee: the one the strategy's parameters ask for (``Committee``: bootstrap copies of
  the model, or several model types), the model's own members (a deep ensemble), or, for a
  shared multi-task network, its MC-dropout samples.

* known errors ("errors", error-prediction sampling): out-of-fold predictions on each task's
  labeled rows and the audit picks' recorded outcomes (``known_errors``);
* input norms ("input_norms", EGL): the norm of each pool row's input to the model's last
  linear layer (``input_norms``).

Committees train per task on that task's own labeled rows. One that cannot be fitted on the
labels is left None and the reason put in ``TaskOutput.notes``; ``fallback_strategy`` then
names the strategy to use instead and says why.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from activelab.core.learning.committee import CommitteeError, task_committee
from activelab.core.learning.fitting import FittedTask, Labeled, take_rows
from activelab.core.learning.known_errors import known_errors
from activelab.core.querying.strategy_api import Committee, Strategy, TaskOutput

#: Sampled predictions drawn from a model that has a sampler (MC-dropout passes).
MC_SAMPLES = 20
#: Members of the bootstrap committee that stands in for samples from a model without one.
BOOTSTRAP_SAMPLES = 10
#: What a committee or Bayesian strategy falls back to when its inputs cannot be built.
FALLBACK_STRATEGY = "margin"
#: Why a model without a sampler gets no sampled predictions (shown with the fallback).
NO_POSTERIOR = ("model '{model}' gives no posterior samples (no MC dropout, not an ensemble); "
                "the bootstrap stand-in was below random on every shared set measured "
                "(benchmarks/results/strategy_families.txt): use torch_mlp, torch_cnn or deep_ensemble "
                "for BALD")


def task_outputs(
    fitted: Mapping[str, FittedTask],
    X_pool: Any,
    wanted: frozenset[str] | set[str],
    *,
    labeled: Labeled | None = None,
    rng: np.random.Generator | None = None,
    committee: Committee = Committee(),
    proba: Mapping[str, np.ndarray] | None = None,
    n_mc_samples: int = MC_SAMPLES,
    n_bootstrap_samples: int = BOOTSTRAP_SAMPLES,
    bootstrap_stand_in: bool = False,
    audits: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    seed: int = 0,
) -> dict[str, TaskOutput]:
    """Pool-wide outputs per fitted task, with what ``wanted`` names (see the module doc).

    ``X_pool`` is what the model predicts from (N rows); ``labeled`` (task -> pool rows and
    labels) is what committees train on (without it there are none); ``proba`` passes pool
    probabilities already computed; ``audits`` (task -> pool rows, wrong) the audit picks'
    recorded outcomes; ``bootstrap_stand_in`` builds bootstrap samples for a model without a
    sampler (off: see the module doc). Arrays: proba (N, C), mc_samples (S, N, C), committee
    (M, N, C), float32; errors (rows, wrong, proba).
    """
    outs: dict[str, TaskOutput] = {}
    rng = rng or np.random.default_rng(0)
    for task, f in fitted.items():
        p = proba[task] if proba is not None and task in proba else f.predict_proba(X_pool)
        notes: list[str] = []

        def fit_committee(kind: Committee) -> np.ndarray | None:
            """A committee on this task's labeled rows; None (and a note) when none fits."""
            if labeled is None or task not in labeled:
                return None
            rows, y = labeled[task]
            try:
                return task_committee(f, take_rows(X_pool, rows), y, X_pool, kind, rng)
            except CommitteeError as exc:
                notes.append(f"task '{task}': {exc}")
                return None

        def bootstrap(n_members: int) -> np.ndarray | None:
            if f.task_key is not None:
                # A shared multi-task model: its MC-dropout samples serve as the committee.
                return f.sample_proba(X_pool, n_members)
            return fit_committee(Committee("bootstrap", n_members))

        mc = None
        if "mc_samples" in wanted:
            mc = f.sample_proba(X_pool, n_mc_samples)
            if mc is None and f.model.has_committee:
                mc = f.committee_proba(X_pool)
            if mc is None and bootstrap_stand_in:
                mc = bootstrap(n_bootstrap_samples)
            elif mc is None:
                notes.append(NO_POSTERIOR.format(model=f.model.name))
        errors = None
        if "errors" in wanted and labeled is not None and task in labeled:
            rows, y = labeled[task]
            errors = known_errors(f, X_pool, rows, y, (audits or {}).get(task), seed)
            if errors is None:
                notes.append(f"task '{task}': no out-of-fold errors for a shared multi-task "
                             "network; error_prediction uses least confidence")
        members = None
        if "committee" in wanted:
            if committee.kind == "models" and f.task_key is None:
                members = fit_committee(committee)
            elif f.model.has_committee:
                members = f.committee_proba(X_pool)
            else:
                members = bootstrap(committee.n_members)
        by_modality = f.proba_by_modality(X_pool, task) if "by_modality" in wanted else None
        outs[task] = TaskOutput(
            proba=p, multilabel=f.multilabel, classes=f.classes, mc_samples=mc,
            committee=members, by_modality=by_modality, notes=tuple(notes), errors=errors,
        )
    return outs


def input_norms(X: Any, embeddings: np.ndarray | None = None) -> np.ndarray | None:
    """(N,) float64 norms of [x; 1] for each pool row's input to the model's last linear
    layer: its embedding when the model has one, else the row it predicts from (dense or
    sparse, e.g. TF-IDF); None for inputs of several blocks without embeddings."""
    import scipy.sparse as sp

    if embeddings is not None:
        X = embeddings
    if isinstance(X, Mapping):
        return None
    if sp.issparse(X):
        sq = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
    else:
        X = np.asarray(X)
        flat = X.reshape(X.shape[0], -1)
        sq = np.zeros(flat.shape[0])
        for s in range(0, flat.shape[0], 65536):
            b = np.asarray(flat[s:s + 65536], dtype=np.float64)
            sq[s:s + 65536] = np.einsum("ij,ij->i", b, b)
    return np.sqrt(sq + 1.0)


#: What a distance-based strategy that uses embeddings when present says on raw features.
RAW_NOTE = ("{name} measured on raw features (no learned or pretrained embeddings), where it "
            "was below random on some shared sets (benchmarks/results/strategy_families.txt)")


def representation_note(strategy: Strategy, embeddings_available: bool) -> str | None:
    """The flag a strategy that measures distances (it requires "features") on embeddings
    when there are any (its ``optional`` holds "embeddings": density weighting, core-set)
    carries when it runs on raw features; None otherwise."""
    if embeddings_available or "embeddings" not in strategy.optional \
            or "features" not in strategy.requires:
        return None
    return RAW_NOTE.format(name=strategy.name)


def fallback_strategy(strategy: Strategy, outputs: Mapping[str, TaskOutput], *,
                      wanted: frozenset[str] | set[str] | None = None) -> tuple[str, str] | None:
    """(fallback strategy name, reason) when ``strategy`` requires a committee or sampled
    predictions that no task got (``task_outputs`` says why in ``notes``); None when it can
    run. ``wanted``
    (``runner.wanted_inputs``) also counts what a strategy named by a parameter needs (e.g.
    ``exploration_mix`` with base ``bald``). The reason is the sentence shown to the user
    (queue item and CLI)."""
    words = {"committee": "a committee of models", "mc_samples": "sampled predictions"}
    needs = set(strategy.requires) | set(wanted or ())
    missing = [need for need in ("committee", "mc_samples") if need in needs
               and not any(getattr(o, need) is not None for o in outputs.values())]
    if not missing or not outputs or strategy.name == FALLBACK_STRATEGY:
        return None
    why = "; ".join(n for o in outputs.values() for n in o.notes) or \
        "the model cannot provide them"
    return FALLBACK_STRATEGY, (
        f"fallback to {FALLBACK_STRATEGY}: {strategy.name} needs "
        f"{' and '.join(words[m] for m in missing)}, which could not be built ({why})"
    )
