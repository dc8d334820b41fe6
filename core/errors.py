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
