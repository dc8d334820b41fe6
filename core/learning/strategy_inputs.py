"""What a strategy reads, built from the fitted models: one ``TaskOutput`` per task.

Pool probabilities always; sampled predictions, a committee and per-modality predictions only
when the strategy needs them (``activelab.core.querying.runner.wanted_inputs``), since they
cost extra passes or fits. Where they come from is read off the model's capabilities:

* sampled predictions ("mc_samples"): the model's own sampler (MC dropout in the torch
  models); a model without one (every scikit-learn model) gets the standard non-Bayesian
  approximation instead, the predictions of a bootstrap committee of ``BOOTSTRAP_SAMPLES``
  copies of the model (Beluch et al. 2018; Lakshminarayanan et al. 2017);
* a committee: the one the strategy's parameters ask for (``Committee``: bootstrap copies of
  the model, or several model types), the model's own members (a deep ensemble), or, for a
  shared multi-task network, its MC-dropout samples.

Committees train per task on that task's own labeled rows. One that cannot be fitted on the
labels is left None and the reason put in ``TaskOutput.notes``; ``fallback_strategy`` then
names the strategy to use instead and says why.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from activelab.core.learning.committee import CommitteeError, task_committee
from activelab.core.learning.fitting import FittedTask, Labeled, take_rows
from activelab.core.querying.strategy_api import Committee, Strategy, TaskOutput

#: Sampled predictions drawn from a model that has a sampler (MC-dropout passes).
MC_SAMPLES = 20
#: Members of the bootstrap committee that stands in for samples from a model without one.
BOOTSTRAP_SAMPLES = 10
#: What a committee or Bayesian strategy falls back to when its inputs cannot be built.
FALLBACK_STRATEGY = "margin"


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
) -> dict[str, TaskOutput]:
    """Pool-wide outputs per fitted task, with what ``wanted`` names (see the module doc).

    ``X_pool`` is what the model predicts from (N rows); ``labeled`` (task -> pool rows and
    labels) is what committees train on (without it there are none); ``proba`` passes pool
    probabilities already computed. Arrays: proba (N, C), mc_samples (S, N, C), committee
    (M, N, C), float32.
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
            if mc is None:
                mc = bootstrap(n_bootstrap_samples)
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
            committee=members, by_modality=by_modality, notes=tuple(notes),
        )
    return outs


def fallback_strategy(strategy: Strategy, outputs: Mapping[str, TaskOutput]) -> tuple[str, str] | None:
    """(fallback strategy name, reason) when ``strategy`` requires a committee or sampled
    predictions that no task got (``task_outputs`` says why in ``notes``); None when it can
    run. The reason is the sentence shown to the user (queue item and CLI)."""
    words = {"committee": "a committee of models", "mc_samples": "sampled predictions"}
    missing = [need for need in ("committee", "mc_samples") if need in strategy.requires
               and not any(getattr(o, need) is not None for o in outputs.values())]
    if not missing or not outputs or strategy.name == FALLBACK_STRATEGY:
        return None
    why = "; ".join(n for o in outputs.values() for n in o.notes) or \
        "the model cannot provide them"
    return FALLBACK_STRATEGY, (
        f"fallback to {FALLBACK_STRATEGY}: {strategy.name} needs "
        f"{' and '.join(words[m] for m in missing)}, which could not be built ({why})"
    )
