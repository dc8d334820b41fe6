"""A layout that places its widgets left to right and wraps them onto more rows when the width
runs out, like words in a paragraph. Its height follows its width (``heightForWidth``), so a
parent layout gives it as many rows as the current width needs; no item is ever narrower than
its own size hint, so a button's text is never cut.

The idea is the flow layout of Qt's own examples ("Flow Layout Example"); written here afresh.
"""
from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QSizePolicy, QWidget


class FlowLayout(QLayout):
    """Items in reading order, wrapped at the layout's width.

    ``h_spacing`` / ``v_spacing``: pixels between items in a row / between rows. An item wider
    than the whole layout gets a row of its own and the full width (it cannot be wrapped further).
    """

    def __init__(self, parent: QWidget | None = None, h_spacing: int = 6, v_spacing: int = 4) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._h, self._v = h_spacing, v_spacing
        self.setContentsMargins(0, 0, 0, 0)

    # ----- QLayout's item protocol ----------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:  # noqa: N802 - Qt override
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt override
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt override
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt override
        return Qt.Orientation(0)

    # ----- sizes ----------------------------------------------------------------------------
    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt override
        """The widest single item (one per row is always possible) plus the margins."""
        size = QSize()
        for item in self._shown():
            size = size.expandedTo(item.minimumSize().expandedTo(item.sizeHint()))
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt override
        return self.minimumSize()

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt override
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    def rows(self) -> list[list[QWidget]]:
        """The widgets of each row as last laid out (for tests and for the hotkey overview)."""
        out: dict[int, list[QWidget]] = {}
        for item in self._shown():
            if item.widget() is not None:
                out.setdefault(item.geometry().top(), []).append(item.widget())
        return [out[k] for k in sorted(out)]

    # ----- placement ------------------------------------------------------------------------
    def _shown(self) -> list[QLayoutItem]:
        return [i for i in self._items if not (i.widget() is not None and i.widget().isHidden())]

    def _arrange(self, rect: QRect, apply: bool) -> int:
        """Place the items in ``rect`` (when ``apply``); return the height they need."""
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        x, y, row_height = area.x(), area.y(), 0
        for item in self._shown():
            hint = item.sizeHint().expandedTo(item.minimumSize())
            w = min(hint.width(), max(area.width(), 1))
            if x > area.x() and x + w > area.right() + 1:   # does not fit: a new row
                x, y = area.x(), y + row_height + self._v
                row_height = 0
            if apply:
                item.setGeometry(QRect(QPoint(x, y), QSize(w, hint.height())))
            x += w + self._h
            row_height = max(row_height, hint.height())
        return y + row_height - rect.y() + m.bottom()


class FlowWidget(QWidget):
    """A widget whose children flow (``self.flow``). It asks for the height its current width
    needs as its minimum height, so no parent layout squeezes a wrapped row away."""

    def __init__(self, parent: QWidget | None = None, h_spacing: int = 6, v_spacing: int = 4) -> None:
        super().__init__(parent)
        self.flow = FlowLayout(self, h_spacing=h_spacing, v_spacing=v_spacing)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def add(self, widget: QWidget) -> None:
        self.flow.addWidget(widget)
        self.fit_height()

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt override
        return self.flow.heightForWidth(width)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self.fit_height()

    def fit_height(self) -> None:
        """Ask for the rows the current width needs."""
        width = self.width() if self.width() > 0 else self.flow.minimumSize().width()
        need = self.flow.heightForWidth(width)
        if self.minimumHeight() != need:
            self.setMinimumHeight(need)

    def rows(self) -> list[list[QWidget]]:
        """The shown widgets, row by row, as laid out now."""
        return self.flow.rows()
