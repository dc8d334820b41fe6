"""Bundled icons and the style sheet, read from the ``resources`` package."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

from PySide6.QtGui import QIcon


def icon(name: str) -> QIcon:
    """The icon ``resources/icons/<name>.svg`` (an empty icon if it is missing)."""
    path = resources.files("activelab.resources").joinpath("icons", f"{name}.svg")
    return QIcon(str(path)) if path.is_file() else QIcon()


def style_sheet() -> str:
    """The application's light theme (``resources/style.qss``); ``@ICONS@`` in it becomes the
    icon folder, so arrow images resolve wherever the package is installed."""
    path = resources.files("activelab.resources").joinpath("style.qss")
    if not path.is_file():
        return ""
    icons = Path(str(resources.files("activelab.resources").joinpath("icons"))).as_posix()
    return path.read_text(encoding="utf-8").replace("@ICONS@", icons)
