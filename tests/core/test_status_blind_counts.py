"""``activelab status`` on a blind-overlap project: the class counts leave out the labels of
shared samples the viewer has not labeled yet, and the line says so (with how many)."""
from __future__ import annotations

import re

import pandas as pd

from activelab.core.cli.main import main
from activelab.core.project.annotators import is_overlap
from activelab.core.project.project import Project
from tests.core.helpers import write_text_csv


def test_status_says_how_many_labels_are_hidden_from_the_counts(tmp_path, capsys):
    data = write_text_csv(tmp_path / "news.csv", n=60)
    truth = pd.read_csv(data).set_index("id")["topic"]
    folder = tmp_path / "proj"
    Project.create(folder, data=data, text_columns=["text"], tasks=["topic=topic"],
                   id_column="id").close()
    assert main(["set", str(folder), "overlap=0.3"]) == 0
    p = Project.open(folder)
    shared = [s for s in p.ids if is_overlap(s, 0.3, p.settings.seed)][:6]
    own = [s for s in p.ids if s not in shared][:5]
    for sid in shared:
        p.label(sid, truth[sid], annotator="alice")
    for sid in own:
        p.label(sid, truth[sid], annotator="bob")
    p.close()
    capsys.readouterr()
    assert main(["status", str(folder), "--annotator", "bob"]) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if "task topic" in ln)
    counts = sum(int(n) for n in re.findall(r": (\d+)", line.split("—")[1]))
    assert counts == len(own) and f"{len(own) + len(shared)} labeled" in line
    assert (f"({len(shared)} labelled by others on shared samples are hidden from these counts "
            "until you label them)") in line
    assert main(["status", str(folder), "--annotator", "alice"]) == 0
    line = next(ln for ln in capsys.readouterr().out.splitlines() if "task topic" in ln)
    assert "hidden" not in line
