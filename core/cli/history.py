"""``activelab history``: the latest labeling actions, with why each sample was picked.

One line per event, newest first: its seq, time, kind, sample, task and value, the query
provenance (strategy, rank, score, audit), the annotator, and "(undone)" / "(replaced)" marks
(``activelab.core.project.history_marks``) — the same marks as the app's history panel.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from typing import Any

from activelab.core.cli.support import positive_int
from activelab.core.project.history_marks import EventMarks, event_marks
from activelab.core.records import LabelEvent


def add_parser(subparsers: Any) -> None:
    """Register the ``history`` sub-command on an argparse sub-parsers object."""
    h = subparsers.add_parser(
        "history", help="the latest labels, skips, flags and undos, with their provenance",
        description="Print the latest events of PROJECT, newest first: what was decided about "
                    "which sample, why the sample was picked (strategy, rank, score, audit), "
                    "by whom, and whether the label was later undone or replaced.")
    h.add_argument("project")
    from activelab.core.cli.context import add_annotator_argument

    add_annotator_argument(h, "whose view (blind to others' labels on overlap samples "
                              "they have not labeled)")
    h.add_argument("--limit", type=positive_int("--limit"), default=20,
                   help="how many events to print (default 20)")
    h.add_argument("--json", action="store_true",
                   help="one JSON object per event (LabelEvent fields plus 'undone', 'replaced')")
    h.set_defaults(func=cmd_history)


def _value(v: Any) -> str:
    return ", ".join(map(str, v)) if isinstance(v, list) else str(v)


def provenance_text(e: LabelEvent) -> str:
    """Why the sample was picked, e.g. 'margin #3 score 0.41' or 'audit:random (audit)'."""
    if not e.strategy:
        return "no provenance recorded"
    parts = [e.strategy]
    if e.rank:
        parts.append(f"#{e.rank}")
    if e.score is not None and not math.isnan(e.score):
        parts.append(f"score {e.score:.3g}")
    if e.audit:
        parts.append("(audit)")
    return " ".join(parts)


def event_line(e: LabelEvent, marks: EventMarks) -> str:
    """One printed line for event ``e``."""
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.time))
    head = f"{e.seq:>6}  {when}  {e.kind:<5}  {e.sample_id}"
    if e.kind == "label":
        head += f"  {e.task}={_value(e.value)}  picked by {provenance_text(e)}"
        if e.input:   # how the class was entered (LabelEvent.input)
            head += "  (suggestion accepted)" if e.input == "accepted" else f"  ({e.input})"
    elif e.kind in ("undo", "redo"):
        head += f"  (action {e.target_seq})"
    elif e.kind == "flag" and e.value:
        head += f"  note: {e.value}"
    if e.annotator:
        head += f"  by {e.annotator}"
    if (e.group or e.seq) in marks.undone and e.kind in ("label", "skip", "flag"):
        head += "  (undone)"
    elif e.seq in marks.replaced:
        head += "  (replaced)"
    return head


def cmd_history(a: argparse.Namespace) -> int:
    from activelab.core.cli.context import open_project as _project

    proj = _project(a.project)
    shown = proj.history(limit=a.limit)   # newest first: an undo or relabel of one is in it
    marks = event_marks(shown)
    if not shown:
        print("No events yet: nothing has been labeled, skipped or flagged.")
        return 0
    for e in shown:
        if a.json:
            d = e.to_dict()
            d["undone"] = (e.group or e.seq) in marks.undone and e.kind in ("label", "skip", "flag")
            d["replaced"] = e.seq in marks.replaced
            print(json.dumps(d, ensure_ascii=False))
        else:
            print(event_line(e, marks))
    return 0
