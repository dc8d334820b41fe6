"""The export dialog as a user drives it: the written file holds every label."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("pytestqt")

from activelab.app.export_dialog import ExportDialog  # noqa: E402


@pytest.fixture
def labeled_project(tmp_path):
    from activelab.core.project.project import Project

    rows = ["id,text,size"]
    for i in range(30):
        rows.append(f"r{i},\"message {i} about {'football and goals' if i % 2 else 'taxes and laws'}\",{i}")
    data = tmp_path / "data.csv"
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    project = Project.create(tmp_path / "proj", data=data,
                             tasks=["topic:sport,politics", "tone:calm,angry"])
    expected = {}
    for i in range(0, 30, 3):
        sid = f"r{i}"
        values = {"topic": "sport" if i % 2 else "politics", "tone": "calm" if i % 4 else "angry"}
        project.label_sample(sid, values)
        expected[sid] = values
    project.close()
    return tmp_path / "proj", expected


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_export_file_holds_every_label(qtbot, tmp_path, labeled_project, fmt):
    path, expected = labeled_project
    dlg = ExportDialog(str(path), labeled_count=len(expected))
    qtbot.addWidget(dlg)
    dlg.show()
    dlg.format_buttons[fmt].click()
    assert dlg.dest_edit.text().endswith({"csv": ".csv", "parquet": ".parquet", "jsonl": ".jsonl"}[fmt])
    out = tmp_path / f"labels.{fmt}"
    dlg.set_destination(str(out))
    with qtbot.waitSignal(dlg.export_finished, timeout=30000) as sig:
        dlg.export_button.click()
    assert Path(sig.args[0]) == out and out.is_file()
    assert dlg.progress.value() == 100 and "Exported to" in dlg.status.text()

    if fmt == "csv":
        frame = pd.read_csv(out, dtype=str)
    elif fmt == "parquet":
        frame = pd.read_parquet(out)
    else:
        frame = pd.DataFrame([json.loads(line) for line in out.read_text().splitlines()])
    got = {r["activelab__id"]: {"topic": r["activelab__topic__label"],
                                "tone": r["activelab__tone__label"]} for _, r in frame.iterrows()}
    assert got == expected


def test_export_with_unlabeled_rows_and_error_shown(qtbot, tmp_path, labeled_project):
    path, expected = labeled_project
    dlg = ExportDialog(str(path))
    qtbot.addWidget(dlg)
    # A destination in a folder that does not exist: the engine's message, then a retry.
    dlg.set_destination(str(tmp_path / "nope" / "out.csv"))
    dlg.export_button.click()
    qtbot.waitUntil(lambda: not dlg.runner.is_running("export"), timeout=30000)
    assert "does not exist" in dlg.status.text() and dlg.export_button.isEnabled()

    dlg.include_unlabeled.setChecked(True)
    dlg.set_destination(str(tmp_path / "all.csv"))
    with qtbot.waitSignal(dlg.export_finished, timeout=30000):
        dlg.export_button.click()
    frame = pd.read_csv(tmp_path / "all.csv", dtype=str)
    assert len(frame) == 30
    labeled = frame[frame["activelab__topic__label"].notna()]
    assert dict(zip(labeled["activelab__id"], labeled["activelab__topic__label"])) == {
        k: v["topic"] for k, v in expected.items()}
