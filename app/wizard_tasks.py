"""The task editor of the new-project wizard: one row per labeling task.

Each row: name, where the classes come from (typed in, or the values of a column), the
classes (comma-separated when typed in; for a column, its values with their counts, read
only), and whether the task is multi-label. Picking a column names the task after it, until
the user types a name of their own. ``specs()``
turns the rows into the ``tasks=`` / ``multilabel=`` arguments of ``Project.create``
("NAME:a,b,c" or "NAME=COLUMN").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QHBoxLayout, QHeaderView, QLineEdit, QPushButton, QTableWidget,
    QVBoxLayout, QWidget,
)

from activelab.app.wizard_pages import describe_values

TYPED = "typed in →"
AUTO_NAME = "auto_name"   # property of a name field: still named by the program, not the user


@dataclass(frozen=True)
class TaskRow:
    name: str
    column: str | None          # classes (and optional labels) from this column
    classes: tuple[str, ...]    # when typed in
    multilabel: bool


class TaskEditor(QWidget):
    """Editable list of tasks; emits ``changed`` on every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._columns: list[str] = []
        self._values: Mapping[str, tuple[list[tuple[str, int]], int]] = {}
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Task name", "Classes from", "Classes", "Multi-label"])
        h = self.table.horizontalHeader()
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        h.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        h.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        h.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setColumnWidth(0, 170)
        self.table.setColumnWidth(1, 170)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(36)
        self.add_button = QPushButton("Add task")
        self.remove_button = QPushButton("Remove task")
        self.add_button.clicked.connect(lambda: self.add_task())
        self.remove_button.clicked.connect(self._on_remove_button_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.table, 1)
        lay.addLayout(buttons)

    def set_columns(self, columns: Sequence[str],
                    values: Mapping[str, tuple[list[tuple[str, int]], int]] | None = None) -> None:
        """The data columns a task may take its classes from, and each column's most frequent
        values with counts and its number of distinct values (shown as the classes)."""
        self._columns = list(columns)
        self._values = dict(values or {})
        for r in range(self.table.rowCount()):
            combo: QComboBox = self.table.cellWidget(r, 1)
            current = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItems([TYPED, *self._columns])
            combo.setCurrentText(current if current in self._columns else TYPED)
            combo.blockSignals(False)
            self._sync_row(r)

    def clear(self) -> None:
        self.table.setRowCount(0)
        self.changed.emit()

    def add_task(self, name: str = "", column: str | None = None,
                 classes: Sequence[str] = (), multilabel: bool = False) -> int:
        r = self.table.rowCount()
        self.table.insertRow(r)
        name_edit = QLineEdit(name or f"task{r + 1}")
        name_edit.setPlaceholderText("e.g. sentiment")
        name_edit.setProperty(AUTO_NAME, not name or name == column or name == "label")
        name_edit.textEdited.connect(lambda _t, e=name_edit: e.setProperty(AUTO_NAME, False))
        combo = QComboBox()
        combo.addItems([TYPED, *self._columns])
        combo.setCurrentText(column if column in self._columns else TYPED)
        classes_edit = QLineEdit(", ".join(classes))
        classes_edit.setPlaceholderText("comma-separated, e.g. positive, negative, neutral")
        multi = QCheckBox()
        multi.setChecked(multilabel)
        multi.setToolTip("Several classes may apply to one sample")
        holder = QWidget()
        hl = QHBoxLayout(holder)
        hl.setContentsMargins(12, 0, 12, 0)
        hl.addWidget(multi)
        for col, w in enumerate((name_edit, combo, classes_edit, holder)):
            self.table.setCellWidget(r, col, w)
        name_edit.textChanged.connect(self.changed)
        classes_edit.textChanged.connect(self.changed)
        multi.toggled.connect(self.changed)
        combo.currentTextChanged.connect(lambda t, e=name_edit: self._on_source_changed(e, t))
        self._sync_row(r)
        self.changed.emit()
        return r

    def rows(self) -> list[TaskRow]:
        out = []
        for r in range(self.table.rowCount()):
            name = self.table.cellWidget(r, 0).text().strip()
            source = self.table.cellWidget(r, 1).currentText()
            text = self.table.cellWidget(r, 2).text()
            multi = self.table.cellWidget(r, 3).findChild(QCheckBox).isChecked()
            column = None if source == TYPED else source
            classes = tuple(c.strip() for c in text.split(",") if c.strip()) if column is None else ()
            out.append(TaskRow(name, column, classes, multi))
        return out

    def problem(self) -> str | None:
        """Why the tasks cannot be used yet (shown under the table), or None."""
        rows = self.rows()
        if not rows:
            return "Add at least one task."
        names = [r.name for r in rows]
        for r in rows:
            if not r.name:
                return "Every task needs a name."
            if names.count(r.name) > 1:
                return f"Task name '{r.name}' is used twice; give each task its own name."
            if r.column is None and len(r.classes) < 2:
                return f"Task '{r.name}': type at least two classes, separated by commas."
        return None

    def specs(self) -> tuple[list[str], list[str]]:
        """(tasks, multilabel) as Project.create takes them."""
        tasks = [f"{r.name}={r.column}" if r.column else f"{r.name}:{','.join(r.classes)}"
                 for r in self.rows()]
        return tasks, [r.name for r in self.rows() if r.multilabel]

    def label_columns(self) -> set[str]:
        return {r.column for r in self.rows() if r.column}

    # --------------------------------------------------------------- helpers
    def _on_source_changed(self, name_edit: QLineEdit, source: str) -> None:
        if source != TYPED and name_edit.property(AUTO_NAME):
            name_edit.setText(source)      # the task is named after its column
        for r in range(self.table.rowCount()):
            self._sync_row(r)
        self.changed.emit()

    def _sync_row(self, r: int) -> None:
        combo: QComboBox = self.table.cellWidget(r, 1)
        edit: QLineEdit = self.table.cellWidget(r, 2)
        typed = combo.currentText() == TYPED
        was_typed = not edit.isReadOnly()
        edit.setReadOnly(not typed)
        edit.setObjectName("" if typed else "fromColumn")
        if not typed:
            column = combo.currentText()
            values, distinct = self._values.get(column, ([], 0))
            edit.setPlaceholderText(f"the values of column '{column}'")
            edit.setText(describe_values(values, distinct) if column in self._values else "")
            edit.setCursorPosition(0)
            edit.setToolTip(f"Column '{column}': {distinct:,} distinct values; the most frequent:\n"
                            + "\n".join(f"{v}: {n:,}" for v, n in values))
        else:
            if not was_typed:
                edit.setText("")
            edit.setToolTip("")
            edit.setPlaceholderText("comma-separated, e.g. positive, negative, neutral")

    def _on_remove_button_clicked(self) -> None:
        r = self.table.currentRow()
        if r < 0:
            r = self.table.rowCount() - 1
        if r >= 0:
            self.table.removeRow(r)
            self.changed.emit()
