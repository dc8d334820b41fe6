"""Bad PostgreSQL URLs given to `new --store` and `attach`: one paragraph naming the cause
(a bad port, no database, a refused login, a missing database, a server that does not answer),
no traceback, and no project folder left behind."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

from activelab.core.cli.main import main
from activelab.core.store.pg_store import safe_url, url_problem
from tests.core.helpers import write_text_csv


def _new(tmp_path: Path, url: str, capsys) -> tuple[int, str]:
    data = write_text_csv(tmp_path / "d.csv", n=30)
    code = main(["new", str(tmp_path / "team"), "--data", str(data), "--text-column", "text",
                 "--task", "topic=topic", "--store", url])
    err = capsys.readouterr().err
    return code, err


def _left(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir() if p.name != "d.csv")


@pytest.mark.parametrize("url, says", [
    ("postgresql://ann:secret@db.lab:notaport/labels", "port ('notaport') is not a number"),
    ("postgresql://ann@db.lab:99999/labels", "port ('99999') is not a number"),
    ("postgresql://ann@db.lab:5432", "names no database"),
])
def test_malformed_urls_are_refused_before_connecting(tmp_path, capsys, url, says):
    code, err = _new(tmp_path, url, capsys)
    assert code != 0 and says in err and "Traceback" not in err
    assert "secret" not in err                       # the password is never printed
    assert _left(tmp_path) == []
    assert main(["attach", url, str(tmp_path / "other")]) != 0
    assert says in capsys.readouterr().err


def test_url_problem_accepts_socket_and_default_port_urls():
    assert url_problem("postgresql:///labels") is None          # local socket
    assert url_problem("postgres://ann@db.lab/labels") is None  # default port
    assert safe_url("postgresql://a:pw@h:bad/db") == "postgresql://a@h:bad/db"


def test_server_that_does_not_answer_names_the_new_folder_not_a_temp_one(tmp_path, capsys):
    with socket.socket() as s:                       # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, err = _new(tmp_path, f"postgresql://ann@127.0.0.1:{port}/labels", capsys)
    assert code != 0 and "unreachable" in err and "was not created" in err
    assert "team" in err and ".creating" not in err and "Traceback" not in err
    assert _left(tmp_path) == []


def test_missing_database_and_refused_login_say_so(tmp_path, pg_server, capsys):
    base = pg_server.url.rsplit("/", 1)[0]
    code, err = _new(tmp_path, base + "/no_such_db", capsys)
    assert code != 0 and "has no such database" in err and "unreachable" not in err
    host = base.split("@", 1)[1]
    code, err = _new(tmp_path, f"postgresql://nobody_here:pw@{host}/postgres", capsys)
    assert code != 0 and "refuses the login" in err and "unreachable" not in err
    assert "pw@" not in err
    assert _left(tmp_path) == []
