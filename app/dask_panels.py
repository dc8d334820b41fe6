"""The pool map and confidence panel of a Dask-engine project (issue 13), fed by its retrain job.

A Dask project keeps no model and no pool in memory, so the window's usual route (the model's
predictions for every row, the projection of every row) does not exist. Instead the retrain job
scores the pool on the cluster and returns, from the same pass, ``PoolPanels``
(``activelab.core.scale.panels``): per task the confidence counts of every unlabelled row (exact,
merged from the parts) and a sampled map (a seeded uniform sample plus the labelled rows and the
queue, already projected). ``DaskPanels(window)`` hands them to the window's panels when the
result is installed (``controller.model_installed``): plain data, drawn on the GUI thread; no
counting, predicting or projecting happens here. On an embedded project it does nothing.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject

WAITING_MAP = ("The map shows a uniform sample of the pool, drawn on the cluster while a retrain "
               "scores the pool: it appears when that is done.")
WAITING_HISTOGRAM = ("The histogram fills when a retrain has scored the pool on the cluster "
                     "(every row is counted there).")
PCA_ONLY = "The Dask engine draws its sample with PCA (UMAP needs the whole pool in memory)."


class DaskPanels(QObject):
    """Shows a Dask project's ``PoolPanels`` in ``window.pool_map`` and ``window.histogram``."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.active = bool(window.project.reads_in_place)
        if not self.active:
            return
        window.pool_map.hint.setText(WAITING_MAP)
        window.histogram.summary.setText(WAITING_HISTOGRAM)
        combo = window.pool_map.layout_combo
        combo.setCurrentIndex(max(0, combo.findData("pca")))
        combo.setEnabled(False)
        combo.setToolTip(PCA_ONLY)
        window.controller.features_loaded.connect(self._on_controller_features_loaded)
        window.controller.model_installed.connect(self._on_controller_model_installed)

    def _on_controller_features_loaded(self, _projection: Any) -> None:
        """The warm-up job has no whole-pool projection for a Dask project: say what comes."""
        w = self.window
        w.map_layouts.request("pca", remember=False)   # no UMAP job, no note about one
        if w.project.pool_panels() is None:
            w.pool_map.hint.setText(WAITING_MAP)

    def _on_controller_model_installed(self) -> None:
        w = self.window
        panels = w.project.pool_panels()
        if panels is None:
            return
        if panels.confidence:   # none before the first model: the map alone, uncoloured
            w.histogram.set_summaries(dict(panels.confidence), note=(
                f"Counted over the whole pool on the cluster for model v{w.project.model_version}; "
                f"the {panels.labelled:,} rows labelled then are left out."))
        m = panels.map
        if m is None:
            return
        w.pool_map.set_projection(m.xy, m.positions)
        w.pool_map.set_predictions(dict(m.predictions),
                                   {t.name: list(t.classes) for t in w.project.spec.tasks})
        w.pool_map.set_caption(m.title())
        w.pool_map.caption.setToolTip(m.details())
        w.pool_map.set_labeled(w._labeled_indices())
        w.map_dock.setWindowTitle("Pool map (sample)" if m.is_sample else "Pool map")
        w._update_map_marks()
