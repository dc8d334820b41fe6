"""Export dialog: format, what to include, destination; the export runs in the background.

Public API:

    ExportDialog(project_path: str, runner: TaskRunner | None = None, project_name: str = "",
                 labeled_count: int | None = None, parent=None)
    signal export_finished(str path)     # the file written
    ExportDialog.set_destination(path: str) -> None
    ExportDialog.start_export() -> None  # what the Export button does

``activelab.core.export.labels.export_labels(project_path, out, format, include_unlabeled)`` runs through
``activelab.app.worker.TaskRunner`` (kind "export") and opens its own connection to the project store,
so the GUI thread's Project is never used from the worker. Errors are shown in the dialog.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QProgressBar, QPushButton, QRadioButton, QVBoxLayout, QWidget,
)

from activelab.app.icons import icon
from activelab.app.worker import TaskRunner
from activelab.core.export.files import EXTENSIONS, ExportError, format_for_path
from activelab.core.progress import Progress

FORMATS = (("csv", "CSV", ".csv"), ("parquet", "Parquet", ".parquet"),
           ("jsonl", "JSON Lines", ".jsonl"), ("json", "JSON", ".json"))


def run_export(project_path: str, out_path: str, fmt: str, include_unlabeled: bool, *,
               progress: Progress) -> str:
    """Worker function: export and return the path written."""
    from activelab.core.export.labels import export_labels

    return str(export_labels(project_path, out_path, format=fmt,
                             include_unlabeled=include_unlabeled, progress=progress))


class ExportDialog(QDialog):
    """Pick format, content and destination; export with a progress bar."""

    export_finished = Signal(str)

    def __init__(self, project_path: str, runner: TaskRunner | None = None,
                 project_name: str = "", labeled_count: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.project_path = str(project_path)
        self.runner = runner if runner is not None else TaskRunner(self)
        name = project_name or Path(self.project_path).name
        self.setWindowTitle(f"activelab — Export labels of {name}")
        self.setWindowIcon(icon("export"))
        self.setMinimumSize(680, 320)
        self.resize(720, 340)

        intro = QLabel(
            "One row per sample: its id, the original columns, the label of each task and "
            "where the label came from (annotator, time, strategy, model version)."
            + (f" {labeled_count:,} samples are labeled." if labeled_count is not None else "")
        )
        intro.setWordWrap(True)
        intro.setObjectName("hint")

        self.format_buttons: dict[str, QRadioButton] = {}
        self._format_group = QButtonGroup(self)
        fmt_row = QHBoxLayout()
        for key, text, _ext in FORMATS:
            b = QRadioButton(text)
            self._format_group.addButton(b)
            self.format_buttons[key] = b
            b.toggled.connect(self._on_format_toggled)
            fmt_row.addWidget(b)
        fmt_row.addStretch(1)
        self.include_unlabeled = QCheckBox(
            "Include unlabeled samples, with the model's predicted label and confidence")
        self.include_unlabeled.setToolTip("Pre-annotations for the rest of the pool; labeled "
                                          "rows keep the expert's label.")
        self.dest_edit = QLineEdit()
        self.dest_edit.textChanged.connect(self._on_dest_edit_changed)
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._on_browse_clicked)
        dest_row = QHBoxLayout()
        dest_row.addWidget(self.dest_edit, 1)
        dest_row.addWidget(browse)

        form = QFormLayout()
        form.addRow("Format", fmt_row)
        form.addRow("Include", self.include_unlabeled)
        form.addRow("Save to", dest_row)

        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setVisible(False)
        self.export_button = QPushButton("Export")
        self.export_button.setObjectName("primary")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.start_export)
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.export_button)

        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addSpacing(6)
        lay.addLayout(form)
        lay.addSpacing(6)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addStretch(1)
        lay.addLayout(buttons)

        self.dest_edit.setText(str(Path(self.project_path) / f"{name}-labels.csv"))
        self.format_buttons["csv"].setChecked(True)

    # ------------------------------------------------------------------ API
    def format(self) -> str:
        return next(k for k, b in self.format_buttons.items() if b.isChecked())

    def set_destination(self, path: str) -> None:
        self.dest_edit.setText(path)

    def start_export(self) -> None:
        out = self.dest_edit.text().strip()
        if not out:
            self._show("Choose where to save the export.", error=True)
            return
        try:   # the file name decides the format, as in 'activelab export'
            fmt = format_for_path(out)
        except ExportError as exc:
            self._show(str(exc), error=True)
            return
        self.export_button.setEnabled(False)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self._show("Exporting …")
        job = self.runner.submit("export", run_export, self.project_path, out, fmt,
                                 self.include_unlabeled.isChecked())
        job.progress.connect(self._on_export_progress)
        job.finished.connect(self._on_export_finished)
        job.failed.connect(self._on_export_failed)

    def done(self, result: int) -> None:  # Qt override: closing cancels a running export
        self.runner.cancel("export")
        super().done(result)

    # --------------------------------------------------------------- slots
    def _show(self, text: str, error: bool = False, ok: bool = False) -> None:
        self.status.setObjectName("error" if error else "success" if ok else "hint")
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def _on_format_toggled(self, checked: bool) -> None:
        if not checked:
            return
        ext = dict((k, e) for k, _t, e in FORMATS)[self.format()]
        text = self.dest_edit.text().strip()
        if text:
            p = Path(text)
            known = EXTENSIONS.get(p.suffix.lower())
            if known != self.format() and (known or not p.suffix):
                self.dest_edit.setText(str(p.with_suffix(ext)))

    def _on_dest_edit_changed(self, text: str) -> None:
        self.export_button.setEnabled(bool(text.strip()) and not self.runner.is_running("export"))
        key = EXTENSIONS.get(Path(text.strip()).suffix.lower())
        if key in self.format_buttons and not self.format_buttons[key].isChecked():
            self.format_buttons[key].setChecked(True)   # a typed extension picks the format

    def _on_browse_clicked(self) -> None:
        key = self.format()
        text, ext = next((t, e) for k, t, e in FORMATS if k == key)
        path, _ = QFileDialog.getSaveFileName(self, "Export labels to", self.dest_edit.text(),
                                              f"{text} (*{ext});;All files (*)")
        if path:
            self.dest_edit.setText(path)

    def _on_export_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(fraction * 100))
        if message:
            self._show(message[:1].upper() + message[1:] + " …")

    def _on_export_finished(self, result: Any) -> None:
        self.progress.setValue(100)
        self.export_button.setEnabled(True)
        self.close_button.setText("Done")
        self._show(f"Exported to {result}", ok=True)
        self.export_finished.emit(str(result))

    def _on_export_failed(self, message: str) -> None:
        self.progress.setVisible(False)
        self.export_button.setEnabled(True)
        self._show(message, error=True)
