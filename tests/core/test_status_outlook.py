"""`activelab status` says when the model has stopped improving and how far there is to go."""
from __future__ import annotations

import json

import pandas as pd

from activelab.core.cli.main import main
from activelab.core.loop.stopping import STOP_SET_KEY
from tests.core.helpers import write_text_csv


def _run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def test_status_reports_the_stopping_rule_and_the_forecast(tmp_path, capsys):
    data = write_text_csv(tmp_path / "news.csv", n=150)
    truth = pd.read_csv(data).set_index("id")["topic"]
    path = tmp_path / "p"
    _run(capsys, "new", path, "--data", data, "--id-column", "id", "--text-column", "text",
         "--task", "topic=topic")
    out = _run(capsys, "status", path)
    assert "stopping rule" not in out and "forecast" not in out     # nothing to judge yet
    for _ in range(12):          # 12 rounds of 5 labels, a retrain after each
        for it in json.loads(_run(capsys, "query", path, "-n", "5", "--json")):
            _run(capsys, "label", path, it["id"], truth[it["id"]])
        _run(capsys, "retrain", path)
    status = json.loads(_run(capsys, "status", path, "--json"))
    # The stop-set predictions are stored per model version, not shown.
    assert STOP_SET_KEY not in status["latest_curve_point"]["per_task"]["topic"]
    stop = status["stopping"]
    assert stop is not None and len(stop["kappas"]) == 3 and stop["window"] == 3
    # Three well separated topics: the models stop changing well before 60 labels.
    assert stop["stop"], stop
    assert status["forecast"] is not None and status["forecast"]["message"]
    out = _run(capsys, "status", path)
    assert "  stopping rule: the model has stopped improving (kappa 1.000, 1.000, 1.000 over " \
           "the last 3 retrains" in out
    assert "  forecast (CV accuracy): " in out
    out = _run(capsys, "status", path, "--target", "0.999")
    assert "0.999" in out.split("forecast (CV accuracy):")[1]
