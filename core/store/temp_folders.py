"""Hidden temporary siblings (``.NAME.creating-…``, ``.NAME.backup-…``) and their clean-up.

A project is built (``activelab new``) or copied (``activelab backup``) in a hidden sibling
folder that is renamed into place at the end, so a half-made project never appears. A process
killed with SIGKILL cannot remove its folder, so the folder's name records who made it
(``PID@HOST``) and the next ``new`` or ``backup`` into the same parent removes folders whose
process is gone (or, made elsewhere or before names carried a pid, that are old).

SIGTERM (a ``kill``, a closing terminal session, a service manager) is turned into
``KeyboardInterrupt`` while such work runs, so the ordinary clean-up paths run as for Ctrl+C.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

KINDS = ("creating", "backup")
STALE_WITHOUT_PID = 10 * 60
"""Seconds after which a temporary folder whose maker cannot be checked is stale."""
STALE_ALWAYS = 24 * 3600
"""Seconds after which any temporary folder is stale (pid reused by another process)."""

_NAME = re.compile(r"^\..+\.(creating|backup)-(?:(\d+)@([^~]*)~)?")


def is_temp_name(name: str) -> bool:
    """True for the name of a temporary sibling made by ``make_temp_sibling``."""
    return _NAME.match(name) is not None


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "", socket.gethostname())[:40]


def temp_prefix(final: Path, kind: str) -> str:
    """The name prefix of a temporary sibling of ``final`` made by this process."""
    return f".{final.name}.{kind}-{os.getpid()}@{_host()}~"


def make_temp_sibling(final: Path, kind: str, *, folder: bool = True) -> Path:
    """Create a hidden temporary folder (or empty file) beside ``final`` named for this process."""
    prefix = temp_prefix(final, kind)
    try:
        if folder:
            return Path(tempfile.mkdtemp(prefix=prefix, dir=final.parent))
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=".partial", dir=final.parent)
    except OSError as exc:      # name the folder the user chose, not our hidden file
        raise OSError(exc.errno, exc.strerror, str(final.parent)) from exc
    os.close(fd)
    return Path(name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:     # exists, owned by someone else
        return True
    return True


def is_stale(path: Path, now: float | None = None) -> bool:
    """True when ``path`` is a temporary sibling whose maker is gone (see module doc)."""
    m = _NAME.match(path.name)
    if m is None:
        return False
    now = time.time() if now is None else now
    try:
        age = now - path.lstat().st_mtime
    except OSError:
        return False
    if age > STALE_ALWAYS:
        return True
    pid, host = m.group(2), m.group(3)
    if pid is None or host != _host():
        return age > STALE_WITHOUT_PID
    return int(pid) != os.getpid() and not _alive(int(pid))


def remove_stale_temp_siblings(parent: Path) -> list[Path]:
    """Remove the stale ``.NAME.creating-*`` / ``.NAME.backup-*`` entries of ``parent``.

    Returns what was removed. Entries that cannot be listed or removed are left alone (a
    clean-up must never stop the command the user asked for).
    """
    removed = []
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(".") or not is_stale(entry):
            continue
        try:
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed.append(entry)
        except OSError:
            continue
    return removed


_interrupted = threading.Event()


@contextmanager
def sigterm_as_keyboard_interrupt() -> Iterator[None]:
    """While inside, SIGTERM (and Ctrl+C) raise KeyboardInterrupt (main thread only; else a
    no-op). The signal is also remembered: Python drops an exception raised where it cannot
    propagate (a finalizer run by the garbage collector, a callback from C), so code about to
    make its work permanent calls ``raise_if_interrupted`` first."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: object) -> None:
        _interrupted.set()
        raise KeyboardInterrupt(f"signal {signum}")

    _interrupted.clear()
    previous = signal.signal(signal.SIGTERM, _raise)
    previous_int = signal.signal(signal.SIGINT, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def raise_if_interrupted() -> None:
    """Raise KeyboardInterrupt when SIGTERM or Ctrl+C arrived inside
    ``sigterm_as_keyboard_interrupt`` (even if the exception it raised was swallowed). Main
    thread only, like the handler: a worker thread of the app is never interrupted this way."""
    if threading.current_thread() is threading.main_thread() and _interrupted.is_set():
        raise KeyboardInterrupt("interrupted")
