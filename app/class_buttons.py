"""The class buttons of one task, wrapped onto as many rows as the width needs.

Every button shows its class's full name and, when it has one, its key (``Personal Care   [5]``);
a button is never narrower than its text. When the panel is narrow (three tasks beside two
docks at 1024x768, or a display scale of 2) the buttons flow onto more rows and the panel grows
taller instead of cutting names ("cessories", "Casual [1").
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QSizePolicy, QWidget

from activelab.app.flow_layout import FlowLayout

BUTTON_MIN_HEIGHT = 30


def button_text(cls: str, key: str) -> str:
    """What a class button says: the class and its key; a class named by its own key (digits)
    just its name."""
    if not key or key == cls:
        return cls
    return f"{cls}   [{key}]"


class ClassButtons(QWidget):
    """One checkable button per class in a :class:`FlowLayout`.

    ``on_click(cls)`` is called when a button is clicked. ``show_classes`` decides which
    classes are shown, in which order, and with which keys (the filter's result).
    """

    def __init__(self, classes: list[str], on_click: Callable[[str], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("classButtons")
        self.flow = FlowLayout(self, h_spacing=6, v_spacing=4)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
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
        self._fit_height()

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        return self.flow.heightForWidth(width)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._fit_height()

    def _fit_height(self) -> None:
        """Ask for the rows the current width needs, so no parent layout squeezes them away."""
        width = self.width() if self.width() > 0 else self.flow.minimumSize().width()
        need = self.flow.heightForWidth(width)
        if self.minimumHeight() != need:
            self.setMinimumHeight(need)

    def rows(self) -> list[list[QPushButton]]:
        """The shown buttons, row by row, as laid out now."""
        return self.flow.rows()
