"""Why a labeled sample was shown (its query provenance), for every label, never blank.

A label given on a queue item records that item's strategy, score, rank, model version and
audit flag. A label given on anything else still says why the sample was on screen:

- ``fallback:random``: a uniformly random unlabeled sample the app showed while the next queue
  was being prepared (``fallback_item``; the app's ``LabelingController._fallback_index``);
- a relabel (from the history, after an undo, from ``activelab label`` on a labeled sample):
  the provenance of the sample's original pick, kept as it was (``original_pick_item``);
- ``annotator:chosen``: the annotator chose the sample themselves (the pool map, a sample id
  given to ``activelab label``) and it had never been labeled (``chosen_item``).

How the label was entered (accepted suggestion or typed) is a separate record, not this one.
No I/O here.
"""
from __future__ import annotations

from typing import Sequence

from activelab.core.records import LabelEvent, Prediction, QueueItem

__all__ = ["ANNOTATOR_CHOSEN", "FALLBACK_RANDOM", "NOT_QUEUED", "REVIEW_SUSPECT", "chosen_item",
           "fallback_item", "original_pick_item"]

FALLBACK_RANDOM = "fallback:random"
ANNOTATOR_CHOSEN = "annotator:chosen"
#: a reviewer's decision on a suspect label (``activelab.core.quality.suspects``)
REVIEW_SUSPECT = "review:suspect"
#: labels not given on one of the loop's picks (``auto`` and error sampling learn nothing from them)
NOT_QUEUED = frozenset({FALLBACK_RANDOM, ANNOTATOR_CHOSEN, REVIEW_SUSPECT})


def fallback_item(idx: int, sample_id: str, model_version: int) -> QueueItem:
    """The provenance of a uniformly random unlabeled sample shown while no queue was ready
    (no score, rank 0, no suggestion shown)."""
    return QueueItem(int(idx), str(sample_id), FALLBACK_RANDOM, float("nan"), 0, None, False, {},
                     int(model_version), "a random unlabeled sample, shown while the next "
                     "queue was being prepared")


def chosen_item(idx: int, sample_id: str, model_version: int) -> QueueItem:
    """The provenance of a sample the annotator opened themselves (not picked by the loop)."""
    return QueueItem(int(idx), str(sample_id), ANNOTATOR_CHOSEN, float("nan"), 0, None, False, {},
                     int(model_version), "opened by the annotator, not picked by the loop")


def original_pick_item(events: Sequence[LabelEvent], idx: int, sample_id: str) -> QueueItem | None:
    """The queue item the label ``events`` of a sample's original pick were given on (one
    event per task of that labeling action, as ``LabelState.original_pick`` returns them):
    the same strategy, score, rank, model version, audit flag and per-task prediction, so a
    relabel keeps them (an audit pick stays an audit pick). None when ``events`` is empty."""
    if not events:
        return None
    first = events[0]
    preds = {e.task: Prediction(e.predicted, e.confidence) for e in events
             if e.task is not None and e.predicted is not None}
    score = float("nan") if first.score is None else float(first.score)
    return QueueItem(int(idx), str(sample_id), str(first.strategy or ""), score,
                     int(first.rank or 0), None, bool(first.audit), preds,
                     int(first.model_version or 0), "relabel of the original pick")
