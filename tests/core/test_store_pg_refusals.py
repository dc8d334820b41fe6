"""A PostgreSQL server that is running but refuses this program ("too many clients already",
SQLSTATE 53300) is named as that, not as "unreachable": against a real server started with
only 4 connection slots (tests/pg_server.py)."""
from __future__ import annotations

import psycopg
import pytest

from activelab.core.cli.main import main
from activelab.core.errors import ProjectError, StoreWriteError
from activelab.core.project.project import Project
from activelab.core.store.pg_refusals import connected_summary, refusal_of
from activelab.core.store.pg_sql import StoreUnreachable
from tests.core.helpers import write_text_csv

SLOTS = 4


@pytest.fixture
def tiny_server():
    """A server of the test's own with ``SLOTS`` connection slots."""
    from tests.pg_server import start_server

    server, why = start_server(max_connections=SLOTS)
    if server is None:
        pytest.skip(why)
    yield server
    server.stop()


def _new(tmp_path, url):
    data = write_text_csv(tmp_path / "d.csv", n=30)
    folder = tmp_path / "team"
    assert main(["new", str(folder), "--data", str(data), "--text-column", "text",
                 "--task", "topic=topic", "--store", url]) == 0
    return folder


def _fill(url: str) -> list:
    """Open connections until the server refuses one; returns them (to close)."""
    import gc

    gc.collect()    # stores of earlier commands let go of theirs first
    held = []
    while len(held) <= SLOTS:
        try:
            held.append(psycopg.connect(url, autocommit=True, application_name="other program"))
        except psycopg.OperationalError as exc:
            assert "too many clients" in str(exc)
            return held
    raise AssertionError("the server took more connections than its slots")


def test_a_full_server_is_named_too_many_clients_not_unreachable(tmp_path, tiny_server, capsys):
    folder = _new(tmp_path, tiny_server.url)
    held = _fill(tiny_server.url)
    try:
        # The command line: one paragraph, not "unreachable", no traceback, what to do.
        assert main(["label", str(folder), "s002", "food", "--task", "topic"]) == 1
        err = capsys.readouterr().err
        assert "no free connection slot" in err and "too many clients" in err
        assert "max_connections" in err and "Close activelab windows" in err
        assert "FATAL" not in err
        assert "unreachable" not in err and "Traceback" not in err
        with pytest.raises(ProjectError, match="no free connection slot"):
            Project.open(folder)
    finally:
        for c in held:
            c.close()
    p = Project.open(folder)                  # slots free again: it opens, nothing was saved
    assert p.store.state().labels.get("topic", {}) == {}
    p.close()


def test_a_label_refused_by_a_full_server_says_not_saved_and_who_is_connected(
        tmp_path, tiny_server):
    folder = _new(tmp_path, tiny_server.url)
    p = Project.open(folder)
    p.label("s001", "tech", task="topic")
    held = _fill(tiny_server.url)
    try:
        # A read while this process writes needs a second connection; the server refuses it,
        # and the connection the store still has says who holds the slots.
        with p.store._lock:                   # a write of this process is under way
            with pytest.raises(StoreUnreachable) as refused:
                p.store.last_seq()
        assert refused.value.refusal == "too_many_clients"
        assert f"{SLOTS} of its {SLOTS} connection slots are in use" in refused.value.who
        assert "other program" in refused.value.who and "activelab" in refused.value.who
        p.store.close()                       # its connection is gone: the next write reconnects
        held += _fill(tiny_server.url)        # and its slot is taken by another program
        with pytest.raises((StoreWriteError, StoreUnreachable)) as err:
            p.label("s002", "food", task="topic")
        # What the app's banner says (a write, or the read before it, was refused).
        from activelab.app.write_failures import describe_write_failure

        failure = describe_write_failure(err.value, folder, "label")
        msg = failure.message
        assert msg.startswith("Server refused — label NOT saved.") and failure.retryable
        assert "too many clients" in msg and "max_connections" in msg
        assert "unreachable" not in msg
        # The write path's own error says the same.
        from activelab.core.store.pg_store import unreachable_error

        assert str(unreachable_error(err.value, tiny_server.url, "label")).startswith(
            "Server refused — label NOT saved.")
        # Who is connected, asked on a connection this process still has.
        who = connected_summary(held[:1])
        assert f"{SLOTS} of its {SLOTS} connection slots are in use" in who
        assert "other program" in who
    finally:
        for c in held:
            c.close()
    p.label("s002", "food", task="topic")     # the same session goes on once slots are free
    assert p.store.state().labels["topic"] == {"s001": "tech", "s002": "food"}
    p.close()


@pytest.mark.parametrize("words, kind", [
    ("FATAL:  sorry, too many clients already", "too_many_clients"),
    ("FATAL:  remaining connection slots are reserved for non-replication superuser "
     "connections", "too_many_clients"),
    ('FATAL:  too many connections for role "alice"', "too_many_clients"),
    ("FATAL:  the database system is starting up", "starting"),
    ("FATAL:  the database system is shutting down", "shutting_down"),
    ('FATAL:  database "x" is not currently accepting connections', "not_accepting"),
    ("Connection refused. Is the server running on that host", None),
    ("timeout expired", None),
])
def test_the_servers_words_name_the_refusal(words, kind):
    assert refusal_of(words) == kind
