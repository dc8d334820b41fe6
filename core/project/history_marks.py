"""Which past labels still count: undone actions and labels replaced by a later one.

Used by the app's history panel and ``activelab history`` so both say the same thing. Pure
functions over ``LabelEvent`` lists; no I/O.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from activelab.core.records import LabelEvent

__all__ = ["EventMarks", "event_marks"]


@dataclass(frozen=True)
class EventMarks:
    """``undone``: groups (user actions) undone and not redone; ``replaced``: seq of label
    events superseded by a later label of the same (task, sample) by the same annotator that
    still counts (another annotator's label of it is a second opinion, not a replacement)."""

    undone: frozenset[int]
    replaced: frozenset[int]

    def replaced_tasks(self, events: Sequence[LabelEvent]) -> list[str]:
        """The tasks of ``events`` (one action's labels) whose label was replaced."""
        return [str(e.task) for e in events if e.kind == "label" and e.seq in self.replaced]


def event_marks(events: Sequence[LabelEvent]) -> EventMarks:
    """Marks for ``events`` (any order; a window of the newest events of a log, as
    ``history`` returns them, is enough: an undo or a relabel always comes after what it acts
    on). O(len(events))."""
    ordered = sorted(events, key=lambda e: e.seq)
    undone: set[int] = set()
    for e in ordered:                     # the last undo/redo of a group wins
        if e.target_seq is None:
            continue
        if e.kind == "undo":
            undone.add(int(e.target_seq))
        elif e.kind == "redo":
            undone.discard(int(e.target_seq))
    replaced: set[int] = set()
    latest: dict[tuple[str | None, str | None, str | None], int] = {}
    for e in ordered:
        if e.kind != "label" or (e.group or e.seq) in undone:
            continue
        key = (e.task, e.sample_id, e.annotator)
        if key in latest:
            replaced.add(latest[key])
        latest[key] = e.seq
    return EventMarks(frozenset(undone), frozenset(replaced))
