"""Which layout the pool map shows, PCA or UMAP, and the background job that makes UMAP's.

``MapLayouts(view, controller, runner, project)`` wires the map's Layout selector: PCA is the
projection the warm-up job delivers (``controller.features_loaded``); UMAP is computed by the
core job ``activelab.core.project.pool_map.pool_umap`` in the runner (kind ``"umap"``: it waits
on a child process, so the UI thread never imports umap or runs numba), with "Computing UMAP…
NN%" under the selector and the PCA map shown until it is ready. The result is cached with the
project's features, so reopening shows it at once. The choice is remembered on this machine
(QSettings ``map/layout``). Without umap-learn the selector says how to install it and stays on
PCA. A window that closes cancels the job (``TaskRunner.shutdown``), which kills the child.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QSettings

from activelab.core.features.umap_map import umap_missing

UMAP = "umap"
LAYOUT_KEY = "map/layout"

__all__ = ["LAYOUT_KEY", "MapLayouts"]


class MapLayouts(QObject):
    """The pool map's layout selector and UMAP job for one window."""

    def __init__(self, view: Any, controller: Any, runner: Any, project: Any,
                 settings: QSettings | None = None) -> None:
        super().__init__(view)
        self.view, self.runner, self.project = view, runner, project
        self._qs = settings if settings is not None else QSettings("activelab", "activelab")
        self._pca: np.ndarray | None = None
        self._umap: np.ndarray | None = None
        self.wanted = "umap" if str(self._qs.value(LAYOUT_KEY, "pca")) == UMAP else "pca"
        view.set_layout(self.wanted)
        view.layout_requested.connect(self.request)
        controller.features_loaded.connect(self._on_controller_features_loaded)

    def _on_controller_features_loaded(self, xy: Any) -> None:
        """The features (re)loaded with their PCA map: a UMAP of older features is dropped."""
        self._pca = None if xy is None else np.asarray(xy)
        self._umap = None
        if self.wanted == UMAP:
            self.request(UMAP, remember=False)

    def request(self, method: str, remember: bool = True) -> None:
        """Show the ``method`` layout ("pca" or "umap"), computing UMAP's in the background."""
        if remember:
            self._qs.setValue(LAYOUT_KEY, method)
        if method != UMAP:
            self.wanted = "pca"
            self.runner.cancel(UMAP)
            self.view.set_layout_note("")
            if self._pca is not None:
                self.view.set_projection(self._pca)
            return
        missing = umap_missing()
        if missing:
            self.wanted = "pca"
            self.view.set_layout("pca")
            self.view.set_layout_note(missing)
            return
        self.wanted = UMAP
        if self._umap is not None:
            self.view.set_projection(self._umap)
            self.view.set_layout_note("")
            return
        if self._pca is None:
            self.view.set_layout_note("UMAP is computed once the pool's features have loaded.")
            return
        if self.runner.is_running(UMAP):
            return
        self.view.set_layout_note("Computing UMAP… (the PCA map is shown until it is ready)")
        from activelab.core.project.pool_map import pool_umap   # the job's module, on first use
        job = self.runner.submit(UMAP, pool_umap, self.project)
        job.progress.connect(self._on_job_progress)
        job.finished.connect(self._on_job_finished)
        job.failed.connect(self._on_job_failed)

    def _on_job_progress(self, fraction: float, message: str) -> None:
        if self.wanted == UMAP:
            detail = f" — {message}" if message else ""
            self.view.set_layout_note(f"Computing UMAP… {fraction:.0%}{detail} (PCA shown meanwhile)")

    def _on_job_finished(self, xy: Any) -> None:
        self._umap = np.asarray(xy)
        if self.wanted == UMAP:
            self.view.set_projection(self._umap)
            self.view.set_layout_note("")

    def _on_job_failed(self, message: str) -> None:
        self.wanted = "pca"
        self.view.set_layout("pca")
        self.view.set_layout_note(f"UMAP could not be computed: {message.rstrip('.')}. Showing PCA.")
        if self._pca is not None:
            self.view.set_projection(self._pca)
