"""New-project wizard: data -> tasks -> columns -> model, strategy, text features, folder -> create.

The tasks come before the columns, so the columns page knows the label columns: it leaves
them out of what the model learns from and runs the importer's leakage guard against them.

Public API:

    NewProjectWizard(runner: TaskRunner | None = None, projects_dir: str | None = None)
    signal project_created(str path)     # the project folder, created and closed; open it next
    NewProjectWizard.set_data_path(path: str) -> None   # start from a file/folder (also tests)

Reading the data for the preview and creating the project run in the background through
``activelab.app.worker.TaskRunner`` (kinds "wizard_preview" and "wizard_create"); the worker functions are
``load_preview`` and ``create_project`` in app/wizard_pages.py. Import errors (activelab.core.errors.ActiveLabError) are
shown on the page where they arise, with the engine's message; the user corrects and retries.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit,
    QProgressBar, QPushButton, QVBoxLayout, QWidget, QWizard, QWizardPage,
)

from activelab.app.wizard_data_page import DataPage
from activelab.app.wizard_store import StoreChooser
from activelab.app.wizard_pages import (
    ColumnsPage, Preview, _error_label, create_project, load_preview,
)
from activelab.app.worker import TaskRunner
from activelab.app.wizard_tasks import TaskEditor



class TasksPage(QWizardPage):
    def __init__(self, wizard: "NewProjectWizard") -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Labeling tasks")
        self.setSubTitle("One or more tasks per sample. Type the classes in, or take them from a "
                         "column (its values are shown with their counts, and can be imported "
                         "as labels).")
        self.editor = TaskEditor()
        self.editor.changed.connect(self._on_editor_changed)
        self.import_labels = QCheckBox("Import the labels already in those columns")
        self.import_labels.setToolTip("Rows with a value in a task's column start labeled.")
        self.problem = QLabel("")
        self.problem.setObjectName("hint")
        lay = QVBoxLayout(self)
        lay.addWidget(self.editor, 1)
        lay.addWidget(self.import_labels)
        lay.addWidget(self.problem)

    def fill(self, p: Preview) -> None:
        self.editor.table.setRowCount(0)
        self.editor.set_columns(p.columns, p.value_counts)
        for name, column, classes, multi in p.guess.get("tasks", []):
            self.editor.add_task(name, column, classes if column is None else (), multi)
        if not self.editor.rows():
            self.editor.add_task("label")
        self._on_editor_changed()

    def isComplete(self) -> bool:  # noqa: N802
        return self.editor.problem() is None

    def _on_editor_changed(self) -> None:
        self.problem.setText(self.editor.problem() or "")
        self.completeChanged.emit()


class CreatePage(QWizardPage):
    def __init__(self, wizard: "NewProjectWizard") -> None:
        super().__init__()
        self.wiz = wizard
        self.setTitle("Model, strategy and project folder")
        self.setSubTitle("Model and strategy can be changed later in the Settings panel.")
        from activelab.core.learning.models import model_names
        from activelab.core.querying.registry import registry

        self.model_combo = QComboBox()
        self.model_combo.addItems(model_names())
        self.model_combo.setCurrentText("logistic_regression")
        from activelab.core.loop.settings import Settings
        from activelab.core.querying.measured import described_with_record

        self.strategy_combo = QComboBox()
        for s in registry():
            self.strategy_combo.addItem(s.name, s.name)
            self.strategy_combo.setItemData(self.strategy_combo.count() - 1,
                                            described_with_record(s.name, s.description),
                                            Qt.ItemDataRole.ToolTipRole)
        self.strategy_combo.setCurrentText(Settings().strategy)
        self.strategy_help = QLabel("")
        self.strategy_help.setObjectName("hint")
        self.strategy_help.setWordWrap(True)
        self.strategy_combo.currentIndexChanged.connect(self._on_strategy_combo_changed)
        self.text_features = QComboBox()
        self.text_features_help = QLabel("")
        self.text_features_help.setObjectName("hint")
        self.text_features_help.setWordWrap(True)
        self._fill_text_features()
        self.folder_edit = QLineEdit()
        self.folder_edit.textChanged.connect(self._on_folder_edit_changed)
        self.store_box = StoreChooser(wizard.runner)   # this computer, or a team server
        self.store_box.changed.connect(self.completeChanged.emit)
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._on_browse_clicked)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)
        form = QFormLayout()
        form.addRow("Model", self.model_combo)
        form.addRow("Query strategy", self.strategy_combo)
        form.addRow("", self.strategy_help)
        form.addRow("Text features", self.text_features)
        form.addRow("", self.text_features_help)
        form.addRow("Project folder", folder_row)
        form.addRow("Store", self.store_box)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        form.addRow("Summary", self.summary)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setVisible(False)
        self.status = QLabel("")
        self.status.setObjectName("hint")
        self.error = _error_label()
        lay = QVBoxLayout(self)
        lay.addLayout(form)
        lay.addSpacing(12)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.error)
        lay.addStretch(1)
        self._on_strategy_combo_changed()

    def initializePage(self) -> None:  # noqa: N802
        p = self.wiz.preview
        cols = self.wiz.columns_page.choices()
        parts = [f"{p.n_rows:,} samples from {Path(p.source).name}" if p else ""]
        learn = ([f"image '{cols['image_column']}'"] if cols["image_column"] else []) + \
            [f"text '{c}'" for c in cols["text_columns"]] + \
            ([f"{len(cols['feature_columns'])} feature columns"] if cols["feature_columns"] else [])
        parts.append("learning from " + (", ".join(learn) or "nothing yet: choose columns (Back)"))
        for r in self.wiz.tasks_page.editor.rows():
            src = f"classes from column '{r.column}'" if r.column else ", ".join(r.classes)
            parts.append(f"task {r.name}{' (multi-label)' if r.multilabel else ''}: {src}")
        self.summary.setText("\n".join(x for x in parts if x))
        has_text = bool(cols["text_columns"])
        self.text_features.setEnabled(has_text)
        self.text_features_help.setText(self._text_features_note if has_text else
                                        "No text column is chosen: text features do not apply.")

    def _fill_text_features(self) -> None:
        """TF-IDF or sentence embeddings, as ``activelab new --text-features``; embeddings
        greyed out (with why) when the extra is not installed. Default: the measured one."""
        from activelab.core.features.text_embeddings import minilm_available
        from activelab.core.querying.measured import default_text_features

        self.text_features.addItem("TF-IDF (word and phrase counts)", "tfidf")
        self.text_features.addItem("Sentence embeddings (MiniLM, offline)", "minilm")
        available = minilm_available()
        if not available:
            item = self.text_features.model().item(1)
            item.setEnabled(False)
            item.setToolTip("needs the embeddings extra: pip install 'activelab[embeddings]'")
        default = default_text_features()
        self.text_features.setCurrentIndex(1 if default == "minilm" and available else 0)
        self._text_features_note = (
            f"Default: {'sentence embeddings' if default == 'minilm' else 'TF-IDF'}, the "
            "label-efficiency benchmark's choice." + (
                "" if available else " Sentence embeddings need the embeddings extra, which is "
                "not installed: pip install 'activelab[embeddings]'."))
        self.text_features_help.setText(self._text_features_note)

    def feature_config(self) -> Any:
        """The FeatureConfig of the new project: the chosen text features; images as a new
        project of ``activelab new`` gets them (auto)."""
        from activelab.core.data.spec import FeatureConfig

        return FeatureConfig(text=self.text_features.currentData(), image="auto")

    def isComplete(self) -> bool:  # noqa: N802
        return (bool(self.folder_edit.text().strip()) and self.store_box.ready()
                and not self.wiz.runner.is_running("wizard_create"))

    def _on_folder_edit_changed(self, text: str) -> None:
        self.store_box.set_project_name(Path(text.strip()).name)
        self.completeChanged.emit()

    def validatePage(self) -> bool:  # noqa: N802
        """Finish starts the import in the worker; the wizard closes when it succeeds."""
        if self.wiz.created_path is not None:
            return True
        self.wiz.start_create()
        return False

    def _on_strategy_combo_changed(self, *_a: Any) -> None:
        self.strategy_help.setText(self.strategy_combo.itemData(
            self.strategy_combo.currentIndex(), Qt.ItemDataRole.ToolTipRole) or "")

    def _on_browse_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "New project folder", self.folder_edit.text())
        if path:
            self.folder_edit.setText(path)


# ------------------------------------------------------------------------ wizard
class NewProjectWizard(QWizard):
    """Four pages; Create runs Project.create in the background and reports errors in place."""

    project_created = Signal(str)

    def __init__(self, runner: TaskRunner | None = None, projects_dir: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("activelab — New project")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Create project")
        self.resize(960, 640)
        self.runner = runner if runner is not None else TaskRunner(self)
        self.projects_dir = Path(projects_dir or Path.home() / "activelab-projects")
        self.preview: Preview | None = None
        self.created_path: str | None = None
        self.data_page = DataPage(self)
        self.columns_page = ColumnsPage(self)
        self.tasks_page = TasksPage(self)
        self.create_page = CreatePage(self)
        for page in (self.data_page, self.tasks_page, self.columns_page, self.create_page):
            self.addPage(page)

    def set_data_path(self, path: str) -> None:
        self.data_page.load(path)

    def create_arguments(self) -> tuple[str, dict[str, Any]]:
        """(project folder, keyword arguments of Project.create) from the pages."""
        tasks, multilabel = self.tasks_page.editor.specs()
        kwargs: dict[str, Any] = dict(self.columns_page.choices())
        kwargs.update(self.preview.read if self.preview else self.data_page.read_options.options())
        kwargs.update(
            data=self.preview.source if self.preview else self.data_page.path_edit.text(),
            feature_config=self.create_page.feature_config(),
            tasks=tasks, multilabel=multilabel,
            import_labels=self.tasks_page.import_labels.isChecked(),
            model=self.create_page.model_combo.currentText(),
            strategy=self.create_page.strategy_combo.currentData(),
        )
        if self.create_page.store_box.store_url():
            kwargs["store_url"] = self.create_page.store_box.store_url()
        return self.create_page.folder_edit.text().strip(), kwargs

    def start_create(self) -> None:
        folder, kwargs = self.create_arguments()
        page = self.create_page
        page.error.setVisible(False)
        page.progress.setValue(0)
        page.progress.setVisible(True)
        page.status.setText("Importing and building features …")
        job = self.runner.submit("wizard_create", create_project, folder, **kwargs)
        job.progress.connect(self._on_create_progress)
        job.finished.connect(self._on_create_finished)
        job.failed.connect(self._on_create_failed)
        page.completeChanged.emit()
        self.button(QWizard.WizardButton.BackButton).setEnabled(False)

    def done(self, result: int) -> None:  # noqa: D401 - Qt override
        """Closing the wizard cancels whatever it still runs in the background."""
        self.runner.cancel("wizard_preview")
        self.runner.cancel("wizard_create")
        super().done(result)

    # ------------------------------------------------------------------ slots
    def _on_create_progress(self, fraction: float, message: str) -> None:
        self.create_page.progress.setValue(int(fraction * 100))
        if message:
            self.create_page.status.setText(message[:1].upper() + message[1:] + " …")

    def _on_preview_finished(self, result: Preview) -> None:
        if (result.source, result.options_key) != self.data_page.current_request():
            return
        self.preview = result
        self.columns_page.fill(result)
        self.tasks_page.fill(result)
        self.create_page.folder_edit.setText(str(self._free_folder(project_name(result.source))))
        self.data_page.show_preview(result)

    def _on_preview_failed(self, message: str) -> None:
        self.preview = None
        self.data_page.show_error(message)

    def _on_create_finished(self, result: object) -> None:
        self.created_path = str(result)
        self.create_page.progress.setValue(100)
        self.create_page.status.setText(f"Created {result}")
        self.button(QWizard.WizardButton.BackButton).setEnabled(True)
        self.project_created.emit(self.created_path)
        self.accept()

    def _on_create_failed(self, message: str) -> None:
        page = self.create_page
        page.progress.setVisible(False)
        page.status.setText("")
        page.error.setText(f"{message}\n\nCorrect it here or on an earlier page (Back) "
                           "and press Create project again.")
        page.error.setVisible(True)
        self.button(QWizard.WizardButton.BackButton).setEnabled(True)
        page.completeChanged.emit()

    def _free_folder(self, stem: str) -> Path:
        base = self.projects_dir / stem
        p, i = base, 2
        while p.exists() and (not p.is_dir() or any(p.iterdir())):
            p = Path(f"{base}-{i}")
            i += 1
        return p


#: File names that say nothing about the data: the project is named after their folder.
GENERIC_STEMS = frozenset({"metadata", "meta", "data", "dataset", "train", "test", "valid",
                           "validation", "labels", "annotations", "index", "table", "export",
                           "input", "samples", "all", "full", "images"})


def project_name(source: str) -> str:
    """The default project folder name for data at ``source``: a folder's own name, a file's
    stem, or the folder of a file with a generic name (fashion_products/metadata.csv ->
    fashion_products, ag_news/test.csv -> ag_news)."""
    p = Path(source.rstrip("/\\")).expanduser()
    if p.is_dir():
        return p.name or "project"
    stem = p.stem
    if stem.lower() in GENERIC_STEMS and p.parent.name:
        return p.parent.name
    return stem or "project"


__all__ = ["NewProjectWizard", "Preview", "load_preview", "create_project", "project_name"]
