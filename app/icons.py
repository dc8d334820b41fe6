"""Bundled icons and the style sheet, read from the ``resources`` package."""
from __future__ import annotations

from importlib import resources

from PySide6.QtGui import QIcon


def icon(name: str) -> QIcon:
    """The icon ``resources/icons/<name>.svg`` (an empty icon if it is missing)."""
    path = resources.files("resources").joinpath("icons", f"{name}.svg")
    return QIcon(str(path)) if path.is_file() else QIcon()


def style_sheet() -> str:
    """The application's light theme (``resources/style.qss``)."""
    path = resources.files("resources").joinpath("style.qss")
    return path.read_text(encoding="utf-8") if path.is_file() else ""
