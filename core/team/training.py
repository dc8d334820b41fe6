"""The labels a model is trained on, in a team project: the resolved label wherever several
annotators (or a reviewer) labeled a sample, the latest label everywhere else.

Two steps, because the snapshot is taken on the app's UI thread and Dawid-Skene is not
UI-thread work (crowd-kit takes seconds to import and iterates over every shared sample):

1. ``training_labels`` (snapshot time, O(labeled samples)): review decisions, lone labels and
   majorities replace the latest label at once; the ties are left as they are and returned
   as ``LabelTies`` (plain, picklable data) for the snapshot to carry;
2. ``resolve_ties`` (in the retrain worker or training process, before fitting): Dawid-Skene
   over the task's shared samples decides each tie (``activelab.core.team.resolution``).

A project labeled by one person is trained exactly as before (nothing is replaced).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

import numpy as np

from activelab.core.team.annotations import team_labels, value_key
from activelab.core.team.resolution import majority_vote, dawid_skene

__all__ = ["LabelTies", "training_labels", "resolve_ties", "resolved_labels"]


@dataclass(frozen=True)
class LabelTies:
    """The ties of one task: ``rows`` the pool positions with no majority, ``crowd`` every
    shared sample's answers (pool position -> {annotator: answer text}, what Dawid-Skene
    learns the annotators' confusion from) and ``values`` answer text -> label value."""

    rows: tuple[int, ...]
    crowd: Mapping[int, Mapping[str, str]]
    values: Mapping[str, Any]


def training_labels(store: Any, tasks: Sequence[str], index: Mapping[str, int],
                    labeled: dict[str, tuple[np.ndarray, list[Any]]]
                    ) -> tuple[dict[str, tuple[np.ndarray, list[Any]]], dict[str, LabelTies]]:
    """``labeled`` (task -> (pool positions, their latest labels), as a ``Snapshot`` holds
    them) with each reviewed or majority-resolved sample's label replaced (rows and order
    unchanged), and the ties per task (``resolve_ties`` decides them). ``store``: the
    project's ``LabelStore``; ``index``: sample id -> pool position. Returns ``labeled``
    itself and no ties when no sample has more than one annotator or a review decision.
    No Dawid-Skene here: O(labeled samples)."""
    team = team_labels(store)
    out, ties = labeled, {}
    for task in tasks:
        if task not in labeled:
            continue
        per = team.keys.get(task, {})
        by_row: dict[int, Any] = {}
        tie_rows: list[int] = []
        crowd: dict[int, dict[str, str]] = {}
        values: dict[str, Any] = {}
        for sid, k in per.items():
            if sid not in index or (len(k.by_annotator) < 2 and k.review is None):
                continue
            row = index[sid]
            if len(k.by_annotator) > 1:
                crowd[row] = k.answers
                if k.majority is None:
                    values.update((value_key(e.value), e.value) for e in k.by_annotator.values())
            if k.review is not None:
                by_row[row] = k.review.value
                continue
            vote = majority_vote(k)
            if vote is None:
                tie_rows.append(row)
            else:
                by_row[row] = vote[1]
        if by_row:
            if out is labeled:
                out = dict(labeled)
            rows, vals = labeled[task]
            out[task] = (rows, [by_row.get(int(r), v) for r, v in zip(rows, vals)])
        if tie_rows:
            ties[task] = LabelTies(tuple(tie_rows), crowd, values)
    return out, ties


def resolve_ties(snapshot: Any) -> Any:
    """``snapshot`` (a ``Snapshot``) with each tie in its ``label_ties`` decided by
    Dawid-Skene (the most probable of the answers the sample was given) and ``label_ties``
    emptied; the snapshot itself when it has none. Worker-side: imports crowd-kit."""
    ties: Mapping[str, LabelTies] = getattr(snapshot, "label_ties", None) or {}
    if not ties:
        return snapshot
    return replace(snapshot, labeled=_decide(snapshot.labeled, ties), label_ties={})


def _decide(labeled: Mapping[str, tuple[np.ndarray, list[Any]]],
            ties: Mapping[str, LabelTies]) -> dict[str, tuple[np.ndarray, list[Any]]]:
    """``labeled`` with each tie decided by Dawid-Skene (rows and order unchanged)."""
    labeled = dict(labeled)
    for task, t in ties.items():
        est = dawid_skene({str(r): dict(a) for r, a in t.crowd.items()})
        decided = {}
        for r in t.rows:
            given = sorted(set(t.crowd[r].values()))
            p = est.get(str(r), {})
            decided[r] = t.values[max(given, key=lambda v: p.get(v, 0.0))]
        rows, vals = labeled[task]
        labeled[task] = (rows, [decided.get(int(r), v) for r, v in zip(rows, vals)])
    return labeled


def resolved_labels(store: Any, tasks: Sequence[str], index: Mapping[str, int],
                    labeled: dict[str, tuple[np.ndarray, list[Any]]]
                    ) -> dict[str, tuple[np.ndarray, list[Any]]]:
    """``training_labels`` and ``resolve_ties`` in one call: ``labeled`` (task -> (pool
    positions, latest labels)) with every shared or reviewed sample's label replaced by the
    resolved one, the label a model is trained on. Runs Dawid-Skene when there are ties:
    worker-side only."""
    out, ties = training_labels(store, tasks, index, labeled)
    return _decide(out, ties) if ties else out
