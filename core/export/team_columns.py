"""The export's team columns: each annotator's label, the resolved label and how it was
resolved (only for tasks labeled by two or more annotators, not counting ``import``, the
labels imported with the data; a one-person project's export is unchanged).

Per such task, after its ``activelab__<task>__*`` columns:

* ``activelab__<task>__by__<annotator>``: that annotator's latest label (text, or a list of
  classes for a multi-label task; missing when they did not label the sample; an event without
  an annotator name is ``by__unnamed``), one column per annotator in name order;
* ``activelab__<task>__resolution``: ``review`` | ``majority`` | ``single`` | ``dawid_skene``
  (``activelab.core.team.resolution``);
* ``activelab__<task>__resolution_confidence``: the majority's share or Dawid-Skene's
  posterior (missing for a review decision or a lone label). (``__confidence`` is already the
  model's confidence for unlabeled rows, hence the longer name.)

and ``activelab__<task>__label`` holds the resolved label, its provenance columns those of
the event it comes from: the reviewer's decision, the lone label, or the latest label of an
annotator who gave the winning answer (so ``__annotator`` names someone who said it). These columns are in activelab's namespace, so importing
the export (``activelab.core.data.own_export``) never takes them as features or as tasks.
"""
from __future__ import annotations

from typing import Any, Sequence

import pyarrow as pa

from activelab.core.data.export_columns import PREFIX
from activelab.core.team.agreement import agreement_lines, project_agreement
from activelab.core.records import LabelEvent
from activelab.core.team.annotations import IMPORTED, TeamLabels, team_labels, value_key
from activelab.core.team.resolution import Resolved, resolve_task

__all__ = ["TeamColumns", "by_column", "resolution_columns", "UNNAMED"]

UNNAMED = "unnamed"


def by_column(task: str, annotator: str) -> str:
    """``activelab__<task>__by__<annotator>`` (``unnamed`` for an empty name)."""
    return f"{PREFIX}{task}__by__{annotator or UNNAMED}"


def resolution_columns(task: str) -> tuple[str, str]:
    """The names of the resolution method and confidence columns of ``task``."""
    return f"{PREFIX}{task}__resolution", f"{PREFIX}{task}__resolution_confidence"


class TeamColumns:
    """What the export needs of the team, read once per export (the same columns in every
    batch): per team task its annotators and the resolved labels, and the agreement lines.
    ``project``: a Project (its ``store`` and ``spec``). Dawid-Skene runs here when a task
    has ties (the export runs in a worker / the CLI, never on the UI thread)."""

    def __init__(self, project: Any) -> None:
        store = project.store    # a stand-in without an event log has no team
        team = team_labels(store) if hasattr(store, "events") else TeamLabels()
        self.tasks = {t.name: t for t in project.spec.tasks}
        self.annotators: dict[str, list[str]] = {}
        self.resolved: dict[str, dict[str, Resolved]] = {}
        self.team = team
        for name in self.tasks:
            people = team.annotators(name)
            # labels imported with the data and one person's labels are not a team
            if len([a for a in people if a != IMPORTED]) > 1:
                self.annotators[name] = people
                self.resolved[name] = resolve_task(team, name)
        self.agreement = project_agreement(team, project.spec.tasks) if self.annotators else []

    def names(self) -> list[str]:
        """Every column name this adds (all batches)."""
        out = []
        for task, people in self.annotators.items():
            out += [by_column(task, a) for a in people] + list(resolution_columns(task))
        return out

    def labels(self, task: str) -> dict[str, LabelEvent]:
        """sample id -> the label event of the resolved label of ``task`` ({} for a
        one-annotator task): the review decision, the lone label, else the latest label of
        an annotator who gave the resolved answer."""
        keys = self.team.keys.get(task, {})
        out = {}
        for sid, r in self.resolved.get(task, {}).items():
            k = keys[sid]
            if r.method == "review" and k.review is not None:
                out[sid] = k.review
                continue
            given = [e for e in k.by_annotator.values() if value_key(e.value) == value_key(r.value)]
            if given:
                out[sid] = max(given, key=lambda e: e.seq)
        return out

    def summary_lines(self) -> list[str]:
        """The agreement lines for the export's summary ([] for a one-annotator project)."""
        return agreement_lines(self.agreement, indent="") if self.agreement else []

    def add(self, cols: Any, task: Any, row_ids: Sequence[str]) -> None:
        """Add ``task``'s team columns for the rows ``row_ids`` to ``cols`` (a ``Columns``)."""
        people = self.annotators.get(task.name)
        if not people:
            return
        label_type = pa.list_(pa.string()) if task.multilabel else pa.string()
        keys = self.team.keys.get(task.name, {})
        for a in people:
            values = []
            for sid in row_ids:
                e = keys[sid].by_annotator.get(a) if sid in keys else None
                v = None if e is None else e.value
                values.append(None if v is None else ([str(x) for x in v] if task.multilabel
                                                      else str(v)))
            cols.add(by_column(task.name, a), pa.array(values, label_type))
        res = self.resolved.get(task.name, {})
        method_col, conf_col = resolution_columns(task.name)
        got = [res.get(sid) for sid in row_ids]
        cols.add(method_col, pa.array([None if r is None else r.method for r in got], pa.string()))
        cols.add(conf_col, pa.array([None if r is None else r.confidence for r in got],
                                    pa.float64()), "float64")
