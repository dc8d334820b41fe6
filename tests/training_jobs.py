"""Jobs for the training process in tests (module-level, so the child can import them by name):
one that hangs, one that crashes the child, one that starts a grandchild."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def hang(*args, progress) -> None:
    """A retrain that never ends and never looks at cancellation (a hung fit)."""
    while True:
        time.sleep(0.05)


def crash(*args, progress) -> None:
    """A retrain that takes the training process down (as a segfault in a library would)."""
    os._exit(3)


def user_error(progress) -> None:
    """A retrain refused with a message for the user."""
    from activelab.core.errors import ModelError

    raise ModelError("Training failed: this solver supports only 'l2'.")


def echo(value, progress):
    """Report progress, then return ``value`` (with the child's pid)."""
    progress.update(0.5, "halfway")
    time.sleep(0.3)   # longer than the child's progress throttle: the update is sent
    progress.update(1.0, "done")
    return value, os.getpid()


def until_cancelled(progress) -> str:
    """A long job that checks for cancellation now and then."""
    while True:
        progress.update(0.1, "working")
        time.sleep(0.02)


def start_grandchild_and_hang(pid_file: str, progress) -> None:
    """Start a process of our own (as a library's worker pool would), write its pid, hang."""
    grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    Path(pid_file).write_text(f"{os.getpid()} {grandchild.pid}")
    hang(progress=progress)
