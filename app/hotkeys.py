"""The keyboard-shortcut overview (``?``, F1, Help > Keyboard shortcuts), read from the window's
actual bindings rather than written by hand.

``collect_bindings(window)`` walks every ``QAction`` with a shortcut (the menus' entries and any
action added to the window, such as an accept-the-suggestion key) and every ``QShortcut`` (the
label panel's keys, the image zoom, the class filter), and the class keys of each task as they
are mapped right now. A binding describes itself: an action by its text, a shortcut by its
``whatsThis()``; shortcuts created before that convention get their description from
``KNOWN_SHORTCUTS``. A binding with no description is listed as "(undescribed)", and the tests
fail on it. The same bindings give the README's table (``markdown_table``; print it with
``python -m activelab.app.hotkeys``).
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QMainWindow, QMenu, QMessageBox, QTextBrowser, QVBoxLayout, QWidget,
)

UNDESCRIBED = "(undescribed)"
# Owner widget class -> section of the overview. Any other owner: "Window".
GROUP_OF_OWNER = {"LabelPanel": "Labeling", "TaskRow": "Labeling", "ImageView": "Sample view",
                  "SampleView": "Sample view"}
# Descriptions of shortcuts that do not carry a whatsThis() of their own: (section, key) -> text.
KNOWN_SHORTCUTS = {
    **{("Labeling", k): "Pick the class shown with this key on the active task's buttons"
       for k in "1234567890"},
    ("Labeling", "Tab"): "Next task",
    ("Labeling", "Shift+Tab"): "Previous task",
    ("Labeling", "Return"): "Submit the sample when every task has a label",
    ("Labeling", "Enter"): "Submit the sample when every task has a label",
    ("Labeling", "Space"): "Skip the sample",
    ("Labeling", "F"): "Flag the sample for review",
    ("Labeling", "Ctrl+Z"): "Undo the last label, skip or flag",
    ("Labeling", "Ctrl+Shift+Z"): "Redo",
    ("Labeling", "/"): "Filter the classes of the active task (tasks with more than 9 classes); "
                       "keys 1-9, 0 move to the classes that match",
}
KEY_ORDER = [k for _, k in KNOWN_SHORTCUTS] + ["Esc", "+", "=", "-"]
ORDER = ("Labeling", "Sample view")   # then the menus, in menu-bar order, then "Window"


@dataclass(frozen=True)
class Binding:
    """One line of the overview: ``keys`` (e.g. ``"Ctrl+E"`` or ``"1-9, 0"``) do ``description``
    in ``group`` (a menu's title, "Labeling", "Sample view", "Window" or "Class keys")."""

    group: str
    keys: str
    description: str


def _key_text(seq: QKeySequence) -> str:
    text = seq.toString(QKeySequence.SequenceFormat.PortableText)
    return {"Backtab": "Shift+Tab", "Shift+Backtab": "Shift+Tab"}.get(text, text)


def _join_keys(keys: list[str]) -> str:
    unique = list(dict.fromkeys(keys))
    if set(unique) == set("1234567890"):
        return "1-9, 0"
    return ", ".join(unique)


def _owner_group(obj: QObject) -> str:
    o = obj.parent()
    while o is not None:
        group = GROUP_OF_OWNER.get(type(o).__name__)
        if group:
            return group
        o = o.parent()
    return "Window"


def _menu_of(action: QAction) -> QMenu | None:
    return next((o for o in action.associatedObjects() if isinstance(o, QMenu) and o.title()), None)


def _menu_title(action: QAction) -> str | None:
    menu = _menu_of(action)
    return menu.title().replace("&", "") if menu is not None else None


def _key_place(key: str) -> int:
    """Where a known key goes in its section (the order of KEY_ORDER); others after them."""
    return KEY_ORDER.index(key) if key in KEY_ORDER else len(KEY_ORDER)


def _action_text(action: QAction) -> str:
    text = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
    return text.rstrip("…").rstrip(".").strip() or action.toolTip().strip() or UNDESCRIBED


def collect_bindings(window: QWidget) -> list[Binding]:
    """Every key binding of ``window``: actions with shortcuts, shortcuts, and each task's class
    keys as mapped now (after any filter). Bindings with the same section and description are
    merged into one line (Return and Enter, the ten class keys)."""
    merged: dict[tuple[str, str], list[str]] = {}
    place: dict[tuple[str, str], float] = {}   # position within its section
    for action in window.findChildren(QAction):
        keys = [_key_text(s) for s in action.shortcuts() if not s.isEmpty()]
        if keys:
            group, menu = _menu_title(action) or "Window", _menu_of(action)
            entry = (group, _action_text(action))
            merged.setdefault(entry, []).extend(keys)
            place.setdefault(entry, menu.actions().index(action) if menu is not None else 0)
    for sc in window.findChildren(QShortcut):
        if sc.key().isEmpty() or not sc.isEnabled():
            continue
        group, key = _owner_group(sc), _key_text(sc.key())
        what = sc.whatsThis().strip() or KNOWN_SHORTCUTS.get((group, key), UNDESCRIBED)
        merged.setdefault((group, what), []).append(key)
        place[(group, what)] = min(place.get((group, what), len(KEY_ORDER)), _key_place(key))
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()] \
        if isinstance(window, QMainWindow) else []
    rank = {g: i for i, g in enumerate((*ORDER, *menus))}
    # A stable order (findChildren's follows creation and reparenting): sections, then the
    # known keys' order or the menu's, then by description.
    entries = sorted(merged, key=lambda e: (rank.get(e[0], len(rank)), place[e], e[1]))
    out = [Binding(g, _join_keys(sorted(merged[(g, d)], key=_key_place)), d) for g, d in entries]
    n_labeling = sum(b.group == ORDER[0] for b in out)
    return out[:n_labeling] + class_key_bindings(window) + out[n_labeling:]


def class_key_bindings(window: QWidget) -> list[Binding]:
    """For each task of the window's label panel: which key picks which class right now."""
    panel = getattr(window, "label_panel", None)
    out = []
    for row in getattr(panel, "rows", []):
        keyed = row.keyed_classes()
        text = " · ".join(f"{k}\u00a0{c}" for k, c in keyed.items()) if keyed else "no class matches the filter"
        rest = len(row.visible_classes()) - len(keyed)
        if rest > 0:
            text += f" · {rest} more: type / to filter them into the keys"
        out.append(Binding("Class keys", row.task.name, text))
    return out


def overview_html(bindings: list[Binding]) -> str:
    """The bindings as one HTML table (keys aligned), a heading row per section."""
    rows, group = [], None
    for b in bindings:
        if b.group != group:
            group = b.group
            title = "Class keys of each task (Tab moves between tasks)" if group == "Class keys" else group
            rows.append(f"<tr><td colspan='2' style='padding-top:10px'><h3>{html.escape(title)}</h3></td></tr>")
        rows.append(f"<tr><td width='26%' style='white-space:nowrap; padding-right:12px'><b>{html.escape(b.keys)}</b></td>"
                    f"<td width='74%'>{html.escape(b.description)}</td></tr>")
    return f"<table cellspacing='0' cellpadding='3'>{''.join(rows)}</table>"


def markdown_table(bindings: list[Binding]) -> str:
    """The README's table: every binding except the project-specific class keys."""
    lines = ["| Keys | What they do | Where |", "|---|---|---|"]
    for b in bindings:
        if b.group != "Class keys":
            keys = ", ".join(f"`{k.strip()}`" for k in b.keys.split(", "))
            lines.append(f"| {keys} | {b.description} | {b.group} |")
    return "\n".join(lines)


class HotkeyDialog(QDialog):
    """The overview of ``window``'s bindings, read afresh each time it is opened."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard shortcuts")
        self.bindings = collect_bindings(window)
        self.text_view = QTextBrowser()
        self.text_view.setHtml(overview_html(self.bindings))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text_view)
        lay.addWidget(buttons)
        screen = window.screen().availableGeometry() if window.screen() else None
        w, h = 620, 640
        if screen is not None:
            w, h = min(w, screen.width() - 40), min(h, screen.height() - 60)
        self.resize(w, h)


def install_help_menu(window: QMainWindow) -> QMenu:
    """Add Help > Keyboard shortcuts (``?``, F1) and Help > About to ``window``'s menu bar."""
    menu = window.menuBar().addMenu("&Help")
    keys = QAction("&Keyboard shortcuts…", window)
    keys.setShortcuts([QKeySequence(Qt.Key.Key_F1), QKeySequence("?")])
    keys.triggered.connect(lambda: show_hotkeys(window))
    menu.addAction(keys)
    about = QAction("&About activelab", window)
    about.triggered.connect(lambda: _about(window))
    menu.addAction(about)
    window.hotkeys_action = keys
    return menu


def show_hotkeys(window: QWidget) -> HotkeyDialog:
    dialog = HotkeyDialog(window)
    window.hotkey_dialog = dialog
    dialog.open()
    return dialog


def _about(window: QWidget) -> None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("activelab")
    except PackageNotFoundError:
        v = "(version unknown)"
    QMessageBox.about(window, "About activelab",
                      f"<b>activelab</b> {html.escape(v)}<br>Human-in-the-loop active learning "
                      "on the desktop.<br>Press ? or F1 for the keyboard shortcuts.")


def with_project_menu(window: Any) -> Any:
    """Give ``window`` the File menu's project items (New, Open, Open recent, Annotator name), as
    the app's shell does, with actions that do nothing: for listing the bindings only."""
    from types import SimpleNamespace

    from activelab.app.project_menu import ProjectMenu

    shell = SimpleNamespace(show_wizard=lambda: None, open_project=lambda path: False, window=window)
    window.project_menu = ProjectMenu(window, shell)
    return window


def main() -> None:
    """Print the README's hotkey table, read from a window on a throw-away copy of the demo."""
    import os
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from activelab.app.demo import open_or_create_demo
    from activelab.app.main_window import MainWindow
    from activelab.app.worker import TaskRunner

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="activelab-hotkeys-") as tmp:
        window = MainWindow(open_or_create_demo(os.path.join(tmp, "demo")),
                            runner=TaskRunner(use_processes=False))
        with_project_menu(window)
        print(markdown_table(collect_bindings(window)))
        window.runner.shutdown()
        window.deleteLater()
    app.processEvents()


if __name__ == "__main__":
    main()
