"""The new-project wizard as a user drives it: pick a file, define two tasks, check the
columns, create; errors from the engine are shown in the wizard and a retry works."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QWizard  # noqa: E402

from activelab.app.wizard import NewProjectWizard  # noqa: E402

TEXTS = [
    "the match ended with a late goal and a happy crowd",
    "parliament passed the budget after a long debate today",
    "the striker scored twice in the second half of the game",
    "the minister resigned after the vote on the new law",
    "a record crowd watched the final at the national stadium",
    "the election campaign started with a televised debate",
]


def _write_csv(path: Path, n: int = 24) -> Path:
    lines = ["id,text,topic,length"]
    for i in range(n):
        t = TEXTS[i % len(TEXTS)] + f" number {i}"
        topic = "sport" if i % 2 == 0 else "politics"
        lines.append(f"s{i},\"{t}\",{topic},{len(t)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _wait_preview(qtbot, wiz: NewProjectWizard, path: str) -> None:
    wiz.set_data_path(path)
    qtbot.waitUntil(lambda: wiz.preview is not None and wiz.preview.source == path, timeout=20000)


def _next(wiz: NewProjectWizard) -> None:
    wiz.button(QWizard.WizardButton.NextButton).click()


def test_wizard_creates_a_project_with_two_tasks(qtbot, tmp_path):
    from activelab.core.project.project import Project

    data = _write_csv(tmp_path / "news.csv")
    wiz = NewProjectWizard(projects_dir=str(tmp_path / "projects"))
    qtbot.addWidget(wiz)
    wiz.show()
    _wait_preview(qtbot, wiz, str(data))
    page = wiz.data_page
    assert page.isComplete()
    assert "24 rows" in page.status.text()
    assert page.table.rowCount() == 20 and page.table.columnCount() == 4
    assert page.table.item(0, 0).text() == "s0"

    _next(wiz)  # tasks: one empty task to start with
    editor = wiz.tasks_page.editor
    assert [r.name for r in editor.rows()] == ["label"]
    assert not wiz.tasks_page.isComplete()
    editor.table.cellWidget(0, 0).setText("topic")           # classes from the column
    editor.table.cellWidget(0, 1).setCurrentText("topic")
    assert wiz.tasks_page.isComplete()
    r = editor.add_task("tone")
    assert not wiz.tasks_page.isComplete()       # a typed-in task needs its classes
    assert "two classes" in wiz.tasks_page.problem.text()
    editor.table.cellWidget(r, 2).setText("calm, excited")
    editor.table.cellWidget(r, 3).findChild(type(wiz.tasks_page.import_labels)).setChecked(True)
    assert wiz.tasks_page.isComplete()
    wiz.tasks_page.import_labels.setChecked(True)
    _next(wiz)  # columns: the guesses are pre-filled
    cols = wiz.columns_page
    assert cols.id_combo.currentText() == "id"
    assert cols.checked(cols.text_list) == ["text"]
    _next(wiz)
    folder = tmp_path / "projects" / "news"
    assert wiz.create_page.folder_edit.text() == str(folder)

    with qtbot.waitSignal(wiz.project_created, timeout=60000) as sig:
        wiz.button(QWizard.WizardButton.FinishButton).click()
    assert Path(sig.args[0]) == folder.resolve()
    assert wiz.result() == QWizard.DialogCode.Accepted

    project = Project.open(sig.args[0])
    try:
        tasks = {t.name: t for t in project.spec.tasks}
        assert set(tasks) == {"topic", "tone"}
        assert tasks["topic"].classes == ("politics", "sport")
        assert tasks["tone"].classes == ("calm", "excited") and tasks["tone"].multilabel
        assert project.n_samples == 24
        assert project.ids[:2] == ["s0", "s1"]
        assert len(project.labels()["topic"]) == 24   # imported from the column
    finally:
        project.close()


def test_wizard_shows_engine_errors_and_retry_works(qtbot, tmp_path):
    data = _write_csv(tmp_path / "news.csv")
    wiz = NewProjectWizard(projects_dir=str(tmp_path / "projects"))
    qtbot.addWidget(wiz)
    wiz.show()

    # A file that is not there: the importer's message is shown, Next stays disabled.
    wiz.data_page.load(str(tmp_path / "missing.csv"))
    qtbot.waitUntil(lambda: not wiz.runner.is_running("wizard_preview"), timeout=20000)
    assert wiz.data_page.error.isVisible()
    assert "missing.csv does not exist" in wiz.data_page.error.text()
    assert not wiz.button(QWizard.WizardButton.NextButton).isEnabled()

    # The user corrects the path and retries.
    _wait_preview(qtbot, wiz, str(data))
    assert not wiz.data_page.error.isVisible()
    assert wiz.button(QWizard.WizardButton.NextButton).isEnabled()
    cols = wiz.columns_page
    cols.set_checked(cols.feature_list, ["length", "topic"])   # the label column ticked too
    _next(wiz)
    editor = wiz.tasks_page.editor
    editor.table.cellWidget(0, 1).setCurrentText("topic")
    _next(wiz)
    # Coming from the tasks page took the label column out of the features.
    assert cols.checked(cols.feature_list) == ["length"]
    _next(wiz)

    # The chosen project folder is taken: the engine's message is shown, the wizard stays.
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    wiz.create_page.folder_edit.setText(str(taken))
    wiz.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: not wiz.runner.is_running("wizard_create"), timeout=60000)
    err = wiz.create_page.error
    assert err.isVisible() and "already exists and is not empty" in err.text()
    assert wiz.isVisible() and wiz.created_path is None
    assert (taken / "notes.txt").read_text() == "mine"

    # The user picks another folder and presses Create again.
    wiz.create_page.folder_edit.setText(str(tmp_path / "fresh"))
    with qtbot.waitSignal(wiz.project_created, timeout=60000):
        wiz.button(QWizard.WizardButton.FinishButton).click()
    assert not err.isVisible()
    assert (tmp_path / "fresh" / "project.sqlite").is_file()


def test_wizard_previews_image_thumbnails(qtbot, tmp_path):
    from PIL import Image

    for cls in ("cats", "dogs"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (64, 64), (200, 30 * i, 40)).save(tmp_path / "imgs" / cls / f"{i}.png")
    wiz = NewProjectWizard(projects_dir=str(tmp_path / "projects"))
    qtbot.addWidget(wiz)
    _wait_preview(qtbot, wiz, str(tmp_path / "imgs"))
    table = wiz.data_page.table
    assert table.rowCount() == 6
    image_col = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())].index("image")
    thumb = table.item(0, image_col).data(Qt.ItemDataRole.DecorationRole)
    assert thumb is not None and not thumb.isNull() and thumb.width() <= 48
