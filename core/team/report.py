"""A project's team picture in one call: agreement per task and the review queue.

Used by ``activelab agreement``, ``activelab status``, the export and the app's Agreement
panel (which runs it in its worker: Dawid-Skene and the statistics are not UI-thread work).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from activelab.core.team.agreement import TaskAgreement, agreement_lines, project_agreement
from activelab.core.records import LabelEvent
from activelab.core.team.annotations import TeamLabels, team_labels
from activelab.core.team.review import ReviewItem, review_queue

__all__ = ["TeamReport", "team_report", "team_report_from_events", "team_report_task"]


@dataclass(frozen=True)
class TeamReport:
    """``agreement``: one ``TaskAgreement`` per task; ``queue``: the disagreements to review
    (oldest first); ``event_seq``: the last event it was computed from."""

    agreement: tuple[TaskAgreement, ...]
    queue: tuple[ReviewItem, ...]
    event_seq: int

    @property
    def is_team(self) -> bool:
        """Whether any task has two or more annotators."""
        return any(len(t.annotators) > 1 for t in self.agreement)

    def lines(self, indent: str = "  ") -> list[str]:
        """The agreement lines, then one line on the review queue (when it is a team)."""
        out = agreement_lines(self.agreement, indent)
        if self.is_team:
            out.append(f"{indent}review queue: {len(self.queue)} disagreement"
                       f"{'' if len(self.queue) == 1 else 's'} without a reviewer's decision")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"agreement": [t.to_dict() for t in self.agreement],
                "review_queue": [it.to_dict() for it in self.queue], "event_seq": self.event_seq}


def team_report(project: Any) -> TeamReport:
    """The ``TeamReport`` of ``project`` (a ``Project``: its ``store`` and ``spec``), from the
    event log as it is now. O(labeled samples x annotators); Dawid-Skene is not run here."""
    team = team_labels(project.store)
    tasks = project.spec.tasks
    return TeamReport(tuple(project_agreement(team, tasks)),
                      tuple(review_queue(team, [t.name for t in tasks])), team.last_seq)



ALL_EVENTS = 2 ** 62
"""``history(limit=ALL_EVENTS)``: every event."""


def team_report_from_events(events: Iterable[LabelEvent], tasks: Sequence[Any]) -> TeamReport:
    """The ``TeamReport`` of the event log ``events`` (in log order) for ``tasks``
    (``TaskSpec``s). O(events)."""
    team = TeamLabels().apply(sorted(events, key=lambda e: e.seq))
    return TeamReport(tuple(project_agreement(team, tasks)),
                      tuple(review_queue(team, [t.name for t in tasks])), team.last_seq)


def team_report_task(project: Any, progress: Any = None) -> TeamReport:
    """``team_report`` as a worker job, through the ``LabelingEngine`` protocol only: the
    whole event log read with ``project.history`` (in the worker: O(events)), folded, and
    measured. ``progress`` follows the worker's calling convention (cancellable)."""
    if progress is not None:
        progress.check()
    events = project.history(limit=ALL_EVENTS)
    if progress is not None:
        progress.check()
    return team_report_from_events(events, project.spec.tasks)
