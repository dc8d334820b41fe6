"""The wizard's columns page: default features are the user's ticks, and a column that
leaks the labels is named there and never pre-ticked."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QWizard  # noqa: E402

from activelab.app.wizard import NewProjectWizard  # noqa: E402

WORDS = ["the match ended with a late goal and a happy crowd",
         "parliament passed the budget after a long debate today"]


@pytest.fixture(autouse=True)
def _isolated_qsettings(tmp_path):
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))


def _write(path: Path, with_text: bool, n: int = 30) -> Path:
    head = ["id"] + (["text"] if with_text else []) + ["length", "label_code", "label"]
    lines = [",".join(head)]
    for i in range(n):
        label = "sport" if i % 2 == 0 else "politics"
        cells = [f"s{i}"] + ([f"{WORDS[i % 2]} {i}"] if with_text else []) + \
            [str((i * 7) % 11), {"sport": "S1", "politics": "P2"}[label], label]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _columns_page(qtbot, tmp_path, with_text: bool):
    wiz = NewProjectWizard(projects_dir=str(tmp_path / "projects"))
    qtbot.addWidget(wiz)
    wiz.show()
    path = str(_write(tmp_path / "news.csv", with_text))
    wiz.set_data_path(path)
    qtbot.waitUntil(lambda: wiz.preview is not None and wiz.preview.source == path, timeout=30000)
    wiz.button(QWizard.WizardButton.NextButton).click()   # the guessed task 'label'
    wiz.button(QWizard.WizardButton.NextButton).click()   # columns, checked against its labels
    cols = wiz.columns_page
    qtbot.waitUntil(lambda: "Checking" not in cols.leak_warning.text(), timeout=30000)
    return cols


@pytest.mark.parametrize("with_text, ticked", [(True, []), (False, ["length"])],
                         ids=["text_data_no_feature_ticked", "tabular_data_guesses_ticked"])
def test_leaking_column_is_named_and_not_ticked(qtbot, tmp_path, with_text, ticked):
    cols = _columns_page(qtbot, tmp_path, with_text)
    assert cols.checked(cols.feature_list) == ticked
    assert cols.leak_warning.isVisible()
    text = cols.leak_warning.text()
    assert "Warning: feature column 'label_code' nearly determines the labels of task 'label'" in text
    assert "'length'" not in text
