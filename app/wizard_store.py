"""Where a new project keeps its labels: the wizard's "Store" choice.

"This computer (SQLite)" (the default) keeps them in the project folder; "Team server
(PostgreSQL)" keeps them in a PostgreSQL database that several people label at once, as
``activelab new --store URL``. The URL is checked in a background job of the wizard's
``TaskRunner`` (kind "wizard_store_check", ``probe_team_store``: malformed URL, refused login,
missing database, no answer, a project of that name already there) half a second after the
last edit, never on the UI thread; the page is complete only once the server answered for the
URL and project name shown. Messages never carry the URL's password.

    StoreChooser(runner)
    signal changed()                       # the choice, the URL or the check's outcome changed
    StoreChooser.set_project_name(name)    # the folder's name: the project's name on the server
    StoreChooser.store_url() -> str | None # None: this computer
    StoreChooser.ready() -> bool           # local, or the server answered for (URL, name)
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QLineEdit, QVBoxLayout, QWidget

from activelab.app.worker import TaskRunner

LOCAL, TEAM = "local", "team"
CHECK_KIND = "wizard_store_check"
CHECK_DELAY_MS = 500


class StoreChooser(QWidget):
    """The Store row of the wizard's last page (see the module doc)."""

    changed = Signal()

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("store_chooser")
        self.runner = runner
        self._name = "project"
        self._ok_for: tuple[str, str] | None = None     # (url, name) the server answered for
        self._asked: tuple[str, str] | None = None      # (url, name) of the running check
        self.combo = QComboBox()
        self.combo.addItem("This computer (SQLite)", LOCAL)
        self.combo.addItem("Team server (PostgreSQL URL)", TEAM)
        self.combo.setToolTip("Where the labels, queue and settings are kept. A team server lets "
                              "several people label this project at once.")
        self.url_edit = QLineEdit()
        self.url_edit.setPlaceholderText("postgresql://USER@HOST:5432/DATABASE")
        self.url_edit.setToolTip("The PostgreSQL database for the team (a password as "
                                 "USER:PASSWORD@, or in ~/.pgpass). The project gets its own "
                                 "schema there, named after the project folder.")
        self.status = QLabel("")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.combo)
        lay.addWidget(self.url_edit)
        lay.addWidget(self.status)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(CHECK_DELAY_MS)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.combo.currentIndexChanged.connect(self._on_combo_changed)
        self.url_edit.textChanged.connect(lambda _t: self._schedule())
        self._on_combo_changed()

    # ----------------------------------------------------------------- reads
    def team(self) -> bool:
        return self.combo.currentData() == TEAM

    def store_url(self) -> str | None:
        """The PostgreSQL URL for ``Project.create(store_url=...)``; None for this computer."""
        return self.url_edit.text().strip() if self.team() else None

    def ready(self) -> bool:
        """Whether the project can be created with this choice now."""
        return not self.team() or self._ok_for == self._request()

    # ----------------------------------------------------------------- changes
    def set_project_name(self, name: str) -> None:
        """The project's name (the folder's): a team project is schema activelab_<name>."""
        name = name or "project"
        if name != self._name:
            self._name = name
            self._schedule()

    def _request(self) -> tuple[str, str]:
        return (self.url_edit.text().strip(), self._name)

    def _on_combo_changed(self, *_a: Any) -> None:
        self.url_edit.setVisible(self.team())
        self.status.setVisible(self.team())
        self._schedule()

    def _schedule(self) -> None:
        """Check the server half a second after the last edit (typing is not a request each)."""
        self._ok_for = None
        self.runner.cancel(CHECK_KIND)
        self._asked = None
        if self.team():
            url = self.url_edit.text().strip()
            self._show("Type the team server's URL." if not url else "Checking the server …",
                       error=False)
            if url:
                self._timer.start()
        else:
            self._timer.stop()
        self.changed.emit()

    def _on_timer_timeout(self) -> None:
        from activelab.core.store.pg_probe import probe_team_store

        if not self.team() or not self.url_edit.text().strip():
            return
        self._asked = self._request()
        job = self.runner.submit(CHECK_KIND, probe_team_store, *self._asked)
        asked = self._asked
        job.finished.connect(lambda probe: self._on_check_finished(asked, probe))
        job.failed.connect(lambda message: self._on_check_failed(asked, message))

    def _on_check_finished(self, asked: tuple[str, str], probe: Any) -> None:
        if asked != self._request() or not self.team():
            return                                # an answer for an older URL or name
        self._ok_for = asked
        from urllib.parse import urlsplit

        try:
            has_password = urlsplit(asked[0]).password is not None
        except ValueError:
            has_password = False
        self._show(probe.message + (
            " The password in the URL will be saved in the project folder (store.json); "
            "~/.pgpass keeps it out of the folder." if has_password else ""), error=False)
        self.changed.emit()

    def _on_check_failed(self, asked: tuple[str, str], message: str) -> None:
        if asked != self._request() or not self.team() or not message:
            return
        self._show(message, error=True)
        self.changed.emit()

    def _show(self, text: str, error: bool) -> None:
        self.status.setText(text)
        self.status.setObjectName("error" if error else "hint")   # the style sheet's colours
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)
