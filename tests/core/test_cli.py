"""The activelab command as a user types it."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from activelab.core.cli.main import main
from tests.core.helpers import write_text_csv


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def proj(tmp_path, capsys):
    data = write_text_csv(tmp_path / "news.csv", n=90)
    code, out, err = run(capsys, "new", tmp_path / "p", "--data", data, "--id-column", "id",
                         "--text-column", "text", "--task", "topic=topic")
    assert code == 0, err
    assert "Created project" in out and "90 samples" in out
    return tmp_path / "p", pd.read_csv(data).set_index("id")


def test_twenty_label_session_then_export(proj, capsys, tmp_path):
    path, truth = proj
    labeled = []
    while len(labeled) < 20:
        code, out, err = run(capsys, "query", path, "-n", "5", "--json")
        assert code == 0, err
        items = json.loads(out)
        assert len(items) == 5
        for it in items:
            assert {"id", "strategy", "score", "rank"} <= set(it)
            code, out, _ = run(capsys, "label", path, it["id"], truth.loc[it["id"], "topic"],
                               "--seconds", "3")
            assert code == 0 and "Saved" in out
            labeled.append(it["id"])
    code, out, _ = run(capsys, "status", path, "--json")
    status = json.loads(out)
    assert status["labeled"] == 20 and isinstance(status["labeled"], int)
    assert sum(status["tasks"]["topic"]["classes"].values()) == 20
    assert status["latest_curve_point"]["n_labels"] >= 15
    code, out, _ = run(capsys, "query", path, "-n", "3", "--json")
    later = json.loads(out)
    assert all("topic_prediction" in it and 0 < it["topic_confidence"] <= 1 for it in later if not it["audit"])
    out_file = tmp_path / "labels.csv"
    code, _, err = run(capsys, "export", path, "--out", out_file)
    assert code == 0, err
    df = pd.read_csv(out_file)
    assert sorted(df["activelab__id"]) == sorted(labeled)
    assert (df["activelab__topic__label"] == truth.loc[df["activelab__id"], "topic"].values).all()
    assert df["activelab__topic__seconds"].eq(3).all()
    assert df["activelab__topic__strategy"].notna().all()
    assert df["activelab__topic__model_version"].notna().all()


def test_skip_flag_undo_redo(proj, capsys):
    path, _ = proj
    assert run(capsys, "label", path, "s001", "tech")[0] == 0
    code, out, _ = run(capsys, "undo", path)
    assert code == 0 and "s001" in out
    code, out, _ = run(capsys, "status", path, "--json")
    assert json.loads(out)["labeled"] == 0
    assert run(capsys, "redo", path)[0] == 0
    assert run(capsys, "skip", path, "s002")[0] == 0
    assert run(capsys, "flag", path, "s003", "--note", "blurry")[0] == 0
    status = json.loads(run(capsys, "status", path, "--json")[1])
    assert (status["labeled"], status["skipped"], status["flagged"]) == (1, 1, 1)


@pytest.mark.parametrize("args, needle", [
    (["label", "{p}", "nope", "tech"], "No sample with id 'nope'"),
    (["label", "{p}", "s001", "weather"], "not a class of task 'topic'"),
    (["query", "{p}", "--strategy", "nonsense"], "Unknown strategy 'nonsense'"),
    (["status", "{tmp}/missing"], "not a project folder"),
])
def test_errors_are_one_paragraph_and_nonzero(proj, capsys, tmp_path, args, needle):
    path, _ = proj
    args = [a.format(p=path, tmp=tmp_path) for a in args]
    code, out, err = run(capsys, *args)
    assert code == 1
    assert needle in err and err.startswith("error: ")
    assert "Traceback" not in err


def test_new_with_missing_file_fails_cleanly(tmp_path, capsys):
    code, _, err = run(capsys, "new", tmp_path / "p", "--data", tmp_path / "nope.csv", "--task", "t:a,b")
    assert code == 1 and "nope.csv" in err
    assert not (tmp_path / "p").exists()


def test_strategies_lists_the_family(capsys):
    code, out, _ = run(capsys, "strategies")
    assert code == 0
    for name in ("random", "least_confidence", "margin", "entropy"):
        assert name in out


def test_new_with_model_class_path_and_params(tmp_path, capsys):
    data = write_text_csv(tmp_path / "news.csv", n=60)
    code, out, err = run(capsys, "new", tmp_path / "p", "--data", data, "--text-column", "text",
                         "--task", "topic=topic", "--model", "sklearn.ensemble.ExtraTreesClassifier",
                         "--model-param", "n_estimators=20", "--strategy", "margin")
    assert code == 0, err
    status = json.loads(run(capsys, "status", tmp_path / "p", "--json")[1])
    assert status["model"] == "sklearn.ensemble.ExtraTreesClassifier"
    assert status["settings"]["model_params"] == {"n_estimators": 20}
    code, _, err = run(capsys, "new", tmp_path / "q", "--data", data, "--text-column", "text",
                       "--task", "topic=topic", "--model", "os.system")
    assert code == 1 and "Unknown model 'os.system'" in err
