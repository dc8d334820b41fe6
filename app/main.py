"""Entry point of the desktop app: ``run_gui`` opens the start screen, a project, or the demo.

``activelab`` (no argument) -> start screen; ``activelab PROJECT_DIR`` -> that project;
``activelab demo [--project DIR]`` -> the digits demo, created on first use, then reopened.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sqlite3
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from activelab.app.worker import TaskRunner, limit_compute_threads

if TYPE_CHECKING:   # pragma: no cover
    from PySide6.QtWidgets import QApplication

log = logging.getLogger(__name__)
DEMO = "demo"


def _create_demo(folder: str | None, progress: Any) -> str:
    """Worker job: create (or find) the demo project; returns its folder."""
    from activelab.app.demo import open_or_create_demo

    project = open_or_create_demo(folder, progress=progress)
    path = str(project.path)
    project.close()
    return path


class AppShell:
    """Owns the top-level windows: the start screen and the open project's window."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.runner = TaskRunner()
        self.start_screen: Any = None
        self.window: Any = None
        self.wizard: Any = None
        self.join_dialog: Any = None
        self._busy: Any = None

    # ----- screens ------------------------------------------------------------------------
    def show_start(self) -> None:
        from activelab.app.start_screen import StartScreen

        if self.start_screen is None:
            self.start_screen = StartScreen()
            self.start_screen.setWindowTitle("activelab")
            self.start_screen.resize(1280, 800)
            self.start_screen.open_requested.connect(self.open_project)
            self.start_screen.demo_requested.connect(lambda: self.open_demo(None))
            self.start_screen.new_requested.connect(self.show_wizard)
            self.start_screen.join_requested.connect(self.show_join)
        self.start_screen.refresh()
        self.start_screen.show()

    def show_wizard(self) -> None:
        try:
            from activelab.app.wizard import NewProjectWizard
        except ImportError:
            self._error("The new-project wizard is not available in this build; use "
                        "'activelab new PROJECT_DIR --data FILE' and open the folder.")
            return
        self.wizard = NewProjectWizard(parent=self.window or self.start_screen)
        created = getattr(self.wizard, "project_created", None)
        if created is not None:
            created.connect(self.open_project)
        self.wizard.show()

    def show_join(self) -> None:
        """File > Join a team project…: attach a folder to a project on a team server."""
        from activelab.app.join_dialog import JoinTeamDialog

        self.join_dialog = JoinTeamDialog(parent=self.window or self.start_screen)
        self.join_dialog.joined.connect(self.open_project)
        self.join_dialog.show()

    def open_project(self, path: str) -> bool:
        """Open the project at ``path`` in a new window; the window open before (if any) is
        closed after the new one shows (its position saved, its background jobs stopped, its
        store closed), so the app never has no window. False (with a message) when the
        project cannot be opened: the window open before stays."""
        from PySide6.QtCore import QTimer

        from activelab.app.main_window import MainWindow
        from activelab.app.project_menu import ProjectMenu
        from activelab.core.errors import ActiveLabError
        from activelab.core.project.project import Project

        try:
            project = Project.open(path)
        except (ActiveLabError, sqlite3.Error, OSError) as exc:   # raw errors: the last resort
            self._error(str(exc) if isinstance(exc, ActiveLabError) else
                        f"The project {path} could not be opened ({type(exc).__name__}: {exc}).")
            if self.window is None:
                self.show_start()
            return False
        try:
            from activelab.app.start_screen import add_recent_project

            add_recent_project(project.path)
        except ImportError:
            pass
        old, self.window = self.window, MainWindow(project)
        self.window.project_menu = ProjectMenu(self.window, self)
        self.window.show()
        self.window.start()
        # After start()'s own dock sizing (queued first), the layout saved on this machine.
        QTimer.singleShot(0, self.window.project_menu.restore_layout)
        if old is not None:
            self._close_window(old)
        if self.start_screen is not None:
            self.start_screen.hide()
        return True

    @staticmethod
    def _close_window(window: Any) -> None:
        """Close a project's window as quitting does, then its project's store."""
        window.close()          # saves the position, stops the timers and background jobs
        try:
            window.project.close()
        except (sqlite3.Error, OSError) as exc:   # every label was committed when given
            log.warning("closing %s: %s", window.project.path, exc)
        window.deleteLater()

    def open_demo(self, folder: str | None) -> None:
        """Create or reopen the demo in the background with a progress dialog."""
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QProgressDialog

        self._busy = QProgressDialog("Preparing the demo (handwritten digits)…", "Cancel", 0, 100)
        self._busy.setWindowTitle("activelab")
        self._busy.setWindowModality(Qt.WindowModality.ApplicationModal)
        self._busy.setMinimumDuration(300)
        self._busy.canceled.connect(lambda: self.runner.cancel(DEMO))
        job = self.runner.submit(DEMO, _create_demo, folder)
        job.progress.connect(self._on_demo_progress)
        job.finished.connect(self._on_demo_finished)
        job.failed.connect(self._on_demo_failed)

    # ----- slots ------------------------------------------------------------------------
    def _on_demo_progress(self, fraction: float, message: str) -> None:
        if self._busy is not None:
            self._busy.setValue(int(100 * fraction))
            if message:
                self._busy.setLabelText(f"Preparing the demo: {message}")

    def _on_demo_finished(self, result: object) -> None:
        self._close_busy()
        self.open_project(str(result))

    def _on_demo_failed(self, message: str) -> None:
        self._close_busy()
        self._error(f"The demo could not be prepared: {message}")
        if self.window is None:
            self.show_start()

    def _close_busy(self) -> None:
        if self._busy is not None:
            self._busy.reset()
            self._busy.deleteLater()
            self._busy = None

    def _error(self, message: str) -> None:
        from PySide6.QtWidgets import QMessageBox

        parent = self.window or self.start_screen
        QMessageBox.warning(parent, "activelab", message)


def make_app(argv: list[str] | None = None) -> Any:
    """The QApplication (created once) with the activelab style sheet."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(list(argv) if argv else ["activelab"])
    app.setApplicationName("activelab")
    app.setOrganizationName("activelab")
    try:
        from activelab.app.icons import icon, style_sheet

        app.setStyleSheet(style_sheet())
        app.setWindowIcon(icon("activelab"))
    except ImportError:
        pass
    return app


def run_gui(argv: list[str] | None = None, project_path: str | None = None, demo: bool = False,
            demo_dir: str | None = None) -> int:
    """Run the desktop app until its last window closes; returns the exit code (2, with one
    line on stderr, when there is no display to open a window on: Qt would abort)."""
    if not _app_running():
        from activelab.app.display_check import NO_DISPLAY_EXIT, display_problem

        problem = display_problem()
        if problem:
            print(problem, file=sys.stderr)
            return NO_DISPLAY_EXIT
    limit_compute_threads(1)
    if argv and project_path is None and not demo:
        parser = argparse.ArgumentParser(prog="activelab", description="activelab desktop app")
        parser.add_argument("target", nargs="?", help="a project folder, or 'demo'")
        parser.add_argument("--project", help="where the demo project lives")
        ns, _ = parser.parse_known_args(argv)
        if ns.target == "demo":
            demo, demo_dir = True, ns.project
        elif ns.target:
            project_path = ns.target
    app = make_app(argv)
    shell = AppShell(app)
    app._activelab_shell = shell  # keep it alive as long as the app
    if demo:
        shell.open_demo(demo_dir)
    elif project_path:
        if not shell.open_project(str(Path(project_path).expanduser())):
            pass  # the start screen is shown with the error
    else:
        shell.show_start()
    restore = quit_on_signals(app)
    try:
        code = app.exec()
    finally:
        restore()
    shell.runner.shutdown()
    return int(code)


def _app_running() -> bool:
    """A QApplication exists already (tests, an embedding program): it has its display."""
    widgets = sys.modules.get("PySide6.QtWidgets")
    return widgets is not None and widgets.QApplication.instance() is not None


def quit_on_signals(app: QApplication) -> Callable[[], None]:
    """SIGTERM (a ``kill``, a service manager, a closing session) and Ctrl+C in the terminal
    close the app as Ctrl+Q does: every label is already saved, the windows close, the
    training process ends with the app. Python runs a signal handler only between bytecodes,
    so a timer wakes the interpreter every 200 ms while Qt's event loop waits in C. Main
    thread only (signal handlers can only be set there); returns the function that puts the
    previous handlers back."""
    from PySide6.QtCore import QTimer

    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_signal(signum: int, frame: object) -> None:
        QTimer.singleShot(0, app.closeAllWindows)
        QTimer.singleShot(0, app.quit)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    wake = QTimer(app)
    wake.timeout.connect(lambda: None)
    wake.start(200)

    def restore() -> None:
        wake.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


def main() -> int:
    return run_gui(sys.argv[1:])


if __name__ == "__main__":
    raise SystemExit(main())
