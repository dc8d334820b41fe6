"""The class buttons of one task, wrapped onto as many rows as the width needs.

Every button shows its class's full name and, when it has one, its key (``Personal Care   [5]``);
a button is never narrower than its text. When the panel is narrow (three tasks beside two
docks at 1024x768, or a display scale of 2) the buttons flow onto more rows and the panel grows
taller instead of cutting names ("cessories", "Casual [1").
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame, QLineEdit, QPushButton, QScrollArea, QSizePolicy, QVBoxLayout, QWidget,
)

from activelab.app.flow_layout import FlowWidget

BUTTON_MIN_HEIGHT = 30


def button_text(cls: str, key: str) -> str:
    """What a class button says: the class and its key; a class named by its own key (digits)
    just its name."""
    if not key or key == cls:
        return cls
    return f"{cls}   [{key}]"


class ClassButtons(FlowWidget):
    """One checkable button per class in a :class:`FlowLayout`.

    ``on_click(cls)`` is called when a button is clicked. ``show_classes`` decides which
    classes are shown, in which order, and with which keys (the filter's result).
    """

    def __init__(self, classes: list[str], on_click: Callable[[str], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, h_spacing=6, v_spacing=4)
        self.setObjectName("classButtons")
        self.buttons: dict[str, QPushButton] = {}
        for c in classes:
            b = QPushButton(c)
            b.setCheckable(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            b.setMinimumHeight(BUTTON_MIN_HEIGHT)
            b.clicked.connect(lambda _=False, c=c: on_click(c))
            self.buttons[c] = b

    def show_classes(self, visible: list[str], key_of: dict[str, str]) -> None:
        """Show ``visible`` classes in that order, each labelled with its key from ``key_of``
        (class -> key; a class without a key is clicked, or filtered into the keys)."""
        while self.flow.count():
            self.flow.takeAt(0)
        for b in self.buttons.values():
            b.setVisible(False)
        for c in visible:
            b = self.buttons[c]
            key = key_of.get(c, "")
            b.setText(button_text(c, key))
            b.setToolTip(f"{c}: press {key}" if key else f"{c}: click, or filter to give it a key")
            b.setMinimumWidth(b.sizeHint().width())   # never narrower than its full text
            self.flow.addWidget(b)
            b.setVisible(True)
        self.fit_height()


class ClassFilter(QLineEdit):
    """The type-to-filter box of a task with many classes (``/`` focuses it).

    While it has focus, Enter and Return are its own (``returnPressed``: pick the only match)
    rather than the window's submit key; Esc hands the keys back to the window, the filter
    staying, so 1-9, 0 pick among the classes that match."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("/ to filter…")
        self.setClearButtonEnabled(True)
        self.setMaximumWidth(180)
        leave = QShortcut(QKeySequence(Qt.Key.Key_Escape), self,
                          context=Qt.ShortcutContext.WidgetShortcut)
        leave.setWhatsThis("Leave the class filter (its keys stay on the filtered classes)")
        leave.activated.connect(self.clearFocus)

    def event(self, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.ShortcutOverride
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            event.accept()   # a key press for the box, not the window's shortcut
            return True
        return super().event(event)


class TaskRowsArea(QScrollArea):
    """Holds the task rows (``box``): as tall as the wrapped rows need when the window has the
    room, scrolling instead of cutting them when it has not (a short screen, a display scale
    of 2). Never shorter than ``MIN_SHOWN`` pixels."""

    MIN_SHOWN = 96       # a task's name and a row of buttons
    MAX_SHARE = 0.6      # of the window's height, so the sample keeps the rest; beyond it, scroll

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._watched = None
        self.setObjectName("taskRowsArea")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        inner = QWidget()
        inner.setObjectName("taskRows")
        self.box = QVBoxLayout(inner)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.setSpacing(2)
        self.setWidget(inner)
        inner.installEventFilter(self)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        top = self.window()
        if top is not self and top is not self._watched:
            top.installEventFilter(self)   # a taller or shorter window changes the share
            self._watched = top

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if obj is self.widget() and event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Resize):
            self.updateGeometry()   # the rows wrapped differently: ask for their new height
        elif obj is self._watched and event.type() == QEvent.Type.Resize:
            self.updateGeometry()
        return False

    def content_height(self) -> int:
        """The height the rows need at the current width."""
        inner = self.widget()
        need = inner.minimumSizeHint().height()
        if inner.layout() is not None and inner.layout().hasHeightForWidth():
            need = max(need, inner.layout().totalHeightForWidth(self.viewport().width()))
        return need

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        """All the rows, up to MAX_SHARE of the window's height (the sample keeps the rest)."""
        need = self.content_height()
        top = self.window()
        if top is not self and top.height() > 0:
            need = min(need, max(self.MIN_SHOWN, int(top.height() * self.MAX_SHARE)))
        return QSize(self.widget().minimumSizeHint().width(), need)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt override
        bar = self.verticalScrollBar().sizeHint().width()
        return QSize(self.widget().minimumSizeHint().width() + bar,
                     min(self.content_height(), self.MIN_SHOWN))


def reveal(widget: QWidget) -> None:
    """Scroll the nearest enclosing scroll area so that ``widget`` is in view."""
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QScrollArea):
        parent = parent.parentWidget()
    if parent is not None:
        parent.ensureWidgetVisible(widget, 0, 0)
