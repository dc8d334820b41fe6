"""The wizard's inputs as a user meets them: a typed path loads without Enter, a task picked
from a column is named after it and shows its values with counts, the project folder is named
after the data, every detected line is reachable, text features can be chosen, the leakage
guard runs against the tasks the user chose, and the read options reach the importer."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QWizard  # noqa: E402

from activelab.app.wizard import NewProjectWizard, project_name  # noqa: E402

WORDS = ["the match ended with a late goal and a happy crowd",
         "parliament passed the budget after a long debate today",
         "the striker scored twice in the second half of the game"]


def _write(path: Path, n: int = 30, na_every: int = 0) -> Path:
    """id,text,kind,kind_code: kind is sport 2/3 of the time; kind_code a copy of kind."""
    lines = ["id,text,kind,kind_code"]
    for i in range(n):
        kind = "sport" if i % 3 else "politics"
        if na_every and i % na_every == 0:
            kind = "NA"
        code = {"sport": "S1", "politics": "P2", "NA": "X"}[kind]
        lines.append(f"s{i},{WORDS[i % 3]} {i},{kind},{code}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _wizard(qtbot, tmp_path) -> NewProjectWizard:
    wiz = NewProjectWizard(projects_dir=str(tmp_path / "projects"))
    qtbot.addWidget(wiz)
    wiz.show()
    return wiz


def _loaded(qtbot, wiz, path: str) -> None:
    wiz.set_data_path(path)
    qtbot.waitUntil(lambda: wiz.data_page.isComplete(), timeout=30000)


def _next(wiz) -> None:
    wiz.button(QWizard.WizardButton.NextButton).click()


def test_a_typed_path_loads_without_enter(qtbot, tmp_path):
    data = _write(tmp_path / "news.csv")
    wiz = _wizard(qtbot, tmp_path)
    page = wiz.data_page
    nxt = wiz.button(QWizard.WizardButton.NextButton)
    qtbot.keyClicks(page.path_edit, str(tmp_path / "nope.csv"))
    qtbot.waitUntil(lambda: "Nothing at" in page.status.text(), timeout=5000)
    assert str(tmp_path / "nope.csv") in page.status.text() and not nxt.isEnabled()
    page.path_edit.clear()
    qtbot.keyClicks(page.path_edit, f"'{data}'")      # pasted with quotes, no Enter pressed
    qtbot.waitUntil(nxt.isEnabled, timeout=30000)
    assert "30 rows" in page.status.text()
    page.path_edit.setText(str(data) + "x")           # edited again: Next waits for it
    assert not nxt.isEnabled()


def test_column_task_is_named_after_it_and_shows_its_values(qtbot, tmp_path):
    wiz = _wizard(qtbot, tmp_path)
    _loaded(qtbot, wiz, str(_write(tmp_path / "news.csv")))
    _next(wiz)
    editor = wiz.tasks_page.editor
    r = editor.add_task()
    editor.table.cellWidget(r, 1).setCurrentText("kind")
    assert editor.table.cellWidget(r, 0).text() == "kind"
    classes = editor.table.cellWidget(r, 2)
    assert classes.text() == "sport (20), politics (10)" and classes.isReadOnly()
    editor.table.cellWidget(r, 1).setCurrentText("id")          # 30 distinct ids
    assert editor.table.cellWidget(r, 0).text() == "id"
    shown, more = classes.text().split(", … ")
    assert more.endswith(" more") and len(shown.split(", ")) + int(more.split()[0]) == 30
    assert len(classes.text()) <= 75          # fits the cell; every value is in the tooltip
    assert "s29: 1" in classes.toolTip() or "s9: 1" in classes.toolTip()
    # A name the user typed is theirs: another column does not rename the task.
    name = editor.table.cellWidget(r, 0)
    name.clear()
    qtbot.keyClicks(name, "topic")
    editor.table.cellWidget(r, 1).setCurrentText("kind")
    assert name.text() == "topic" and classes.text().startswith("sport (20)")
    editor.table.cellWidget(r, 1).setCurrentIndex(0)            # back to typed-in classes
    assert classes.text() == "" and not classes.isReadOnly()


def test_project_folder_is_named_after_the_data(qtbot, tmp_path):
    wiz = _wizard(qtbot, tmp_path)
    data = _write(tmp_path / "catalogue" / "metadata.csv")
    _loaded(qtbot, wiz, str(data))
    assert Path(wiz.create_page.folder_edit.text()) == tmp_path / "projects" / "catalogue"
    assert project_name(str(tmp_path / "reviews.csv")) == "reviews"
    assert project_name(str(tmp_path / "catalogue")) == "catalogue"


def test_every_detected_line_is_reachable(qtbot, tmp_path):
    wiz = _wizard(qtbot, tmp_path)
    wiz.resize(1024, 700)
    _loaded(qtbot, wiz, str(_write(tmp_path / "news.csv")))
    box = wiz.data_page.decisions
    shown = [d for d in wiz.preview.decisions if "_preview" not in d]
    assert len(shown) >= 4
    text = box.toPlainText()
    assert all(d in text for d in shown)
    qtbot.waitUntil(box.isVisible)
    bar = box.verticalScrollBar()
    doc_height = box.document().size().height()   # lines, in a plain text edit
    visible_lines = box.viewport().height() / box.fontMetrics().lineSpacing()
    # Either every line fits, or the box scrolls to the ones that do not.
    assert doc_height <= visible_lines or bar.maximum() > 0


def test_text_features_choice_reaches_the_project(qtbot, tmp_path):
    wiz = _wizard(qtbot, tmp_path)
    _loaded(qtbot, wiz, str(_write(tmp_path / "news.csv")))
    combo = wiz.create_page.text_features
    assert [combo.itemData(i) for i in range(combo.count())] == ["tfidf", "minilm"]
    combo.setCurrentIndex(0)
    assert wiz.create_arguments()[1]["feature_config"].text == "tfidf"
    from activelab.core.features.text_embeddings import minilm_available

    if minilm_available():
        combo.setCurrentIndex(1)
        assert wiz.create_arguments()[1]["feature_config"].text == "minilm"


def test_sentence_embeddings_greyed_out_without_the_extra(qtbot, tmp_path, monkeypatch):
    import activelab.core.features.text_embeddings as te

    monkeypatch.setattr(te, "minilm_available", lambda: False)
    wiz = _wizard(qtbot, tmp_path)
    combo = wiz.create_page.text_features
    item = combo.model().item(1)
    assert not item.isEnabled() and "activelab[embeddings]" in item.toolTip()
    assert combo.currentData() == "tfidf"
    assert "not installed" in wiz.create_page.text_features_help.text()


def test_leak_warning_for_the_task_the_user_chose(qtbot, tmp_path):
    wiz = _wizard(qtbot, tmp_path)
    _loaded(qtbot, wiz, str(_write(tmp_path / "news.csv")))
    _next(wiz)
    editor = wiz.tasks_page.editor
    editor.table.setRowCount(0)
    r = editor.add_task()
    editor.table.cellWidget(r, 1).setCurrentText("kind")
    _next(wiz)
    cols = wiz.columns_page
    qtbot.waitUntil(lambda: "Checking" not in cols.leak_warning.text(), timeout=30000)
    assert cols.leak_warning.isVisible()
    assert "'kind_code' nearly determines the labels of task 'kind'" in cols.leak_warning.text()
    # The label column itself cannot be ticked as something the model learns from.
    kind = cols.feature_list.findItems("kind", Qt.MatchFlag.MatchExactly)[0]
    assert kind.isHidden()
    assert "kind" not in cols.checked(cols.feature_list)


def test_read_options_reach_the_importer(qtbot, tmp_path):
    wiz = _wizard(qtbot, tmp_path)
    _loaded(qtbot, wiz, str(_write(tmp_path / "news.csv", na_every=5)))
    values = dict(wiz.preview.value_counts["kind"][0])
    assert values["NA"] == 6                      # an ordinary value unless told otherwise
    box = wiz.data_page.read_options
    box.setChecked(True)
    box.na_values.setText("NA")
    box.na_values.editingFinished.emit()
    qtbot.waitUntil(lambda: wiz.preview is not None and wiz.data_page.isComplete(), timeout=30000)
    assert "NA" not in dict(wiz.preview.value_counts["kind"][0])
    assert wiz.create_arguments()[1]["read_options"] == {"na_values": ("NA",)}


def test_tiny_images_get_a_visible_thumbnail(qtbot, tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "digits.npz", X=rng.integers(0, 255, (30, 8, 8), dtype=np.uint8),
             y=np.array([str(i % 3) for i in range(30)]))
    wiz = _wizard(qtbot, tmp_path)
    _loaded(qtbot, wiz, str(tmp_path / "digits.npz"))
    table = wiz.data_page.table
    image_col = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())].index("image")
    thumb = table.item(0, image_col).data(Qt.ItemDataRole.DecorationRole)
    assert thumb.width() == 48 and thumb.height() == 48      # 8x8 enlarged 6x, not an 8px dot
