"""Annotator names a user gives on the command line: blank or overlong names are refused in
one paragraph, a blank ACTIVELAB_ANNOTATOR is ignored with a notice, never silently replaced."""
from __future__ import annotations

import pytest

from activelab.core.cli.main import main
from activelab.core.project import annotators
from activelab.core.project.annotators import ENV_VAR, MAX_NAME
from activelab.core.project.project import Project
from tests.core.helpers import write_text_csv


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    data = write_text_csv(tmp_path / "d.csv", n=30)
    Project.create(tmp_path / "p", data=data, text_columns=["text"],
                   tasks=["topic=topic"]).close()
    return tmp_path / "p"


def _labels(folder):
    p = Project.open(folder)
    try:
        return [e for e in p.store.events() if e.kind == "label"]
    finally:
        p.close()


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_annotator_flag_is_refused_and_nothing_is_labelled(folder, capsys, blank):
    assert main(["label", str(folder), "s001", "tech", "--task", "topic",
                 "--annotator", blank]) == 1
    err = capsys.readouterr().err
    assert "--annotator is empty" in err and "Traceback" not in err
    assert _labels(folder) == []


def test_overlong_annotator_name_is_refused_with_the_limit(folder, capsys):
    assert main(["label", str(folder), "s001", "tech", "--task", "topic",
                 "--annotator", "a" * (MAX_NAME + 1)]) == 1
    err = capsys.readouterr().err
    assert f"at most {MAX_NAME} characters" in err and "Traceback" not in err
    assert _labels(folder) == []
    assert main(["label", str(folder), "s001", "tech", "--task", "topic",
                 "--annotator", "a" * MAX_NAME]) == 0


@pytest.mark.parametrize("blank", ["", "  "])
def test_blank_environment_variable_is_ignored_with_a_notice(folder, capsys, monkeypatch, blank):
    monkeypatch.setenv(ENV_VAR, blank)
    monkeypatch.setattr(annotators, "_BLANK_ENV_TOLD", [False])
    assert main(["label", str(folder), "s001", "tech", "--task", "topic"]) == 0
    assert main(["label", str(folder), "s002", "food", "--task", "topic"]) == 0
    err = capsys.readouterr().err
    assert err.count(f"{ENV_VAR} is set but blank") == 1           # said once, not per label
    assert all(e.annotator.strip() for e in _labels(folder))
