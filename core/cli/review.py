"""``activelab review``: queues of labels to look at again, and a reviewer's decisions on them.

A mode flag says which queue: ``--suspects`` (labels the model, trained out-of-fold,
confidently contradicts; ``activelab.core.quality.suspects``). ``MODES`` maps each mode flag to
its command, so another queue is one more flag and one more entry. In a queue, ``--relabel ID
LABEL`` or ``--keep ID`` records the decision as a label event with the queue's provenance.
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable

from activelab.core.cli.support import positive_int, progress_bar

__all__ = ["MODES", "add_parser", "cmd_review"]


def add_parser(subparsers: Any) -> None:
    """Register the ``review`` sub-command on an argparse sub-parsers object."""
    r = subparsers.add_parser(
        "review", help="review labels: the suspect labels the model contradicts",
        description="Print a queue of labels to review, most doubtful first, or record a "
                    "decision on one of its samples. --suspects: labels that the project's "
                    "model, trained without them (out-of-fold), confidently contradicts, "
                    "found by confident learning (cleanlab). A decision is a label event "
                    "with provenance review:suspect; --keep records that the label stays.")
    r.add_argument("project")
    mode = r.add_mutually_exclusive_group(required=True)
    mode.add_argument("--suspects", action="store_true",
                      help="labels the model trained out-of-fold confidently contradicts")
    r.add_argument("--task", help="only this task (default: every task)")
    r.add_argument("--top", type=positive_int("--top"), default=20,
                   help="how many suspects to print per task (default 20)")
    r.add_argument("--json", action="store_true", help="one JSON object per suspect")
    act = r.add_mutually_exclusive_group()
    act.add_argument("--relabel", nargs=2, metavar=("SAMPLE_ID", "LABEL"),
                     help="give a sample of the queue last shown this label (multi-label: "
                          "classes joined by '|')")
    act.add_argument("--keep", metavar="SAMPLE_ID",
                     help="record that a sample of the queue last shown keeps its label")
    r.add_argument("--annotator", help="who decides (default: the project's annotator)")
    r.set_defaults(func=cmd_review)


def _text(v: Any) -> str:
    return "|".join(map(str, v)) if isinstance(v, list) else str(v)


def _cut(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def suspects_table(found: dict, top: int) -> list[str]:
    """The printed table: per task its top suspects and a summary line (or why none)."""
    lines: list[str] = []
    for task, r in found.items():
        shown = r.suspects[:top]
        lines.append(f"{task}: {len(r.suspects)} suspect label(s) among {r.checked} checked"
                     + (f" (top {len(shown)} shown)" if len(shown) < len(r.suspects) else ""))
        if shown:
            w = max(9, *(len(_cut(s.sample_id, 24)) for s in shown))
            lines.append(f"  {'rank':>4}  {'sample':<{w}}  {'label':<16}  {'model says':<16}  "
                         f"{'conf':>5}  {'quality':>7}")
            for s in shown:
                lines.append(f"  {s.rank:>4}  {_cut(s.sample_id, 24):<{w}}  "
                             f"{_cut(_text(s.label), 16):<16}  {_cut(_text(s.alternative), 16):<16}"
                             f"  {s.confidence:>5.0%}  {s.quality:>7.3f}")
        if r.note:
            lines.append(f"  note: {r.note}")
    return lines


def review_suspects(a: argparse.Namespace) -> int:
    from activelab.core.cli.context import open_project as _project, typed_id as _typed_id, typed_label as _typed_label
    from activelab.core.project.create import CACHE_DIR
    from activelab.core.quality.suspect_queue import (load_suspects, record_decision,
                                                   save_suspects, suspect_for)

    proj = _project(a.project)
    task = None if a.task is None else a.task.strip()
    names = [t.name for t in proj.spec.tasks]
    if task is not None and task not in names:   # one paragraph, before any computation
        from activelab.core.errors import LabelError

        raise LabelError(f"No task named '{task}'. Tasks: {', '.join(names)}.")
    cache = proj.path / CACHE_DIR
    if a.relabel or a.keep:
        sid = _typed_id(proj, a.relabel[0] if a.relabel else a.keep)
        s = suspect_for(load_suspects(cache), sid, task, proj.path)
        value = (_typed_label(proj, s.task, a.relabel[1]) if a.relabel else
                 proj.labels().get(s.task, {}).get(s.idx, s.label))
        ev = record_decision(proj, s, value, annotator=None if a.annotator is None
                             else a.annotator.strip())
        what = "kept" if ev.input == "kept" else "relabeled"
        print(f"Saved: {ev.sample_id} -> {ev.task} = {_text(ev.value)} ({what}; event {ev.seq}, "
              f"provenance {ev.strategy} #{ev.rank}).")
        return 0
    from activelab.core.quality.suspects import snapshot_suspects

    with progress_bar("checking labels out-of-fold") as prog:
        snap = proj.training_snapshot()
        if proj.reads_in_place:   # a Dask-engine project: the labelled rows read from the parts
            from activelab.core.quality.on_dask import dask_suspects

            found = dask_suspects(proj, only=task, progress=prog)
        else:
            found = snapshot_suspects(snap, only=task, progress=prog)
    saved = save_suspects(cache, found, snap.event_seq) if not proj.read_only else None
    if a.json:   # one object per suspect on stdout; what could not be checked on stderr
        for r in found.values():
            for s in r.suspects[: a.top]:
                print(json.dumps(s.to_dict(), ensure_ascii=False))
            if r.note:
                print(f"note: {r.note}", file=sys.stderr)
        return 0
    for line in suspects_table(found, a.top):
        print(line)
    if any(r.suspects for r in found.values()):
        if saved is None:
            print("(read-only project: decisions cannot be recorded here)")
        else:
            print(f"Decide: activelab review {proj.path} --suspects --relabel SAMPLE_ID LABEL"
                  f"   (or --keep SAMPLE_ID)")
    return 0


#: mode flag (argparse dest) -> its command; exactly one mode is given.
MODES: dict[str, Callable[[argparse.Namespace], int]] = {"suspects": review_suspects}


def cmd_review(a: argparse.Namespace) -> int:
    mode = next(m for m in MODES if getattr(a, m, False))
    return MODES[mode](a)
