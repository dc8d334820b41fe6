"""Shared look of the pyqtgraph panels: a light background and a colour per class.

The palette is Okabe-Ito first (readable for colour-blind users), then Tableau-like colours;
classes beyond it cycle. ``UNKNOWN`` (grey) is for samples without a prediction yet.
"""
from __future__ import annotations

from typing import Sequence

import pyqtgraph as pg
from PySide6.QtGui import QBrush, QColor

PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
    "#8C564B", "#7F7F7F", "#BCBD22", "#17BECF", "#9467BD", "#1F77B4", "#FF7F0E", "#2CA02C",
)
UNKNOWN = "#B8B8B8"
ACCENT = "#D62728"       # the current queue / highlights
FOREGROUND = "#333333"


def class_color(i: int, alpha: int = 255) -> QColor:
    c = QColor(PALETTE[i % len(PALETTE)])
    c.setAlpha(alpha)
    return c


def class_brushes(n: int, alpha: int = 255) -> list[QBrush]:
    return [QBrush(class_color(i, alpha)) for i in range(n)]


def make_plot_widget(x_label: str = "", y_label: str = "") -> pg.PlotWidget:
    """A PlotWidget with a white background, dark axes and a light grid."""
    w = pg.PlotWidget(background="w")
    item = w.getPlotItem()
    for name in ("left", "bottom"):
        ax = item.getAxis(name)
        ax.setPen(pg.mkPen(FOREGROUND))
        ax.setTextPen(pg.mkPen(FOREGROUND))
    if x_label:
        item.setLabel("bottom", x_label, color=FOREGROUND)
    if y_label:
        item.setLabel("left", y_label, color=FOREGROUND)
    item.showGrid(x=True, y=True, alpha=0.15)
    item.setMenuEnabled(False)
    item.hideButtons()
    w.setMinimumHeight(160)
    return w


def short(names: Sequence[str], width: int = 12) -> list[str]:
    """Class names trimmed for axis ticks (full names go into tooltips)."""
    return [n if len(n) <= width else n[: width - 1] + "…" for n in names]


def sync_task_combo(combo, items: Sequence[str], keep: Sequence[str] | None = None) -> None:
    """Give a task selector exactly ``items`` (unchanged if it already has them), keeping the
    current choice when it is in ``keep`` (default: ``items``); emits no signal while doing so."""
    if [combo.itemText(i) for i in range(combo.count())] == list(items):
        return
    current = combo.currentText()
    combo.blockSignals(True)
    combo.clear()
    combo.addItems(list(items))
    if current in (items if keep is None else keep):
        combo.setCurrentText(current)
    combo.blockSignals(False)
