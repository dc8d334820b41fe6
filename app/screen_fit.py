"""Open a window no larger than the screen it is on, so nothing of it (the class buttons at the
bottom, the docks at the right) starts outside the screen at 1024x768 or a display scale of 2."""
from __future__ import annotations

from PySide6.QtCore import QMargins, QTimer
from PySide6.QtWidgets import QDockWidget, QFrame, QMainWindow, QScrollArea, QStyle, QWidget


def fitted_size(width: int, height: int, area_width: int, area_height: int,
                frame: QMargins) -> tuple[int, int]:
    """The client size (logical pixels) of a window that wants ``width`` x ``height`` when its
    frame (title bar and borders: ``frame``, the margins around the client area) must fit in an
    available area of ``area_width`` x ``area_height``; an area of 0 means no limit."""
    if area_width > 0:
        width = min(width, area_width - frame.left() - frame.right())
    if area_height > 0:
        height = min(height, area_height - frame.top() - frame.bottom())
    return max(1, width), max(1, height)


def frame_margins(window: QWidget) -> QMargins:
    """The window's decorations around its client area: measured once it is shown with them,
    else estimated from the style (a title bar and a border on each side)."""
    outer, inner = window.frameGeometry(), window.geometry()
    margins = QMargins(inner.left() - outer.left(), inner.top() - outer.top(),
                       outer.right() - inner.right(), outer.bottom() - inner.bottom())
    if window.isVisible() and not margins.isNull():
        return margins
    style = window.style()
    border = max(1, style.pixelMetric(QStyle.PixelMetric.PM_DefaultFrameWidth))
    title = max(20, style.pixelMetric(QStyle.PixelMetric.PM_TitleBarHeight))
    return QMargins(border, title + border, border, border)


def fit_to_screen(window: QWidget, width: int, height: int) -> tuple[int, int]:
    """Resize ``window`` to ``width`` x ``height`` (logical pixels), or smaller so that the
    window with its frame (title bar, borders) fits the screen's available area; return the
    client size given. Without a screen, the size as asked. Once shown, the real frame is
    measured and the window shrunk again if it still sticks out (never enlarged), unless it
    was resized meanwhile.

    A main window whose docks, stacked, need more height than the screen has (960x540 logical
    pixels: a 1920x1080 display at scale 2) gets each dock area's docks as tabs once its docks
    are in place (``compact_docks``, on the next turn of the event loop)."""
    screen = window.screen()
    if screen is not None:
        area = screen.availableGeometry()
        width, height = fitted_size(width, height, area.width(), area.height(), frame_margins(window))
    window.resize(width, height)
    given = window.size()   # a size set since (by the user or the caller) is left alone
    QTimer.singleShot(0, window, lambda: window.size() == given and keep_on_screen(window))
    if isinstance(window, QMainWindow):
        QTimer.singleShot(0, window, lambda: compact_docks(window))
    return width, height


def keep_on_screen(window: QWidget) -> bool:
    """Shrink a shown window whose frame is larger than its screen's available area, and move
    it so its frame starts inside that area; return whether it changed anything."""
    screen = window.screen()
    if screen is None or not window.isVisible():
        return False
    area = screen.availableGeometry()
    w, h = fitted_size(window.width(), window.height(), area.width(), area.height(),
                       frame_margins(window))
    changed = (w, h) != (window.width(), window.height())
    if changed:
        window.resize(w, h)
    frame = window.frameGeometry()
    x = max(area.left(), min(frame.left(), area.right() + 1 - frame.width()))
    y = max(area.top(), min(frame.top(), area.bottom() + 1 - frame.height()))
    if (x, y) != (frame.left(), frame.top()):
        window.move(x, y)
        changed = True
    return changed


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
    window.resize(*fitted_size(window.width(), window.height(), area.width(), area.height(),
                               frame_margins(window)))
    return True
