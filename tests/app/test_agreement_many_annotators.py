"""Twenty annotators (190 pairs, nearly none sharing a sample): the Agreement dock lists only
the pairs that share samples plus one "K pairs share no samples yet" line, scrolls inside the
dock, and never makes the window taller; the CLI lines say the same."""
from __future__ import annotations

from activelab.app.worker import TaskRunner
from activelab.core.project.project import Project
from activelab.core.team.report import team_report
from tests.app.windows import open_window
from tests.core.helpers import write_text_csv

CLASSES = ["food", "sport", "tech"]
PEOPLE = [f"ann{k:02d}" for k in range(20)]


def _team_project(tmp_path):
    data = write_text_csv(tmp_path / "news.csv", n=80)
    project = Project.create(tmp_path / "team", data=data, text_columns=["text"],
                             tasks=["topic=topic"], id_column="id")
    for k, who in enumerate(PEOPLE):              # each labels 3 samples of their own
        for j in range(3):
            project.label(f"s{3 * k + j:03d}", CLASSES[j], annotator=who)
    for i in range(4):                            # two pairs share samples: 3 and 1
        project.label(f"s{i:03d}", CLASSES[i % 3], annotator="ann05")
    return project


def test_dock_lists_only_shared_pairs_scrolls_and_keeps_the_window_height(qtbot, tmp_path):
    project = _team_project(tmp_path)
    win = open_window(qtbot, project, runner=TaskRunner(use_processes=False))
    height = win.height()
    panel = win.agreement.panel
    win.agreement.dock.show()
    win.agreement.dock.raise_()
    qtbot.waitUntil(lambda: panel.report is not None, timeout=20000)
    qtbot.wait(100)
    text = panel.summary.text()
    assert "n=0" not in text
    assert "188 pairs share no samples yet" in text
    assert text.index("ann00 / ann05: ") < text.index("ann01 / ann05: ")   # n=3 before n=1
    assert win.height() == height, "the statistics never make the window taller"
    assert panel.summary_scroll.widget() is panel.summary
    win.runner.shutdown()
    project.close()


def test_cli_lines_list_only_shared_pairs(tmp_path):
    project = _team_project(tmp_path)
    lines = team_report(project).lines()
    assert not any("n=0" in ln for ln in lines)
    pairs = [ln for ln in lines if "Cohen's kappa" in ln]
    assert len(pairs) == 2 and "ann00 / ann05" in pairs[0] and "n=3" in pairs[0]
    assert any(ln.strip() == "188 pairs share no samples yet" for ln in lines)
    project.close()
