"""Histogram of the model's confidence over the pool (how sure is it, where is the doubt).

Public API (GUI thread, plain numpy data):

    ConfidenceHistogram.set_predictions(predictions: dict[str, tuple[np.ndarray, np.ndarray]],
                                        labeled: np.ndarray | None = None) -> None
        # project.predictions(): task -> (labels (N,), confidence (N,)); ``labeled`` are pool
        # indices with a label, left out so the histogram shows what is still to label.
    ConfidenceHistogram.set_summaries(summaries: dict[str, ConfidenceSummary], note: str = "")
        # counts made elsewhere (a Dask project: merged from the parts of the pool on the
        # cluster, activelab.core.scale.confidence); the bars are drawn as given.

Bins are 0.05 wide over [0, 1] (``activelab.core.scale.confidence.EDGES``; one counting function
for both ways in). With several tasks a selector picks the task.
"""
from __future__ import annotations

import html

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from activelab.app.panels._plot_style import make_plot_widget, sync_task_combo
from activelab.core.scale.confidence import EDGES as BINS
from activelab.core.scale.confidence import LOW, ConfidenceSummary

NO_MODEL = "No model yet: the histogram fills after the first retrain."


class ConfidenceHistogram(QWidget):
    """Counts of pool samples per confidence bin of the current model."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("confidence_histogram")
        self._predictions: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._labeled: np.ndarray | None = None
        self._summaries: dict[str, ConfidenceSummary] | None = None   # counts made elsewhere
        self._note = ""
        self._counts = np.zeros(len(BINS) - 1, dtype=np.int64)

        self.task_combo = QComboBox()
        self.task_combo.currentTextChanged.connect(self._on_task_combo_changed)
        self._task_row = QWidget()
        row = QHBoxLayout(self._task_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Confidence for"))
        row.addWidget(self.task_combo, 1)
        self._task_row.setVisible(False)

        self.plot = make_plot_widget(x_label="confidence of the predicted class",
                                     y_label="samples")
        self.plot.getPlotItem().setMouseEnabled(x=False, y=False)
        centers = (BINS[:-1] + BINS[1:]) / 2
        self.bars = pg.BarGraphItem(x=centers, height=np.zeros_like(centers),
                                    width=(BINS[1] - BINS[0]) * 0.92,
                                    brush=pg.mkBrush("#56B4E9"), pen=pg.mkPen("#0072B2"))
        self.plot.addItem(self.bars)
        self.plot.getPlotItem().setXRange(0, 1, padding=0.02)
        self.plot.getPlotItem().setYRange(0, 1, padding=0)     # no negative counts while empty
        self.summary = QLabel(NO_MODEL)
        self.summary.setObjectName("hint")
        self.summary.setWordWrap(True)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.addWidget(self._task_row)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.summary)

    # ------------------------------------------------------------------ slots
    def set_predictions(
        self,
        predictions: dict[str, tuple[np.ndarray, np.ndarray]],
        labeled: np.ndarray | None = None,
    ) -> None:
        self._predictions = dict(predictions)
        self._summaries, self._note = None, ""
        self._labeled = None if labeled is None else np.asarray(labeled, dtype=np.int64)
        self._sync_tasks(list(self._predictions))

    def set_summaries(self, summaries: dict[str, ConfidenceSummary], note: str = "") -> None:
        """Draw counts made elsewhere, per task (rows without a label); ``note`` ends the
        summary line (where the counts come from)."""
        self._summaries = dict(summaries)
        self._predictions = {}
        self._note = note
        self._sync_tasks(list(self._summaries))

    def _sync_tasks(self, tasks: list[str]) -> None:
        sync_task_combo(self.task_combo, tasks)
        self._task_row.setVisible(len(tasks) > 1)
        self._refresh()

    def counts(self) -> np.ndarray:
        """The bar heights drawn (for tests)."""
        return self._counts.copy()

    # --------------------------------------------------------------- helpers
    def _on_task_combo_changed(self, _task: str) -> None:
        self._refresh()

    def _refresh(self) -> None:
        if self._summaries is not None:
            got = self._summaries.get(self.task_combo.currentText())
            self._draw_summary(got, "unlabeled rows")
            return
        conf = self._predictions.get(self.task_combo.currentText(), (None, None))[1]
        if conf is None:
            self._draw(np.empty(0))
            return
        conf = np.asarray(conf, dtype=float)
        if self._labeled is not None and len(self._labeled):
            mask = np.ones(len(conf), dtype=bool)
            lab = self._labeled[(self._labeled >= 0) & (self._labeled < len(conf))]
            mask[lab] = False
            conf = conf[mask]
        self._draw(conf)

    def _draw(self, conf: np.ndarray) -> None:
        what = "unlabeled samples" if self._labeled is not None else "samples"
        self._draw_summary(ConfidenceSummary.from_confidence(conf), what)

    def _draw_summary(self, got: ConfidenceSummary | None, what: str) -> None:
        self._counts = np.zeros(len(BINS) - 1, np.int64) if got is None else got.counts.copy()
        self.bars.setOpts(height=self._counts.astype(float))
        top = float(self._counts.max()) if self._counts.sum() else 1.0
        self.plot.getPlotItem().setYRange(0, max(1.0, top * 1.08), padding=0)
        if got is None or not got.n:
            self.summary.setText(NO_MODEL)
            return
        median = "median confidence " + ("" if got.median_exact else "≈ ") + f"{got.median:.2f}"
        text = f"{got.n:,} {what} · {median} · {got.below:,} below {LOW:g}"
        if got.classes:
            text += "<br>predicted: " + " · ".join(
                f"{html.escape(str(k))} {v:,} ({v / got.n:.0%})" for k, v in got.classes.items())
        if self._note:
            text += f"<br>{html.escape(self._note)}"
        self.summary.setText(text)
