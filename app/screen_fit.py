"""Open a window no larger than the screen it is on, so nothing of it (the class buttons at the
bottom, the docks at the right) starts outside the screen at 1024x768 or a display scale of 2."""
from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QWidget


def fit_to_screen(window: QWidget, width: int, height: int) -> tuple[int, int]:
    """Resize ``window`` to ``width`` x ``height`` (logical pixels), or to the screen's available
    area when that is smaller; return the size given. Without a screen (tests), the size as asked.

    A main window whose docks, stacked, need more height than the screen has (960x540 logical
    pixels: a 1920x1080 display at scale 2) gets each dock area's docks as tabs once its docks
    are in place (``compact_docks``, on the next turn of the event loop)."""
    screen = window.screen()
    if screen is not None:
        area = screen.availableGeometry()
        if area.width() > 0 and area.height() > 0:
            width, height = min(width, area.width()), min(height, area.height())
    window.resize(width, height)
    if isinstance(window, QMainWindow):
        QTimer.singleShot(0, window, lambda: compact_docks(window))
    return width, height


def compact_docks(window: QMainWindow) -> bool:
    """Tab the docks of each dock area together when the window's minimum height exceeds the
    screen's available height, and let a dock whose content is still too tall scroll; return
    whether it did. A window that fits is left as it is."""
    screen = window.screen()
    room = screen.availableGeometry().height() if screen is not None else 0
    if screen is None or window.minimumSizeHint().height() <= room:
        return False
    by_area: dict[object, list[QDockWidget]] = {}
    for dock in window.findChildren(QDockWidget):
        if dock.isVisible() and not dock.isFloating():
            by_area.setdefault(window.dockWidgetArea(dock), []).append(dock)
    for docks in by_area.values():
        shown = next((d for d in docks if not d.visibleRegion().isEmpty()), docks[0])
        for dock in docks[1:]:
            if dock not in window.tabifiedDockWidgets(docks[0]):
                window.tabifyDockWidget(docks[0], dock)
        shown.raise_()   # the tab on top stays the one that was showing
    for dock in window.findChildren(QDockWidget):
        content = dock.widget()
        if content is not None and not isinstance(content, QScrollArea) \
                and content.minimumSizeHint().height() > room // 2:
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QFrame.Shape.NoFrame)
            dock.setWidget(scroll)
            scroll.setWidget(content)   # the panel itself is unchanged, only framed
    area = screen.availableGeometry()
    window.resize(min(window.width(), area.width()), min(window.height(), area.height()))
    return True
