"""Live learning curve: accuracy and macro-F1 against the number of labels, one point per retrain.

Public API (GUI thread; plain data, ``activelab.core.records.CurvePoint``):

    LearningCurveView.set_points(points: Sequence[CurvePoint]) -> None   # replace all (on open)
    LearningCurveView.add_point(point: CurvePoint) -> None               # after a retrain
    LearningCurveView.set_outlook(outlook: dict) -> None                 # LabelingEngine.outlook()
    LearningCurveView.set_cv_readiness(missing: list[str]) -> None       # core.learning.cv_readiness

Cross-validated estimates are solid lines, audit estimates (on uniformly random audit picks,
unbiased by the strategy) are dashed; a legend says which is which. With several tasks a
selector shows the overall curve or one task's (``CurvePoint.per_task``). The curves are
created once and updated with ``setData``.

Below the plot, the outlook (``activelab.core.loop.outlook``): the audit estimate of the
current model with its 95% interval (also drawn as an error bar at the latest label count),
what random picks alone would have reached, whether the model has stopped improving, and how
many more labels the forecast expects. Until cross-validation is possible the plot is replaced
by a sentence saying why, per task, with what is missing (``cv_readiness``); an audit point from
fewer than ``MIN_AUDIT_POINT`` picks is not drawn (one pick gives an accuracy of 0 or 1). The y
range has headroom above 1.0 and below 0, so no point is clipped at an edge.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QFrame, QHBoxLayout, QLabel, QScrollArea, QVBoxLayout, QWidget,
)

from activelab.app.panels._plot_style import make_plot_widget, sync_task_combo
from activelab.app.panels.outlook_lines import OutlookLines
from activelab.core.learning.cv_readiness import MIN_CV_LABELS, plural
from activelab.core.records import CurvePoint

ALL_TASKS = "All tasks"
#: (key in CurvePoint / per_task, legend name, colour, dashed)
SERIES = (
    ("cv_accuracy", "Accuracy (CV)", "#0072B2", False),
    ("cv_macro_f1", "Macro-F1 (CV)", "#E69F00", False),
    ("audit_accuracy", "Accuracy at audit picks", "#009E73", True),
)


_OVERALL = {"cv_accuracy": lambda p: p.cv_accuracy, "cv_macro_f1": lambda p: p.cv_macro_f1,
            "audit_accuracy": lambda p: p.audit_accuracy}


def _value(point: CurvePoint, key: str, task: str) -> float:
    v = point.per_task.get(task, {}).get(key) if task != ALL_TASKS else _OVERALL[key](point)
    return float("nan") if v is None else float(v)


NO_CV = (f"No cross-validated accuracy yet: each task needs at least {MIN_CV_LABELS} labels, "
         "two classes and 2 labels in most of its classes")
CV_RULE = (f"Cross-validation needs, for each task, at least {MIN_CV_LABELS} labels, two classes "
           "and 2 labels in most of its classes.")
MIN_AUDIT_POINT = 3      # fewer audit picks (0, 0.5 or 1 only): the audit accuracy is not drawn
Y_RANGE = (-0.04, 1.06)  # headroom: a point at 0 or 1 is drawn whole
AUDIT_COLOR = "#009E73"
RANDOM_COLOR = "#7F7F7F"


class LearningCurveView(QWidget):
    """Accuracy / macro-F1 vs labels; solid = cross-validated, dashed = audit."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("learning_curve_view")
        self._points: list[CurvePoint] = []
        self._missing: list[str] = []     # per task, what cross-validation still lacks
        self._readiness_known = False     # set_cv_readiness was called

        self.task_combo = QComboBox()
        self.task_combo.addItem(ALL_TASKS)
        self.task_combo.currentTextChanged.connect(self._on_task_combo_changed)
        self._task_row = QWidget()
        row = QHBoxLayout(self._task_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Curve for"))
        row.addWidget(self.task_combo, 1)
        self._task_row.setVisible(False)

        self.plot = make_plot_widget(x_label="labels", y_label="score")
        item = self.plot.getPlotItem()
        item.setYRange(*Y_RANGE, padding=0)
        item.setLimits(yMin=Y_RANGE[0] - 0.01, yMax=Y_RANGE[1] + 0.04, xMin=0)
        item.getAxis("left").setTicks([[(v, f"{v:.1f}") for v in (0, 0.2, 0.4, 0.6, 0.8, 1.0)]])
        item.getViewBox().setMouseEnabled(x=True, y=False)
        # The legend sits below the plot (a legend inside a small plot hides the newest points).
        entries = [(color, "&#9476;&#9476;" if dashed else "&#9472;&#9472;", name)
                   for _key, name, color, dashed in SERIES]
        entries += [(AUDIT_COLOR, "&#9475;", "audit estimate"),
                    (RANDOM_COLOR, "&#9475;", "random only")]
        self.legend = QLabel("&nbsp;&nbsp; ".join(
            f'<span style="color:{color}; font-weight:bold">{mark}</span>'
            f'&nbsp;{name.replace(" ", "&nbsp;")}' for color, mark, name in entries))
        self.legend.setObjectName("legend")
        self.legend.setToolTip(
            "CV: cross-validated on the labels (the strategy's picks are harder than average, "
            "so it runs low). Audit picks: uniformly random samples, scored by the model of the "
            "moment before their label. Bars at the right end: the audit estimate of the current "
            "model (green) and random picks alone, extrapolated (grey), with 95% intervals.")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setWordWrap(True)
        self.curves: dict[str, pg.PlotDataItem] = {}
        for key, name, color, dashed in SERIES:
            pen = pg.mkPen(color, width=2,
                           style=Qt.PenStyle.DashLine if dashed else Qt.PenStyle.SolidLine)
            curve = item.plot(
                [], [], pen=pen, symbol="o" if not dashed else "t",
                symbolSize=6, symbolBrush=color, symbolPen=color,
            )
            self.curves[key] = curve
        self.empty_hint = QLabel(
            "No retrain yet. A point is added each time the model retrains "
            "(every few labels, or with Retrain now)."
        )
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setObjectName("hint")
        self.latest = QLabel("")
        self.latest.setObjectName("hint")
        self.latest.setWordWrap(True)
        self.no_cv_hint = QLabel("")
        self.no_cv_hint.setObjectName("no_cv_hint")
        self.no_cv_hint.setWordWrap(True)
        self.no_cv_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.no_cv_hint.setVisible(False)
        self.outlook = OutlookLines()
        self.audit_bar, self.audit_dot = self._estimate_items(item, AUDIT_COLOR)
        self.random_bar, self.random_dot = self._estimate_items(item, RANDOM_COLOR)
        self._outlook: dict = {}

        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.addWidget(self._task_row)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.no_cv_hint, 1)
        lay.addWidget(self.legend)
        lay.addWidget(self.empty_hint)
        lay.addWidget(self.latest)
        # The outlook scrolls rather than growing the dock (and the window) past the screen.
        self.outlook_scroll = QScrollArea()
        self.outlook_scroll.setObjectName("outlook_scroll")
        self.outlook_scroll.setWidget(self.outlook)
        self.outlook_scroll.setWidgetResizable(True)
        self.outlook_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.outlook_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.outlook_scroll.setMinimumHeight(60)
        lay.addWidget(self.outlook_scroll, 1)
        self._refresh()

    @staticmethod
    def _estimate_items(item: pg.PlotItem, color: str) -> tuple[pg.ErrorBarItem, pg.PlotDataItem]:
        """An error bar (the 95% interval) and a diamond (the estimate), drawn empty."""
        bar = pg.ErrorBarItem(x=np.empty(0), y=np.empty(0), top=np.empty(0),
                              bottom=np.empty(0), beam=0.0, pen=pg.mkPen(color, width=3))
        item.addItem(bar)
        dot = item.plot([], [], pen=None, symbol="d", symbolSize=10, symbolBrush=color,
                        symbolPen=pg.mkPen("w"))
        return bar, dot

    # ------------------------------------------------------------------ slots
    def set_points(self, points: Sequence[CurvePoint]) -> None:
        """Replace the whole curve (on opening a project)."""
        self._points = sorted(points, key=lambda p: (p.n_labels, p.version))
        self._sync_tasks()
        self._refresh()

    def add_point(self, point: CurvePoint) -> None:
        """Append the point of a finished retrain (replaces one of the same model version)."""
        self._points = [p for p in self._points if p.version != point.version] + [point]
        self._points.sort(key=lambda p: (p.n_labels, p.version))
        self._sync_tasks()
        self._refresh()

    def set_outlook(self, outlook: dict) -> None:
        """Show the project's outlook (``LabelingEngine.outlook()``: stopping rule, forecast,
        savings, why there is no cross-validated accuracy yet)."""
        self._outlook = dict(outlook or {})
        self.outlook.set_outlook(self._outlook)
        self._refresh()

    def set_cv_readiness(self, missing: Sequence[str]) -> None:
        """What each task still lacks for cross-validation (``cv_readiness``: one sentence per
        task, "task: ..."; [] when every task has enough)."""
        missing = list(missing)
        if missing != self._missing or not self._readiness_known:
            self._readiness_known = True
            self._missing = missing
            self._refresh()

    def series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The (x, y) drawn for a series key such as 'cv_accuracy' (retrains without an
        estimate of that kind are left out)."""
        x, y = self.curves[key].getData()
        if x is None:
            return np.empty(0), np.empty(0)
        return np.asarray(x), np.asarray(y)

    # --------------------------------------------------------------- helpers
    def _sync_tasks(self) -> None:
        tasks: list[str] = []
        for p in self._points:
            for t in p.per_task:
                if t not in tasks:
                    tasks.append(t)
        sync_task_combo(self.task_combo, [ALL_TASKS, *tasks], keep=tasks)
        self._task_row.setVisible(len(tasks) > 1)

    def _on_task_combo_changed(self, _task: str) -> None:
        self._refresh()

    def _refresh(self) -> None:
        task = self.task_combo.currentText() or ALL_TASKS
        x = np.array([p.n_labels for p in self._points], dtype=float)
        for key, _name, _color, _dashed in SERIES:
            y = np.array([_value(p, key, task) for p in self._points], dtype=float)
            keep = ~np.isnan(y)   # a retrain without an estimate leaves no gap in the line
            if key == "audit_accuracy":
                keep &= np.array([p.audit_n >= MIN_AUDIT_POINT for p in self._points], dtype=bool)
            self.curves[key].setData(x[keep], y[keep])
        has_cv = any(not np.isnan(_value(p, k, task)) for p in self._points
                     for k in ("cv_accuracy", "cv_macro_f1"))
        missing = [m for m in self._missing if task == ALL_TASKS or m.startswith(f"{task}: ")]
        waiting = not has_cv and (bool(self._points) or bool(missing))
        self.empty_hint.setVisible(not self._points and not waiting)
        self.no_cv_hint.setText(self._waiting_text(missing) if waiting else "")
        self.no_cv_hint.setVisible(waiting)
        self.plot.setVisible(not waiting)
        self.legend.setVisible(bool(self._points) and not waiting)
        self._draw_estimates()
        if self._points:
            last = self._points[-1]
            parts = [f"Model v{last.version} on {plural(last.n_labels, 'label')}"]
            for key, label in (("cv_accuracy", "accuracy"), ("cv_macro_f1", "macro-F1")):
                v = _value(last, key, task)
                if not np.isnan(v):
                    parts.append(f"{label} {v:.3f}")
            a = _value(last, "audit_accuracy", task)
            if not np.isnan(a) and not (_savings_record(self._outlook, task) or {}).get("current"):
                parts.append(f"audit accuracy {a:.3f} on {plural(last.audit_n, 'pick')}")
            self.latest.setText(" · ".join(parts))
            self.plot.getPlotItem().setXRange(0, max(10.0, float(x.max()) * 1.08), padding=0)
        else:
            self.latest.setText("")
            self.plot.getPlotItem().setXRange(0, 50, padding=0)

    def _waiting_text(self, missing: list[str]) -> str:
        """Why there is no curve yet: what each task lacks, or that the next retrain draws it."""
        if missing:
            return ("No cross-validated accuracy yet. " + CV_RULE + "\nStill missing:\n"
                    + "\n".join(f"• {m}" for m in missing) + "\nThe curve appears from then on.")
        if self._points and not self._readiness_known:
            why = self._outlook.get("cv") or NO_CV
            return why[:1].upper() + why[1:] + ".\nThe curve appears from then on."
        if self._points:
            return ("Enough labels for cross-validation now: the curve starts with the next "
                    "retrain (every few labels, or Model > Retrain now).")
        return NO_CV + "."

    def _draw_estimates(self) -> None:
        """Error bars at the latest label count: the audit estimate of the current model and
        what random picks alone would reach there (single-task projects, or the task shown)."""
        rec = _savings_record(self._outlook, self.task_combo.currentText() or ALL_TASKS)
        cur = (rec or {}).get("current")
        rnd = (rec or {}).get("random_at_current")
        x = float(self._points[-1].n_labels) if self._points else 0.0
        # Side by side at the latest count: the audit estimate on it, random-only just right.
        for bar, dot, est, dx in ((self.audit_bar, self.audit_dot, cur, 0.0),
                                  (self.random_bar, self.random_dot, rnd, 0.025 * x)):
            if est and self._points:
                y = np.array([est["accuracy"]])
                bar.setData(x=np.array([x + dx]), y=y, top=np.array([est["high"]]) - y,
                            bottom=y - np.array([est["low"]]))
                dot.setData([x + dx], y)
            else:
                bar.setData(x=np.empty(0), y=np.empty(0), top=np.empty(0), bottom=np.empty(0))
                dot.setData([], [])

    def estimate_bars(self) -> dict[str, tuple[float, float] | None]:
        """(low, high) of the drawn error bars: 'audit' and 'random' (None when not drawn)."""
        out: dict[str, tuple[float, float] | None] = {}
        for name, bar in (("audit", self.audit_bar), ("random", self.random_bar)):
            y, top, bottom = (bar.opts.get(k) for k in ("y", "top", "bottom"))
            out[name] = (float(y[0] - bottom[0]), float(y[0] + top[0])) \
                if y is not None and len(y) else None
        return out


def _savings_record(outlook: dict, task: str) -> dict | None:
    tasks = ((outlook or {}).get("savings") or {}).get("tasks") or {}
    if task != ALL_TASKS and task in tasks:
        return tasks[task]
    return next(iter(tasks.values())) if len(tasks) == 1 else None
