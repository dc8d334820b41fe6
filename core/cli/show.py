"""``activelab show PROJECT ID`` and ``query --show``: a sample printed as the app presents it.

What the app's sample view shows, in a terminal: each text column wrapped to the terminal's
width (line breaks of the text kept), the image as its file path (or its row of an imported
array) with its size in pixels and mode as decoded for the screen, the tabular feature values
as name/value lines (every column when the sample has no text, image or features), then the
sample's labels, skip/flag and the model's suggestion, so labeling from the shell needs no
look into the source file. The tasks' own label columns are not shown, as in the app; in
blind mode no suggestion is shown.
"""
from __future__ import annotations

import argparse
import shutil
import textwrap
from datetime import datetime, timezone
from typing import Any

INDENT = "    "
MAX_NAME = 28


def terminal_width(default: int = 100) -> int:
    """Columns of the terminal (``COLUMNS`` first), ``default`` when not a terminal; >= 40."""
    return max(40, shutil.get_terminal_size((default, 24)).columns)


def wrap_text(text: str, width: int, indent: str = INDENT) -> list[str]:
    """``text`` wrapped to ``width`` columns with ``indent``; its own line breaks kept,
    an empty line for each empty line of the text."""
    out: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        wrapped = textwrap.wrap(line, width=max(20, width - len(indent)), break_long_words=True,
                                replace_whitespace=False, drop_whitespace=True)
        out += [indent + w for w in wrapped] or [indent.rstrip()]
    return out


def _value(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return "(empty)"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(str(x) for x in v) + "]"
    s = str(v)
    return s if s.strip() else repr(s)


def _label(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "|".join(str(x) for x in v) if v else "[] (no class applies)"
    return str(v)


def _image_line(proj: Any, idx: int, ref: str) -> str:
    """Where the image is, its size and mode as decoded for the screen, or why it cannot be shown."""
    from activelab.core.data.images import is_array_ref, resolve_image
    from activelab.core.errors import ActiveLabError

    if is_array_ref(ref):
        where = f"row {ref.split(':', 1)[1]} of the imported array ({proj.path / 'images.npy'})"
    else:
        try:
            where = str(resolve_image(ref, proj.image_root()))
        except ActiveLabError:
            where = ref
    try:
        img = proj.image(idx)
    except (ActiveLabError, OSError) as exc:
        return f"{where}\n{INDENT}cannot be shown: {exc}"
    return f"{where}  ({img.width}x{img.height} pixels, {img.mode})"


def sample_lines(proj: Any, idx: int, item: Any = None, width: int | None = None) -> list[str]:
    """The lines ``activelab show`` prints for sample ``idx`` (0-based pool position) of
    ``proj`` (a Project); ``item``: its QueueItem, whose suggestion and provenance are shown
    (else the saved queue's item for it, if any). ``width``: terminal columns."""
    width = width or terminal_width()
    sample = proj.sample(idx)
    spec = proj.spec
    hidden = {t.column for t in spec.tasks if t.column}
    lines = [f"Sample {sample.id}  (row {idx + 1:,} of {proj.n_samples:,})"]
    if sample.image_ref is not None:
        lines.append(f"  image '{spec.image_column}': " + _image_line(proj, idx, str(sample.image_ref)))
    for column, text in sample.texts.items():
        if column in hidden:
            continue
        lines.append(f"  text '{column}':")
        lines += wrap_text(text, width)
    rows = {k: v for k, v in sample.tabular.items() if k not in hidden}
    if not (sample.image_ref is not None or sample.texts or rows):
        rows = {k: v for k, v in sample.fields.items() if k not in hidden}
    if rows:
        lines.append("  features:" if sample.tabular else "  columns:")
        pad = min(MAX_NAME, max(len(str(k)) for k in rows))
        for k, v in rows.items():
            head = f"{INDENT}{str(k):<{pad}}  "
            body = textwrap.wrap(_value(v), max(20, width - len(head))) or [""]
            lines.append(head + body[0])
            lines += [" " * len(head) + b for b in body[1:]]
    lines += _label_lines(proj, sample.id, width)
    lines += _suggestion_lines(proj, idx, item)
    return lines


def _label_lines(proj: Any, sample_id: str, width: int) -> list[str]:
    state = proj.label_state()
    out = []
    if not proj.shown_labels(proj.index_of(sample_id)) and state.is_labeled(sample_id):
        # an overlap sample this annotator has not labeled: the others' labels stay hidden
        return [f"  labels hidden: an overlap sample ({proj.settings.overlap_annotators} "
                f"annotators label it blind); label it first, as {proj.annotator}"]
    for t in proj.spec.tasks:
        if sample_id in state.labels.get(t.name, {}):
            ev = state.provenance.get((t.name, sample_id))
            who = []
            if ev is not None:
                if ev.annotator:
                    who.append(ev.annotator)
                who.append(datetime.fromtimestamp(ev.time, timezone.utc).strftime("%Y-%m-%d %H:%M UTC"))
            out.append(f"  label {t.name} = {_label(state.labels[t.name][sample_id])}"
                       + (f"  ({', '.join(who)})" if who else ""))
    if not out:
        out.append("  not labeled yet; classes:")
        for t in proj.spec.tasks:
            classes = ", ".join(t.classes[:30]) + (f", … {len(t.classes) - 30} more"
                                                    if len(t.classes) > 30 else "")
            out += textwrap.wrap(f"{t.name}: {classes}", width, initial_indent=INDENT,
                                 subsequent_indent=INDENT + "  ")
    if sample_id in state.skipped:
        out.append("  skipped")
    if sample_id in state.flagged:
        out.append("  flagged")
    return out


def _suggestion_lines(proj: Any, idx: int, item: Any) -> list[str]:
    if item is None:
        item = next((q for q in proj.queue() if q.idx == idx), None)
    if item is None:
        return []
    if proj.settings.blind_mode:
        return ["  suggestion: hidden (blind mode is on)"]
    out = []
    if item.predictions:
        out.append("  suggestion: " + ", ".join(
            f"{t} = {_label(p.label)} ({p.confidence:.0%})" for t, p in item.predictions.items()))
    if item.reason:
        out.append(f"  why: {item.reason}")
    return out


def cmd_show(a: argparse.Namespace) -> int:
    from activelab.core.cli.context import open_project as _project, typed_id as _typed_id

    proj = _project(a.project)
    idx = proj.index_of(_typed_id(proj, a.sample_id))
    print("\n".join(sample_lines(proj, idx)))
    return 0


def add_parser(sub: Any) -> None:
    sp = sub.add_parser(
        "show", help="print a sample as the app shows it",
        description="Print one sample as the app presents it: texts wrapped to the terminal, "
                    "the image's path with its size and mode, tabular values as name/value "
                    "lines, then its labels and the model's suggestion (if it is queued).")
    sp.add_argument("project")
    from activelab.core.cli.context import add_annotator_argument

    add_annotator_argument(sp, "whose view (blind to others' labels on overlap samples "
                               "they have not labeled)")
    sp.add_argument("sample_id", help="the sample's id, as imported (as 'activelab query' prints it)")
    sp.set_defaults(func=cmd_show)


BLIND_NOTE = "the model's suggestions are hidden (blind mode is on)"


def without_suggestions(proj: Any, items: list) -> tuple[list, bool]:
    """``items`` (QueueItems) as a command may print them: in blind mode (project setting
    ``blind_mode``) each without its predictions, so neither text nor JSON output shows the
    model's guess. Returns (items, hidden): ``hidden`` is True when predictions were removed."""
    if not proj.settings.blind_mode:
        return items, False
    from dataclasses import replace

    return [replace(it, predictions={}) for it in items], True
