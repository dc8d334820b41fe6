"""File > Join a team project… (and the start screen's button): attach a folder on this
machine to a team project that lives on a PostgreSQL server, as ``activelab attach URL FOLDER
--project NAME [--data FILE]``, then open it.

The server is asked, and the pool file rebuilt from the source data, in a background job of
the ``TaskRunner`` (kind "join_team", ``join_project``), never on the UI thread. What goes
wrong (a malformed URL, a refused login, a missing database, a server that does not answer, no
such project, the source data not on this machine) is shown in the dialog in the CLI's words,
without the URL's password; the user corrects it and presses Join again.

    JoinTeamDialog(runner, projects_dir=None, parent=None)
    signal joined(str)       # the attached folder: open it next
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QPushButton, QVBoxLayout, QWidget,
)

from activelab.app.worker import TaskRunner

KIND = "join_team"


def join_project(url: str, name: str, folder: str, data: str | None, *, progress: Any) -> str:
    """In the worker: check the server has project ``name`` (``probe_team_store``), then
    attach ``folder`` to it (``attach_project``; the pool file is rebuilt from the recorded
    source data, or ``data``). Returns the folder. Raises ProjectError with the CLI's
    paragraph when the server, the project or the data is not there."""
    from activelab.core.project.attach import attach_project
    from activelab.core.store.pg_probe import probe_team_store

    probe_team_store(url, name, join=True, progress=progress)
    progress.check()
    done, _lines = attach_project(url.strip(), folder, project=name, data=data or None)
    return str(done)


def _row(edit: QLineEdit, browse: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(browse)
    return row


class JoinTeamDialog(QDialog):
    """URL, project name, local folder and (optionally) the source data; Join attaches."""

    joined = Signal(str)

    def __init__(self, runner: TaskRunner | None = None, projects_dir: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("activelab — Join a team project")
        self.resize(720, 440)   # room for a two-paragraph message under the fields
        self.runner = runner if runner is not None else TaskRunner(self)
        self.projects_dir = Path(projects_dir or Path.home() / "activelab-projects")
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("postgresql://USER@HOST:5432/DATABASE")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("the project's name (its folder name when created)")
        self.folder_edit = QLineEdit()
        self.data_edit = QLineEdit()
        self.data_edit.setPlaceholderText("only when the data is at another path on this machine")
        folder_browse, data_browse = QPushButton("Choose…"), QPushButton("Choose…")
        folder_browse.clicked.connect(self._on_folder_browse_clicked)
        data_browse.clicked.connect(self._on_data_browse_clicked)
        self._folder_typed = False
        self.folder_edit.textEdited.connect(lambda _t: setattr(self, "_folder_typed", True))
        self.name_edit.textChanged.connect(self._on_name_edit_changed)
        for edit in (self.url_edit, self.name_edit, self.folder_edit):
            edit.textChanged.connect(lambda _t: self._update_buttons())
        intro = QLabel("Label a project that lives on a team server together with others. "
                       "This machine keeps its own folder: the samples file and features are "
                       "rebuilt here from the project's source data.")
        intro.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Team server", self.url_edit)
        form.addRow("Project", self.name_edit)
        form.addRow("Folder here", _row(self.folder_edit, folder_browse))
        form.addRow("Source data", _row(self.data_edit, data_browse))
        self.status = QLabel("")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        self.error = QLabel("")
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.join_button = self.buttons.addButton("Join", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self._on_join_clicked)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(self.status)
        lay.addWidget(self.error)
        lay.addStretch(1)
        lay.addWidget(self.buttons)
        self._update_buttons()

    def _update_buttons(self) -> None:
        filled = all(e.text().strip() for e in (self.url_edit, self.name_edit, self.folder_edit))
        self.join_button.setEnabled(filled and not self.runner.is_running(KIND))

    def _on_name_edit_changed(self, text: str) -> None:
        if not self._folder_typed:
            self.folder_edit.setText(str(self.projects_dir / text.strip()) if text.strip() else "")

    def _on_folder_browse_clicked(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder for the project on this machine",
                                                self.folder_edit.text())
        if path:
            self._folder_typed = True
            self.folder_edit.setText(path)

    def _on_data_browse_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "The project's source data")
        if path:
            self.data_edit.setText(path)

    def _on_join_clicked(self) -> None:
        self.error.setVisible(False)
        self.status.setText("Asking the server and rebuilding the samples file …")
        job = self.runner.submit(KIND, join_project, self.url_edit.text().strip(),
                                 self.name_edit.text().strip(), self.folder_edit.text().strip(),
                                 self.data_edit.text().strip() or None)
        job.finished.connect(self._on_join_finished)
        job.failed.connect(self._on_join_failed)
        self._update_buttons()

    def _on_join_finished(self, folder: object) -> None:
        self.status.setText(f"Joined: {folder}")
        self._update_buttons()
        self.joined.emit(str(folder))
        self.accept()

    def _on_join_failed(self, message: str) -> None:
        self.status.setText("")
        if message:
            self.error.setText(f"{message}\n\nCorrect it above and press Join again.")
            self.error.setVisible(True)
            if self.height() < self.sizeHint().height():   # never squeeze the fields
                self.resize(self.width(), self.sizeHint().height())
        self._update_buttons()

    def done(self, result: int) -> None:  # noqa: D401 - Qt override
        """Closing the dialog cancels a join still running in the background."""
        self.runner.cancel(KIND)
        super().done(result)
