"""The latest label events; selecting one asks to show that sample so its label can be changed."""
from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

KIND_TEXT = {"label": "", "skip": "skipped", "flag": "flagged", "undo": "undo", "redo": "redo"}


def event_text(ev: Any) -> str:
    """One history line: when, which sample, what happened."""
    when = time.strftime("%H:%M:%S", time.localtime(ev.time))
    if ev.kind == "label":
        value = ", ".join(map(str, ev.value)) if isinstance(ev.value, (list, tuple)) else str(ev.value)
        task = f"{ev.task}: " if ev.task else ""
        return f"{when}  {ev.sample_id}  →  {task}{value}"
    return f"{when}  {ev.sample_id}  ({KIND_TEXT.get(ev.kind, ev.kind)})"


class HistoryView(QWidget):
    """A list of recent events, newest first. Emits ``sample_id_requested`` on selection."""

    sample_id_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setObjectName("historyList")
        self.list.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.list.itemActivated.connect(self._on_list_item)
        self.list.itemClicked.connect(self._on_list_item)
        hint = QLabel("Click a label to show that sample and change it.")
        hint.setWordWrap(True)
        hint.setObjectName("hint")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.list, 1)
        lay.addWidget(hint)

    def set_events(self, events: list[Any]) -> None:
        self.list.clear()
        for ev in events:
            item = QListWidgetItem(event_text(ev))
            item.setData(Qt.ItemDataRole.UserRole, ev.sample_id)
            if ev.kind != "label":
                item.setForeground(Qt.GlobalColor.gray)
            self.list.addItem(item)

    def _on_list_item(self, item: QListWidgetItem) -> None:
        sid = item.data(Qt.ItemDataRole.UserRole)
        if sid:
            self.sample_id_requested.emit(str(sid))
