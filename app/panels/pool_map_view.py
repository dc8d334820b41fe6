"""Pool map: a 2-D projection of the whole pool, coloured by predicted class.

Public API (GUI thread, plain numpy data):

    PoolMapView.set_projection(xy: np.ndarray, positions: np.ndarray | None = None) -> None
        # (N, 2), project.pool_projection(); ``positions``: the pool positions of the points
        # when they are a sample of the pool (sorted; a Dask project's map), else point i = sample i
    PoolMapView.set_caption(text: str) -> None                     # a line above the plot, "" hides it
    PoolMapView.set_predictions(predictions: dict[str, tuple[np.ndarray, np.ndarray]],
                                classes: dict[str, Sequence[str]] | None = None) -> None
                                # project.predictions(): task -> (labels (N,) object, confidence (N,))
    PoolMapView.set_labeled(indices: np.ndarray) -> None           # pool indices with a label
    PoolMapView.set_queue(indices: np.ndarray) -> None             # the current queue (highlighted)
    PoolMapView.set_current(index: int | None) -> None             # the sample on screen
    signal sample_requested(int idx)                               # a point was clicked
    PoolMapView.set_layout(method: str) -> None                    # "pca" | "umap" in the selector
    PoolMapView.set_layout_note(text: str) -> None                 # "Computing UMAP… 40%", "" clears
    signal layout_requested(str method)                            # the selector was changed

The pool is drawn by a PointCloudItem (one drawPoints call per class, milliseconds for 60k
points; pyqtgraph's ScatterPlotItem needs ~0.4 s to set 60k spots), the labeled samples by a
ScatterPlotItem (larger, outlined) and the queue by another (red rings). A click picks the
nearest point within a few pixels. With several tasks a selector picks the task that colours
the map.
"""
from __future__ import annotations

import html
from typing import Sequence

import numpy as np
import pandas as pd
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from activelab.app.panels._point_cloud import PointCloudItem
from activelab.app.panels._plot_style import (
    ACCENT, UNKNOWN, class_brushes, class_color, make_plot_widget, sync_task_combo,
)

MAX_LEGEND = 12


def _label_key(v: object) -> str | None:
    """A predicted label as one string (multi-label: the first label; None if missing)."""
    if v is None:
        return None
    if isinstance(v, (list, tuple, np.ndarray)):
        return str(v[0]) if len(v) else "(none)"
    if isinstance(v, float) and np.isnan(v):
        return None
    return str(v)


class PoolMapView(QWidget):
    """Scatter of the pool's 2-D projection; click a point to open that sample."""

    sample_requested = Signal(int)
    layout_requested = Signal(str)
    HINT = "Click a point to open that sample. Outlined: labeled · red ring: in the queue."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pool_map_view")
        self._xy = np.empty((0, 2), dtype=np.float32)
        self._positions: np.ndarray | None = None          # pool position of each point (a sample)
        self._predictions: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._classes: dict[str, list[str]] = {}
        self._labeled = np.empty(0, dtype=np.int64)
        self._queue = np.empty(0, dtype=np.int64)
        self._current: int | None = None
        self._class_index = np.empty(0, dtype=np.int64)   # per point, -1 = no prediction
        self._blind = False                                # blind mode: no colour by prediction

        self.task_combo = QComboBox()
        self.task_combo.currentTextChanged.connect(self._on_task_combo_changed)
        self._task_row = QWidget()
        row = QHBoxLayout(self._task_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Colour by"))
        row.addWidget(self.task_combo, 1)
        self._task_row.setVisible(False)
        self.layout_combo = QComboBox()
        self.layout_combo.setObjectName("map_layout")
        self.layout_combo.addItem("PCA", "pca")
        self.layout_combo.addItem("UMAP", "umap")
        self.layout_combo.setItemData(0, "Two linear components of the features: instant.", Qt.ItemDataRole.ToolTipRole)
        self.layout_combo.setItemData(1, "Keeps neighbours together (umap-learn, the 'map' extra); "
                                      "computed in the background and cached.", Qt.ItemDataRole.ToolTipRole)
        self.layout_combo.activated.connect(
            lambda i: self.layout_requested.emit(self.layout_combo.itemData(i)))
        layout_row = QHBoxLayout()
        layout_row.setContentsMargins(0, 0, 0, 0)
        layout_row.addWidget(QLabel("Layout"))
        layout_row.addWidget(self.layout_combo, 1)
        self.layout_note = QLabel()
        self.layout_note.setObjectName("hint")
        self.layout_note.setWordWrap(True)
        self.layout_note.setVisible(False)
        self.caption = QLabel()
        self.caption.setObjectName("map_caption")
        self.caption.setWordWrap(True)
        self.caption.setVisible(False)

        self.plot = make_plot_widget()
        item = self.plot.getPlotItem()
        item.showGrid(x=False, y=False)
        item.hideAxis("left")
        item.hideAxis("bottom")
        item.setAspectLocked(False)
        self.points = PointCloudItem(size=4)
        self.points.setZValue(0)
        self.labeled_points = pg.ScatterPlotItem(
            size=8, pen=pg.mkPen("#222222", width=1.2), pxMode=True)
        self.labeled_points.setZValue(1)
        self.queue_points = pg.ScatterPlotItem(
            size=13, pen=pg.mkPen(ACCENT, width=2), brush=None, pxMode=True)
        self.queue_points.setZValue(2)
        self.current_point = pg.ScatterPlotItem(
            size=20, symbol="+", pen=pg.mkPen(ACCENT, width=2.5), brush=QBrush(QColor(ACCENT)),
            pxMode=True)
        self.current_point.setZValue(3)
        for it in (self.points, self.labeled_points, self.queue_points, self.current_point):
            item.addItem(it)
        self.plot.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.legend = QLabel()       # below the plot, so it never hides points
        self.legend.setObjectName("legend")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)

        self.hint = QLabel("The map appears once the pool has been projected to 2-D "
                           "(in the background, a few seconds after opening).")
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.addLayout(layout_row)
        lay.addWidget(self.layout_note)
        lay.addWidget(self._task_row)
        lay.addWidget(self.caption)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.legend)
        lay.addWidget(self.hint)

    # ------------------------------------------------------------------ slots
    def set_projection(self, xy: np.ndarray, positions: np.ndarray | None = None) -> None:
        """The (N, 2) coordinates of the pool (or of a sample of it: ``positions``, the pool
        position of each point, sorted); resets predictions that no longer fit."""
        xy = np.asarray(xy, dtype=np.float32)
        if xy.ndim != 2 or xy.shape[1] != 2:
            raise ValueError(f"pool projection must have shape (N, 2), got {xy.shape}")
        if positions is not None and len(positions) != len(xy):
            raise ValueError(f"{len(positions)} positions for {len(xy)} points")
        self._xy = xy
        self._positions = None if positions is None else np.asarray(positions, dtype=np.int64)
        self.hint.setText(self.HINT)
        self._recolor()
        self._draw_overlays()
        self.plot.getPlotItem().autoRange()

    def set_layout(self, method: str) -> None:
        """Show ``method`` ("pca" or "umap") in the selector (emits nothing)."""
        i = self.layout_combo.findData(method)
        if i >= 0:
            self.layout_combo.setCurrentIndex(i)

    def layout(self) -> str:
        return str(self.layout_combo.currentData())

    def set_caption(self, text: str) -> None:
        """A line above the plot saying what its points are (a sample); "" hides it."""
        self.caption.setText(text)
        self.caption.setVisible(bool(text))

    def point_positions(self) -> np.ndarray:
        """The pool position of each point drawn."""
        return (np.arange(len(self._xy), dtype=np.int64) if self._positions is None
                else self._positions.copy())

    def set_layout_note(self, text: str) -> None:
        """A line under the selector (UMAP being computed, or why it cannot be); "" hides it."""
        self.layout_note.setText(text)
        self.layout_note.setVisible(bool(text))

    def set_predictions(
        self,
        predictions: dict[str, tuple[np.ndarray, np.ndarray]],
        classes: dict[str, Sequence[str]] | None = None,
    ) -> None:
        """Predicted labels (and confidence) per task, row i = pool sample i."""
        self._predictions = dict(predictions)
        self._classes = {t: list(c) for t, c in (classes or {}).items()}
        tasks = list(self._predictions) or list(self._classes)
        sync_task_combo(self.task_combo, tasks)
        self._task_row.setVisible(len(tasks) > 1)
        self._recolor()
        self._draw_overlays()

    def set_labeled(self, indices: np.ndarray) -> None:
        self._labeled = np.asarray(indices, dtype=np.int64)
        self._draw_overlays()

    def set_queue(self, indices: np.ndarray) -> None:
        self._queue = np.asarray(indices, dtype=np.int64)
        self._draw_overlays()

    def set_current(self, index: int | None) -> None:
        self._current = None if index is None else int(index)
        self._draw_overlays()

    def set_blind(self, blind: bool) -> None:
        """Blind mode: every point grey (no colour reveals a prediction) until switched off."""
        if bool(blind) != self._blind:
            self._blind = bool(blind)
            self._recolor()
            self._draw_overlays()

    def shown_task(self) -> str:
        return self.task_combo.currentText()

    def class_of_points(self) -> np.ndarray:
        """Per pool point, the index of its predicted class in the legend (-1 = none)."""
        return self._class_index.copy()

    # --------------------------------------------------------------- helpers
    def _on_task_combo_changed(self, _task: str) -> None:
        self._recolor()
        self._draw_overlays()

    def _point_classes(self, n: int) -> tuple[np.ndarray, list[str]]:
        task = self.task_combo.currentText()
        labels = self._predictions.get(task, (None, None))[0]
        names = list(self._classes.get(task, []))
        if labels is None or len(labels) != n or self._blind:
            return np.full(n, -1, dtype=np.int64), names
        try:   # hash-based, C speed; lists (multi-label) are unhashable and take the slow path
            codes, uniques = pd.factorize(np.asarray(labels, dtype=object))
        except TypeError:
            codes, uniques = pd.factorize(np.array([_label_key(v) for v in labels], dtype=object))
        keys = [str(u) for u in uniques]
        names += sorted(set(keys) - set(names))
        lookup = {c: i for i, c in enumerate(names)}
        to_class = np.array([lookup[k] for k in keys] + [-1], dtype=np.int64)
        return to_class[np.where(codes >= 0, codes, len(keys))], names

    def _recolor(self) -> None:
        n = len(self._xy)
        self._class_index, names = self._point_classes(n)
        self.points.set_points(self._xy, self._class_index,
                               [class_color(i, 150) for i in range(len(names))],
                               QColor(UNKNOWN), size=3 if n > 20000 else 4 if n > 5000 else 7)
        entries = [(class_color(i).name(), html.escape(name))
                   for i, name in enumerate(names[:MAX_LEGEND])]
        if len(names) > MAX_LEGEND:
            entries.append((UNKNOWN, f"… {len(names) - MAX_LEGEND} more"))
        if self._blind:
            entries = [(UNKNOWN, "colours by prediction hidden (blind mode)")]
        elif n and (self._class_index < 0).any():
            entries.append((UNKNOWN, "no prediction yet"))
        self.legend.setText("&nbsp;&nbsp; ".join(
            f'<span style="color:{c}; font-size:14px">&#9679;</span>&nbsp;{t}' for c, t in entries))
        self.legend.setVisible(bool(entries))

    def _valid(self, idx: np.ndarray) -> np.ndarray:
        """The points of pool positions ``idx`` that are drawn (all, or those in the sample)."""
        n = len(self._xy)
        if self._positions is None:
            return idx[(idx >= 0) & (idx < n)]
        at = np.searchsorted(self._positions, idx)
        hit = at < n
        hit[hit] = self._positions[at[hit]] == idx[hit]
        return at[hit].astype(np.int64)

    def _draw_overlays(self) -> None:
        lab = self._valid(self._labeled)
        if len(lab):
            palette = np.array(class_brushes(max(1, self._class_index.max() + 1))
                               + [QBrush(QColor(UNKNOWN))], dtype=object)
            cls = self._class_index[lab] if len(self._class_index) == len(self._xy) else -np.ones(len(lab), int)
            self.labeled_points.setData(x=self._xy[lab, 0], y=self._xy[lab, 1],
                                        brush=palette[cls], data=lab)
        else:
            self.labeled_points.setData([], [])
        q = self._valid(self._queue)
        self.queue_points.setData(x=self._xy[q, 0], y=self._xy[q, 1], data=q)
        cur = self._valid(np.asarray([] if self._current is None else [self._current], np.int64))
        if len(cur):
            c = int(cur[0])
            self.current_point.setData(x=[self._xy[c, 0]], y=[self._xy[c, 1]], data=[c])
        else:
            self.current_point.setData([], [])

    def _on_scene_clicked(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return
        vb = self.plot.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(ev.scenePos()):
            return
        pos = vb.mapSceneToView(ev.scenePos())
        px_x, px_y = vb.viewPixelSize()
        idx = self.points.nearest(pos.x(), pos.y(), px_x, px_y, radius_px=7.0)
        if idx is not None:
            self.sample_requested.emit(int(idx if self._positions is None else self._positions[idx]))
