"""The labeling window: composes the sample view, label panel, history and side panels, and wires them.

No logic lives here beyond routing plain data: the flow is in ``LabelingController``, threads in
``activelab.app.worker``, everything else in core/.

Every user action that writes (label, skip, flag, undo, redo, settings) goes through
``WriteGuard.run`` (activelab.app.write_guard): a write that does not land shows the banner with its
cause ("Disk full — label NOT saved …") and a Retry button, the sample stays on screen with the
expert's choice, nothing is marked as saved, and the next key press (or Retry) writes again. A
project opened read-only shows a persistent bar and attempts no write.
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QStatusBar, QVBoxLayout, QWidget

from activelab.app.banner import ErrorBanner, ReadOnlyBar
from activelab.app.history_view import HistoryView, several_annotators
from activelab.app.accept import shown_suggestions
from activelab.app.status_hint import StatusHint
from activelab.app.blind_mode import BlindMode
from activelab.app.dask_panels import DaskPanels
from activelab.app.hotkeys import install_help_menu
from activelab.app.label_panel import LabelPanel
from activelab.app.labeling_controller import Current, LabelingController
from activelab.app.map_layouts import MapLayouts
from activelab.app.panels.agreement_panel import AgreementDock
from activelab.app.panels.confidence_histogram import ConfidenceHistogram
from activelab.app.panels.learning_curve_view import LearningCurveView
from activelab.app.panels.pool_map_view import PoolMapView
from activelab.app.panels.progress_panel import ProgressPanel
from activelab.app.panels.settings_panel import SettingsPanel
from activelab.app.panels.suspects_panel import install_suspects
from activelab.app.sample_view import SampleView
from activelab.app.screen_fit import fit_to_screen
from activelab.app.worker import TaskRunner
from activelab.app.write_failures import WRITE_ERRORS, describe_write_failure, project_read_only_reason
from activelab.app.why_this_sample import why_text
from activelab.app.write_guard import NOT_SAVED, WriteGuard
from activelab.core.errors import ActiveLabError
from activelab.core.learning.cv_readiness import cv_readiness
from activelab.core.loop.outlook import outlook_task
from activelab.core.project.engine import LabelingEngine
from activelab.core.records import CurvePoint

log = logging.getLogger(__name__)
REFRESH_MS = 250   # side panels refresh at most this often while the expert is labeling


def _throttle(timer: QTimer) -> None:
    """Start a single-shot refresh unless one is already due (at most one per interval)."""
    if not timer.isActive():
        timer.start()


def _model_names(current: str) -> list[str]:
    """Every model, torch ones included (listing them does not import torch), plus the
    project's own (a scikit-learn class path, say)."""
    from activelab.core.learning.models import model_names

    return sorted(set(model_names()) | {current})


class MainWindow(QMainWindow):
    """One project open for labeling."""

    def __init__(self, project: LabelingEngine, runner: TaskRunner | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.runner = runner or TaskRunner(self)
        self.controller = LabelingController(project, self.runner, parent=self)
        self.setWindowTitle(f"activelab — {project.name}")
        fit_to_screen(self, 1280, 800)   # smaller on a smaller screen: nothing starts off-screen

        self.banner = ErrorBanner()
        self.read_only_bar = ReadOnlyBar()
        self.read_only = project.read_only
        self.sample_view = SampleView()
        self.sample_view.set_hidden_columns(t.column for t in project.spec.tasks)
        self.label_panel = LabelPanel()
        self.label_panel.set_tasks(list(project.spec.tasks))
        self.label_panel.set_blind(project.settings.blind_mode)
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.read_only_bar)
        lay.addWidget(self.banner)
        lay.addWidget(self.sample_view, 1)
        lay.addWidget(self.label_panel, 0)   # always its full height: buttons are never clipped
        self.setCentralWidget(central)

        self.history_view = HistoryView()
        self.settings_panel = SettingsPanel(models=_model_names(project.settings.model))
        self.settings_panel.set_settings(project.settings, [t.name for t in project.spec.tasks])
        self.progress_panel = ProgressPanel()
        self.curve_view = LearningCurveView()
        self.pool_map = PoolMapView()
        self.histogram = ConfidenceHistogram()
        right, left = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.LeftDockWidgetArea
        self.curve_dock = self._dock("Learning curve", self.curve_view, right)
        self.map_dock = self._dock("Pool map", self.pool_map, right)
        self.histogram_dock = self._dock("Confidence", self.histogram, right)
        for dock in (self.curve_dock, self.map_dock, self.histogram_dock):
            dock.setMinimumWidth(270)
        self.tabifyDockWidget(self.map_dock, self.histogram_dock)
        self.map_dock.raise_()
        self.progress_dock = self._dock("Progress", self.progress_panel, left)
        self.settings_dock = self._dock("Settings", self.settings_panel, left)
        self.history_dock = self._dock("History", self.history_view, left)
        # One tab group on the left keeps the window within a 1280x800 screen.
        self.tabifyDockWidget(self.progress_dock, self.history_dock)
        self.tabifyDockWidget(self.history_dock, self.settings_dock)
        self.progress_dock.raise_()
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(REFRESH_MS)  # throttled: the sample is painted first
        self._refresh_timer.timeout.connect(lambda: self._guard(self._refresh_panels))
        self._map_timer = QTimer(self)
        self._map_timer.setSingleShot(True)
        self._map_timer.setInterval(REFRESH_MS)  # the 60k-point map redraws after the sample
        self._map_timer.timeout.connect(self._update_map_marks)
        self.status_line = QLabel()
        self.status_line.setObjectName("statusLine")
        self.setStatusBar(QStatusBar())
        self.statusBar().addWidget(self.status_line, 1)
        self.counts_line = QLabel()
        self.statusBar().addPermanentWidget(self.counts_line)
        self.guard = WriteGuard(self.banner, self.read_only_bar, self.status_line,
                                project.path, self.read_only, parent=self)
        self._menus()
        self._wire()
        self.blind = BlindMode(self)   # hides every model hint while on; a status-bar badge says so
        self.map_layouts = MapLayouts(self.pool_map, self.controller, self.runner, project)  # PCA | UMAP
        self.suspect_review = install_suspects(self)   # the "Suspect labels" dock
        self.agreement = AgreementDock(self)   # kappa/alpha, the review queue, review decisions
        self.dask_panels = DaskPanels(self)   # a Dask project's map and histogram, from its retrain job
        if self.read_only:
            self._enter_read_only()

    # ----- composition ------------------------------------------------------------------
    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower().replace(' ', '_')}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _menus(self) -> None:
        file_menu = self.file_menu = self.menuBar().addMenu("&File")   # + activelab.app.project_menu
        self.export_action = QAction("&Export labels…", self)
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_action.triggered.connect(self._on_export_triggered)
        file_menu.addAction(self.export_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        self.quit_action = quit_action
        model_menu = self.menuBar().addMenu("&Model")
        retrain = QAction("&Retrain now", self)
        retrain.setShortcut(QKeySequence("Ctrl+R"))
        retrain.triggered.connect(lambda: self.controller.request_retrain())
        model_menu.addAction(retrain)
        view_menu = self.menuBar().addMenu("&View")
        self.blind_action = QAction("&Blind mode (hide model suggestions)", self)
        self.blind_action.setCheckable(True)
        self.blind_action.setShortcut(QKeySequence("Ctrl+B"))
        self.blind_action.setChecked(bool(self.project.settings.blind_mode))
        self.blind_action.toggled.connect(self._on_blind_toggled)
        view_menu.addAction(self.blind_action)
        view_menu.addSeparator()
        self.view_menu = view_menu
        for dock in (self.history_dock, self.settings_dock, self.progress_dock, self.curve_dock,
                     self.map_dock, self.histogram_dock):
            view_menu.addAction(dock.toggleViewAction())
        install_help_menu(self)   # Help > Keyboard shortcuts (?, F1; read from the bindings), About

    def _wire(self) -> None:
        c, p = self.controller, self.label_panel
        p.submitted.connect(self._on_panel_submitted)
        p.skip_requested.connect(lambda: self.guard.run("skip", c.skip))
        p.flag_requested.connect(lambda: self.guard.run("flag", c.flag))
        p.undo_requested.connect(lambda: self.guard.run("undo", c.undo))
        p.redo_requested.connect(lambda: self.guard.run("redo", c.redo))
        p.blocked.connect(self.guard.point_to_read_only)
        self.status_hint = StatusHint(self.status_line)   # a sample's hint goes with the sample
        p.hint_changed.connect(self.status_hint.show)
        c.current_changed.connect(self.status_hint.clear)
        c.current_changed.connect(self._on_controller_current_changed)
        c.labels_changed.connect(lambda: _throttle(self._refresh_timer))
        c.status_changed.connect(self.status_line.setText)
        c.error_occurred.connect(self.banner.show_message)
        c.write_failed.connect(self.guard.show_failure)
        c.features_loaded.connect(self._on_controller_features_loaded)
        c.features_failed.connect(self._on_controller_features_failed)
        c.queue_changed.connect(self._on_controller_queue_changed)
        c.model_updated.connect(self._on_controller_model_updated)
        c.model_installed.connect(lambda: self._guard(self._show_predictions))
        c.model_installed.connect(lambda: c.current and p.set_no_suggestion_reason(
            shown_suggestions(c.current, self.project.model_version)[1]))
        self.history_view.sample_id_requested.connect(self._on_history_sample_id_requested)
        self.settings_panel.settings_changed.connect(self._on_settings_panel_settings_changed)
        self.settings_panel.retrain_requested.connect(lambda: c.request_retrain())
        self.pool_map.sample_requested.connect(lambda idx: self._guard(c.show_sample, idx, "map"))
        for dock in (self.history_dock, self.progress_dock, self.map_dock):
            dock.visibilityChanged.connect(lambda shown: shown and _throttle(self._refresh_timer))
        self.map_dock.visibilityChanged.connect(lambda shown: shown and _throttle(self._map_timer))

    def start(self) -> None:
        """Show the first sample, the panels and the curve; load features in the background."""
        QTimer.singleShot(0, lambda: self.resizeDocks(
            [self.progress_dock, self.curve_dock], [330, 360], Qt.Orientation.Horizontal))
        # The curve with its outlook rows wants about 520 px; the pool map keeps the rest.
        QTimer.singleShot(0, lambda: self.resizeDocks(
            [self.curve_dock, self.map_dock], [520, 240], Qt.Orientation.Vertical))
        self._refresh_panels()
        self.curve_view.set_points(self.project.curve())
        self._refresh_outlook()
        self._show_predictions()
        self.controller.load_features()   # retrains wait for it; labeling does not
        self.controller.start()

    # ----- slots ---------------------------------------------------------------------------
    def _guard(self, action: Any, *args: Any) -> Any:
        """Run a user action that only reads; its error becomes the banner, not a crash."""
        try:
            return action(*args)
        except WRITE_ERRORS as exc:
            self.banner.show_message(str(exc) if isinstance(exc, ActiveLabError) else
                                     f"Could not read from the project: {type(exc).__name__}: {exc}")
            return None

    def _enter_read_only(self) -> None:
        """Viewing only: the bar says why; label keys point to it; settings are shown, not edited."""
        self.read_only_bar.show_reason(project_read_only_reason(self.project))
        self.label_panel.set_read_only(True)
        self.settings_panel.setEnabled(False)
        self.settings_panel.setToolTip("Read-only project: settings cannot be saved.")

    @Slot(dict)
    def _on_panel_submitted(self, values: dict) -> None:
        self.guard.run("label", self.controller.submit, values, self.label_panel.inputs(),
                       retry=self._submit_shown_choice)

    def _submit_shown_choice(self) -> None:
        """Retry of a label that was not saved: the choice still on screen, for the same sample."""
        values = self.label_panel.values()
        if values:
            self._on_panel_submitted(values)

    @Slot(object)
    def _on_controller_current_changed(self, cur: Current | None) -> None:
        if cur is None:
            self.sample_view.show_message("Every sample is labeled or skipped. Export your labels from the File menu.")
            self.label_panel.why.setText("")
            return
        image, image_error = None, None
        if cur.sample.image_ref is not None:
            try:
                image = self.project.image(cur.idx)
            except ActiveLabError as exc:  # shown in the image's place; the sample can be skipped
                image_error = str(exc)
        caption = f"Sample {cur.sample.id}"
        if cur.existing:
            caption += "  ·  already labeled: " + ", ".join(
                f"{t}={', '.join(v) if isinstance(v, list) else v}" for t, v in cur.existing.items())
        self.sample_view.set_sample(cur.sample, image, caption, image_error=image_error)
        # An audit pick checks the model: its suggestion would anchor the answer, so it is hidden.
        preds, no_suggestion = shown_suggestions(cur, self.project.model_version)
        why = why_text(cur.item, cur.source, self.blind.why_context())
        if self.read_only and cur.source == "fallback":
            why = "A random unlabeled sample (read-only: no new queue is prepared)."
        self.label_panel.set_sample(cur.existing, preds, why, no_suggestion)
        # Paint the new sample now, before queued panel refreshes or a model install get a turn.
        self.sample_view.repaint()
        self.label_panel.repaint()
        _throttle(self._map_timer)

    @Slot()
    def _refresh_panels(self) -> None:
        """History, counts and the labeled marks on the map (after each label, coalesced).
        The counts and history cost O(1) in the project's history; the map's marks O(labeled)."""
        p = self.project
        n_labeled = p.labeled_count()
        self.counts_line.setText(f"{n_labeled:,} / {p.n_samples:,} labeled")
        # Only visible panels are redrawn; a dock shown later refreshes on becoming visible.
        if self.history_dock.isVisible():
            actions = 50   # events of about that many actions (a group per labeled sample)
            self.history_view.set_events(p.history(limit=actions * (len(p.spec.tasks) + 1)),
                                         limit=actions, show_annotator=several_annotators(p))
        self.curve_view.set_cv_readiness(cv_readiness(p.spec.tasks, p.class_counts(), p.labels()))
        if self.progress_dock.isVisible():
            self.progress_panel.set_data(p.n_samples, {t: len(v) for t, v in p.labels().items()},
                                         p.class_counts(), n_labeled)
        if self.map_dock.isVisible():
            self.pool_map.set_labeled(self._labeled_indices())

    def _labeled_indices(self) -> np.ndarray:
        """Pool positions with a label for some task, sorted."""
        per_task = [np.fromiter(per, dtype=np.int64, count=len(per)) for per in self.project.labels().values()]
        return np.unique(np.concatenate(per_task)) if per_task else np.empty(0, np.int64)

    def _show_predictions(self) -> None:
        """Colour the map and fill the histogram; only when a model is in memory (never trains)."""
        if self.project.model_state() is None:
            return
        preds = self.project.predictions()
        classes = {t.name: list(t.classes) for t in self.project.spec.tasks}
        self.pool_map.set_predictions(preds, classes)
        self.histogram.set_predictions(preds, self._labeled_indices())

    @Slot(list)
    def _on_controller_queue_changed(self, items: list) -> None:
        _throttle(self._map_timer)

    @Slot()
    def _update_map_marks(self) -> None:
        if not self.map_dock.isVisible():
            return
        cur = self.controller.current
        idx = [q.idx for q in self.controller.queue()] + ([cur.idx] if cur is not None else [])
        self.pool_map.set_queue(np.asarray(idx, dtype=np.int64))
        self.pool_map.set_current(cur.idx if cur is not None else None)

    @Slot(object)
    def _on_controller_model_updated(self, point: CurvePoint) -> None:
        self.curve_view.add_point(point)
        self._refresh_outlook()

    def _refresh_outlook(self) -> None:
        """Stopping rule, forecast and savings of the curve, computed in the worker (the
        forecast's bootstrap refits take up to a second); a newer request supersedes."""
        job = self.runner.submit("outlook", outlook_task, self.project.curve(),
                                 self.project.settings.audit_rate)
        job.finished.connect(self.curve_view.set_outlook)

    @Slot(object)
    def _on_controller_features_loaded(self, projection: Any) -> None:
        if projection is None:
            self.pool_map.hint.setText("The pool map could not be drawn from the features.")
            return
        self.pool_map.set_projection(projection)
        self._update_map_marks()

    @Slot(str)
    def _on_controller_features_failed(self, message: str) -> None:
        self.guard.show_failure(
            f"The pool features could not be loaded: {message.rstrip('.')}. Labeling and saving labels "
            "work; the model is not retrained until they load (Retry loads them again).",
            retry=self.controller.load_features, write=False)

    @Slot(dict)
    def _on_settings_panel_settings_changed(self, changes: dict) -> None:
        def retry() -> None:   # the panel shows the saved values again: the changes, once they land
            self._on_settings_panel_settings_changed(changes)
            self._show_saved_settings()

        if self.guard.run("setting", self.controller.apply_settings, changes, retry=retry) is NOT_SAVED:
            self._show_saved_settings()   # the panel shows what is saved; Retry applies it again
        s = self.project.settings
        if "blind_mode" in changes and self.blind_action.isChecked() != s.blind_mode:
            self.blind_action.setChecked(s.blind_mode)
        self.blind.apply(s.blind_mode)

    def _show_saved_settings(self) -> None:
        self.settings_panel.set_settings(self.project.settings, [t.name for t in self.project.spec.tasks])

    @Slot(str)
    def _on_history_sample_id_requested(self, sample_id: str) -> None:
        try:
            idx = self.project.index_of(sample_id)
        except (ActiveLabError, ValueError, KeyError) as exc:
            self.banner.show_message(f"Sample {sample_id} is not in this project ({exc}).")
            return
        self.controller.show_sample(idx, "history")

    @Slot(bool)
    def _on_blind_toggled(self, on: bool) -> None:
        self.blind.apply(on)
        if self.project.settings.blind_mode != on and not self.read_only:   # read-only: view only
            self.guard.run("setting", self.controller.apply_settings, {"blind_mode": on})
            self._show_saved_settings()

    @Slot()
    def _on_export_triggered(self) -> None:
        from activelab.app.export_dialog import ExportDialog

        self.export_dialog = ExportDialog(
            str(self.project.path), runner=self.runner, project_name=self.project.path.name,
            labeled_count=self.project.labeled_count(), parent=self)
        self.export_dialog.export_finished.connect(
            lambda path: self.status_line.setText(f"Labels exported to {path}"))
        self.export_dialog.open()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        """Labels are already saved; remember the sample on screen, stop background work.
        A position that cannot be saved (disk full) is only logged: no label depends on it."""
        for timer in (self._refresh_timer, self._map_timer):
            timer.stop()   # a closed window reads nothing more from the project
        try:
            self.controller.save_position()
        except WRITE_ERRORS as exc:
            log.warning("position not saved on close: %s",
                        describe_write_failure(exc, self.project.path, "position").message)
        self.runner.shutdown()   # kills the training process at once; does not wait for a retrain
        super().closeEvent(event)
