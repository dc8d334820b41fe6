"""Suspect labels in a team project judge the label the model is trained on: where alice and
bob disagree and Dawid-Skene resolves the sample to alice's label, the suspects (CLI and the
app's job) show alice's label, never bob's later one."""
from __future__ import annotations

import pandas as pd

from activelab.core.cli.main import main
from activelab.core.project.project import Project
from activelab.core.quality.suspects import snapshot_suspects
from activelab.core.team.training import resolve_ties
from tests.core.helpers import write_text_csv

TARGETS = [f"s{i:03d}" for i in range(60, 66)]     # only alice and bob label these; bob errs


def _other(v: str, classes: list[str]) -> str:
    return classes[(classes.index(v) + 1) % len(classes)]


def _project(tmp_path):
    data = write_text_csv(tmp_path / "news.csv", n=120)
    truth = pd.read_csv(data).set_index("id")["topic"]
    classes = sorted(truth.unique())
    p = Project.create(tmp_path / "proj", data=data, text_columns=["text"], tasks=["topic=topic"],
                       id_column="id")
    for i in range(60):            # alice and carol agree; bob errs on every 4th: he is less reliable
        sid, t = f"s{i:03d}", truth[f"s{i:03d}"]
        p.label(sid, t, annotator="alice")
        p.label(sid, t, annotator="carol")
        p.label(sid, _other(t, classes) if i % 4 == 0 else t, annotator="bob")
    for sid in TARGETS:            # a tie: alice right, bob (the latest label) wrong
        p.label(sid, truth[sid], annotator="alice")
        p.label(sid, _other(truth[sid], classes), annotator="bob")
    return p, truth


def test_suspects_judge_and_show_the_resolved_label(tmp_path, capsys):
    p, truth = _project(tmp_path)
    snap = p.training_snapshot()
    rows, vals = resolve_ties(snap).labeled["topic"]
    resolved = {snap.ids[int(r)]: v for r, v in zip(rows, vals)}
    assert all(resolved[s] == truth[s] for s in TARGETS), "Dawid-Skene sides with alice"
    found = snapshot_suspects(p.training_snapshot(), only="topic")["topic"].suspects
    for s in found:
        assert s.label == resolved[s.sample_id], f"{s.sample_id}: shows {s.label}"
    flagged = {s.sample_id for s in found}
    p.close()
    assert main(["review", str(tmp_path / "proj"), "--suspects"]) == 0
    out = capsys.readouterr().out
    classes = sorted(truth.unique())
    bobs = [ln for ln in out.splitlines() for sid in TARGETS
            if sid in ln and _other(truth[sid], classes) in ln.split("model")[0]]
    assert not bobs, "bob's outvoted label shown as the label:\n" + "\n".join(bobs)
    assert flagged <= set(resolved)
