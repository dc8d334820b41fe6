"""User-facing errors: one paragraph that names the file, row or column and what to do."""
from __future__ import annotations


class ActiveLabError(Exception):
    """An error a user can fix. ``str(err)`` is the whole message shown to them."""


class DataError(ActiveLabError):
    """The input data cannot be read or does not fit what was asked."""


class ProjectError(ActiveLabError):
    """The project folder or its store is missing, corrupted or from a newer version."""


class LabelError(ActiveLabError):
    """A label, sample id or task that does not exist in the project."""


class StrategyError(ActiveLabError):
    """A strategy was asked for something it cannot do (unknown name, wrong inputs)."""


class ModelError(ActiveLabError):
    """A model cannot be built or fitted with what is labeled so far."""


class StoreWriteError(ProjectError):
    """A write to the project store did not land (disk full, read-only, locked, I/O error).

    ``cause`` is one of ``"disk_full"``, ``"read_only"``, ``"locked"``, ``"io"``; ``str(err)``
    is one paragraph naming the project and the cause, saying that the label (or setting) was
    NOT saved and what to do. Nothing saved before is lost; the caller may retry the same
    write once the cause is gone.
    """

    def __init__(self, message: str, cause: str = "io") -> None:
        super().__init__(message)
        self.cause = cause
