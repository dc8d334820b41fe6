"""Opening the app's main window on a project the way a user sees it (shown, active, started)."""
from __future__ import annotations

from activelab.app.main_window import MainWindow


def open_window(qtbot, project, **kwargs):
    """The main window on ``project``: shown, active, and started (its first sample on screen or
    being prepared). ``kwargs`` go to ``MainWindow`` (e.g. ``runner``)."""
    win = MainWindow(project, **kwargs)
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    win.start()
    return win
