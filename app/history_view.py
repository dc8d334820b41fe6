"""The latest labeling actions; selecting one asks to show that sample so its label can be changed.

One line per action (an event group): a sample labeled for three tasks at once is one line with
the three values, the way the expert entered it. Undone actions are greyed and marked, and so
is a label replaced by a later one of the same sample and task ("replaced"); labels taken from
the model's suggestion with the accept key say so ("suggestion accepted", or how many of the
tasks were); the tooltip says why the sample was picked (its query provenance). In a project
with more than one annotator each line names who acted ("· alice"); the events given are
already the ones this annotator may see (``Project.history`` hides others' labels of overlap
samples they have not labeled yet), so naming them gives nothing away.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Sequence

from activelab.core.project.history_marks import event_marks
from activelab.core.records import LabelEvent
from activelab.core.project.engine import LabelingEngine

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

KIND_TEXT = {"label": "", "skip": "skipped", "flag": "flagged", "undo": "undo", "redo": "redo"}


@dataclass(frozen=True)
class Action:
    """One history line: the events of one group (one sample submission, skip, flag, undo…)."""

    group: int
    time: float
    kind: str
    sample_id: str | None
    values: tuple[tuple[str | None, Any], ...]   # (task, value) per labeled task
    undone: bool = False
    replaced: tuple[str, ...] = ()               # tasks whose label a later one replaced
    picked_by: str = ""                          # query provenance (strategy) of the action
    accepted: int = 0                            # tasks whose class was the accepted suggestion
    annotator: str = ""                          # who acted ("" when the events named nobody)


def _value_text(v: Any) -> str:
    return ", ".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)


def group_actions(events: Sequence[LabelEvent]) -> list[Action]:
    """Events (newest first, as ``Project.history`` returns them) as one Action per group,
    newest first; a label action later undone (and not redone) is marked ``undone``, the tasks
    of its labels replaced by a later label are in ``replaced``."""
    marks = event_marks(events)
    undone = marks.undone
    out: list[Action] = []
    by_group: dict[int, int] = {}
    for ev in events:
        key = ev.group or ev.seq
        if key in by_group:
            a = out[by_group[key]]
            out[by_group[key]] = Action(a.group, a.time, a.kind, a.sample_id,
                                        ((ev.task, ev.value),) + a.values, a.undone,
                                        tuple(marks.replaced_tasks([ev])) + a.replaced,
                                        a.picked_by or (ev.strategy or ""),
                                        a.accepted + (ev.input == "accepted"), a.annotator)
            continue
        by_group[key] = len(out)
        values = ((ev.task, ev.value),) if ev.kind == "label" else ()
        out.append(Action(key, ev.time, ev.kind, ev.sample_id, values,
                          ev.kind in ("label", "skip", "flag") and key in undone,
                          tuple(marks.replaced_tasks([ev])), ev.strategy or "",
                          int(ev.kind == "label" and ev.input == "accepted"), ev.annotator or ""))
    return out


def several_annotators(project: LabelingEngine) -> bool:
    """Whether ``project`` has more than one annotator, not counting labels imported with
    the data or events that name nobody (O(annotators))."""
    return len(project.annotator_names()) > 1


def action_text(a: Action, show_task: bool = True, show_annotator: bool = False) -> str:
    """One history line: when, which sample, what was decided (and by whom, with
    ``show_annotator``)."""
    when = time.strftime("%H:%M:%S", time.localtime(a.time))
    if a.kind == "label":
        what = " · ".join(f"{t}: {_value_text(v)}" if (t and show_task) else _value_text(v)
                          for t, v in a.values)
        line = f"{when}  {a.sample_id}  →  {what}"
        if a.accepted:
            line += ("   (suggestion accepted)" if a.accepted == len(a.values)
                     else f"   ({a.accepted} of {len(a.values)} accepted)")
    else:
        line = f"{when}  {a.sample_id}  ({KIND_TEXT.get(a.kind, a.kind)})"
    if show_annotator:
        line += f"  · {a.annotator or 'unnamed'}"
    if a.undone:
        return line + "   (undone)"
    if a.replaced:
        every = len(a.replaced) == len(a.values)
        return line + ("   (replaced)" if every or not show_task
                       else f"   ({', '.join(a.replaced)} replaced)")
    return line


class HistoryView(QWidget):
    """A list of recent actions, newest first. Emits ``sample_id_requested`` on selection."""

    sample_id_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setObjectName("historyList")
        self.list.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        # Several tasks make long lines: wrap them inside the dock instead of clipping.
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.itemActivated.connect(self._on_list_item)
        self.list.itemClicked.connect(self._on_list_item)
        hint = QLabel("Click a label to show that sample and change it.")
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.list, 1)
        lay.addWidget(hint)
        self._lines: list[str] = []

    def set_events(self, events: Sequence[LabelEvent], limit: int = 50,
                   show_annotator: bool = False) -> None:
        """Show the latest ``limit`` actions of ``events`` (newest first, any number per group),
        naming who acted on each line with ``show_annotator`` (a team project)."""
        actions = group_actions(events)[:limit]
        tasks = {t for a in actions for t, _v in a.values}
        show_task = len(tasks) > 1
        lines = [action_text(a, show_task, show_annotator) for a in actions]
        if lines == self._lines:
            return   # unchanged: keep the selection and scroll position
        self._lines = lines
        self.list.clear()
        for a, line in zip(actions, lines):
            item = QListWidgetItem(line)
            item.setData(Qt.ItemDataRole.UserRole, a.sample_id)
            item.setToolTip(line + (f"\npicked by: {a.picked_by}" if a.picked_by else ""))
            if a.kind != "label" or a.undone or len(a.replaced) == len(a.values):
                item.setForeground(Qt.GlobalColor.gray)
            self.list.addItem(item)

    def _on_list_item(self, item: QListWidgetItem) -> None:
        sid = item.data(Qt.ItemDataRole.UserRole)
        if sid:
            self.sample_id_requested.emit(str(sid))
