"""Team projects on PostgreSQL, against a real server (tests/pg_server.py): creating and
attaching from the command line, several processes labelling at once, a server that goes away
and comes back."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from activelab.core.cli.main import main
from activelab.core.errors import StoreWriteError
from activelab.core.project.project import Project
from activelab.core.store.pg_sql import StoreUnreachable
from tests.core.helpers import write_text_csv

ROOT = Path(__file__).resolve().parents[2]


def _new(tmp_path: Path, url: str, name: str = "team", n: int = 60) -> Path:
    data = write_text_csv(tmp_path / "d.csv", n=n)
    folder = tmp_path / name
    assert main(["new", str(folder), "--data", str(data), "--text-column", "text",
                 "--task", "topic=topic", "--store", url]) == 0
    return folder


def test_new_with_store_url_keeps_labels_on_the_server_and_attach_rebuilds(tmp_path, pg_url, capsys):
    folder = _new(tmp_path, pg_url)
    assert (folder / "store.json").is_file() and not (folder / "project.sqlite").exists()
    p = Project.open(folder)
    assert p.store.dialect == "postgresql" and p.n_samples == 60
    p.label("s003", "tech", task="topic", annotator="ann")
    text3 = p.sample(3).texts
    p.close()
    # A second machine: an empty folder attached to the same project rebuilds its pool file.
    other = tmp_path / "elsewhere"
    assert main(["attach", pg_url, str(other), "--project", "team"]) == 0
    out = capsys.readouterr().out
    assert "rebuilt the samples file" in out and "1 labeled" in out
    q = Project.open(other)
    assert q.store.state().labels["topic"]["s003"] == "tech"
    assert q.sample(3).texts == text3                  # the same sample, read from the new file
    q.label("s004", "food", task="topic")
    assert q.features is not None and any((other / "cache").iterdir())   # features rebuilt
    q.close()
    # Without the pool file the project names what is missing and the command rebuilding it.
    (other / "pool.parquet").unlink()
    r = Project.open(other)
    with pytest.raises(Exception, match="activelab attach"):
        r.sample(0)
    r.close()
    # A second project of the same name in that database is refused, not mixed in.
    (tmp_path / "again").mkdir()
    assert main(["new", str(tmp_path / "again" / "team"), "--data", str(tmp_path / "d.csv"),
                 "--text-column", "text", "--task", "topic=topic", "--store", pg_url]) == 1
    assert "already holds a project" in capsys.readouterr().err
    assert Project.open(folder).labeled_count() == 2
    # 'check' reads every row of the team project; 'backup' points to the server's tools.
    assert main(["check", str(folder)]) == 0
    assert main(["backup", str(folder), str(tmp_path / "bk")]) == 1
    assert "pg_dump" in capsys.readouterr().err


WRITER = r"""
import sys
from activelab.core.project.project import Project
from activelab.core.store.pg_sql import StoreUnreachable
p = Project.open(sys.argv[1])
who, n = sys.argv[2], int(sys.argv[3])
for k in range(n):
    p.label(f"s{(k * 7 + len(who)) % 120:03d}", ["sport", "tech", "food"][k % 3], task="topic",
            annotator=f"{who}-{k}")
p.close()
print("DONE", flush=True)
"""


def test_three_processes_labelling_at_once_lose_nothing(tmp_path, pg_url):
    folder = _new(tmp_path, pg_url, n=120)
    n = 60
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(folder), who, str(n)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env, cwd=ROOT) for who in ("a", "bb", "ccc")]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0 and "DONE" in out, err[-2000:]
    p = Project.open(folder)
    labels = [e for e in p.store.events() if e.kind == "label"]
    assert len(labels) == 3 * n                                  # none lost, none doubled
    assert {e.annotator for e in labels} == {f"{w}-{k}" for w in ("a", "bb", "ccc")
                                             for k in range(n)}
    seqs = [e.seq for e in p.store.events()]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    labeled = p.labeled_count()
    p.close()
    # The export has one row per labeled sample, as the project counts them.
    import pandas as pd

    out = tmp_path / "labels.csv"
    assert main(["export", str(folder), "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == labeled > 0


def test_server_stopped_mid_session_says_not_saved_and_resumes(tmp_path, pg_own_server, capsys):
    folder = _new(tmp_path, pg_own_server.url)
    p = Project.open(folder)
    p.label("s001", "tech", task="topic")
    pg_own_server.stop_server()
    with pytest.raises((StoreWriteError, StoreUnreachable), match="(?i)store unreachable") as err:
        p.label("s002", "food", task="topic")
    # What the app's banner says for it (app/write_failures.py).
    from activelab.app.write_failures import describe_write_failure

    failure = describe_write_failure(err.value, folder, "label")
    assert failure.message.startswith("Store unreachable — label NOT saved") and failure.retryable
    # The command line says it in one paragraph, without a traceback.
    assert main(["label", str(folder), "s002", "food", "--task", "topic"]) == 1
    msg = capsys.readouterr().err
    assert "unreachable" in msg and "Traceback" not in msg
    pg_own_server.start()
    p.label("s002", "food", task="topic")                      # the same session resumes
    assert p.store.state().labels["topic"] == {"s001": "tech", "s002": "food"}
    p.close()


def test_check_and_repair_a_team_project(tmp_path, pg_url):
    """A damaged row on the server is listed by 'check' and moved to quarantine by '--repair',
    as in project.sqlite."""
    from activelab.core.project.check import check_project, quarantined, repair_project

    folder = _new(tmp_path, pg_url)
    p = Project.open(folder)
    p.label("s001", "tech", task="topic")
    with p.store.writing("label") as conn:   # a row no activelab writes: value is not JSON
        conn.execute("INSERT INTO events(grp, time, kind, sample_id, task, value) "
                     "VALUES (0, 1.0, 'label', 's002', 'topic', 'not json %s ?') RETURNING seq")
    p.close()
    report = check_project(folder)
    assert report.integrity == "ok" and [d.table for d in report.problems] == ["events"]
    fixed = repair_project(folder)
    assert len(fixed.repaired) == 1 and fixed.clean
    assert [q["row"]["value"] for q in quarantined(folder)] == ["not json %s ?"]
    assert Project.open(folder).labeled_count() == 1


def test_one_store_holds_at_most_two_server_connections_whatever_its_threads_do(
        tmp_path, pg_url):
    """The app's worker threads come and go all session, reading the store while others
    write. A store holds at most two server connections (writes and idle reads on one, reads
    during a write on the other), so two apps and a command loop fit in a default server,
    and none is left once it is closed. Counted by the server (pg_stat_activity)."""
    import threading

    import psycopg

    from activelab.core.store.pg_refusals import application_name

    folder = _new(tmp_path, pg_url, n=60)
    p = Project.open(folder)
    me = application_name()

    def mine() -> int:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name "
                                "= %s", (me,)).fetchone()[0]

    errors, peak = [], [0]

    def reader():
        try:
            for _ in range(20):
                p.store.last_seq()
                p.store.state()
        except Exception as exc:   # reported below
            errors.append(exc)

    def writer(k):
        try:
            for i in range(5):
                p.label(f"s{k * 5 + i + 1:03d}", "tech", task="topic")
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(30)]
    threads += [threading.Thread(target=writer, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        peak[0] = max(peak[0], mine())
    for t in threads:
        t.join()
    assert errors == []
    assert p.labeled_count() == 30                       # every write landed
    assert 1 <= peak[0] <= 2, f"{peak[0]} server connections held by one store"
    assert p.store.connections_open <= 2
    p.close()
    assert mine() == 0, "connections left open after close"
