"""Worker functions and the first two pages of the new-project wizard (data, columns).

``load_preview`` and ``create_project`` are module-level so ``activelab.app.worker.TaskRunner`` can run
them off the GUI thread; they return plain data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
    QLineEdit, QListWidget, QListWidgetItem, QPushButton, QScrollArea, QTableWidget, QTableWidgetItem,
    QVBoxLayout, QWizardPage,
)

from activelab.core.progress import Progress

if TYPE_CHECKING:
    from activelab.app.wizard import NewProjectWizard

PREVIEW_ROWS = 20
THUMB = 48
NO_COLUMN = "(none)"
ROW_NUMBER = "(row number)"


# ------------------------------------------------------------------ worker functions
@dataclass
class Preview:
    """What the data page shows, read in the worker (plain data)."""

    source: str
    n_rows: int
    columns: list[str]
    rows: list[list[str]]
    thumbnails: list[Any] = field(default_factory=list)   # PIL images or None, per preview row
    decisions: list[str] = field(default_factory=list)
    guess: dict[str, Any] = field(default_factory=dict)  # id/text/image/feature/task guesses


def load_preview(path: str, *, progress: Progress) -> Preview:
    """Read ``path`` with the importer, keep the first rows, guess the column roles."""
    from activelab.core.errors import DataError
    from activelab.core.data.images import load_image
    from activelab.core.data.read import infer_spec, read_table

    progress.update(0.05, f"reading {Path(path).name}")
    table = read_table(path)
    frame = table.frame
    progress.update(0.7, "preparing the preview")
    head = frame.head(PREVIEW_ROWS)
    rows = [["" if v is None or (isinstance(v, float) and v != v) else str(v)[:200] for v in rec]
            for rec in head.itertuples(index=False, name=None)]
    guess: dict[str, Any] = {}
    decisions = list(table.decisions)
    try:
        try:
            spec, more = infer_spec(table, check_leakage=False)
        except DataError:  # no label column to guess a task from: guess the rest anyway
            spec, more = infer_spec(table, tasks=["_preview:a,b"], check_leakage=False)
            spec = type(spec)(**{**spec.__dict__, "tasks": ()})
        decisions += more
        progress.update(0.8, "checking columns against the labels")
        leaks = _leaks(table, spec)
        decisions += [leak.message() for leak in leaks]
        guess = {
            "id": spec.id_column, "image": spec.image_column, "text": list(spec.text_columns),
            "features": list(spec.feature_columns),
            "tasks": [(t.name, t.column, list(t.classes), t.multilabel) for t in spec.tasks],
            "leaks": [(leak.column, leak.task, leak.message()) for leak in leaks],
        }
    except DataError as exc:
        decisions.append(f"could not guess the columns: {exc}")
    thumbs: list[Any] = []
    image_col = guess.get("image")
    if image_col:
        for ref in head[image_col].tolist():
            progress.check()
            try:
                img = load_image(str(ref), table.image_root, table.image_array)
                img.thumbnail((THUMB, THUMB))
                thumbs.append(img.convert("RGBA"))
            except DataError:
                thumbs.append(None)
    progress.update(1.0, "preview ready")
    return Preview(source=str(path), n_rows=int(len(frame)), columns=[str(c) for c in frame.columns],
                   rows=rows, thumbnails=thumbs, decisions=decisions, guess=guess)


def _leaks(table: Any, spec: Any) -> list[Any]:
    """Leaking columns among all columns a user could tick as features (not only the guessed)."""
    from activelab.core.data.export_columns import is_activelab_column
    from activelab.core.data.leakage import find_leaks

    taken = {spec.id_column, spec.image_column, *spec.text_columns,
             *(t.column for t in spec.tasks)}
    candidates = [c for c in table.frame.columns if c not in taken and not is_activelab_column(c)]
    return find_leaks(table.frame, candidates, spec.tasks, getattr(table, "decimal", None) or ".")


def create_project(folder: str, *, progress: Progress, **kwargs: Any) -> str:
    """Project.create in the worker; the project is closed again and its folder returned."""
    from activelab.core.project.project import Project

    project = Project.create(folder, progress=progress, **kwargs)
    path = str(project.path)
    project.close()
    return path


def _pixmap(img: Any) -> QPixmap:
    data = img.tobytes("raw", "RGBA")
    q = QImage(data, img.width, img.height, 4 * img.width, QImage.Format.Format_RGBA8888)
    return QPixmap.fromImage(q.copy())


def _error_label() -> QLabel:
    lab = QLabel()
    lab.setObjectName("error")
    lab.setWordWrap(True)
    lab.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    lab.setVisible(False)
    return lab


class DataPage(QWizardPage):
    def __init__(self, wizard: "NewProjectWizard") -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Choose your data")
        self.setSubTitle("A CSV/TSV, Parquet or JSON-lines table, a NumPy .npz archive, or a "
                         "folder of images (one sub-folder per class is fine).")
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("/path/to/data.csv or a folder of images")
        self.path_edit.returnPressed.connect(self._on_path_edit_entered)
        file_button = QPushButton("Choose file…")
        folder_button = QPushButton("Choose folder…")
        file_button.clicked.connect(self._on_file_button_clicked)
        folder_button.clicked.connect(self._on_folder_button_clicked)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(file_button)
        row.addWidget(folder_button)
        self.status = QLabel("")
        self.status.setObjectName("hint")
        self.error = _error_label()
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setDefaultSectionSize(140)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.decisions = QLabel("")
        self.decisions.setObjectName("hint")
        self.decisions.setWordWrap(True)
        self.decisions.setAlignment(Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidget(self.decisions)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setMaximumHeight(110)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.status)
        lay.addWidget(self.error)
        lay.addWidget(self.table, 1)
        lay.addWidget(scroll)

    def isComplete(self) -> bool:  # noqa: N802 (Qt override)
        p = self.wiz.preview
        return p is not None and p.source == self.path_edit.text().strip()

    def load(self, path: str) -> None:
        self.path_edit.setText(path)
        self.error.setVisible(False)
        self.status.setText(f"Reading {Path(path).name} …")
        self.wiz.preview = None
        self.completeChanged.emit()
        job = self.wiz.runner.submit("wizard_preview", load_preview, path)
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
            self.table.setIconSize(self.table.iconSize().expandedTo(
                QPixmap(THUMB, THUMB).size()))
        else:
            self.table.verticalHeader().setDefaultSectionSize(24)
        shown = [d for d in p.decisions if "_preview" not in d]
        self.decisions.setText("What was detected:\n• " + "\n• ".join(shown) if shown else "")
        if image_col in p.columns:
            self.table.setColumnWidth(p.columns.index(image_col), 240)
        self.completeChanged.emit()

    def show_error(self, message: str) -> None:
        self.status.setText("")
        self.error.setText(message)
        self.error.setVisible(True)
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.completeChanged.emit()

    def _on_path_edit_entered(self) -> None:
        if self.path_edit.text().strip():
            self.load(self.path_edit.text().strip())

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


class ColumnsPage(QWizardPage):
    def __init__(self, wizard: "NewProjectWizard") -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("What is in each column")
        self.setSubTitle("The model learns from the text and image columns and the feature columns you tick. "
                         "Label columns are chosen with the tasks on the next page.")
        self.id_combo = QComboBox()
        self.image_combo = QComboBox()
        self.text_list = QListWidget()
        self.feature_list = QListWidget()
        for lst in (self.text_list, self.feature_list):
            lst.setMinimumHeight(120)
        form = QFormLayout()
        form.addRow("Id column", self.id_combo)
        form.addRow("Image column", self.image_combo)
        lists = QHBoxLayout()
        for title, lst in (("Text columns", self.text_list), ("Feature columns (tabular)", self.feature_list)):
            box = QGroupBox(title)
            QVBoxLayout(box).addWidget(lst)
            lists.addWidget(box)
        self.leak_warning = QLabel("")
        self.leak_warning.setObjectName("error")
        self.leak_warning.setWordWrap(True)
        self.leak_warning.setVisible(False)
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addLayout(lists, 1)
        lay.addWidget(self.leak_warning)

    def fill(self, p: Preview) -> None:
        """Pre-fill from the guesses. Feature columns start ticked only when there is no text
        or image column to learn from; a column that leaks the labels is never pre-ticked."""
        g = p.guess
        leaks = g.get("leaks", [])
        leaking = {column for column, _task, _msg in leaks}
        features = [] if (g.get("text") or g.get("image")) else g.get("features", [])
        features = [c for c in features if c not in leaking]
        self.leak_warning.setText("\n".join(msg[:1].upper() + msg[1:] for _c, _t, msg in leaks))
        self.leak_warning.setVisible(bool(leaks))
        self.id_combo.clear()
        self.id_combo.addItems([ROW_NUMBER, *p.columns])
        self.id_combo.setCurrentText(g.get("id") or ROW_NUMBER)
        self.image_combo.clear()
        self.image_combo.addItems([NO_COLUMN, *p.columns])
        self.image_combo.setCurrentText(g.get("image") or NO_COLUMN)
        for lst, chosen in ((self.text_list, g.get("text", [])), (self.feature_list, features)):
            lst.clear()
            for c in p.columns:
                item = QListWidgetItem(c)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(Qt.CheckState.Checked if c in chosen else Qt.CheckState.Unchecked)
                lst.addItem(item)

    @staticmethod
    def checked(lst: QListWidget) -> list[str]:
        return [lst.item(i).text() for i in range(lst.count())
                if lst.item(i).checkState() == Qt.CheckState.Checked]

    def set_checked(self, lst: QListWidget, names: list[str]) -> None:
        for i in range(lst.count()):
            it = lst.item(i)
            it.setCheckState(Qt.CheckState.Checked if it.text() in names else Qt.CheckState.Unchecked)

    def choices(self) -> dict[str, Any]:
        id_col = self.id_combo.currentText()
        image = self.image_combo.currentText()
        return {
            "id_column": None if id_col == ROW_NUMBER else id_col,
            "image_column": None if image == NO_COLUMN else image,
            "text_columns": self.checked(self.text_list),
            "feature_columns": self.checked(self.feature_list),
        }


