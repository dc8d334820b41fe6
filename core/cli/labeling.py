"""Labeling from the shell: ``query``, ``label``, ``skip``, ``flag``, ``undo``, ``redo``,
``retrain``."""
from __future__ import annotations

import argparse
import json
import math
import sys

from activelab.core.cli.context import add_annotator_argument, open_project, typed_id, typed_label
from activelab.core.cli.support import nonnegative_float, positive_int


def cmd_query(a: argparse.Namespace) -> int:
    proj = open_project(a.project)
    from activelab.core.cli.show import BLIND_NOTE, without_suggestions

    items, hidden = without_suggestions(proj, proj.query(a.n, strategy=a.strategy))
    if a.json:
        if hidden and items:
            print(f"note: {BLIND_NOTE}", file=sys.stderr)
        out = []
        for it in items:
            d = it.to_dict()
            for t, p in it.predictions.items():   # flat columns, for jq and spreadsheets
                d[f"{t}_prediction"], d[f"{t}_confidence"] = p.label, p.confidence
            if a.show:
                from activelab.core.cli.show import sample_lines

                d["shown"] = sample_lines(proj, it.idx, it)
            out.append(d)
        print(json.dumps(out, indent=2))
        return 0
    if not items:
        from activelab.core.project.team import nothing_to_label

        print(nothing_to_label(proj))
        return 0
    if items[0].reason.startswith(("cold start", "fallback")):
        print(f"({items[0].reason})")
    if hidden:
        print(f"note: {BLIND_NOTE}")
    for it in items:
        s = proj.sample(it.idx)
        preview = " | ".join(v for v in s.texts.values())[:70] or (s.image_ref or "")
        preds = ", ".join(f"{t}={p.label if not isinstance(p.label, list) else '|'.join(p.label)}"
                          f" ({p.confidence:.2f})" for t, p in it.predictions.items()) or ("hidden" if hidden else "no model yet")
        score = "-" if math.isnan(it.score) else f"{it.score:.4f}"
        tag = " [audit]" if it.audit else ""
        print(f"{it.id}\t{it.strategy}{tag}\tscore {score}\trank {it.rank}\t{preds}\t{preview}")
        if a.show:   # the whole sample, as 'activelab show' prints it
            from activelab.core.cli.show import sample_lines

            print("\n".join(sample_lines(proj, it.idx, it)) + "\n")
    return 0


def cmd_label(a: argparse.Namespace) -> int:
    proj = open_project(a.project)
    task = None if a.task is None else a.task.strip()
    if a.review:   # a reviewer's decision (strategy review:disagreement), activelab.core.team
        from activelab.core.team.review import record_review

        name = proj._task(task).name
        ev = record_review(proj, typed_id(proj, a.sample_id),
                           {name: typed_label(proj, name, a.label)},
                           reviewer=proj.annotator,
                           seconds=a.seconds, inputs={name: "cli"})[0]
        print(f"Saved review decision: {ev.sample_id} -> {ev.task} = {ev.value} (event {ev.seq}).")
        return 0
    ev = proj.label(typed_id(proj, a.sample_id), typed_label(proj, task, a.label), task=task,
                    annotator=proj.annotator, seconds=a.seconds, input="cli")
    print(f"Saved: {ev.sample_id} -> {ev.task} = {ev.value} (event {ev.seq}).")
    return 0


def cmd_skip(a: argparse.Namespace) -> int:
    proj = open_project(a.project)
    ev = proj.skip(typed_id(proj, a.sample_id), annotator=proj.annotator)
    print(f"Skipped {ev.sample_id} (event {ev.seq}).")
    return 0


def cmd_flag(a: argparse.Namespace) -> int:
    proj = open_project(a.project)
    ev = proj.flag(typed_id(proj, a.sample_id), annotator=proj.annotator, note=a.note)
    print(f"Flagged {ev.sample_id} (event {ev.seq}).")
    return 0


def _step_back_or_forth(a: argparse.Namespace, which: str, done: str) -> int:
    """``undo`` or ``redo`` of this command's annotator's own last action."""
    proj = open_project(a.project)
    ev = getattr(proj, which)()
    print(f"Nothing of {proj.annotator}'s to {which}." if ev is None
          else f"{done} {proj.annotator}'s {ev.kind} of {ev.sample_id} (event {ev.seq}).")
    return 0


def cmd_undo(a: argparse.Namespace) -> int:
    return _step_back_or_forth(a, "undo", "Undid")


def cmd_redo(a: argparse.Namespace) -> int:
    return _step_back_or_forth(a, "redo", "Redid")


def cmd_retrain(a: argparse.Namespace) -> int:
    proj = open_project(a.project)
    p = proj.retrain()
    if p is None:
        print("Not enough labels to train: each task needs two classes labeled.")
    else:
        print(f"Model v{p.version} on {p.n_labels} labels: CV accuracy "
              f"{p.cv_accuracy if p.cv_accuracy is None else round(p.cv_accuracy, 3)}")
    return 0


def add_parsers(sub) -> None:
    """The ``query``, ``label``, ``skip``, ``flag``, ``undo``, ``redo`` and ``retrain`` sub-commands."""
    q = sub.add_parser("query", help="print the next samples to label")
    q.add_argument("project")
    q.add_argument("-n", type=positive_int("n"), default=None,
                   help="how many, at least 1 (default: the batch size)")
    q.add_argument("--strategy")
    q.add_argument("--json", action="store_true")
    q.add_argument("--show", action="store_true", help="print each sample as 'activelab show' "
                   "does (texts, image path and size, values, suggestion)")
    add_annotator_argument(q, "who the samples are handed to (claimed for the project's "
                           "lease_minutes, so no other annotator gets them)")
    q.set_defaults(func=cmd_query)

    lab = sub.add_parser(
        "label", help="label a sample (saved before this returns)",
        description="Label a sample. The label (each part of a multi-label value), the task "
                    "and the annotator are stripped of surrounding whitespace and carriage "
                    "returns ('pos ' and 'pos\\r' from a Windows script are 'pos'); the sample "
                    "id is matched as typed first, then stripped.")
    lab.add_argument("project")
    lab.add_argument("sample_id", help="the sample's id, as imported")
    lab.add_argument("label", help="a class; for multi-label tasks several joined by '|' "
                                   "(or a JSON array), and [] for the empty set (no class "
                                   "applies); surrounding whitespace and \\r are stripped")
    lab.add_argument("--task")
    add_annotator_argument(lab)
    lab.add_argument("--seconds", type=nonnegative_float("--seconds"),
                     help="time spent on the sample (>= 0)")
    lab.add_argument("--review", action="store_true", help="record a reviewer's decision on "
                     "a disagreement (strategy review:disagreement; see 'activelab agreement')")
    lab.set_defaults(func=cmd_label)

    for name, fn, hlp in (("skip", cmd_skip, "skip a sample"), ("flag", cmd_flag, "flag a sample")):
        sp = sub.add_parser(name, help=hlp)
        sp.add_argument("project")
        sp.add_argument("sample_id")
        add_annotator_argument(sp)
        if name == "flag":
            sp.add_argument("--note")
        sp.set_defaults(func=fn)

    for name, fn, hlp in (("undo", cmd_undo, "undo the last label, skip or flag"),
                          ("redo", cmd_redo, "redo what was undone"),
                          ("retrain", cmd_retrain, "retrain the model now")):
        sp = sub.add_parser(name, help=hlp)
        sp.add_argument("project")
        if name != "retrain":
            add_annotator_argument(sp, "whose own last action (default: as for 'label')")
        sp.set_defaults(func=fn)
