"""Start screen: recent projects, New project, Open project, Demo.

Public API:

    StartScreen(settings: QSettings | None = None)     # QSettings("activelab", "activelab") by default
    signal open_requested(str path)     # a recent project was activated or a folder was chosen
    signal new_requested()              # "New project…" (the caller shows activelab.app.wizard)
    signal join_requested()             # "Join a team project…" (activelab.app.join_dialog)
    signal demo_requested()             # "Open the demo"
    StartScreen.refresh() -> None       # re-read the recent list

    add_recent_project(path, settings=None) -> None   # call after a project opened successfully
    recent_projects(settings=None) -> list[str]       # most recent first, at most MAX_RECENT

The recent list lives in QSettings under ``recent_projects``. Folders that no longer exist are
shown greyed out with "(missing)" and cannot be opened; "Remove from list" drops an entry.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QSize, Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMenu, QPushButton,
    QVBoxLayout, QWidget,
)

from activelab.app.icons import icon
from activelab.core.store.backends import has_store

MAX_RECENT = 12
RECENT_KEY = "recent_projects"


def _settings(settings: QSettings | None) -> QSettings:
    return settings if settings is not None else QSettings("activelab", "activelab")


def recent_projects(settings: QSettings | None = None) -> list[str]:
    """Recently opened project folders, most recent first."""
    value = _settings(settings).value(RECENT_KEY, [])
    if isinstance(value, str):          # QSettings returns a lone string for a 1-item list
        value = [value]
    return [str(v) for v in (value or []) if str(v)]


def add_recent_project(path: str | Path, settings: QSettings | None = None) -> None:
    """Put ``path`` at the top of the recent list (once)."""
    s = _settings(settings)
    p = str(Path(path).expanduser().resolve())
    items = [p] + [x for x in recent_projects(s) if x != p]
    s.setValue(RECENT_KEY, items[:MAX_RECENT])
    s.sync()


def remove_recent_project(path: str, settings: QSettings | None = None) -> None:
    s = _settings(settings)
    s.setValue(RECENT_KEY, [x for x in recent_projects(s) if x != path])
    s.sync()


class StartScreen(QWidget):
    """The first screen: pick a recent project, make a new one, open one, or try the demo."""

    open_requested = Signal(str)
    new_requested = Signal()
    join_requested = Signal()
    demo_requested = Signal()

    def __init__(self, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("start_screen")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._settings = settings

        logo = QLabel()
        logo.setPixmap(icon("activelab").pixmap(56, 56))
        title = QLabel("activelab")
        title.setObjectName("app_title")
        tagline = QLabel("Label the samples that teach your model the most.")
        tagline.setObjectName("hint")
        head = QHBoxLayout()
        head.addWidget(logo)
        head_text = QVBoxLayout()
        head_text.addWidget(title)
        head_text.addWidget(tagline)
        head.addLayout(head_text)
        head.addStretch(1)

        self.new_button = self._action_button("new", "New project…",
                                              "Import a table, a folder of images or an .npz file")
        self.open_button = self._action_button("open", "Open project…",
                                               "Open an existing project folder")
        self.join_button = self._action_button("project", "Join a team project…",
                                               "Label a project on a team server (PostgreSQL)")
        self.demo_button = self._action_button("demo", "Open the demo",
                                               "Hand-written digits, ready to label in seconds")
        self.new_button.setObjectName("start_action")
        self.new_button.clicked.connect(self.new_requested)
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.demo_button.clicked.connect(self.demo_requested)
        self.join_button.clicked.connect(self.join_requested)
        actions = QVBoxLayout()
        start_label = QLabel("Start")
        start_label.setObjectName("panel_title")
        actions.addWidget(start_label)
        for b in (self.new_button, self.open_button, self.join_button, self.demo_button):
            actions.addWidget(b)
        actions.addStretch(1)

        recent_label = QLabel("Recent projects")
        recent_label.setObjectName("panel_title")
        self.recent_list = QListWidget()
        self.recent_list.setIconSize(QSize(20, 20))
        self.recent_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.recent_list.itemActivated.connect(self._on_recent_list_activated)
        self.recent_list.customContextMenuRequested.connect(self._on_recent_list_menu)
        self.empty_hint = QLabel("No recent projects yet. Create one, or open the demo to "
                                 "see how labeling works.")
        self.empty_hint.setObjectName("hint")
        self.empty_hint.setWordWrap(True)
        recent = QVBoxLayout()
        recent.addWidget(recent_label)
        recent.addWidget(self.recent_list, 1)
        recent.addWidget(self.empty_hint)
        hint = QLabel("Double-click or press Enter to open · right-click to remove from the list")
        hint.setObjectName("hint")
        recent.addWidget(hint)

        body = QHBoxLayout()
        body.addLayout(actions, 2)
        body.addSpacing(24)
        body.addLayout(recent, 3)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(48, 36, 48, 36)
        outer.addLayout(head)
        outer.addSpacing(24)
        outer.addLayout(body, 1)
        self.refresh()

    def _action_button(self, icon_name: str, text: str, detail: str) -> QPushButton:
        b = QPushButton(icon(icon_name), f"  {text}\n  {detail}")
        b.setObjectName("start_action")
        b.setIconSize(QSize(28, 28))
        b.setMinimumHeight(64)
        b.setToolTip(detail)
        return b

    # ------------------------------------------------------------------ slots
    def refresh(self) -> None:
        """Re-read the recent projects from QSettings."""
        self.recent_list.clear()
        for path in recent_projects(self._settings):
            p = Path(path)
            ok = has_store(p)   # project.sqlite, or a team project's store.json
            item = QListWidgetItem(icon("project"), f"{p.name}\n{p.parent}" if ok
                                   else f"{p.name} (missing)\n{p.parent}")
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(path)
            if not ok:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)
            self.recent_list.addItem(item)
        self.empty_hint.setVisible(self.recent_list.count() == 0)
        self.recent_list.setVisible(self.recent_list.count() > 0)
        if self.recent_list.count():
            self.recent_list.setCurrentRow(0)

    # --------------------------------------------------------------- helpers
    def _on_open_button_clicked(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open an activelab project folder")
        if path:
            self.open_requested.emit(path)

    def _on_recent_list_activated(self, item: QListWidgetItem) -> None:
        if item.flags() & Qt.ItemFlag.ItemIsEnabled:
            self.open_requested.emit(item.data(Qt.ItemDataRole.UserRole))

    def _on_recent_list_menu(self, pos) -> None:
        item = self.recent_list.itemAt(pos)
        if item is None:
            return
        menu = QMenu(self)
        remove = menu.addAction("Remove from list")
        if menu.exec(self.recent_list.mapToGlobal(pos)) is remove:
            remove_recent_project(item.data(Qt.ItemDataRole.UserRole), self._settings)
            self.refresh()
