"""Which processes are running, read from /proc (Linux): enough to prove that nothing the app
started outlives it, grandchildren included (``multiprocessing.active_children`` sees only the
direct children that multiprocessing itself started)."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest


def require_proc() -> None:
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc (Linux) to list processes")


def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, parent pid) of ``pid``, or None when there is no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1])


def alive(pid: int) -> bool:
    """``pid`` is running (a zombie, dead but not yet reaped, is not)."""
    st = _stat(pid)
    return st is not None and st[0] != "Z"


def descendants(pid: int | None = None) -> set[int]:
    """Every running descendant of ``pid`` (default: this process), at any depth."""
    root = os.getpid() if pid is None else pid
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None and st[0] != "Z":
                children.setdefault(st[1], []).append(int(entry))
    out: set[int] = set()
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def wait_gone(pids: set[int] | list[int], timeout_s: float) -> set[int]:
    """Wait until none of ``pids`` runs; returns those still running after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    left = {p for p in pids if alive(p)}
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = {p for p in left if alive(p)}
    return left
