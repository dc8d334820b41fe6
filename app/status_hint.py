"""A hint on the status line that belongs to one sample (why the accept key did nothing,
which task still needs a class): shown on request, taken away when the next sample is shown,
so it never describes a sample that is no longer on screen."""
from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel


class StatusHint:
    """Puts a sample's hint on ``line`` and takes it back off (see the module doc)."""

    def __init__(self, line: QLabel) -> None:
        self.line = line
        self._hint = ""      # the hint on the line now ("" when none)
        self._before = ""    # what the line said before it

    def show(self, text: str) -> None:
        """Show ``text`` on the status line until the next sample (or another status)."""
        if not self._hint or self.line.text() != self._hint:
            self._before = self.line.text()
        self._hint = text
        self.line.setText(text)

    def clear(self, *_: Any) -> None:
        """A new sample is shown: put back what the line said before the hint, unless the
        line has been given something newer since (then the hint is gone already)."""
        if self._hint and self.line.text() == self._hint:
            self.line.setText(self._before)
        self._hint = ""
