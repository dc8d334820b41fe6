"""The training process (plain Python, real child processes): it lives and dies with its parent,
is restarted after it dies, abandons a hung job after its time limit, falls back to a thread
after repeated failures, and leaves no process and no resource-tracker warning behind."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from activelab.core.errors import ActiveLabError
from activelab.core.loop.training_process import (
    ProcessCall,
    ProcessFailed,
    ProcessUnavailable,
    TrainingProcess,
)
from activelab.core.progress import Cancelled, Progress
from tests import training_jobs
from tests.processes import alive, descendants, require_proc, wait_gone

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tp():
    require_proc()
    process = TrainingProcess()
    yield process
    process.shutdown()


def test_a_job_runs_in_the_child_and_reports_progress(tp):
    steps = []
    value, pid = tp.run(1, ProcessCall(training_jobs.echo, ("hello",)),
                        Progress(lambda f, m: steps.append((f, m))))
    assert value == "hello" and pid == tp.pid and pid != os.getpid()
    assert (0.5, "halfway") in steps, "progress travels from the child to the caller"
    assert tp.note() is None


def test_a_job_error_is_the_users_message(tp):
    def local():   # a closure cannot be pickled: the caller runs it in a thread instead
        pass

    with pytest.raises(ProcessUnavailable, match="cannot be sent"):
        tp.run(1, ProcessCall(local), Progress())
    with pytest.raises(ActiveLabError, match="supports only 'l2'"):
        tp.run(2, ProcessCall(training_jobs.user_error), Progress())
    assert tp.run(3, ProcessCall(training_jobs.echo, (1,)), Progress())[0] == 1, "the child serves on"


def test_cancelling_stops_the_job_in_the_child(tp):
    progress = Progress()
    threading.Timer(0.5, progress.cancel).start()
    t = time.monotonic()
    with pytest.raises(Cancelled):
        tp.run(1, ProcessCall(training_jobs.until_cancelled), progress)
    assert time.monotonic() - t < 1.0 + tp.CANCEL_GRACE_S
    pid = tp.pid
    assert tp.run(2, ProcessCall(training_jobs.echo, (2,)), Progress())[1] == pid, "same child serves on"


def test_a_child_killed_during_a_job_fails_it_and_the_next_job_runs_in_a_new_one(tp):
    tp.run(1, ProcessCall(training_jobs.echo, (0,)), Progress())
    first = tp.pid
    threading.Timer(0.5, os.kill, (first, signal.SIGKILL)).start()
    with pytest.raises(ProcessFailed, match="was killed by SIGKILL during the retrain.*restarted"):
        tp.run(2, ProcessCall(training_jobs.hang), Progress())
    assert "restarted" in tp.note()
    value, pid = tp.run(3, ProcessCall(training_jobs.echo, (3,)), Progress())
    assert value == 3 and pid != first and not alive(first)
    assert tp.restarts == 1 and tp.problem is None
    assert "restarted" in tp.note(), "said once more, for the job that ran in the new process"
    tp.run(4, ProcessCall(training_jobs.echo, (4,)), Progress())
    assert tp.note() is None


def test_a_hung_job_is_abandoned_after_its_time_limit(tp):
    tp.run(1, ProcessCall(training_jobs.echo, (0,)), Progress())
    hung = tp.pid
    t = time.monotonic()
    with pytest.raises(ProcessFailed, match=r"took longer than 1 s \(the time limit\) and was abandoned"):
        tp.run(2, ProcessCall(training_jobs.hang), Progress(), timeout_s=1.0)
    assert 1.0 <= time.monotonic() - t < 4.0
    assert not alive(hung), "the hung child was killed"
    assert tp.run(3, ProcessCall(training_jobs.echo, (3,)), Progress())[0] == 3


def test_repeated_failures_fall_back_to_a_thread(tp):
    # Processes running before (a session's PostgreSQL server, re-parented to this process when
    # it is a subreaper) are not this test's children.
    before = descendants() - ({tp.pid} if tp.pid else set())
    for job_id in range(1, tp.MAX_FAILURES + 1):
        with pytest.raises(ProcessFailed):
            tp.run(job_id, ProcessCall(training_jobs.crash), Progress())
    assert "failed 3 times in a row" in tp.problem and "exited with code 3" in tp.problem
    assert tp.note().startswith("in a thread: ")
    with pytest.raises(ProcessUnavailable):
        tp.run(9, ProcessCall(training_jobs.echo, (9,)), Progress())
    assert wait_gone(descendants() - before, 3.0) == set(), "no child is left running"


def test_shutdown_kills_a_running_job_at_once(tp):
    result = {}

    def wait():
        try:
            tp.run(1, ProcessCall(training_jobs.hang), Progress())
        except Cancelled:
            result["cancelled"] = time.monotonic()

    waiter = threading.Thread(target=wait)
    waiter.start()
    deadline = time.monotonic() + 30
    while tp.pid is None and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    child = tp.pid
    t = time.monotonic()
    tp.shutdown()
    waiter.join(5)
    assert result["cancelled"] - t < 1.0, "the waiting caller is released within a second"
    assert not alive(child)
    with pytest.raises(Cancelled):
        tp.run(2, ProcessCall(training_jobs.echo, (2,)), Progress())


PARENT = textwrap.dedent("""
    import sys, threading, time
    sys.path.insert(0, {root!r})
    from activelab.core.loop.training_process import ProcessCall, TrainingProcess
    from activelab.core.progress import Progress
    from tests import training_jobs

    tp = TrainingProcess()
    threading.Thread(target=tp.run, daemon=True, args=(
        1, ProcessCall(training_jobs.start_grandchild_and_hang, ({pid_file!r},)), Progress())).start()
    time.sleep(600)
""")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_the_child_and_its_children_end_when_the_parent_is_killed(tmp_path, sig):
    require_proc()
    pid_file = tmp_path / "pids"
    parent = subprocess.Popen([sys.executable, "-c", PARENT.format(root=str(ROOT), pid_file=str(pid_file))])
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() or len(pid_file.read_text().split()) < 2:
            assert time.monotonic() < deadline and parent.poll() is None, "the job never started"
            time.sleep(0.05)
        child, grandchild = map(int, pid_file.read_text().split())
        assert alive(child) and alive(grandchild)
        os.kill(parent.pid, sig)
        parent.wait(10)
        assert wait_gone({child, grandchild}, 5.0) == set(), "nothing outlives the parent"
    finally:
        if parent.poll() is None:
            parent.kill()


CLEAN_EXIT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {root!r})
    from multiprocessing import resource_tracker
    from activelab.core.loop.training_process import ProcessCall, TrainingProcess
    from activelab.core.progress import Progress
    from tests import training_jobs

    tp = TrainingProcess()
    print(tp.run(1, ProcessCall(training_jobs.echo, ("ok",)), Progress())[0])
    print("tracker started:", resource_tracker._resource_tracker._pid is not None)
""")


def test_no_resource_tracker_and_no_warning_at_exit(tmp_path):
    """The child is a plain process: no multiprocessing resource tracker is started, so none
    is left running and none warns about leaked semaphores when the app exits."""
    r = subprocess.run([sys.executable, "-c", CLEAN_EXIT.format(root=str(ROOT))],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == ["ok", "tracker started: False"]
    assert "resource_tracker" not in r.stderr and "leaked" not in r.stderr, r.stderr
