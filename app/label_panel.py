"""Label buttons, one row per task, driven by keyboard or mouse.

Keys (window-wide, defined in ``activelab.app.keys.PANEL_KEYS``): 1-9 and 0 pick a class of the
active task (the filter box narrows a task with more than nine classes); Tab / Shift+Tab move
between tasks; A accepts the model's suggestion for every task not picked yet and submits
(``activelab.app.accept``), Enter does the same on an untouched sample and otherwise submits
when every task has a label (a single single-label task submits on the key itself);
multi-label tasks toggle. Space skips, F flags, Ctrl+Z undoes, Ctrl+Shift+Z redoes. The panel only emits requests; the
controller commits them. Read-only (``set_read_only``): the buttons are greyed, a class key
selects nothing and emits ``blocked`` (the window points to why).
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget,
)

from activelab.app.accept import AcceptMixin
from activelab.app.class_buttons import ClassButtons, ClassFilter, TaskRowsArea, reveal
from activelab.app.flow_layout import FlowWidget
from activelab.app.keys import CLASS_KEYS, PANEL_KEYS
from activelab.core.records import Prediction

KEYS = CLASS_KEYS
FILTER_ABOVE = 9   # a task with more classes than this gets the type-to-filter box
PANEL_STYLE = """
QFrame#taskRow[active="true"] { background: #eaf2fb; border: 1px solid #b7d0ea; border-radius: 6px; }
QFrame#taskRow QPushButton { min-width: 28px; padding: 4px 6px; }
QFrame#taskRow QPushButton:checked { background: #1c4e80; color: #ffffff; border: 1px solid #1c4e80; }
QFrame#taskRow QPushButton[suggested="true"] { border: 2px dashed #d08a00; }
QFrame#taskRow QPushButton[suggested="true"]:checked { border: 2px solid #d08a00; }
QLabel#taskName { font-weight: 600; }
QLabel#suggestion { color: #7a5200; }
QScrollArea#taskRowsArea, QWidget#taskRows { background: transparent; }
"""


class TaskRow(QFrame):
    """The buttons of one task plus the model's suggestion for it."""

    class_clicked = Signal(str, str)   # task, class

    def __init__(self, task: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.task = task
        self.setObjectName("taskRow")
        self.selected: list[str] = []
        self.name = QLabel(f"{task.name}{'  (several)' if task.multilabel else ''}")
        self.name.setObjectName("taskName")
        self.name.setMinimumWidth(110)
        self.suggestion = QLabel()
        self.suggestion.setObjectName("suggestion")
        self.filter = ClassFilter()
        self.filter.textChanged.connect(self._apply_filter)
        self.filter.returnPressed.connect(self._on_filter_return)
        self.filter.setVisible(len(task.classes) > FILTER_ABOVE)
        self.class_buttons = ClassButtons(list(task.classes),
                                          lambda c: self.class_clicked.emit(self.task.name, c))
        self.buttons = self.class_buttons.buttons
        head = QHBoxLayout()
        head.addWidget(self.name)
        head.addWidget(self.filter)
        head.addStretch(1)
        head.addWidget(self.suggestion)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(4)
        lay.addLayout(head)
        lay.addWidget(self.class_buttons)
        self._apply_filter("")

    def visible_classes(self) -> list[str]:
        f = self.filter.text().strip().lower()
        return [c for c in self.task.classes if f in c.lower()]

    def keyed_classes(self) -> dict[str, str]:
        """Key -> class. Classes named by single digits keep their own digit (press 7 for "7")."""
        visible = self.visible_classes()
        if visible and all(len(c) == 1 and c.isdigit() for c in visible):
            return {c: c for c in visible}
        return {KEYS[i]: c for i, c in enumerate(visible[:len(KEYS)])}

    def _apply_filter(self, _text: str = "") -> None:
        """Show the classes matching the filter; keys 1-9, 0 go to them in order."""
        key_of = {c: k for k, c in self.keyed_classes().items()}
        self.class_buttons.show_classes(self.visible_classes(), key_of)

    def _on_filter_return(self) -> None:
        visible = self.visible_classes()
        if len(visible) == 1:
            self.filter.clearFocus()   # the keys work again
            self.class_clicked.emit(self.task.name, visible[0])

    def set_selected(self, values: list[str]) -> None:
        self.selected = list(values)
        for c, b in self.buttons.items():
            b.setChecked(c in self.selected)

    def set_suggestion(self, label: Any, confidence: float | None, show: bool) -> None:
        labels = set(label) if isinstance(label, (list, tuple)) else ({label} if label is not None else set())
        for c, b in self.buttons.items():
            b.setProperty("suggested", show and c in labels)
            b.style().unpolish(b)
            b.style().polish(b)
        if not show or label is None:
            self.suggestion.setText("")
            return
        text = ", ".join(str(x) for x in label) if isinstance(label, (list, tuple)) else str(label)
        conf = "" if confidence is None else f" · {confidence:.0%}"
        self.suggestion.setText(f"model suggests <b>{text or '(none)'}</b>{conf}")

    def set_active(self, active: bool) -> None:
        self.setProperty("active", active)
        self.name.setText(("▶ " if active else "") + self.task.name + ("  (several)" if self.task.multilabel else ""))
        self.style().unpolish(self)
        self.style().polish(self)
        if active:
            reveal(self)   # scrolled into view when the rows scroll (a short screen)


class LabelPanel(QWidget, AcceptMixin):
    """All task rows, the action buttons and the "Why this sample" line."""

    submitted = Signal(dict)          # {task: value}; value is a str, or a list for multi-label
    skip_requested = Signal()
    flag_requested = Signal()
    undo_requested = Signal()
    redo_requested = Signal()
    hint_changed = Signal(str)
    blocked = Signal()                # a class was picked on a read-only project

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("labelPanel")
        self.setStyleSheet(PANEL_STYLE)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.rows: list[TaskRow] = []
        self.active = 0
        self.blind = False
        self.read_only = False
        self._suggestions: dict[str, tuple[Any, float | None]] = {}
        self._rows_area = TaskRowsArea()   # scrolls rather than clips on a short screen
        self._rows_box = self._rows_area.box
        self.why = QLabel()
        self.why.setObjectName("whyThisSample")
        self.why.setWordWrap(True)
        self.why.setTextFormat(Qt.TextFormat.RichText)
        self.submit_button = self._action("Submit  ⏎", self._submit_if_complete)
        self.skip_button = self._action("Skip  Space", self.skip_requested.emit)
        self.flag_button = self._action("Flag  F", self.flag_requested.emit)
        self.undo_button = self._action("Undo  Ctrl+Z", self.undo_requested.emit)
        self.redo_button = self._action("Redo  Ctrl+Shift+Z", self.redo_requested.emit)
        self._init_accept()
        for b in (self.submit_button, self.skip_button, self.flag_button, self.undo_button, self.redo_button):
            b.setStyleSheet("padding: 4px 8px;")
        actions = FlowWidget(h_spacing=6)   # wraps in a narrow window instead of widening it
        for b in (self.accept_button, self.submit_button, self.skip_button, self.flag_button, self.undo_button,
                  self.redo_button):
            actions.add(b)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 8)
        lay.addWidget(self._rows_area)
        lay.addWidget(actions)
        lay.addWidget(self.why)
        self._shortcuts()

    def _action(self, text: str, slot: Any) -> QPushButton:
        b = QPushButton(text)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        b.clicked.connect(lambda _=False: slot())
        return b

    def _shortcuts(self) -> None:
        """One window-wide QShortcut per key of ``PANEL_KEYS`` (``self.shortcuts``: name ->
        its shortcuts, each named ``key_<name>`` with the description as What's This)."""
        slots: dict[str, Any] = {
            "accept": self.accept_suggestion, "submit": self._on_enter,
            "next_task": lambda: self.set_active(self.active + 1),
            "previous_task": lambda: self.set_active(self.active - 1),
            "skip": self.skip_requested.emit, "flag": self.flag_requested.emit,
            "undo": self.undo_requested.emit, "redo": self.redo_requested.emit,
            "filter": self._focus_filter,
        }
        self.shortcuts: dict[str, list[QShortcut]] = {}
        for b in PANEL_KEYS:
            for i, k in enumerate(b.keys):
                sc = QShortcut(QKeySequence(k), self, context=Qt.ShortcutContext.WindowShortcut)
                sc.setObjectName(f"key_{b.name}")
                sc.setWhatsThis(b.description)
                sc.activated.connect((lambda i=i: self.press_number(i)) if b.name == "class"
                                     else slots[b.name])
                self.shortcuts.setdefault(b.name, []).append(sc)

    # ----- data in ---------------------------------------------------------------------------
    def set_tasks(self, tasks: list[Any]) -> None:
        for row in self.rows:
            row.setParent(None)
            row.deleteLater()
        self.rows = []
        for t in tasks:
            row = TaskRow(t)
            row.class_clicked.connect(self._on_row_class_clicked)
            self._rows_box.addWidget(row)
            self.rows.append(row)
        self.set_active(0)
        if self.read_only:
            self.set_read_only(True)

    def set_sample(self, existing: dict[str, Any], predictions: dict[str, Prediction], why: str,
                   no_suggestion: str = "") -> None:
        """A new sample: preselect its existing labels, show suggestions and the reason
        (``no_suggestion``: why there are none, said when the accept key is pressed)."""
        self._reset_inputs(existing, no_suggestion)
        for row in self.rows:
            v = existing.get(row.task.name)
            row.set_selected([] if v is None else (list(v) if isinstance(v, (list, tuple)) else [str(v)]))
            row.filter.clear()
        self._suggestions = {}
        for task, p in (predictions or {}).items():
            self._suggestions[task] = (p.label, p.confidence)
        self._show_suggestions()
        self.why.setText(why)
        self.set_active(0)
        self._refresh_accept()

    def set_read_only(self, read_only: bool) -> None:
        """Viewing only: no class can be chosen, the action buttons are greyed out."""
        self.read_only = read_only
        for b in (self.submit_button, self.skip_button, self.flag_button, self.undo_button,
                  self.redo_button, *(b for row in self.rows for b in row.buttons.values())):
            b.setEnabled(not read_only)
        self._refresh_accept()

    def set_blind(self, blind: bool) -> None:
        self.blind = blind
        self._show_suggestions()
        self._refresh_accept()

    def _show_suggestions(self) -> None:
        for row in self.rows:
            label, conf = self._suggestions.get(row.task.name, (None, None))
            row.set_suggestion(label, conf, show=not self.blind)

    # ----- keys and clicks ------------------------------------------------------------------
    def set_active(self, i: int) -> None:
        if not self.rows:
            return
        self.active = i % len(self.rows)
        for j, row in enumerate(self.rows):
            row.set_active(j == self.active and len(self.rows) > 1)

    def press_number(self, i: int) -> None:
        """The ``i``-th number key (1, 2, ..., 9, 0) on the active task."""
        if not self.rows:
            return
        row = self.rows[self.active]
        cls = row.keyed_classes().get(KEYS[i])
        if cls is not None:
            self.pick(row.task.name, cls, "typed")

    def _on_row_class_clicked(self, task: str, cls: str) -> None:
        j = next(j for j, r in enumerate(self.rows) if r.task.name == task)
        self.set_active(j)
        self.pick(task, cls, "typed" if self.rows[j].filter.hasFocus() else "clicked")

    def pick(self, task: str, cls: str, how: str = "typed") -> None:
        """Choose (single-label) or toggle (multi-label) a class; may submit at once.
        ``how``: how it was entered (``typed`` or ``clicked``), recorded with the label."""
        if self.read_only:
            self.blocked.emit()
            return
        row = next(r for r in self.rows if r.task.name == task)
        self._note_input(task, how)
        if row.task.multilabel:
            sel = [c for c in row.selected if c != cls] if cls in row.selected else row.selected + [cls]
            row.set_selected(sel)
            return
        row.set_selected([cls])
        if len(self.rows) == 1:
            self._submit_if_complete()
            return
        # On to the next task still without a label, after this one (wrapping around): fixing
        # the 2nd and 3rd task of a suggestion then needs no Tab between them.
        n, at = len(self.rows), self.rows.index(row)
        nxt = next((j % n for j in range(at + 1, at + n) if not self.rows[j % n].selected), None)
        if nxt is not None:
            self.set_active(nxt)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for row in self.rows:
            if row.task.multilabel:
                if row.selected:
                    out[row.task.name] = list(row.selected)
            elif row.selected:
                out[row.task.name] = row.selected[0]
        return out

    def _submit_if_complete(self) -> None:
        if self.read_only:
            self.blocked.emit()
            return
        values = self.values()
        missing = [r.task.name for r in self.rows if r.task.name not in values]
        if missing:
            self.set_active(next(j for j, r in enumerate(self.rows) if r.task.name == missing[0]))
            self.hint_changed.emit(f"Choose a label for {', '.join(missing)} first (Tab moves between tasks).")
            return
        self.submitted.emit(values)

    def _focus_filter(self) -> None:
        if self.rows and self.rows[self.active].filter.isVisible():
            self.rows[self.active].filter.setFocus()

