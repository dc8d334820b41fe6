"""`activelab status` says when the model has stopped improving and how far there is to go."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from activelab.core.cli.main import main
from activelab.core.loop.stopping import STOP_SET_KEY, WINDOW
from tests.core.helpers import noisy_truth, write_text_csv


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
    for _ in range(7):           # 7 rounds of 20 labels (the rule's span), a retrain after each
        for it in json.loads(_run(capsys, "query", path, "-n", "20", "--json")):
            _run(capsys, "label", path, it["id"], truth[it["id"]])
        _run(capsys, "retrain", path)
    status = json.loads(_run(capsys, "status", path, "--json"))
    # The stop-set predictions are stored per model version, not shown.
    assert STOP_SET_KEY not in status["latest_curve_point"]["per_task"]["topic"]
    stop = status["stopping"]
    assert stop is not None and len(stop["kappas"]) == WINDOW and stop["window"] == WINDOW
    # Three well separated topics: the models stop changing well before 140 labels.
    assert stop["stop"], stop
    # Separable topics reach a cross-validated accuracy of 1.0: nothing to forecast, said so.
    assert status["forecast"] is None and status["forecast_wait"] == (
        "the cross-validated accuracy is already 1.000: nothing left to forecast")
    assert "  forecast: the cross-validated accuracy is already 1.000" in _run(capsys, "status", path)
    out = _run(capsys, "status", path)
    assert "  stopping rule: the model has stopped improving (kappa 1.000, 1.000, 1.000 over " \
           "the last 3 checks" in out
    out = _run(capsys, "status", path, "--target", "0.999")
    assert "0.999" in out.split("forecast (CV accuracy):")[1]


def _labeled_with_audits(capsys, tmp_path, rounds: int = 14, audit_rate: float = 0.5):
    """A project labeled through the CLI in rounds of 5 (query, label, retrain) with
    ``audit_rate`` of the picks uniformly random; returns (path, audit picks labeled)."""
    data = write_text_csv(tmp_path / "news.csv", n=240)
    truth = noisy_truth(data)
    path = tmp_path / "p"
    _run(capsys, "new", path, "--data", data, "--id-column", "id", "--text-column", "text",
         "--task", "topic=topic")
    _run(capsys, "set", path, f"audit_rate={audit_rate}")
    n_audit = 0
    for _ in range(rounds):
        for it in json.loads(_run(capsys, "query", path, "-n", "5", "--json")):
            _run(capsys, "label", path, it["id"], truth[it["id"]])
            n_audit += bool(it["audit"])
        _run(capsys, "retrain", path)
    return path, n_audit


def test_status_shows_the_audit_estimate_and_what_active_learning_saved(tmp_path, capsys):
    path, n_audit = _labeled_with_audits(capsys, tmp_path)
    assert n_audit >= 20
    s = json.loads(_run(capsys, "status", path, "--json"))
    rec = s["savings"]["tasks"]["topic"]
    assert rec["n_audit"] == n_audit
    cur = rec["current"]
    assert cur["n"] == n_audit and cur["low"] <= cur["accuracy"] <= cur["high"]
    assert 0.5 < cur["accuracy"] <= 1.0          # three separable topics: far above chance
    m = rec["matched"]
    assert m["labels"] < n_audit and m["low"] <= m["diff"] <= m["high"]
    assert m["diff"] == pytest.approx(m["active"] - m["random"])
    # The record lives in the curve point, but status shows it once, under "savings".
    assert "savings" not in s["latest_curve_point"]["per_task"]["topic"]
    out = _run(capsys, "status", path)
    assert (f"  audit estimate: accuracy {cur['accuracy']:.3f} (95% interval {cur['low']:.3f}–"
            f"{cur['high']:.3f}) on {n_audit} audit picks") in out
    assert f"  savings: with {m['labels']} labels the strategy's picks reach {m['active']:.3f}, " \
           f"random picks alone {m['random']:.3f}" in out
    assert "  stopping rule: " in out and "  forecast (CV accuracy): " in out


def test_status_says_when_there_are_too_few_audit_picks(tmp_path, capsys):
    path, n_audit = _labeled_with_audits(capsys, tmp_path, rounds=3, audit_rate=0.2)
    assert n_audit < 10
    out = _run(capsys, "status", path)
    assert f"  audit estimate: not enough audit picks yet (n={n_audit}, need >= 10)" in out
    assert "savings: with" not in out
    _run(capsys, "set", path, "audit_rate=0")
    assert "audit picks are off (set audit_rate" in _run(capsys, "status", path)
