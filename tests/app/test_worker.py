"""The TaskRunner: newest request of a kind wins, each job reports on its own handle, errors
arrive as messages, results as data, and an overdue job is abandoned with a message."""
from __future__ import annotations

import threading

from activelab.app.worker import TaskRunner
from activelab.core.errors import ModelError


def slow_until_cancelled(started: threading.Event, progress):
    started.set()
    while True:  # a long fit that checks for cancellation now and then
        progress.update(0.5, "fitting")
        threading.Event().wait(0.005)


def quick(value, progress):
    progress.update(1.0, "done")
    return value


def failing(progress):
    raise ModelError("Training 'x' failed: only one class labeled. Label a second class.")


def crashing(progress):
    raise ZeroDivisionError("division by zero")


def test_new_request_supersedes_running_one(qtbot):
    runner = TaskRunner()
    started = threading.Event()
    results = []
    first = runner.submit("retrain", slow_until_cancelled, started)
    first.finished.connect(lambda result: results.append(("first", result)))
    first.failed.connect(lambda message: results.append(("first failed", message)))
    assert started.wait(5)
    second = runner.submit("retrain", quick, "second")
    second.finished.connect(lambda result: results.append(("second", result)))
    assert not first.is_running() and second.is_running()
    with qtbot.waitSignal(second.finished, timeout=5000):
        pass
    assert runner.shutdown(5000)
    qtbot.wait(50)  # let any late (superseded) report arrive; it must be dropped
    assert results == [("second", "second")]
    assert not runner.is_running("retrain")


def test_kinds_run_independently_and_report_on_their_own_handle(qtbot):
    runner = TaskRunner()
    got = {}
    export = runner.submit("export", quick, "file.csv")
    retrain = runner.submit("retrain", quick, 12)
    export.finished.connect(lambda result: got.__setitem__("export", result))
    retrain.finished.connect(lambda result: got.__setitem__("retrain", result))
    with qtbot.waitSignals([export.finished, retrain.finished], timeout=5000):
        pass
    assert got == {"export": "file.csv", "retrain": 12}


def test_errors_arrive_as_messages(qtbot):
    runner = TaskRunner()
    job = runner.submit("retrain", failing)
    with qtbot.waitSignal(job.failed, timeout=5000) as blocker:
        pass
    assert blocker.args == ["Training 'x' failed: only one class labeled. Label a second class."]
    job = runner.submit("retrain", crashing)
    with qtbot.waitSignal(job.failed, timeout=5000) as blocker:
        pass
    assert blocker.args == ["ZeroDivisionError: division by zero"]
    assert not runner.is_running("retrain")


def test_progress_reaches_the_gui_thread(qtbot):
    runner = TaskRunner()
    job = runner.submit("export", quick, 1)
    with qtbot.waitSignal(job.progress, timeout=5000) as blocker:
        pass
    assert blocker.args == [1.0, "done"]
    runner.shutdown()


def test_a_cancelled_job_reports_nothing(qtbot):
    runner = TaskRunner()
    started = threading.Event()
    job = runner.submit("export", slow_until_cancelled, started)
    events = []
    job.finished.connect(events.append)
    job.failed.connect(events.append)
    assert started.wait(5)
    job.cancel()
    assert not runner.is_running("export")
    assert runner.shutdown(5000), "the job stopped at its next progress check"
    qtbot.wait(50)
    assert events == []


def test_an_overdue_thread_job_is_abandoned_with_a_message(qtbot, monkeypatch):
    from activelab.app import worker

    monkeypatch.setattr(worker, "OVERDUE_GRACE_S", 0.0)
    runner = TaskRunner(use_processes=False)
    started = threading.Event()
    job = runner.submit("retrain", slow_until_cancelled, started, timeout_s=0.3)
    with qtbot.waitSignal(job.failed, timeout=5000) as blocker:
        pass
    assert blocker.args == ["the retrain took longer than 0.3 s (the time limit) and was abandoned"]
    assert not runner.is_running("retrain")
    assert runner.shutdown(5000), "the abandoned job was cancelled, so its thread ends"
