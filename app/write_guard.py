"""Every write the labeling window makes goes through ``WriteGuard.run``: a write that does not
land is said out loud (the banner, in the words of its cause, with Retry), never a traceback.

The guarded actions change nothing in the controller when the store raises, so the sample and
the expert's choice stay on screen and nothing is marked as saved; the next key press or the
banner's Retry writes again, and once a write lands the banner of the failed one goes away. On
a project opened read-only nothing is attempted: the read-only bar is pointed to instead.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QLabel

from activelab.app.banner import ErrorBanner, ReadOnlyBar
from activelab.app.write_failures import WRITE_ERRORS, SavedButStalled, describe_write_failure

log = logging.getLogger(__name__)
NOT_SAVED = object()   # what ``run`` returns when the write did not land (or was not attempted)


class WriteGuard(QObject):
    """Runs writes for the window and owns what the banner's Retry repeats."""

    def __init__(self, banner: ErrorBanner, read_only_bar: ReadOnlyBar, status_line: QLabel,
                 project_path: str | Path | None, read_only: bool = False,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.banner, self.read_only_bar, self.status_line = banner, read_only_bar, status_line
        self.project_path = project_path
        self.read_only = read_only
        self._retry: Callable[[], Any] | None = None
        self._failed = False            # the banner shows a failed write
        banner.retry_requested.connect(self._on_banner_retry_requested)

    def run(self, what: str, action: Callable[..., Any], *args: Any,
            retry: Callable[[], Any] | None = None) -> Any:
        """``action(*args)``, a user action that writes ``what`` ("label", "skip", "setting"...).

        Returns its result, or ``NOT_SAVED`` when it raised a StoreWriteError / ActiveLabError
        (or, as the last resort, a raw sqlite3/OS error): the banner then says why, with a Retry
        button running ``retry`` (default: the same call) when retrying can help."""
        if self.read_only:
            self.point_to_read_only()
            return NOT_SAVED
        try:
            result = action(*args)
        except WRITE_ERRORS as exc:
            failure = describe_write_failure(exc, self.project_path, what)
            if isinstance(exc, SavedButStalled):   # saved: Retry loads the next sample
                retry = lambda resume=exc.resume: self.run("next sample", resume)  # noqa: E731
            if failure.retryable:
                log.warning("%s not saved: %s", what, failure.message)
                self.status_line.setText(f"{what[:1].upper()}{what[1:]} NOT saved — see the banner above.")
            self.show_failure(failure.message,
                              (retry or (lambda: self.run(what, action, *args))) if failure.retryable else None)
            return NOT_SAVED
        if self._failed:
            self.clear()
            self.status_line.setText(f"Saved again: the {what} was written to the project.")
        return result

    def show_failure(self, message: str, retry: Callable[[], Any] | None = None,
                     write: bool = True) -> None:
        """The banner with ``message``; a Retry button runs ``retry`` when there is one.
        ``write``: a failed write, so the banner goes away once a write lands again."""
        self._retry = retry
        self._failed = write
        self.banner.show_message(message, retry=retry is not None)

    @property
    def unsaved(self) -> bool:
        """The banner shows a write that failed: the choice on screen is not saved yet."""
        return self._failed

    def clear(self) -> None:
        self._failed, self._retry = False, None
        self.banner.hide()

    def point_to_read_only(self) -> None:
        self.read_only_bar.flash()
        self.status_line.setText("Read-only: labels cannot be saved — see the bar at the top.")

    @Slot()
    def _on_banner_retry_requested(self) -> None:
        retry, self._retry = self._retry, None
        self.banner.hide()   # shown again if the retry fails too
        if retry is not None:
            retry()
