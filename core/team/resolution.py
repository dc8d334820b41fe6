"""One label per (task, sample) from several annotators: the resolved label and how.

For each (task, sample) with at least one label, in this order:

1. ``review``: the latest current reviewer decision (a label event whose strategy starts
   with ``review:``; see ``activelab.core.team.annotations``); confidence None;
2. ``single``: one annotator labeled it: that label; confidence None;
3. ``majority``: more than half of its annotators give the same latest label; confidence =
   that share (2 of 3 -> 0.667);
4. ``dawid_skene``: no majority (a tie): the Dawid-Skene estimate (Dawid & Skene 1979,
   "Maximum likelihood estimation of observer error-rates using the EM algorithm") from
   crowd-kit's ``DawidSkene``, fitted on every sample of the task labeled by two or more
   annotators (each annotator's confusion matrix is learnt from all of them); confidence =
   the posterior probability of the chosen label.

Multi-label tasks: a label is the *set* of classes; sets are compared as wholes (order-free)
for the majority and are Dawid-Skene's categories.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from activelab.core.team.annotations import KeyLabels, TeamLabels, value_key

__all__ = ["Resolved", "METHODS", "resolve_task", "dawid_skene"]

METHODS = ("review", "single", "majority", "dawid_skene")


@dataclass(frozen=True)
class Resolved:
    """The resolved ``value`` of one (task, sample), the ``method`` (one of ``METHODS``)
    and its ``confidence`` (a probability, or None for a decision or a lone label)."""

    value: Any
    method: str
    confidence: float | None


def dawid_skene(answers: Mapping[str, Mapping[str, str]], n_iter: int = 100
                ) -> dict[str, dict[str, float]]:
    """Dawid-Skene over ``answers`` (sample id -> {annotator: answer text}); returns sample
    id -> {answer: posterior probability} over every answer seen in ``answers`` (crowd-kit's
    implementation; the probabilities of a sample sum to 1)."""
    import pandas as pd
    from crowdkit.aggregation import DawidSkene

    rows = [(sid, a, v) for sid, per in answers.items() for a, v in per.items()]
    if not rows:
        return {}
    df = pd.DataFrame(rows, columns=["task", "worker", "label"])
    with warnings.catch_warnings():     # crowd-kit's own pandas deprecation warnings
        warnings.filterwarnings("ignore", module="crowdkit")
        proba = DawidSkene(n_iter=n_iter).fit_predict_proba(df)
    cols = [str(c) for c in proba.columns]
    return {str(sid): dict(zip(cols, map(float, row)))
            for sid, row in zip(proba.index, proba.to_numpy())}


def majority_vote(k: KeyLabels) -> tuple[str, Any, float] | None:
    """(answer text, value, share) of a strict majority of ``k``'s annotators, else None."""
    return k.majority


def resolve_task(team: TeamLabels, task: str, sample_ids: Sequence[str] | None = None
                 ) -> dict[str, Resolved]:
    """sample id -> ``Resolved`` for the labeled samples of ``task`` (only ``sample_ids``
    when given). Dawid-Skene runs once per call, only when some sample has no majority."""
    per = team.keys.get(task, {})
    wanted = per if sample_ids is None else {s: per[s] for s in sample_ids if s in per}
    out: dict[str, Resolved] = {}
    ties: list[str] = []
    for sid, k in wanted.items():
        if k.review is not None:
            out[sid] = Resolved(k.review.value, "review", None)
        elif len(k.by_annotator) == 1:
            out[sid] = Resolved(next(iter(k.by_annotator.values())).value, "single", None)
        else:
            vote = majority_vote(k)
            if vote is None:
                ties.append(sid)
            else:
                out[sid] = Resolved(vote[1], "majority", vote[2])
    if ties:
        crowd = {sid: k.answers for sid, k in per.items() if len(k.by_annotator) > 1}
        est = dawid_skene(crowd)
        for sid in ties:   # the most probable of the answers given (ties: sorted first)
            given = {value_key(e.value): e.value for e in per[sid].by_annotator.values()}
            key = max(sorted(given), key=lambda v: est[sid].get(v, 0.0))
            out[sid] = Resolved(given[key], "dawid_skene", est[sid].get(key, 0.0))
    return out

