"""Strong defaults, from evidence (issue 10): the default strategy of a new project is the one
the label-efficiency benchmark chose, it was never below random on the shared sets, and
``activelab strategies`` shows every measured strategy's record from the shipped data."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from activelab.core.cli.main import main
from activelab.core.loop.settings import Settings
from activelab.core.querying.measured import (
    load_records, measured_default_strategy, measured_text_features, record_text,
)
from activelab.core.querying.registry import registry

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results" / "label_efficiency.txt"


def test_the_records_ship_with_the_package_and_cover_the_built_ins():
    data = load_records()
    assert data, "strategy_records.json is missing from activelab.resources"
    measured = set(data["strategies"])
    builtins = {s.name for s in registry() if s.source == "builtin"}
    assert {"margin", "entropy", "least_confidence"} <= measured <= builtins | {"random"}


def test_the_default_strategy_is_the_one_the_results_file_names():
    chosen = measured_default_strategy()
    assert Settings().strategy == chosen
    text = RESULTS.read_text(encoding="utf-8")
    m = re.search(r"Default chosen: strategy (\S+), text features (\S+)", text)
    assert m, f"{RESULTS} names no default"
    assert m.group(1) == chosen
    assert m.group(2) == load_records()["default_text_features"]


def test_the_default_strategy_was_never_below_random_on_any_task():
    entry = load_records()["strategies"][Settings().strategy]
    for features, rec in entry.items():
        assert rec["below"] == 0, f"{features}: below random on {rec['below_tasks']}"
        assert rec["tasks"] >= 6, "measured on every one of the six shared sets"


def test_strategies_command_prints_each_measured_record(capsys):
    assert main(["strategies"]) == 0
    out = capsys.readouterr().out
    data = load_records()["strategies"]
    features = measured_text_features()
    for name, entry in data.items():
        rec = entry.get(features) or next(iter(entry.values()))
        block = out.split(f"\n{name} ", 1)[-1] if not out.startswith(f"{name} ") else out
        line = next(ln for ln in block.splitlines() if "measured:" in ln)
        assert f"above random on {rec['above']}/{rec['tasks']} tasks" in line, name
        assert ("never below" in line) == (rec["below"] == 0), name
    default_line = next(ln for ln in out.split(f"\n{Settings().strategy} ", 1)[1].splitlines()
                        if "measured:" in ln)
    assert default_line.endswith("[default]")


def test_a_strategy_that_was_not_measured_has_no_record():
    assert record_text("no_such_strategy") is None


@pytest.mark.parametrize("name", ["entropy", "margin"])
def test_a_record_names_the_tasks_where_it_lost(name):
    rec = load_records()["strategies"][name][measured_text_features()]
    text = record_text(name)
    for task in rec["below_tasks"]:
        assert task in text


def test_a_new_text_project_gets_the_measured_text_features(tmp_path, monkeypatch):
    """Without a choice (and without the installation-wide variable the test suite pins), a
    new project's text features are the benchmark's choice where they can be used here."""
    from activelab.core.project.project import Project
    from activelab.core.querying.measured import TEXT_FEATURES_ENV

    monkeypatch.delenv(TEXT_FEATURES_ENV, raising=False)
    rows = ["id,text,label"] + [f"r{i},{'good fine' if i % 2 else 'bad poor'} {i},"
                                f"{'pos' if i % 2 else 'neg'}" for i in range(12)]
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    p = Project.create(tmp_path / "p", data=tmp_path / "d.csv", text_columns=["text"],
                       tasks=["s=label"])
    try:
        assert p.feature_config.text == measured_text_features()
    finally:
        p.close()
    monkeypatch.setenv(TEXT_FEATURES_ENV, "tfidf")
    q = Project.create(tmp_path / "q", data=tmp_path / "d.csv", text_columns=["text"],
                       tasks=["s=label"])
    try:
        assert q.feature_config.text == "tfidf"
    finally:
        q.close()
