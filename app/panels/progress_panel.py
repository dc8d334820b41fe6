"""Progress panel: how much is labeled, per task, and how the labels split over classes.

Public API (the main window calls these with plain data from the Project):

    ProgressPanel.set_data(n_samples: int,
                           labeled_per_task: dict[str, int],
                           class_counts: dict[str, dict[str, int]],
                           labeled_any: int | None = None) -> None

``labeled_per_task[t]`` is the number of samples with a label for task t
(``len(project.labels()[t])``); ``class_counts`` is ``project.class_counts()``; ``labeled_any``
is ``project.labeled_count()`` (samples with at least one label). The bar chart shows one
task at a time; a task selector appears when there are several.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget,
)

from activelab.app.panels._plot_style import class_brushes, make_plot_widget, short, sync_task_combo


class ProgressPanel(QWidget):
    """Labeled / total per task, and a bar chart of label counts per class."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("progress_panel")
        self._n_samples = 0
        self._counts: dict[str, dict[str, int]] = {}
        self._bars_per_task: dict[str, QProgressBar] = {}

        self.summary = QLabel("")
        self.summary.setObjectName("panel_title")
        self.summary.setWordWrap(True)
        self._grid_host = QWidget()
        self._grid = QGridLayout(self._grid_host)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setColumnStretch(1, 1)

        self.task_combo = QComboBox()
        self.task_combo.setToolTip("Task whose class counts are shown")
        self.task_combo.currentTextChanged.connect(self._on_task_combo_changed)
        self._task_row = QWidget()
        row = QHBoxLayout(self._task_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Counts per class for"))
        row.addWidget(self.task_combo, 1)

        self.plot = make_plot_widget(y_label="labels")
        self.plot.getPlotItem().setMouseEnabled(x=False, y=False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brushes=[])
        self.plot.addItem(self.bars)
        self._bar_texts: list[pg.TextItem] = []
        self._shown: dict[str, int] = {}
        self._drawn_names: list[str] = []
        self._drawn_task: str | None = None

        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.addWidget(self.summary)
        lay.addWidget(self._grid_host)
        lay.addWidget(self._task_row)
        lay.addWidget(self.plot, 1)
        self._task_row.setVisible(False)

    # ------------------------------------------------------------------ slots
    def set_data(
        self,
        n_samples: int,
        labeled_per_task: dict[str, int],
        class_counts: dict[str, dict[str, int]],
        labeled_any: int | None = None,
    ) -> None:
        """Show the current counts (cheap; call after each label)."""
        self._n_samples = int(n_samples)
        self._counts = {t: dict(c) for t, c in class_counts.items()}
        tasks = list(labeled_per_task) or list(class_counts)
        if labeled_any is None:
            labeled_any = max(labeled_per_task.values(), default=0)
        pct = 100.0 * labeled_any / n_samples if n_samples else 0.0
        self.summary.setText(
            f"<b>{labeled_any:,}</b> of {n_samples:,} samples labeled ({pct:.1f} %)"
        )
        self._sync_task_bars(tasks)
        for t in tasks:
            bar = self._bars_per_task[t]
            bar.setMaximum(max(1, n_samples))
            bar.setValue(int(labeled_per_task.get(t, 0)))
            bar.setFormat(f"{int(labeled_per_task.get(t, 0)):,} / {n_samples:,}")
        sync_task_combo(self.task_combo, tasks)
        self._task_row.setVisible(len(tasks) > 1)
        self._draw_bars(self.task_combo.currentText())

    def shown_task(self) -> str:
        return self.task_combo.currentText()

    def bar_heights(self) -> dict[str, int]:
        """The class -> count pairs currently drawn (for tests and tooltips)."""
        return dict(self._shown)

    # --------------------------------------------------------------- helpers
    def _sync_task_bars(self, tasks: list[str]) -> None:
        if list(self._bars_per_task) == tasks:
            return
        while self._grid.count():
            w = self._grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self._bars_per_task = {}
        for r, t in enumerate(tasks):
            name = QLabel(t)
            name.setToolTip(f"Samples labeled for task '{t}'")
            bar = QProgressBar()
            bar.setTextVisible(True)
            bar.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self._grid.addWidget(name, r, 0)
            self._grid.addWidget(bar, r, 1)
            self._bars_per_task[t] = bar

    def _on_task_combo_changed(self, task: str) -> None:
        self._draw_bars(task)

    def _draw_bars(self, task: str) -> None:
        """Update the bars, their count labels and the axis in place (items are created only
        when the number of classes changes: re-adding items cost ~60 ms per label)."""
        counts = self._counts.get(task, {})
        names = list(counts)
        heights = np.array([counts[n] for n in names], dtype=float)
        shown = dict(zip(names, heights.astype(int).tolist()))
        if shown == self._shown and self._drawn_task == task:
            return
        self._drawn_task = task
        self._shown = shown
        x = np.arange(len(names), dtype=float)
        if names != self._drawn_names:
            self.bars.setOpts(x=x, height=heights, width=0.7, brushes=class_brushes(len(names)))
            ax = self.plot.getPlotItem().getAxis("bottom")
            ax.setTicks([list(zip(x.tolist(), short(names)))])
            self._drawn_names = names
        else:
            self.bars.setOpts(height=heights)
        while len(self._bar_texts) < len(names):
            label = pg.TextItem("", color="#333333", anchor=(0.5, 1.0))
            self.plot.addItem(label)
            self._bar_texts.append(label)
        while len(self._bar_texts) > len(names):
            self.plot.removeItem(self._bar_texts.pop())
        for label, xi, h in zip(self._bar_texts, x, heights):
            label.setText(f"{int(h)}")
            label.setPos(xi, h)
        self.plot.setToolTip("\n".join(f"{n}: {int(h)}" for n, h in zip(names, heights)))
        self.plot.setVisible(bool(names))
        top = float(heights.max()) if len(heights) else 1.0
        self.plot.getPlotItem().setRange(
            xRange=(-0.6, max(len(names), 1) - 0.4), yRange=(0, max(1.0, top * 1.18)), padding=0
        )

