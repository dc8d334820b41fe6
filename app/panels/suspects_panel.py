"""The "Suspect labels" dock: labels the model, trained out-of-fold, confidently contradicts.

``SuspectsPanel`` is the view: a "Find suspects" button, a status line and one row per
suspect (rank, sample, task, its label, the model's alternative and confidence), most suspect
first. ``SuspectReview`` wires it: the search is the core job
``activelab.core.quality.suspects.snapshot_suspects`` run by the window's ``TaskRunner`` (kind
``"suspects"``: never on the UI thread; only the training snapshot, O(labeled), is taken
here). Opening a row (double-click or Enter) shows the sample with its labels in the label
panel (``LabelingController.show_review``); the label given there records the provenance
``review:suspect`` and the row leaves the list. Labels given since the search mark the list
as stale ("Refresh"). ``install_suspects(window)`` adds the dock to a ``MainWindow``.
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QDockWidget, QHBoxLayout, QHeaderView, QLabel, QPushButton,
    QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget,
)

from activelab.core.project.pick_provenance import REVIEW_SUSPECT

__all__ = ["SUSPECTS", "SuspectReview", "SuspectsPanel", "install_suspects"]

SUSPECTS = "suspects"   # the runner's job kind
COLUMNS = ("#", "Sample", "Task", "Label", "Model says")
TASK_COLUMN = 2   # shown only when the suspects come from several tasks


def _text(v: Any) -> str:
    return " | ".join(map(str, v)) if isinstance(v, list) else str(v)


class SuspectsPanel(QWidget):
    """The suspect list. Signals: ``find_requested()``, ``suspect_opened(Suspect)``."""

    find_requested = Signal()
    suspect_opened = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("suspects_panel")
        self.suspects: list[Any] = []
        self.find_button = QPushButton("Find suspects")
        self.find_button.setToolTip("Train the model out-of-fold on the labels and list the "
                                    "labels it confidently contradicts (confident learning)")
        self.find_button.clicked.connect(self.find_requested.emit)
        self.status = QLabel("Labels the model, trained without them, confidently contradicts.")
        self.status.setObjectName("suspects_status")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        head = self.table.horizontalHeader()
        head.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        head.setStretchLastSection(True)
        self.table.itemActivated.connect(lambda it: self.open_row(it.row()))
        self.table.cellDoubleClicked.connect(lambda r, _c: self.open_row(r))
        top = QHBoxLayout()
        top.addWidget(self.find_button)
        top.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(top)
        lay.addWidget(self.status)
        lay.addWidget(self.table, 1)

    def set_running(self, message: str) -> None:
        self.find_button.setEnabled(False)
        self.status.setText(message)

    def set_results(self, found: dict[str, Any]) -> None:
        """Show ``found`` (task -> TaskSuspects): rows task by task, most suspect first."""
        self.find_button.setEnabled(True)
        self.find_button.setText("Refresh")
        self.suspects = [s for r in found.values() for s in r.suspects]
        checked = sum(r.checked for r in found.values())
        notes = [r.note for r in found.values() if r.note]
        head = (f"{len(self.suspects)} suspect label(s) among {checked:,} checked. "
                "Double-click one to review it." if self.suspects else
                f"No suspect labels among {checked:,} checked.")
        self.status.setText(" ".join([head, *notes]))
        self._fill()

    def set_failed(self, message: str) -> None:
        self.find_button.setEnabled(True)
        self.status.setText(f"Could not check the labels: {message}")

    def set_stale(self) -> None:
        """Labels changed since the search: say so (the rows stay until a refresh)."""
        if self.find_button.isEnabled() and self.suspects and "changed" not in self.status.text():
            self.status.setText(self.status.text() + " Labels changed since: Refresh to check again.")

    def remove(self, sample_id: str, task: str) -> None:
        """A decision was recorded on this suspect: it leaves the list."""
        keep = [s for s in self.suspects if (s.sample_id, s.task) != (sample_id, task)]
        if len(keep) != len(self.suspects):
            self.suspects = keep
            self._fill()

    def open_row(self, row: int) -> None:
        if 0 <= row < len(self.suspects):
            self.suspect_opened.emit(self.suspects[row])

    def _fill(self) -> None:
        self.table.setRowCount(len(self.suspects))
        self.table.setColumnHidden(TASK_COLUMN, len({s.task for s in self.suspects}) < 2)
        for r, s in enumerate(self.suspects):
            cells = (str(s.rank), s.sample_id, s.task, _text(s.label),
                     f"{_text(s.alternative)}  {s.confidence:.0%}")
            for c, text in enumerate(cells):
                it = QTableWidgetItem(text)
                if c == 0:
                    it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                it.setToolTip(f"labeled {_text(s.label)}; the model trained without this label "
                              f"says {_text(s.alternative)} ({s.confidence:.0%}); label "
                              f"quality {s.quality:.3f}")
                self.table.setItem(r, c, it)


class SuspectReview(QObject):
    """Runs the suspect search in the background and opens suspects for review."""

    def __init__(self, panel: SuspectsPanel, controller: Any, runner: Any, project: Any,
                 dock: QDockWidget | None = None, label_panel: Any = None) -> None:
        super().__init__(panel)
        self.panel, self.controller, self.runner, self.project = panel, controller, runner, project
        self.label_panel = label_panel
        self._waiting = False
        panel.find_requested.connect(self.find)
        panel.suspect_opened.connect(self.open)
        controller.labels_changed.connect(self._on_controller_labels_changed)
        controller.features_loaded.connect(self._on_controller_features_loaded)
        self._searched = False
        if dock is not None:   # the first time the dock is shown, the search starts by itself
            dock.visibilityChanged.connect(self._on_dock_visibility_changed)

    def find(self) -> None:
        """Start the search (features must be loaded: until then it waits for them)."""
        if not self.controller.ready:
            self._waiting = True
            self.panel.set_running("Waiting for the features to load…")
            return
        from activelab.core.quality.suspects import snapshot_suspects

        self._waiting, self._searched = False, True
        self.panel.set_running("Checking the labels out-of-fold…")
        if self.project.reads_in_place:   # a Dask project: its labelled rows, read from the parts
            from activelab.core.quality.on_dask import dask_suspects

            job = self.runner.submit(SUSPECTS, dask_suspects, self.project)
        else:
            job = self.runner.submit(SUSPECTS, snapshot_suspects, self.project.training_snapshot())
        job.finished.connect(self.panel.set_results)
        job.failed.connect(self.panel.set_failed)
        job.progress.connect(lambda f, msg: self.panel.set_running(
            f"Checking the labels out-of-fold… {f:.0%} {msg}"))

    def open(self, suspect: Any) -> None:
        """Show the suspect's sample in the label panel (its label given: ``review:suspect``)."""
        self.controller.show_review(suspect.queue_item(self.project.model_version))
        rows = getattr(self.label_panel, "rows", [])
        at = next((i for i, r in enumerate(rows) if r.task.name == suspect.task), None)
        if at is not None:   # the keys act on the suspect's task first
            self.label_panel.set_active(at)

    def _on_controller_labels_changed(self) -> None:
        latest = self.project.history(limit=len(self.project.spec.tasks) + 1)
        decided = [e for e in latest if e.kind == "label" and e.strategy == REVIEW_SUSPECT]
        for e in decided:
            self.panel.remove(str(e.sample_id), str(e.task))
        if not latest or latest[0] not in decided:   # another label: the search may differ now
            self.panel.set_stale()

    def _on_controller_features_loaded(self, _xy: Any) -> None:
        if self._waiting:
            self.find()

    def _on_dock_visibility_changed(self, shown: bool) -> None:
        if shown and not self._searched:
            self.find()


def install_suspects(window: Any) -> SuspectReview:
    """Add the "Suspect labels" dock to ``window`` (a MainWindow), a tab of the left group
    (progress, history, settings), with its toggle in the View menu."""
    panel = SuspectsPanel()
    dock = window._dock("Suspect labels", panel, Qt.DockWidgetArea.LeftDockWidgetArea)
    window.tabifyDockWidget(window.settings_dock, dock)   # the left tab group: room for the table
    window.progress_dock.raise_()
    for action in window.menuBar().actions():
        if action.menu() is not None and action.text().replace("&", "") == "View":
            action.menu().addAction(dock.toggleViewAction())
    window.suspects_dock = dock
    return SuspectReview(panel, window.controller, window.runner, window.project, dock,
                         window.label_panel)
