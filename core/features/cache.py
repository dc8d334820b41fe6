"""Derived data under ``PROJECT/cache/``: read it only if it is whole, else rebuild it.

Everything in ``cache/`` (features, the pool map's projection) can be computed again from the
store and the pool, so it is never trusted: a file that is unreadable, truncated, of the wrong
shape, or a folder where a file should be (or the reverse) reads as "not cached", and the new
copy replaces the bad one atomically. A cache that cannot be written (read-only project, full
disk) is skipped: the data is used from memory.
"""
from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

log = logging.getLogger(__name__)

READ_ERRORS = (OSError, ValueError, KeyError, TypeError, IndexError, EOFError, AttributeError)
"""What reading a damaged cache file can raise (numpy, scipy, zipfile, json); zipfile's
BadZipFile is a subclass of none of these, so ``is_damage`` checks it too."""


def is_damage(exc: BaseException) -> bool:
    """True when ``exc`` means a cache file is damaged (as opposed to a bug)."""
    import zipfile

    return isinstance(exc, READ_ERRORS + (zipfile.BadZipFile,))


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            path.unlink()
        except FileNotFoundError:
            pass


def ensure_dir(folder: Path) -> Path:
    """``folder`` as a directory; something else in its place (a file) is removed first."""
    if folder.exists() and not folder.is_dir():
        _remove(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def replace_atomically(tmp: Path, final: Path) -> None:
    """Move ``tmp`` (file or folder) to ``final``; whatever was at ``final`` is replaced.

    A bad ``final`` (a non-empty folder, a file where a folder goes) is first renamed aside,
    so ``final`` is at every moment either the old entry, absent, or the new one.
    """
    try:
        os.replace(tmp, final)
        return
    except OSError:
        if not (final.exists() or final.is_symlink()):
            raise
    aside = final.with_name(f".{final.name}.damaged-{os.getpid()}")
    _remove(aside)
    os.replace(final, aside)
    os.replace(tmp, final)
    _remove(aside)


def load_array(path: Path, shape: Sequence[int | None]) -> np.ndarray | None:
    """The ``.npy`` array at ``path`` if it has ``shape`` (None: any length) and only finite
    values, else None (absent or damaged: the caller rebuilds it). Never unpickles."""
    if not path.is_file():
        return None
    try:
        arr = np.load(path, allow_pickle=False)
    except READ_ERRORS as exc:
        log.info("rebuilding %s: %s", path, exc)
        return None
    if arr.ndim != len(shape) or any(n is not None and n != s for n, s in zip(shape, arr.shape)):
        log.info("rebuilding %s: shape %s, expected %s", path, arr.shape, tuple(shape))
        return None
    if not np.issubdtype(arr.dtype, np.number) or not np.isfinite(arr).all():
        log.info("rebuilding %s: not finite numbers", path)
        return None
    return arr


def save_array(path: Path, arr: np.ndarray) -> bool:
    """Write ``arr`` to ``path`` atomically; False (logged) when the cache cannot be written."""
    try:
        ensure_dir(path.parent)
        fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npy", dir=path.parent)
        tmp = Path(name)
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, np.ascontiguousarray(arr), allow_pickle=False)
            replace_atomically(tmp, path)
        except BaseException:
            _remove(tmp)
            raise
    except OSError as exc:
        log.info("not caching %s: %s", path, exc)
        return False
    return True
