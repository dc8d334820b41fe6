"""A write that fails during a command-line command tells the user to run that command
again, never to repeat an app action (e.g. "retrain") the user did not choose."""
from __future__ import annotations

from activelab.core.cli import labeling
from activelab.core.cli.main import main
from activelab.core.store.failures import command_running
from activelab.core.store.pg_store import unreachable_error


class _Gone(Exception):
    detail = "connection refused"


URL = "postgresql://ann:pw@db.example/lab"


def test_store_unreachable_during_cli_query_says_run_the_command_again(monkeypatch, capsys):
    def query_that_loses_the_server(args):     # the curve point written before the queue
        raise unreachable_error(_Gone(), URL, "curve point")

    monkeypatch.setattr(labeling, "cmd_query", query_that_loses_the_server)
    assert main(["query", "somewhere", "-n", "2"]) == 1
    err = capsys.readouterr().err
    assert "curve point NOT saved" in err and "run 'activelab query' again" in err
    assert "retrain" not in err and "pw@" not in err


def test_the_app_keeps_its_own_advice():
    assert "retrain again" in str(unreachable_error(_Gone(), URL, "curve point"))
    with command_running("label"):
        assert "run 'activelab label' again" in str(unreachable_error(_Gone(), URL, "label"))
