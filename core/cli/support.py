"""Shell hygiene for the ``activelab`` command: argument types that refuse impossible counts,
progress bars that stay out of files and pipes, and a quiet exit into a closed pipe."""
from __future__ import annotations

import argparse
import math
import os
import sys
from typing import Any, Callable

from activelab.core.progress import Progress


# --------------------------------------------------------------------------- argument types
def _number(text: str, kind: type, name: str, rule: str) -> Any:
    try:
        value = kind(text)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"{name} must be {rule}; got {text!r}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{name} must be {rule}; got {text!r}")
    return value


def _checked(kind: type, name: str, rule: str, ok: Callable[[Any], bool]) -> Callable[[str], Any]:
    """An argparse ``type``: ``text`` as ``kind``, finite and ``ok``, else ArgumentTypeError
    "NAME must be RULE; got 'TEXT'" (argparse then exits 2 with it)."""
    def parse(text: str) -> Any:
        value = _number(text, kind, name, rule)
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{name} must be {rule}; got {text!r}")
        return value
    return parse


def positive_int(name: str) -> Callable[[str], int]:
    """An argparse ``type`` for a count >= 1."""
    return _checked(int, name, "an integer >= 1", lambda v: v >= 1)


def nonnegative_int(name: str) -> Callable[[str], int]:
    """An argparse ``type`` for an integer >= 0 (e.g. a seed)."""
    return _checked(int, name, "an integer >= 0", lambda v: v >= 0)


def nonnegative_float(name: str) -> Callable[[str], float]:
    """An argparse ``type`` for a finite number >= 0 (e.g. seconds)."""
    return _checked(float, name, "a number >= 0", lambda v: v >= 0)


def open_fraction(name: str) -> Callable[[str], float]:
    """An argparse ``type`` for a share strictly between 0 and 1 (e.g. a test split)."""
    return _checked(float, name, "a number between 0 and 1 (exclusive)", lambda v: 0.0 < v < 1.0)


def fraction_or_zero(name: str) -> Callable[[str], float]:
    """An argparse ``type`` for a share in [0, 1] (e.g. the overlap share)."""
    return _checked(float, name, "a number from 0 to 1", lambda v: 0.0 <= v <= 1.0)


def fraction(name: str, meaning: str = "") -> Callable[[str], float]:
    """An argparse ``type`` for a number in (0, 1] (e.g. a target share, a kappa threshold);
    ``meaning`` is added to the message in parentheses."""
    rule = "a number above 0 and at most 1" + (f" ({meaning})" if meaning else "")
    return _checked(float, name, rule, lambda v: 0.0 < v <= 1.0)


# --------------------------------------------------------------------------- progress bars
def stderr_is_terminal() -> bool:
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError, OSError):
        return False


class progress_bar:
    """A tqdm bar on stderr driven by a core ``Progress`` (``with progress_bar(d) as prog``).

    Drawn only when stderr is a terminal (never into a log file or a pipe). While it is
    drawn, whatever else is written to stderr (warnings, messages) goes through tqdm's
    ``DummyTqdmFile``, which clears the bar first; when the block fails the bar is removed,
    so an error message never follows a bar on the same line.
    """

    def __init__(self, desc: str, enabled: bool = True, leave: bool = False) -> None:
        self.desc = desc
        self.enabled = enabled and stderr_is_terminal()
        self.leave = leave
        self.bar: Any = None
        self._stderr: Any = None

    def __enter__(self) -> Progress:
        if not self.enabled:
            return Progress()
        from tqdm import tqdm
        from tqdm.contrib import DummyTqdmFile

        self._stderr = sys.stderr
        self.bar = tqdm(total=1000, desc=self.desc, file=self._stderr, leave=self.leave,
                        dynamic_ncols=True,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}")
        sys.stderr = DummyTqdmFile(self._stderr)
        bar = self.bar

        def callback(fraction: float, message: str) -> None:
            bar.n = int(round(1000 * fraction))
            bar.set_postfix_str(message[:60], refresh=True)

        return Progress(callback)

    def close(self, failed: bool = False) -> None:
        """Remove (failed, or ``leave=False``) or keep the bar; give stderr back."""
        if self.bar is None:
            return
        proxy, sys.stderr = sys.stderr, self._stderr
        leftover = "".join(getattr(proxy, "_buf", None) or [])   # text without a newline yet
        if leftover:
            proxy._buf = []
        bar, self.bar = self.bar, None
        if failed:
            bar.leave = False   # tqdm then blanks the bar's line and returns to its column 0
        bar.close()
        if leftover:
            sys.stderr.write(leftover + "\n")

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        self.close(failed=exc_type is not None)


# --------------------------------------------------------------------------- closed pipes
def stdout_closed() -> int:
    """Handle a reader that closed our stdout (``activelab ... | head -1``): Python's
    documented recipe, pointing stdout at devnull so the exit flush cannot fail. Exit 0: the
    command did its work; only its output was not wanted any more."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
    return 0
