"""Partitioned Parquet pools: a folder of Parquet parts, a glob, or an fsspec URL.

``find_parts`` turns what the user gave (``pool/``, ``'pool/*.parquet'``,
``s3://bucket/pool/*.parquet``) into a ``PartLayout``: the part files in a stable order (sorted
by path, so Dask's ``read_parquet`` and the embedded engine see the same row order) with their
row counts read from each part's footer (no data is read). Row ``i`` of the pool is row
``i - starts[p]`` of part ``p``; that locator is all a project keeps per row besides its id.

``read_parts`` is the embedded engine's reader: the parts one after the other, each read with
the same rules as a single Parquet file (``activelab.core.data.typed.read_parquet``).
"""
from __future__ import annotations

import bisect
import glob as _glob
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from activelab.core.errors import DataError

PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
_GLOB_CHARS = "*?["


def is_url(source: str) -> bool:
    """Whether ``source`` names an fsspec URL (``s3://...``, ``file://...``, ``memory://...``)."""
    return "://" in str(source)


def is_glob(source: str) -> bool:
    return any(ch in str(source) for ch in _GLOB_CHARS)


def is_parquet_folder(path: Path) -> bool:
    """A local folder holding Parquet parts (directly or in hive-style sub-folders)."""
    if not path.is_dir():
        return False
    return any(_parquet_name(p.name) for p in path.rglob("*") if p.is_file())


def is_partitioned_source(source: str | Path) -> bool:
    """Whether ``source`` is a partitioned Parquet pool (a folder of parts, a glob or a URL)."""
    s = str(source)
    if is_url(s):
        return True
    if is_glob(s):
        return True
    return is_parquet_folder(Path(s).expanduser())


def _parquet_name(name: str) -> bool:
    return name.lower().endswith(PARQUET_SUFFIXES) and not name.startswith((".", "_"))


@dataclass(frozen=True)
class PartLayout:
    """The part files of a pool in row order and where each starts (``starts[-1]`` = rows)."""

    source: str
    paths: tuple[str, ...]
    starts: tuple[int, ...]

    @property
    def rows(self) -> int:
        return self.starts[-1]

    def sizes(self) -> list[int]:
        return [b - a for a, b in zip(self.starts, self.starts[1:])]

    def locate(self, idx: int) -> tuple[int, int]:
        """(part, row within the part) of pool row ``idx``."""
        p = bisect.bisect_right(self.starts, int(idx)) - 1
        return p, int(idx) - self.starts[p]

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "paths": list(self.paths), "starts": list(self.starts)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PartLayout":
        return cls(str(d["source"]), tuple(d["paths"]), tuple(int(s) for s in d["starts"]))


def _filesystem(source: str) -> tuple[Any, str]:
    import fsspec

    fs, _, paths = fsspec.get_fs_token_paths(source)
    return fs, (paths[0] if paths else source)


def not_parquet_message(source: str) -> str:
    """The one paragraph for a single file that is not Parquet given where parts are read in
    place (``--engine dask``): say Parquet only, and how to convert."""
    kind = Path(source).suffix.lstrip(".").upper() or "data"
    return (f"{source} is a {kind} file, and the Dask engine reads Parquet only (*.parquet, "
            "*.pq: the pool is read in place, part by part). Either open it with the embedded "
            "engine (leave out --engine dask), or write it as Parquet parts and give their "
            f"folder, e.g. in Python: pandas.read_csv('{source}').to_parquet("
            "'pool/part-00.parquet').")


def list_part_paths(source: str | Path) -> list[str]:
    """The Parquet part files of ``source`` (a folder, glob, URL, or one Parquet file), sorted;
    DataError when there are none or ``source`` is a single file that is not Parquet."""
    s = str(source)
    if is_url(s):
        try:
            fs, root = _filesystem(s)
            if is_glob(s):
                found = fs.glob(root)
            elif fs.isdir(root):
                found = fs.find(root)
            else:
                found = [root]
        except (OSError, ValueError, ImportError) as exc:
            raise DataError(f"{s} cannot be listed ({type(exc).__name__}: {exc}). Check the URL "
                            "and that the filesystem's package is installed, then import again.") from exc
        protocol = s.split("://", 1)[0]
        paths = sorted(p if "://" in p else f"{protocol}://{p}" for p in found
                       if _parquet_name(p.rsplit("/", 1)[-1]))
    elif is_glob(s):
        paths = sorted(p for p in _glob.glob(str(Path(s).expanduser()), recursive=True)
                       if Path(p).is_file() and _parquet_name(Path(p).name))
    else:
        root = Path(s).expanduser()
        if root.is_file():
            if not _parquet_name(root.name):
                raise DataError(not_parquet_message(s))
            return [str(root)]
        paths = sorted(str(p) for p in root.rglob("*") if p.is_file() and _parquet_name(p.name))
    if not paths:
        raise DataError(
            f"{s} holds no Parquet files (*.parquet, *.pq). A pool read in place (the Dask "
            "engine) is Parquet only: give a folder of Parquet parts, a glob such as "
            "'pool/*.parquet', or one Parquet file, and import again."
        )
    return paths


def _open(path: str) -> Any:
    import pyarrow.parquet as pq

    if is_url(path):
        fs, root = _filesystem(path)
        return pq.ParquetFile(fs.open(root, "rb"))
    return pq.ParquetFile(path)


def part_footer(path: str) -> tuple[int, list[str]]:
    """(rows, column names) of one part, from its footer; DataError when it cannot be read."""
    try:
        f = _open(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
        raise DataError(f"Part {path} cannot be read as Parquet ({type(exc).__name__}: "
                        f"{exc}). Remove or rewrite that part and import again.") from exc
    return f.metadata.num_rows, list(f.schema_arrow.names)


def check_footers(source: str | Path, paths: Sequence[str],
                  footers: Sequence[tuple[int, list[str]]]) -> PartLayout:
    """The layout of ``paths`` from their footers (``part_footer``, in the same order);
    DataError names the first part whose columns differ from the first part's, or says the
    parts hold no rows."""
    starts = [0]
    first_names = footers[0][1] if footers else []
    for path, (rows, names) in zip(paths, footers):
        if names != first_names:
            raise DataError(
                f"Part {path} has columns {', '.join(names)}, but {paths[0]} has "
                f"{', '.join(first_names)}. Every part of a pool needs the same columns; "
                "rewrite the odd part and import again."
            )
        starts.append(starts[-1] + rows)
    if starts[-1] == 0:
        raise DataError(f"{source}: the Parquet parts hold no rows. Import parts with data.")
    return PartLayout(str(source), tuple(paths), tuple(starts))


def find_parts(source: str | Path) -> PartLayout:
    """The parts of ``source`` with their row counts (footers only); DataError names a part
    that cannot be read or whose columns differ from the first part's."""
    paths = list_part_paths(source)
    return check_footers(source, paths, [part_footer(p) for p in paths])


def read_part(path: str, columns: Sequence[str] | None = None) -> Any:
    """One part as a pyarrow Table (the given columns, in that order)."""
    return _open(path).read(columns=list(columns) if columns is not None else None)


def read_parts(source: str | Path, na_values: Sequence[str] = (),
               decisions: list[str] | None = None) -> "Any":
    """The embedded engine's read of a partitioned pool: every part, in order, as one
    DataFrame with the Arrow types kept. Parts are read one at a time (each freed once its
    columns are appended); DataError for a part that cannot be read. Relative image paths are
    relative to the folder of the part holding the row (as on the Dask engine): when the parts
    sit in several folders they are made absolute here (one folder: ``image_root_of_parts``)."""
    import pandas as pd

    from activelab.core.data.typed import read_parquet

    layout = find_parts(source)
    notes: list[str] = [] if decisions is None else decisions
    frames = []
    empty = [path for p, path in enumerate(layout.paths)
             if layout.starts[p + 1] == layout.starts[p]]
    several = image_root_of_parts(layout.paths) is None
    for path in layout.paths:
        if path in empty:   # a part with no rows (as Spark and Dask writers leave) adds none
            continue
        if is_url(path):
            frames.append(read_part(path).to_pandas(split_blocks=True))
        else:
            frames.append(read_parquet(Path(path), na_values, []))
            if several:
                _anchor_image_paths(frames[-1], Path(path).resolve().parent, notes)
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    notes.append(f"{Path(str(source)).name or source}: {len(layout.paths)} Parquet parts, "
                 f"{layout.rows} rows, read in path order")
    if empty:
        notes.append(f"{len(empty)} part(s) without rows skipped: "
                     + ", ".join(Path(str(p)).name for p in empty[:5])
                     + (" ..." if len(empty) > 5 else ""))
    return frame


def image_root_of_parts(paths: Sequence[str]) -> str | None:
    """The one local folder every part sits in (relative image paths are read from it);
    None when the parts are URLs or sit in several folders."""
    folders = {None if is_url(p) else str(Path(p).resolve().parent) for p in paths}
    return folders.pop() if len(folders) == 1 else None


def _anchor_image_paths(frame: Any, folder: Path, notes: list[str]) -> None:
    """Relative image paths of ``frame`` (one part, in place) made absolute under ``folder``."""
    from activelab.core.data.sniff import ARRAY_REF_PREFIX, detect_image_column

    column = detect_image_column(frame)
    if column is None:
        return
    def anchored(v: Any) -> Any:
        if not isinstance(v, str) or not v.strip() or v.startswith(ARRAY_REF_PREFIX):
            return v
        p = Path(v.strip()).expanduser()
        return v if p.is_absolute() else str(folder / p)
    frame[column] = frame[column].map(anchored)
    line = (f"image column '{column}': the parts sit in several folders; relative paths are "
            "read from the folder of the part holding the row")
    if line not in notes:
        notes.append(line)
