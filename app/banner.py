"""Messages across the top of the labeling window: the error banner (dismissable, with Retry
when retrying can help) and the read-only bar (persistent while the project is read-only)."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

ERROR_STYLE = ("#errorBanner { background: #fdecea; border-bottom: 1px solid #f5c2c0; }"
               "#errorBanner QLabel { color: #7a1c16; }")
READ_ONLY_STYLE = ("#readOnlyBar { background: #fff4d6; border-bottom: 1px solid #e8cf86; }"
                   "#readOnlyBar QLabel { color: #5c4300; }")
READ_ONLY_FLASH = ("#readOnlyBar { background: #ffe08a; border-bottom: 2px solid #c99a00; }"
                   "#readOnlyBar QLabel { color: #3d2c00; }")
FLASH_MS = 600


class ErrorBanner(QWidget):
    """A dismissable message at the top of the window; labeling keeps going underneath.

    ``show_message(text, retry=True)`` adds a Retry button (``retry_requested``) for a failed
    write that may land once its cause is gone."""

    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(ERROR_STYLE)
        self.text = QLabel()
        self.text.setObjectName("bannerText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.retry_button.clicked.connect(lambda _=False: self.retry_requested.emit())
        close = QPushButton("Dismiss")
        close.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        close.clicked.connect(self.hide)
        self.dismiss_button = close
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignTop)
        lay.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.retry_button.hide()
        self.hide()

    def show_message(self, message: str, retry: bool = False) -> None:
        self.text.setText(message)
        self.retry_button.setVisible(retry)
        self.show()


class ReadOnlyBar(QWidget):
    """"Read-only: viewing only — labels cannot be saved (why)"; stays while the project is
    open. ``flash()`` draws the eye to it when a label key is pressed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("readOnlyBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(READ_ONLY_STYLE)
        self.text = QLabel()
        self.text.setObjectName("readOnlyText")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        lay.addWidget(self.text, 1)
        self._unflash = QTimer(self)
        self._unflash.setSingleShot(True)
        self._unflash.setInterval(FLASH_MS)
        self._unflash.timeout.connect(lambda: self.setStyleSheet(READ_ONLY_STYLE))
        self.hide()

    def show_reason(self, reason: str) -> None:
        why = f" ({reason})" if reason else ""
        self.text.setText(f"<b>Read-only:</b> viewing only — labels cannot be saved{why}. Browsing, "
                          "the history, the learning curve, the pool map and export work; to label, "
                          "open a writable copy of the project folder.")
        self.show()

    def flash(self) -> None:
        self.setStyleSheet(READ_ONLY_FLASH)
        self._unflash.start()
