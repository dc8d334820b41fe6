"""Worker functions and the columns page of the new-project wizard.

``load_preview``, ``check_leaks`` and ``create_project`` are module-level so
``activelab.app.worker.TaskRunner`` can run them off the GUI thread; they return plain data.
The data page is in app/wizard_data_page.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
    QVBoxLayout, QWizardPage,
)

from activelab.core.progress import Progress

if TYPE_CHECKING:
    from activelab.app.wizard import NewProjectWizard

PREVIEW_ROWS = 20
THUMB = 48
NO_COLUMN = "(none)"
ROW_NUMBER = "(row number)"
TOP_VALUES = 12          # values (with counts) kept per column for the tasks page
LEAK_ROWS = 5000         # rows kept for the leakage check (find_leaks uses at most 5000)


# ------------------------------------------------------------------ worker functions
@dataclass
class Preview:
    """What the data page shows, read in the worker (plain data).

    ``value_counts``: per column, its most frequent values as class names (stripped text,
    empty cells left out) with their counts, and how many distinct values it has.
    ``leak_frame``: a seeded random subset of at most LEAK_ROWS rows for the leakage check
    of the tasks the user chooses. ``options_key``: the read options it was read with."""

    source: str
    n_rows: int
    columns: list[str]
    rows: list[list[str]]
    thumbnails: list[Any] = field(default_factory=list)   # PIL images or None, per preview row
    decisions: list[str] = field(default_factory=list)
    guess: dict[str, Any] = field(default_factory=dict)  # id/text/image/feature/task guesses
    value_counts: dict[str, tuple[list[tuple[str, int]], int]] = field(default_factory=dict)
    leak_frame: Any = None
    decimal: str = "."
    options_key: str = ""
    read: dict[str, Any] = field(default_factory=dict)   # encoding, read_options


def load_preview(path: str, *, progress: Progress, encoding: str | None = None,
                 read_options: dict[str, Any] | None = None, options_key: str = "") -> Preview:
    """Read ``path`` with the importer (``encoding`` and ``read_options`` as ``activelab new``
    takes them), keep the first rows, count each column's values, guess the column roles.
    Raises ActiveLabError (DataError) with the importer's message when it cannot be read."""
    from activelab.core.errors import DataError
    from activelab.core.data.images import load_image
    from activelab.core.data.read import infer_spec, read_table

    progress.update(0.05, f"reading {Path(path).name}")
    table = read_table(path, encoding=encoding, **(read_options or {}))
    frame = table.frame
    progress.update(0.6, "counting values")
    head = frame.head(PREVIEW_ROWS)
    rows = [["" if v is None or (isinstance(v, float) and v != v) else str(v)[:200] for v in rec]
            for rec in head.itertuples(index=False, name=None)]
    counts = {str(c): column_values(frame[c]) for c in frame.columns}
    progress.update(0.7, "preparing the preview")
    guess: dict[str, Any] = {}
    decisions = list(table.decisions)
    decimal = getattr(table, "decimal", None) or "."
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
                if max(img.size) < THUMB:    # tiny images (8x8 digits) enlarged, pixels kept crisp
                    k = THUMB // max(img.size)
                    img = img.resize((img.width * k, img.height * k), resample=0)
                img.thumbnail((THUMB, THUMB))
                thumbs.append(img.convert("RGBA"))
            except DataError:
                thumbs.append(None)
    leak_frame = frame if len(frame) <= LEAK_ROWS else frame.sample(LEAK_ROWS, random_state=0)
    progress.update(1.0, "preview ready")
    return Preview(source=str(path), n_rows=int(len(frame)), columns=[str(c) for c in frame.columns],
                   rows=rows, thumbnails=thumbs, decisions=decisions, guess=guess,
                   value_counts=counts, leak_frame=leak_frame, decimal=decimal,
                   options_key=options_key,
                   read={"encoding": encoding, "read_options": dict(read_options or {})})


def column_values(column: Any, top: int = TOP_VALUES) -> tuple[list[tuple[str, int]], int]:
    """The ``top`` most frequent values of a column as class names (text stripped of
    surrounding spaces, as the importer makes classes; empty cells left out), with counts,
    and the number of distinct values. A column of lists or other unhashable cells: ([], 0)."""
    import collections

    from activelab.core.data.values import label_str

    try:   # count the raw values first (hashing, fast), then make each distinct one a class
        raw = column.value_counts(dropna=True)
    except (TypeError, ValueError):   # lists, dicts: not classes of a single-label task
        return [], 0
    counter: collections.Counter = collections.Counter()
    for value, n in raw.items():
        name = label_str(value)
        if name is not None:
            counter[name] += int(n)
    return [(str(k), int(n)) for k, n in counter.most_common(top)], len(counter)


def describe_values(values: Sequence[tuple[str, int]], distinct: int, budget: int = 58) -> str:
    """"Apparel (4,210), Accessories (2,301), … 4 more" for a Classes cell: the most frequent
    values with their counts while they fit in about ``budget`` characters (at least one)."""
    if not distinct:
        return "(no values)"
    parts: list[str] = []
    for v, n in values:
        part = f"{v} ({n:,})"
        if parts and len(", ".join(parts + [part])) > budget:
            break
        parts.append(part)
    rest = distinct - len(parts)
    return ", ".join(parts) + (f", … {rest:,} more" if rest > 0 else "")


def _leaks(table: Any, spec: Any) -> list[Any]:
    """Leaking columns among all columns a user could tick as features (not only the guessed)."""
    from activelab.core.data.export_columns import is_activelab_column
    from activelab.core.data.leakage import find_leaks

    taken = {spec.id_column, spec.image_column, *spec.text_columns,
             *(t.column for t in spec.tasks)}
    candidates = [c for c in table.frame.columns if c not in taken and not is_activelab_column(c)]
    return find_leaks(table.frame, candidates, spec.tasks, getattr(table, "decimal", None) or ".")


def check_leaks(frame: Any, decimal: str, tasks: Sequence[tuple[str, str, bool]],
                candidates: Sequence[str], *, progress: Progress) -> list[tuple[str, str, str]]:
    """The importer's leakage guard (``activelab.core.data.leakage.find_leaks``) for the tasks
    the user chose, ``(name, column, multilabel)`` each, against the columns they could tick
    as features; returns (column, task, message) per leak."""
    from activelab.core.data.leakage import find_leaks
    from activelab.core.data.spec import TaskSpec

    progress.update(0.1, "checking columns against the labels")
    specs = [TaskSpec(name=n, classes=(), multilabel=m, column=c) for n, c, m in tasks]
    leaks = find_leaks(frame, list(candidates), specs, decimal)
    progress.update(1.0, "")
    return [(lk.column, lk.task, lk.message()) for lk in leaks]


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


class ColumnsPage(QWizardPage):
    def __init__(self, wizard: "NewProjectWizard") -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("What is in each column")
        self.setSubTitle("The model learns from the text and image columns and the feature columns "
                         "you tick. A task's label column is never one of them.")
        self.label_columns: set[str] = set()
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
        self.show_leaks(leaks)
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

    def initializePage(self) -> None:  # noqa: N802 (Qt override)
        """Coming from the tasks page: the tasks' label columns are taken out of the lists
        (the model would see the answer), and every other column is checked against the
        chosen tasks' labels in the background (the importer's leakage guard)."""
        editor = self.wiz.tasks_page.editor
        self.label_columns = editor.label_columns()
        for lst in (self.text_list, self.feature_list):
            for i in range(lst.count()):
                it = lst.item(i)
                taken = it.text() in self.label_columns
                if taken:
                    it.setCheckState(Qt.CheckState.Unchecked)
                it.setHidden(taken)
        p = self.wiz.preview
        tasks = [(r.name, r.column, r.multilabel) for r in editor.rows() if r.column]
        if p is None or p.leak_frame is None or not tasks:
            self.show_leaks([])
            return
        taken = self.label_columns | {c for c in (self.choices()["id_column"],
                                                  self.choices()["image_column"]) if c}
        candidates = [c for c in p.columns if c not in taken and not c.startswith("activelab__")]
        self.leak_warning.setObjectName("hint")
        self.leak_warning.setText("Checking the other columns against the labels of "
                                  + ", ".join(f"'{c}'" for _n, c, _m in tasks) + " …")
        self.leak_warning.setVisible(True)
        job = self.wiz.runner.submit("wizard_leaks", check_leaks, p.leak_frame, p.decimal,
                                     tasks, candidates)
        job.finished.connect(self.show_leaks)
        job.failed.connect(lambda msg: self.show_leaks([("", "", f"warning: the leakage check failed: {msg}")]))

    def show_leaks(self, leaks: list) -> None:
        """The leakage guard's warnings (column, task, message) under the lists; a leaking
        column that is ticked as a feature stays ticked (the user decides), but is named."""
        self.leak_warning.setObjectName("error")
        self.leak_warning.style().unpolish(self.leak_warning)
        self.leak_warning.style().polish(self.leak_warning)
        advice = ""
        lines = []
        for _c, _t, msg in leaks:     # the guard's message; its advice is said once, at the end
            head, sep, tail = msg.partition(". If the column")
            lines.append(msg[:1].upper() + (head[1:] + "." if sep else msg[1:]))
            advice = advice or (("If the column" + tail) if sep else "")
        self.leak_warning.setText("\n".join(lines) + (f"\n{advice}" if advice else ""))
        self.leak_warning.setVisible(bool(leaks))

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


