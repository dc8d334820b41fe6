"""Open a window no larger than the screen it is on, so nothing of it (the class buttons at the
bottom, the docks at the right) starts outside the screen at 1024x768 or a display scale of 2."""
from __future__ import annotations

from PySide6.QtWidgets import QWidget


def fit_to_screen(window: QWidget, width: int, height: int) -> tuple[int, int]:
    """Resize ``window`` to ``width`` x ``height`` (logical pixels), or to the screen's available
    area when that is smaller; return the size given. Without a screen (tests), the size as asked."""
    screen = window.screen()
    if screen is not None:
        area = screen.availableGeometry()
        if area.width() > 0 and area.height() > 0:
            width, height = min(width, area.width()), min(height, area.height())
    window.resize(width, height)
    return width, height
