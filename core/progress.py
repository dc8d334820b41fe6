"""Progress and cancellation for long work, with no dependency on any UI.

Work functions in core/ take a ``Progress`` and call ``progress.update(fraction, message)``
now and then; that raises ``Cancelled`` once ``cancel()`` was called (from another thread).
The GUI subclasses nothing: it passes a callback; the CLI passes a tqdm-backed one.
"""
from __future__ import annotations

import threading
from typing import Callable


class Cancelled(Exception):
    """The work was cancelled or superseded by a newer request."""


class Progress:
    def __init__(self, callback: Callable[[float, str], None] | None = None) -> None:
        self._callback = callback
        self._cancel = threading.Event()
        self.fraction = 0.0
        self.message = ""

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def update(self, fraction: float | None = None, message: str | None = None) -> None:
        self.check()
        if fraction is not None:
            self.fraction = max(0.0, min(1.0, float(fraction)))
        if message is not None:
            self.message = message
        if self._callback is not None:
            self._callback(self.fraction, self.message)

    def sub(self, start: float, end: float) -> "Progress":
        """A child whose 0..1 maps onto [start, end] of this one and shares cancellation."""
        parent = self

        class _Sub(Progress):
            def check(self) -> None:
                parent.check()

            def update(self, fraction: float | None = None, message: str | None = None) -> None:
                f = None if fraction is None else start + (end - start) * max(0.0, min(1.0, fraction))
                parent.update(f, message)

        return _Sub()


NULL_PROGRESS = Progress()
