"""The TaskRunner: newest request of a kind wins, errors arrive as messages, results as data."""
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
    runner.finished.connect(lambda kind, result: results.append((kind, result)))
    runner.submit("retrain", slow_until_cancelled, started)
    assert started.wait(5)
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.submit("retrain", quick, "second")
    assert runner.shutdown(5000)
    qtbot.wait(50)  # let any late (superseded) report arrive; it must be dropped
    assert results == [("retrain", "second")]
    assert not runner.is_running("retrain")


def test_kinds_run_independently(qtbot):
    runner = TaskRunner()
    got = {}
    runner.finished.connect(lambda kind, result: got.__setitem__(kind, result))
    with qtbot.waitSignals([runner.finished, runner.finished], timeout=5000):
        runner.submit("export", quick, "file.csv")
        runner.submit("retrain", quick, 12)
    assert got == {"export": "file.csv", "retrain": 12}


def test_errors_arrive_as_messages(qtbot):
    runner = TaskRunner()
    with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.submit("retrain", failing)
    assert blocker.args == ["retrain", "Training 'x' failed: only one class labeled. Label a second class."]
    with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.submit("retrain", crashing)
    assert blocker.args[1] == "ZeroDivisionError: division by zero"
    assert not runner.is_running("retrain")


def test_progress_reaches_the_gui_thread(qtbot):
    runner = TaskRunner()
    with qtbot.waitSignal(runner.progress, timeout=5000) as blocker:
        runner.submit("export", quick, 1)
    assert blocker.args == ["export", 1.0, "done"]
    runner.shutdown()
