"""Where an export goes: the format from the file name, the destination's checks, and an
atomic write whose failures are said in the words of their cause.

The file is written to a hidden temporary name in the destination folder, flushed and
fsynced, then moved over the destination with ``os.replace``: a reader never sees half a
file, an existing file is replaced only by a complete one, and on any failure the temporary
file is removed (no ``.tmp`` is left behind).
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import IO, Callable

from activelab.core.errors import ActiveLabError

#: The export formats and what each writes.
FORMATS = {
    "csv": "CSV (one row per sample; multi-label values as JSON arrays)",
    "parquet": "Parquet (typed columns; multi-label values as lists)",
    "jsonl": "JSON Lines (one JSON object per line)",
    "json": "JSON (one array of objects)",
}
#: File extensions (lower case) and the format each one means.
EXTENSIONS = {
    ".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl",
    ".ndjson": "jsonl", ".json": "json",
}


class ExportError(ActiveLabError):
    """The export was not written. ``cause`` is one of ``"format"``, ``"destination"``,
    ``"disk_full"``, ``"read_only"``, ``"io"``; ``str(err)`` is one paragraph naming the
    file and what to do. Nothing was changed at the destination."""

    def __init__(self, message: str, cause: str = "io") -> None:
        super().__init__(message)
        self.cause = cause


def _supported() -> str:
    by_fmt: dict[str, list[str]] = {}
    for ext, fmt in EXTENSIONS.items():
        by_fmt.setdefault(fmt, []).append(ext)
    return "; ".join(f"{'/'.join(exts)} ({fmt})" for fmt, exts in by_fmt.items())


def format_for_path(path: str | Path, format: str | None = None) -> str:
    """The export format for ``path``: one of ``FORMATS``.

    Without ``format`` the file name's extension decides (``.csv``, ``.parquet``/``.pq``,
    ``.jsonl``/``.ndjson``, ``.json`` = one JSON array). With ``format``, the extension must
    not name a different known format (``--format csv`` with ``x.parquet`` is refused); an
    unknown extension (``x.txt``) is then accepted. Raises ExportError (cause "format").
    """
    p = Path(path)
    ext = p.suffix.lower()
    from_ext = EXTENSIONS.get(ext)
    if format is not None:
        fmt = str(format).lower()
        if fmt not in FORMATS:
            raise ExportError(f"Unknown export format '{format}'. Supported formats: "
                              f"{', '.join(FORMATS)}.", "format")
        if from_ext is not None and from_ext != fmt:
            raise ExportError(
                f"The file name {p.name} says {from_ext} ({ext}) but the format asked for is "
                f"{fmt}. Name the file with a matching extension ({_supported()}) or leave "
                "out --format to use the extension's format.", "format")
        return fmt
    if from_ext is None:
        what = f"the extension '{p.suffix}'" if p.suffix else "no extension"
        raise ExportError(
            f"Cannot tell the export format of {p.name}: it has {what}. Supported: "
            f"{_supported()}. Use one of these extensions (spreadsheets open .csv), or give "
            "--format to write that format under this name.", "format")
    return from_ext


def check_destination(path: str | Path) -> Path:
    """The destination as an absolute path, after the checks that need no writing.

    Refused (ExportError, cause "destination" or "read_only"): an existing folder, a parent
    folder that does not exist or is a file, an existing file without write permission (a
    read-only file is not silently replaced). Whether the folder can be written is found out
    by writing (see ``write_atomically``), so the message names the real cause.
    """
    out = Path(path).expanduser().absolute()
    if out.is_dir():
        raise ExportError(
            f"{out} is a folder. Give a file name for the export, e.g. {out / 'labels.csv'}.",
            "destination")
    parent = out.parent
    if not parent.exists():
        raise ExportError(
            f"The folder {parent} does not exist, so the export {out.name} cannot be written "
            "there. Create the folder or choose another destination.", "destination")
    if not parent.is_dir():
        raise ExportError(
            f"{parent} is a file, not a folder, so the export {out.name} cannot be written "
            "inside it. Choose another destination.", "destination")
    if out.exists() and not out.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise ExportError(
            f"The file {out} exists and is read-only — export NOT written. Make it writable "
            "or choose another file name.", "read_only")
    return out


def describe_write_error(exc: OSError, out: Path) -> ExportError:
    """An OSError met while writing ``out``, as a one-paragraph ExportError."""
    code = exc.errno
    reason = exc.strerror or str(exc)
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1), errno.EFBIG):
        return ExportError(
            f"Disk full — export NOT written: there is not enough space in {out.parent} for "
            f"{out.name} ({reason}). Free some space or choose a folder on another disk; "
            "any earlier file of that name is unchanged.", "disk_full")
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        kind = "on a read-only file system" if code == errno.EROFS else "read-only for you"
        return ExportError(
            f"The folder {out.parent} is {kind} ({reason}) — export NOT written to "
            f"{out.name}. Choose a folder you can write to.", "read_only")
    if code == errno.EISDIR:
        return ExportError(f"{out} is a folder. Give a file name for the export.", "destination")
    if code in (errno.ENOENT, errno.ENOTDIR):
        return ExportError(
            f"The folder {out.parent} does not exist (or is not a folder) — export NOT written "
            f"to {out.name}. Create it or choose another destination.", "destination")
    if code == errno.ENAMETOOLONG:
        return ExportError(f"The file name {out.name} is too long for this file system — "
                           "export NOT written. Choose a shorter name.", "destination")
    return ExportError(f"Could not write the export {out} ({reason}) — export NOT written. "
                       "Check the disk and the folder, then try again.", "io")


def write_atomically(out: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write(binary_file)`` on a temporary file beside ``out``, then move it to ``out``.

    The temporary file (``.<name>.<random>.tmp`` in the same folder) is fsynced before the
    move and removed on any failure. An OSError becomes an ExportError naming the cause
    (disk full, read-only, missing folder); other exceptions propagate after the clean-up.
    """
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _new_file_mode(out))
        os.replace(tmp, out)
        tmp = None
        _fsync_dir(out.parent)
    except OSError as exc:
        raise describe_write_error(exc, out) from exc
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def _new_file_mode(out: Path) -> int:
    """mkstemp creates mode 0600: give the export the mode of the file it replaces, else
    that of any new file (0666 less the umask, read without changing it)."""
    try:
        return stat.S_IMODE(out.stat().st_mode)
    except OSError:
        pass
    umask = 0o022
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                umask = int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o666 & ~umask


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable where the platform allows it (not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
