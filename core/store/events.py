"""The rows of the event log: their columns, decoding, and which ones a project can use
(no I/O here; the fold into the current labels is ``activelab.core.store.label_state``)."""
from __future__ import annotations

import json
import sqlite3
from typing import Any, Callable, Container, Iterable, Sequence

from activelab.core.records import LabelEvent


def dumps(v: Any) -> str | None:
    return None if v is None else json.dumps(v, ensure_ascii=False)


def loads(s: str | None) -> Any:
    return None if s is None else json.loads(s)


EVENT_COLS = (
    "seq, grp, time, kind, sample_id, task, value, annotator, seconds, strategy, score, rank, "
    "model_version, audit, predicted, confidence, target_seq, input"
)
_EVENT_COLS_BEFORE_3 = EVENT_COLS.replace(", input", ", NULL")


def event_columns(conn: sqlite3.Connection) -> str:
    """The ``EVENT_COLS`` to select from this store: a store older than schema 3 that is
    read as it is (opened read-only) has no ``input`` column and gives NULL in its place."""
    cols = {r[1] for r in conn.execute("PRAGMA table_info(events)")}
    return EVENT_COLS if "input" in cols else _EVENT_COLS_BEFORE_3


def row_to_event(r: Sequence[Any], value: Any = None, predicted: Any = None,
                 decoded: bool = False) -> LabelEvent:
    """An event from a row selected with ``EVENT_COLS``; ``decoded``: value and predicted are
    given already decoded (else they are decoded here; ValueError if not JSON)."""
    if not decoded:
        value, predicted = loads(r[6]), loads(r[14])
    return LabelEvent(r[0], r[2], r[3], r[4], r[5], value, r[7], r[8], r[9], r[10], r[11], r[12],
                      bool(r[13]), predicted, r[15], r[16], r[1],
                      r[17] if len(r) > 17 else None)


def _decoded(text: str | None) -> Any:
    """A stored JSON value (a plain JSON string such as a class name, printable and without
    escapes, is read without the parser: most values are). ValueError when it is not JSON."""
    if text is None:
        return None
    if len(text) > 1 and text[0] == '"' and text[-1] == '"' and "\\" not in text \
            and '"' not in text[1:-1] and text.isprintable():
        return text[1:-1]
    return json.loads(text)


def insert_group(conn: sqlite3.Connection, events: Sequence[dict[str, Any]],
                 now: float) -> tuple[int, int]:
    """Insert one group's events (inside the caller's write transaction); returns the first
    and last seq given (consecutive: no other writer runs during the transaction). An event's
    ``time`` is kept when given, else ``now``."""
    first = last = 0
    for e in events:
        last = conn.execute(
            "INSERT INTO events(grp, time, kind, sample_id, task, value, annotator, seconds, "
            "strategy, score, rank, model_version, audit, predicted, confidence, target_seq, "
            "input) VALUES (0,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING seq",
            (now if e.get("time") is None else float(e["time"]), e["kind"], e.get("sample_id"),
             e.get("task"), dumps(e.get("value")), e.get("annotator"), e.get("seconds"),
             e.get("strategy"), e.get("score"), e.get("rank"), e.get("model_version"),
             int(bool(e.get("audit"))), dumps(e.get("predicted")), e.get("confidence"),
             e.get("target_seq"), e.get("input")),
        ).fetchone()[0]
        first = first or last
    conn.execute("UPDATE events SET grp=? WHERE seq BETWEEN ? AND ?", (first, first, last))
    return first, last


def usable_events(rows: Iterable[Sequence[Any]],
                  event_filter: Callable[[LabelEvent], str | None] | None,
                  damaged: Callable[[str, str], None]) -> list[LabelEvent]:
    """The events of ``rows`` (selected with ``EVENT_COLS``, in any order) that a project can
    use, in the same order. A row whose value or prediction is not JSON, or that
    ``event_filter`` refuses, is left out and given to ``damaged(key, reason)``."""
    out = []
    decode = _decoded
    for r in rows:
        try:
            value = decode(r[6])
        except (ValueError, TypeError):      # say which column, then skip the row
            damaged(f"seq {r[0]}", f"value is not valid JSON: {str(r[6])[:40]!r}")
            continue
        try:
            predicted = decode(r[14])
        except (ValueError, TypeError):
            damaged(f"seq {r[0]}", f"predicted is not valid JSON: {str(r[14])[:40]!r}")
            continue
        e = row_to_event(r, value, predicted, decoded=True)
        reason = event_filter(e) if event_filter is not None else None
        if reason:
            damaged(f"seq {e.seq}", reason)
            continue
        out.append(e)
    return out


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
