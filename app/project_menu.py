"""The File menu's project items, the annotator's name and the remembered window layout.

Public API:

    ProjectMenu(window, shell, settings=None)   # adds to window.file_menu (before Export):
        New project…  Ctrl+N   -> shell.show_wizard()
        Open project… Ctrl+O   -> a folder picker, then shell.open_project(path)
        Join a team project…   -> shell.show_join() (activelab.app.join_dialog)
        Open recent  >         -> the machine's recent list (missing folders greyed out), Clear list
        Annotator name…        -> what provenance records for this machine's new labels
      and an "Annotator: NAME" label in the status bar; restores the dock layout (and which dock
      tab is on top) saved when a window last closed on this machine.
    annotator_name(settings=None) -> str | None       # the machine's name, None when not set
    set_annotator_name(name, settings=None) -> str | None
    choose_project_folder(parent) -> str | None       # the folder picker (tests replace it)

Everything here is per machine, in QSettings("activelab", "activelab") (the recent list beside
it is activelab.app.start_screen's). The annotator's name is given with each label, skip and
flag (``LabelingEngine.label_sample(annotator=...)``); without one this computer's name,
``login@host`` (``activelab.core.project.identity``), is recorded. Switching projects is ``AppShell.open_project``
(activelab.app.main): the new window opens, then the old one closes as on quit (position saved,
background jobs stopped, the store checkpointed and closed).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLabel, QLineEdit, QMainWindow, QMessageBox

from activelab.app.start_screen import recent_projects, remove_recent_project
from activelab.core.project.annotators import ENV_VAR
from activelab.core.store.backends import POINTER_NAME, has_store
from activelab.core.store.store import STORE_NAME

__all__ = ["ProjectMenu", "annotator_name", "choose_project_folder", "set_annotator_name"]

ANNOTATOR_KEY = "annotator"
GEOMETRY_KEY = "window/geometry"
STATE_KEY = "window/state"
LAYOUT_VERSION = 1      # bump when the docks change so an old layout is not forced on new docks
MAX_NAME = 80


def _settings(settings: QSettings | None) -> QSettings:
    return settings if settings is not None else QSettings("activelab", "activelab")


def annotator_name(settings: QSettings | None = None) -> str | None:
    """The annotator's name remembered on this machine, or None when none was set."""
    value = _settings(settings).value(ANNOTATOR_KEY, "")
    name = str(value or "").strip()
    return name or None


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an annotator's name (one sentence), or None."""
    if len(name) > MAX_NAME:
        return f"The name is {len(name)} characters long; keep it to {MAX_NAME}."
    if any(not ch.isprintable() for ch in name):
        return "The name contains a line break or another control character; type it on one line."
    return None


def set_annotator_name(name: str | None, settings: QSettings | None = None) -> str | None:
    """Remember ``name`` (surrounding spaces removed) on this machine; empty or None forgets it.
    Returns the name kept. Raises ValueError (with ``name_problem``'s sentence) for a bad name."""
    clean = (name or "").strip()
    problem = name_problem(clean)
    if problem:
        raise ValueError(problem)
    s = _settings(settings)
    if clean:
        s.setValue(ANNOTATOR_KEY, clean)
    else:
        s.remove(ANNOTATOR_KEY)
    s.sync()
    return clean or None


def choose_project_folder(parent: Any) -> str | None:
    """A folder picker for a project folder; None when cancelled."""
    start = recent_projects()
    folder = QFileDialog.getExistingDirectory(
        parent, "Open an activelab project folder", str(Path(start[0]).parent) if start else str(Path.home()))
    return folder or None


def _is_project(folder: Path) -> bool:
    return has_store(folder)      # project.sqlite, or store.json of a team project


class ProjectMenu(QObject):
    """The project items of one window's File menu, its annotator label and its layout."""

    def __init__(self, window: QMainWindow, shell: Any, settings: QSettings | None = None) -> None:
        super().__init__(window)
        self.window, self.shell, self._qs = window, shell, settings
        self.new_action = self._action("&New project…", "Ctrl+N", shell.show_wizard)
        self.open_action = self._action("&Open project…", "Ctrl+O", self._on_open_triggered)
        self.join_action = self._action("&Join a team project…", None, lambda: shell.show_join())
        self.annotator_action = self._action("&Annotator name…", None, self._on_annotator_triggered)
        self.recent_menu = window.file_menu.addMenu("Open &recent")   # moved into place below
        self.recent_menu.setObjectName("recent_menu")
        self.recent_menu.aboutToShow.connect(self.refresh_recent)
        menu, before = window.file_menu, window.export_action
        for action in (self.new_action, self.open_action, self.join_action,
                       self.recent_menu.menuAction()):
            menu.insertAction(before, action)
        menu.insertSeparator(before)
        menu.insertAction(before, self.annotator_action)
        menu.insertSeparator(before)
        self.refresh_recent()

        self.annotator_label = QLabel()
        self.annotator_label.setObjectName("annotatorLine")
        self.annotator_label.setContentsMargins(14, 0, 4, 0)   # apart from the labeled count
        self.annotator_label.setToolTip("Who new labels are recorded as (File > Annotator name…)")
        window.statusBar().addPermanentWidget(self.annotator_label)
        self.apply_annotator()
        window.installEventFilter(self)

    def _action(self, text: str, key: str | None, slot: Any) -> QAction:
        action = QAction(text, self.window)
        if key:
            action.setShortcut(QKeySequence(key))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    # ----- recent projects ------------------------------------------------------------------
    def refresh_recent(self) -> None:
        """Rebuild Open recent from the machine's list: the open project is checked, folders
        that are gone are greyed out with "(missing)"."""
        self.recent_menu.clear()
        current = str(Path(self.window.project.path).resolve())
        paths = recent_projects(self._qs)
        for i, path in enumerate(paths):
            missing = not _is_project(Path(path))
            text = f"&{i + 1}  {path}" if i < 9 else path
            action = self.recent_menu.addAction(text + ("  (missing)" if missing else ""))
            action.setData(path)
            action.setEnabled(not missing)
            if path == current:
                action.setCheckable(True)
                action.setChecked(True)
            action.triggered.connect(lambda _c=False, p=path: self.open_path(p))
        if not paths:
            self.recent_menu.addAction("(no recent projects)").setEnabled(False)
        self.recent_menu.addSeparator()
        clear = self.recent_menu.addAction("Clear list")
        clear.setEnabled(bool(paths))
        clear.triggered.connect(self._on_clear_triggered)

    def _on_clear_triggered(self) -> None:
        for path in recent_projects(self._qs):
            remove_recent_project(path, self._qs)
        self.refresh_recent()

    # ----- switching ------------------------------------------------------------------------
    def _on_open_triggered(self) -> None:
        folder = choose_project_folder(self.window)
        if folder is not None:
            self.open_path(folder)

    def open_path(self, path: str) -> bool:
        """Open the project at ``path`` in place of this window's (True when it opened). The
        same project does nothing; a label on screen that is not saved asks first."""
        folder = Path(path).expanduser()
        if folder.resolve() == Path(self.window.project.path).resolve():
            self.window.status_line.setText(f"{folder} is the project already open.")
            return False
        if not _is_project(folder):
            QMessageBox.warning(self.window, "activelab", (
                f"{folder} is not an activelab project folder (it has no {STORE_NAME} nor {POINTER_NAME}). Choose "
                "the folder made by New project or 'activelab new', or create one with "
                "File > New project."))
            return False
        if self.window.guard.unsaved:
            box = QMessageBox(QMessageBox.Icon.Warning, "activelab",
                              "The label on screen is NOT saved (the red bar says why). Keep this "
                              "project to retry it, or switch and leave it unsaved.", parent=self.window)
            keep = box.addButton("Keep this project", QMessageBox.ButtonRole.RejectRole)
            box.addButton("Switch without it", QMessageBox.ButtonRole.DestructiveRole)
            box.setDefaultButton(keep)
            box.exec()
            if box.clickedButton() is keep:
                return False
        return bool(self.shell.open_project(str(folder)))

    # ----- the annotator --------------------------------------------------------------------
    def apply_annotator(self) -> None:
        """Give the controller this machine's name and show who labels in the status bar."""
        name = annotator_name(self._qs)
        self.window.controller.annotator = name
        shown = self.window.controller.annotator   # $ACTIVELAB_ANNOTATOR first, then this name
        how = (" (ACTIVELAB_ANNOTATOR)" if shown != name and os.environ.get(ENV_VAR, "").strip()
               else "" if name else " (this computer)")
        self.annotator_label.setText(f"Annotator: {shown}{how}")

    def _computer_name(self) -> str:
        """The name recorded when none is set here (``Project.default_annotator``)."""
        return self.window.project.default_annotator()

    def _on_annotator_triggered(self) -> None:
        current = annotator_name(self._qs) or ""
        while True:
            name, ok = QInputDialog.getText(
                self.window, "Annotator name",
                "Your name, as new labels record it (remembered on this computer;\n"
                "empty: this computer's name "
                f"'{self._computer_name()}'):",
                QLineEdit.EchoMode.Normal, current)
            if not ok:
                return
            try:
                set_annotator_name(name, self._qs)
            except ValueError as exc:
                QMessageBox.warning(self.window, "Annotator name", str(exc))
                current = name
                continue
            break
        self.apply_annotator()
        self.window.status_line.setText(f"New labels are recorded as {self.window.controller.annotator}.")

    # ----- layout ---------------------------------------------------------------------------
    def restore_layout(self) -> bool:
        """Put back the geometry, dock layout and raised dock tabs saved on this machine
        (True when there was a layout to restore)."""
        s = _settings(self._qs)
        geometry, state = s.value(GEOMETRY_KEY), s.value(STATE_KEY)
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.window.restoreGeometry(geometry)
        if isinstance(state, QByteArray) and not state.isEmpty():
            return bool(self.window.restoreState(state, LAYOUT_VERSION))
        return False

    def save_layout(self) -> None:
        s = _settings(self._qs)
        s.setValue(GEOMETRY_KEY, self.window.saveGeometry())
        s.setValue(STATE_KEY, self.window.saveState(LAYOUT_VERSION))
        s.sync()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.save_layout()
        return False

