"""The app's export dialog checks the file name as 'activelab export' does."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("pytestqt")

from activelab.app.export_dialog import ExportDialog  # noqa: E402
from activelab.core.project.project import Project  # noqa: E402


@pytest.fixture
def project_path(tmp_path):
    rows = ["id,text,topic"] + [f"r{i},message {i},{'ab'[i % 2]}" for i in range(12)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    Project.create(tmp_path / "p", data=tmp_path / "d.csv", text_columns=["text"],
                   tasks=["topic=topic"], id_column="id", import_labels=True).close()
    return tmp_path / "p"


@pytest.mark.parametrize("name, fragment", [
    ("labels.xlsx", "it has the extension '.xlsx'"),
    ("labels.txt", "Supported: .csv (csv)"),
    ("labels", "it has no extension"),
])
def test_unknown_extension_refused_before_any_work(qtbot, tmp_path, project_path, name, fragment):
    dlg = ExportDialog(str(project_path))
    qtbot.addWidget(dlg)
    dlg.set_destination(str(tmp_path / name))
    dlg.export_button.click()
    assert fragment in dlg.status.text()
    assert not dlg.runner.is_running("export") and dlg.export_button.isEnabled()
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("name, fmt", [("a.pq", "parquet"), ("a.ndjson", "jsonl"),
                                       ("a.json", "json"), ("a.CSV", "csv")])
def test_typed_extension_picks_the_format_and_is_kept(qtbot, tmp_path, project_path, name, fmt):
    dlg = ExportDialog(str(project_path))
    qtbot.addWidget(dlg)
    dlg.set_destination(str(tmp_path / name))
    assert dlg.format() == fmt
    assert dlg.dest_edit.text() == str(tmp_path / name)    # not rewritten to .parquet etc.


def test_json_button_writes_one_array(qtbot, tmp_path, project_path):
    dlg = ExportDialog(str(project_path))
    qtbot.addWidget(dlg)
    dlg.set_destination(str(tmp_path / "labels.csv"))
    dlg.format_buttons["json"].click()
    assert dlg.dest_edit.text() == str(tmp_path / "labels.json")
    with qtbot.waitSignal(dlg.export_finished, timeout=30000):
        dlg.export_button.click()
    data = json.loads((tmp_path / "labels.json").read_text(encoding="utf-8"))
    assert [r["activelab__id"] for r in data] == [f"r{i}" for i in range(12)]
