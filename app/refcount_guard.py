"""Work-around for a PySide6 6.12 reference-count bug on Python < 3.12.

Measured here (PySide6-Essentials 6.12.0, Python 3.11.7): every call of a void Qt method from
Python (``setText``, ``setChecked``, ``setVisible``, ...) drops one reference to ``None``, and
some signal emissions drop references to ``True``/``False``. On Python 3.12+ these objects are
immortal and nothing happens; on 3.11 their count eventually reaches zero and the interpreter
aborts ("Fatal Python error: none_dealloc") in the middle of a labeling session or at exit.

``top_up()`` adds permanent references (never released, so interpreter teardown cannot hit
zero either) whenever a count falls low; ``install()`` runs it every second on the GUI thread.
Remove this module once PySide6 is fixed or Python >= 3.12 is required.
"""
from __future__ import annotations

import ctypes
import platform
import sys

_MINIMUM = 1_000_000
_CHUNK = 10_000_000
NEEDED = sys.version_info < (3, 12) and platform.python_implementation() == "CPython"


def _pin(obj: object, n: int) -> None:
    """Add ``n`` references to ``obj`` that are never released (CPython: ob_refcnt is first)."""
    ctypes.c_ssize_t.from_address(id(obj)).value += n


def top_up(minimum: int = _MINIMUM, chunk: int = _CHUNK) -> None:
    """Add references to None/True/False when their counts fall below ``minimum``."""
    if not NEEDED:
        return
    for obj in (None, True, False):
        if sys.getrefcount(obj) < minimum:
            _pin(obj, chunk)


def install() -> None:
    """Top up now and every second while the QApplication runs (idempotent)."""
    if not NEEDED:
        return
    from PySide6.QtCore import QCoreApplication, QTimer

    top_up()
    app = QCoreApplication.instance()
    if app is None or app.property("activelab_refcount_guard"):
        return
    timer = QTimer(app)
    timer.setInterval(1000)
    timer.timeout.connect(top_up)
    timer.start()
    app.setProperty("activelab_refcount_guard", True)


top_up()
