"""`label --review` records a reviewer's decision only where there is one to make: on a sample
nobody labeled, or where the annotators agree, it is refused (nothing saved, the label log
unchanged) with what to do instead; on a disagreement it is saved and leaves the queue."""
from __future__ import annotations

from activelab.core.cli.main import main
from activelab.core.project.project import Project
from tests.core.helpers import write_text_csv


def test_review_is_refused_without_a_disagreement(tmp_path, capsys):
    data = write_text_csv(tmp_path / "d.csv", n=30)
    folder = str(tmp_path / "p")
    assert main(["new", folder, "--data", str(data), "--text-column", "text",
                 "--task", "topic=topic"]) == 0
    capsys.readouterr()
    n_events = len(Project.open(folder).store.events(0))

    assert main(["label", folder, "s001", "sport", "--review", "--annotator", "rita"]) != 0
    err = capsys.readouterr().err
    assert "no disagreement" in err and "labeled by nobody" in err and "Nothing was saved" in err
    for who in ("ana", "bob"):
        assert main(["label", folder, "s002", "sport", "--annotator", who]) == 0
    capsys.readouterr()
    assert main(["label", folder, "s002", "tech", "--review", "--annotator", "rita"]) != 0
    assert "ana: sport, bob: sport" in capsys.readouterr().err
    assert len(Project.open(folder).store.events(0)) == n_events + 2   # only ana's and bob's

    assert main(["label", folder, "s003", "sport", "--annotator", "ana"]) == 0
    assert main(["label", folder, "s003", "tech", "--annotator", "bob"]) == 0
    assert main(["agreement", folder]) == 0
    assert "s003" in capsys.readouterr().out
    assert main(["label", folder, "s003", "tech", "--review", "--annotator", "rita"]) == 0
    assert "Saved review decision" in capsys.readouterr().out
    assert main(["agreement", folder]) == 0
    assert "s003" not in capsys.readouterr().out.split("To review", 1)[-1]
