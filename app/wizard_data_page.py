"""The first page of the new-project wizard: choose the data, see how it was read.

A path typed or pasted into the field is read as soon as the typing pauses (no Enter
needed); a path that does not exist yet gets a line saying so, and Next stays disabled until
the preview of exactly that path (and those read options) is on screen. "Read options" holds
what ``activelab new`` takes as --encoding, --delimiter, --decimal, --header and --na-values;
changing one reads the data again with it.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QPlainTextEdit, QPushButton, QTableWidget, QTableWidgetItem, QToolButton, QVBoxLayout,
    QWidget, QWizardPage,
)

from activelab.app.wizard_pages import PREVIEW_ROWS, THUMB, Preview, _error_label, _pixmap, load_preview

if TYPE_CHECKING:
    from activelab.app.wizard import NewProjectWizard

#: How long typing must pause before a typed path is read (milliseconds).
TYPING_PAUSE_MS = 400
DETECT = "detect"
DELIMITERS = {DETECT: None, "comma ,": ",", "semicolon ;": ";", "tab": "tab", "pipe |": "|"}
HEADERS = {DETECT: None, "first row names the columns": True, "no header row": False}
DECIMALS = {DETECT: None, "point .": ".", "comma ,": ","}


def typed_path(text: str) -> str:
    """The path in what was typed or pasted: surrounding spaces and quotes removed, a
    ``file://`` URL (a file manager's copy) made a path; '' when nothing is left."""
    s = text.strip().strip("'\"").strip()
    if s.startswith("file://"):
        s = unquote(urlparse(s).path)
    return s


class ReadOptionsBox(QWidget):
    """The reading options of ``activelab new`` for a text table, behind a toggle: while it
    is off, the importer detects everything (``options()`` is then empty)."""

    def __init__(self) -> None:
        super().__init__()
        self.toggle = QToolButton()
        self.toggle.setText("Read options (encoding, delimiter, decimal mark, header, missing values)")
        self.toggle.setCheckable(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setAutoRaise(True)
        self.toggled = self.toggle.toggled
        self.encoding = QLineEdit()
        self.encoding.setPlaceholderText("detected, e.g. utf-8, cp1252, shift_jis")
        self.delimiter = QComboBox()
        self.delimiter.addItems(list(DELIMITERS))
        self.decimal = QComboBox()
        self.decimal.addItems(list(DECIMALS))
        self.header = QComboBox()
        self.header.addItems(list(HEADERS))
        self.na_values = QLineEdit()
        self.na_values.setPlaceholderText("only empty cells are missing; e.g. NA,null,-")
        self.form_host = QWidget()
        form = QFormLayout(self.form_host)
        form.setContentsMargins(24, 0, 0, 0)
        form.addRow("Encoding", self.encoding)
        form.addRow("Delimiter", self.delimiter)
        form.addRow("Decimal mark", self.decimal)
        form.addRow("Header", self.header)
        form.addRow("Missing values", self.na_values)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.toggle)
        lay.addWidget(self.form_host)
        self.form_host.setVisible(False)
        self.toggle.toggled.connect(self._on_toggle_toggled)

    def isChecked(self) -> bool:  # noqa: N802 (reads like Qt's checkable boxes)
        return self.toggle.isChecked()

    def setChecked(self, on: bool) -> None:  # noqa: N802
        self.toggle.setChecked(on)

    def _on_toggle_toggled(self, on: bool) -> None:
        self.form_host.setVisible(on)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)

    def options(self) -> dict[str, Any]:
        """``encoding`` and ``read_options`` as Project.create and read_table take them."""
        if not self.isChecked():
            return {"encoding": None, "read_options": {}}
        ro: dict[str, Any] = {}
        for key, combo, values in (("delimiter", self.delimiter, DELIMITERS),
                                   ("decimal", self.decimal, DECIMALS),
                                   ("header", self.header, HEADERS)):
            if values[combo.currentText()] is not None:
                ro[key] = values[combo.currentText()]
        na = tuple(x.strip() for x in self.na_values.text().split(",") if x.strip())
        if na:
            ro["na_values"] = na
        return {"encoding": self.encoding.text().strip() or None, "read_options": ro}


class DataPage(QWizardPage):
    def __init__(self, wizard: "NewProjectWizard") -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Choose your data")
        self.setSubTitle("A CSV/TSV, Parquet or JSON-lines table, a NumPy .npz archive, or a "
                         "folder of images (one sub-folder per class is fine).")
        self.requested: tuple[str, str] | None = None   # (path, options) of the last read
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("/path/to/data.csv or a folder of images (type or paste)")
        self.path_edit.returnPressed.connect(self._on_typing_paused)
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(TYPING_PAUSE_MS)
        self._typing.timeout.connect(self._on_typing_paused)
        self.path_edit.textChanged.connect(self._on_path_edit_changed)
        file_button = QPushButton("Choose file…")
        folder_button = QPushButton("Choose folder…")
        file_button.clicked.connect(self._on_file_button_clicked)
        folder_button.clicked.connect(self._on_folder_button_clicked)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(file_button)
        row.addWidget(folder_button)
        self.read_options = ReadOptionsBox()
        for w in (self.read_options.encoding, self.read_options.na_values):
            w.editingFinished.connect(self._reread)
        for c in (self.read_options.delimiter, self.read_options.decimal, self.read_options.header):
            c.currentIndexChanged.connect(self._reread)
        self.read_options.toggled.connect(self._reread)
        self.status = QLabel("")
        self.status.setObjectName("hint")
        self.status.setWordWrap(True)
        self.error = _error_label()
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setDefaultSectionSize(140)
        self.table.verticalHeader().setDefaultSectionSize(24)
        # Every line of "What was detected" reachable: sized to its lines up to a limit, then
        # it scrolls (a word-wrapped label in a capped box cut the last lines off).
        self.decisions = QPlainTextEdit()
        self.decisions.setObjectName("decisions")
        self.decisions.setReadOnly(True)
        self.decisions.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.decisions.setVisible(False)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.read_options)
        lay.addWidget(self.status)
        lay.addWidget(self.error)
        lay.addWidget(self.table, 3)
        lay.addWidget(self.decisions, 2)

    # ------------------------------------------------------------------ state
    def current_request(self) -> tuple[str, str]:
        return typed_path(self.path_edit.text()), repr(sorted(self.read_options.options().items()))

    def isComplete(self) -> bool:  # noqa: N802 (Qt override)
        p = self.wiz.preview
        return p is not None and (p.source, p.options_key) == self.current_request()

    def load(self, path: str) -> None:
        """Read ``path`` (with the read options) in the background; the preview follows."""
        if typed_path(self.path_edit.text()) != path:
            self.path_edit.blockSignals(True)
            self.path_edit.setText(path)
            self.path_edit.blockSignals(False)
        self._typing.stop()
        self.error.setVisible(False)
        self.status.setText(f"Reading {Path(path).name} …")
        self.wiz.preview = None
        self.requested = self.current_request()
        self.completeChanged.emit()
        opts = self.read_options.options()
        job = self.wiz.runner.submit("wizard_preview", load_preview, path,
                                     options_key=self.requested[1], **opts)
        job.finished.connect(self.wiz._on_preview_finished)
        job.failed.connect(self.wiz._on_preview_failed)

    def show_preview(self, p: Preview) -> None:
        self.error.setVisible(False)
        self.status.setText(f"{p.n_rows:,} rows · {len(p.columns)} columns · first "
                            f"{min(PREVIEW_ROWS, p.n_rows)} shown")
        image_col = p.guess.get("image")
        thumbs = p.thumbnails if image_col in p.columns else []
        self.table.clear()
        self.table.setColumnCount(len(p.columns))
        self.table.setRowCount(len(p.rows))
        self.table.setHorizontalHeaderLabels(p.columns)
        for r, rec in enumerate(p.rows):
            for c, text in enumerate(rec):
                item = QTableWidgetItem(text.replace("\n", " ")[:120])
                item.setToolTip(text)
                if thumbs and p.columns[c] == image_col and r < len(thumbs) and thumbs[r] is not None:
                    item.setData(Qt.ItemDataRole.DecorationRole, _pixmap(thumbs[r]))
                self.table.setItem(r, c, item)
        if thumbs:
            self.table.verticalHeader().setDefaultSectionSize(THUMB + 6)
            self.table.setIconSize(self.table.iconSize().expandedTo(QPixmap(THUMB, THUMB).size()))
        else:
            self.table.verticalHeader().setDefaultSectionSize(24)
        self.show_decisions(p.decisions)
        if image_col in p.columns:
            self.table.setColumnWidth(p.columns.index(image_col), 240)
        self.completeChanged.emit()

    def show_decisions(self, decisions: list[str]) -> None:
        shown = [d for d in decisions if "_preview" not in d]
        self.decisions.setPlainText("What was detected:\n• " + "\n• ".join(shown) if shown else "")
        self.decisions.setVisible(bool(shown))

    def show_error(self, message: str) -> None:
        self.status.setText("")
        self.error.setText(message)
        self.error.setVisible(True)
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.decisions.setVisible(False)
        self.completeChanged.emit()

    # ------------------------------------------------------------------ slots
    def _on_path_edit_changed(self, _text: str) -> None:
        self._typing.start()
        self.completeChanged.emit()

    def _on_typing_paused(self) -> None:
        path = typed_path(self.path_edit.text())
        if not path:
            self.status.setText("")
            return
        if self.requested == self.current_request() and (
                self.wiz.preview is not None or self.wiz.runner.is_running("wizard_preview")):
            return
        if not Path(path).expanduser().exists():
            self.status.setText(f"Nothing at {path} (yet): type or paste the path of a data "
                                "file or a folder of images, or use Choose file….")
            self.error.setVisible(False)
            return
        self.load(path)

    def _reread(self, *_a: Any) -> None:
        if typed_path(self.path_edit.text()):
            self.requested = None
            self._on_typing_paused()

    def _on_file_button_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a data file", "", "Data (*.csv *.tsv *.tab *.txt *.parquet *.pq "
            "*.jsonl *.ndjson *.json *.npz);;All files (*)")
        if path:
            self.load(path)

    def _on_folder_button_clicked(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a folder of images")
        if path:
            self.load(path)
