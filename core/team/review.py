"""The review queue (samples whose annotators disagree) and a reviewer's decision.

A sample is in the review queue for a task while two or more annotators' latest labels
differ and no reviewer has decided since the latest of them (``TeamLabels``). A decision is
a label event like any other, given on a queue item whose strategy is
``review:disagreement``: it is in the log, undoable, exported, and it leaves the queue.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from activelab.core.records import LabelEvent, QueueItem
from activelab.core.team.annotations import REVIEW_DISAGREEMENT, TeamLabels

__all__ = ["ReviewItem", "review_queue", "review_item", "record_review"]


@dataclass(frozen=True)
class ReviewItem:
    """One disagreement: ``sample_id`` in ``task``, each annotator's label (annotator ->
    value, in the order they labeled) and the seq of the latest of them."""

    task: str
    sample_id: str
    labels: dict[str, Any]
    last_seq: int

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "sample_id": self.sample_id, "labels": dict(self.labels),
                "last_seq": self.last_seq}


def review_queue(team: TeamLabels, tasks: Sequence[str]) -> list[ReviewItem]:
    """The disagreements of ``tasks`` without a current review decision, oldest first
    (by the latest label of each). O(labeled samples)."""
    out = []
    for task in tasks:
        for sid, k in team.keys.get(task, {}).items():
            if k.review is None and k.disagree:
                out.append(ReviewItem(task, sid, k.values,
                                      max(e.seq for e in k.by_annotator.values())))
    out.sort(key=lambda it: it.last_seq)
    return out


def review_item(idx: int, sample_id: str, model_version: int,
                strategy: str = REVIEW_DISAGREEMENT) -> QueueItem:
    """The queue item a reviewer's decision is given on (its provenance: ``strategy``, no
    score, rank 0, no prediction)."""
    return QueueItem(int(idx), str(sample_id), strategy, float("nan"), 0, None, False, {},
                     int(model_version), "a reviewer's decision on the annotators' disagreement")


def record_review(project: Any, sample_id: str, values: Mapping[str, Any],
                  reviewer: str | None = None, seconds: float | None = None,
                  inputs: Mapping[str, str] | None = None) -> list[LabelEvent]:
    """Record a reviewer's decision: label ``sample_id`` with ``values`` (task -> class or
    list of classes) as one durable action with strategy ``review:disagreement``.
    ``project``: a ``Project``. Raises LabelError (unknown sample, task or class) and
    StoreWriteError (not saved) as ``Project.label_sample`` does, and LabelError when a task
    of ``values`` has no disagreement on this sample to decide (fewer than two annotators'
    labels, or all the same, and no earlier decision to revise): nothing is saved then."""
    from activelab.core.errors import LabelError
    from activelab.core.team.annotations import team_labels

    team = team_labels(project.store)
    for task in values:
        k = team.keys.get(task, {}).get(str(sample_id))
        if k is not None and (k.disagree or k.review is not None):
            continue
        who = ", ".join(f"{a}: {v}" for a, v in (k.values if k else {}).items()) or "nobody"
        raise LabelError(
            f"Sample {sample_id} has no disagreement on task '{task}' to review (labeled by "
            f"{who}). Nothing was saved. Label it without --review to add your own label, or "
            "see 'activelab agreement PROJECT' for the samples in disagreement.")
    idx = project.index_of(sample_id)
    item = review_item(idx, str(sample_id), project.model_version)
    return project.label_sample(str(sample_id), values, annotator=reviewer, seconds=seconds,
                                item=item, inputs=inputs)
