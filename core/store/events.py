"""The rows of the event log and their fold into the current labels (no I/O here)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Container, Iterable, Sequence


@dataclass(frozen=True)
class DamagedRow:
    """A store row that cannot be used: where it is (table and key) and why."""

    table: str
    key: str
    reason: str
    repairable: bool = True

    def __str__(self) -> str:
        return f"{self.table} {self.key}: {self.reason}"


@dataclass(frozen=True)
class LabelEvent:
    """One row of the event log (see ``activelab.core.store.store``)."""

    seq: int
    time: float
    kind: str
    sample_id: str | None
    task: str | None
    value: Any
    annotator: str | None
    seconds: float | None
    strategy: str | None
    score: float | None
    rank: int | None
    model_version: int | None
    audit: bool
    predicted: Any
    confidence: float | None
    target_seq: int | None
    group: int = 0


@dataclass
class LabelState:
    """The fold of the event log: what is labeled, skipped and flagged now."""

    labels: dict[str, dict[str, Any]] = field(default_factory=dict)      # task -> id -> value
    provenance: dict[tuple[str, str], LabelEvent] = field(default_factory=dict)  # (task,id)->event
    skipped: set[str] = field(default_factory=set)
    flagged: set[str] = field(default_factory=set)
    undo_stack: list[int] = field(default_factory=list)   # active groups, newest last
    redo_stack: list[int] = field(default_factory=list)   # undone groups, newest last
    last_seq: int = 0


def dumps(v: Any) -> str | None:
    return None if v is None else json.dumps(v, ensure_ascii=False)


def loads(s: str | None) -> Any:
    return None if s is None else json.loads(s)


EVENT_COLS = (
    "seq, grp, time, kind, sample_id, task, value, annotator, seconds, strategy, score, rank, "
    "model_version, audit, predicted, confidence, target_seq"
)


def row_to_event(r: Sequence[Any], value: Any = None, predicted: Any = None,
                 decoded: bool = False) -> LabelEvent:
    """An event from a row selected with ``EVENT_COLS``; ``decoded``: value and predicted are
    given already decoded (else they are decoded here; ValueError if not JSON)."""
    if not decoded:
        value, predicted = loads(r[6]), loads(r[14])
    return LabelEvent(
        seq=r[0], group=r[1], time=r[2], kind=r[3], sample_id=r[4], task=r[5],
        value=value, annotator=r[7], seconds=r[8], strategy=r[9], score=r[10],
        rank=r[11], model_version=r[12], audit=bool(r[13]), predicted=predicted,
        confidence=r[15], target_seq=r[16],
    )


def fold_events(events: Iterable[LabelEvent]) -> LabelState:
    """Replay the log: groups are active unless undone (and not redone)."""
    events = list(events)
    groups: dict[int, list[LabelEvent]] = {}
    order: list[int] = []
    active: dict[int, bool] = {}
    st = LabelState()
    for e in events:
        st.last_seq = e.seq
        if e.kind in ("label", "skip", "flag"):
            if e.group not in groups:
                groups[e.group] = []
                order.append(e.group)
                active[e.group] = True
                st.undo_stack.append(e.group)
                st.redo_stack.clear()
            groups[e.group].append(e)
        elif e.kind == "undo" and e.target_seq in active:
            active[e.target_seq] = False
            if e.target_seq in st.undo_stack:
                st.undo_stack.remove(e.target_seq)
            st.redo_stack.append(e.target_seq)
        elif e.kind == "redo" and e.target_seq in active:
            active[e.target_seq] = True
            if e.target_seq in st.redo_stack:
                st.redo_stack.remove(e.target_seq)
            st.undo_stack.append(e.target_seq)
    for g in order:
        if not active[g]:
            continue
        for e in groups[g]:
            if e.kind == "label":
                st.labels.setdefault(e.task or "", {})[e.sample_id] = e.value
                st.provenance[(e.task or "", e.sample_id)] = e
                st.skipped.discard(e.sample_id)
            elif e.kind == "skip":
                st.skipped.add(e.sample_id)
            elif e.kind == "flag":
                st.flagged.add(e.sample_id)
    return st


def event_problem(e: LabelEvent, tasks: dict[str, tuple[bool, frozenset[str]]],
                  ids: Container[str]) -> str | None:
    """Why the project cannot use event ``e``, or None when it can.

    ``tasks`` maps each task name to (multi-label?, its classes); ``ids`` holds the sample ids.
    A label must name a known sample, a known task and only classes of that task (one class
    for a single-label task, a list of classes for a multi-label one); a skip or flag must name
    a known sample.
    """
    if e.kind not in ("label", "skip", "flag"):
        return None
    if e.sample_id not in ids:
        return f"{e.kind} for an unknown sample id {e.sample_id!r}"
    if e.kind != "label":
        return None
    if e.task not in tasks:
        return f"label for an unknown task {e.task!r}"
    multilabel, classes = tasks[e.task]
    if multilabel:
        if not isinstance(e.value, list):
            return f"label {e.value!r} of multi-label task {e.task!r} is not a list of classes"
        bad = [v for v in e.value if not isinstance(v, str) or v not in classes]
    else:
        bad = [] if isinstance(e.value, str) and e.value in classes else [e.value]
    if bad:
        return f"label {', '.join(map(repr, bad))} is not a class of task {e.task!r}"
    return None
