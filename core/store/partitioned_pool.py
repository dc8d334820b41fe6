"""A pool read in place from its Parquet parts (projects of the Dask engine).

A Dask project keeps no copy of its data: the store's ``pool`` setting names the part files
(local paths or fsspec URLs, in row order) and where each starts (``starts``: cumulative row
counts, ``starts[-1]`` = pool size). Pool row ``i`` is row ``i - starts[p]`` of part ``p``;
reading one row reads one row group of one part, so the sample view, the queue and the export
of labelled rows cost the same on 1,000 or 10,000,000 rows.
"""
from __future__ import annotations

import bisect
import threading
from typing import Any, Iterator, Mapping, Sequence

from activelab.core.errors import ProjectError
from activelab.core.store.pool import Pool, frame_of


def open_part(path: str) -> Any:
    """A ``pyarrow.parquet.ParquetFile`` for a local path or an fsspec URL."""
    import pyarrow.parquet as pq

    if "://" in path:
        import fsspec

        fs, _, paths = fsspec.get_fs_token_paths(path)
        return pq.ParquetFile(fs.open(paths[0], "rb"))
    return pq.ParquetFile(path)


class PartitionedPool(Pool):
    """Read access to a pool kept in its Parquet parts (see the module docstring)."""

    def __init__(self, layout: Mapping[str, Any]) -> None:
        self.paths: list[str] = [str(p) for p in layout["paths"]]
        self.starts: list[int] = [int(s) for s in layout["starts"]]
        if len(self.starts) != len(self.paths) + 1:
            raise ProjectError("The project's pool layout is damaged (parts and row counts "
                               "differ). Create the project again from the data.")
        self._files: dict[int, Any] = {}
        self._group_starts: dict[int, list[int]] = {}
        self._cached: tuple[tuple[int, int], Any] | None = None
        self._lock = threading.Lock()
        first = self._file(0)
        self.schema = first.schema_arrow
        self.columns = list(self.schema.names)

    def __len__(self) -> int:
        return self.starts[-1]

    def _file(self, p: int) -> Any:
        f = self._files.get(p)
        if f is None:
            try:
                f = open_part(self.paths[p])
            except Exception as exc:   # pyarrow and fsspec raise many types
                raise ProjectError(
                    f"The pool part {self.paths[p]} cannot be read ({type(exc).__name__}: "
                    f"{exc}). The project reads its data in place: restore that file (or "
                    "mount its storage again); labels are safe in project.sqlite."
                ) from exc
            meta = f.metadata
            gs = [0]
            for g in range(meta.num_row_groups):
                gs.append(gs[-1] + meta.row_group(g).num_rows)
            self._files[p], self._group_starts[p] = f, gs
        return f

    def locate(self, idx: int) -> tuple[int, int]:
        """(part, row within the part) of pool row ``idx``."""
        p = bisect.bisect_right(self.starts, int(idx)) - 1
        return p, int(idx) - self.starts[p]

    def row(self, idx: int) -> dict[str, Any]:
        idx = self._check_row(idx)
        p, local = self.locate(idx)
        with self._lock:
            f = self._file(p)
            gs = self._group_starts[p]
            g = bisect.bisect_right(gs, local) - 1
            cached = self._cached
            if cached is None or cached[0] != (p, g):
                cached = ((p, g), f.read_row_group(g))
                self._cached = cached
        return cached[1].slice(local - gs[g], 1).to_pylist()[0]

    def table(self, columns: Sequence[str] | None = None,
              rows: "Sequence[int] | Any | None" = None) -> Any:
        """The given rows (in the order given) and columns as a pyarrow Table; only the row
        groups holding them are read. Without ``rows`` the whole pool is read: only for
        pools that fit in memory."""
        import numpy as np
        import pyarrow as pa

        cols = self._check_columns(columns)
        if rows is None:
            rows = np.arange(len(self), dtype=np.int64)
        rows = self._check_rows(rows)
        if len(rows) == 0:
            return self.schema.empty_table().select(cols)
        pieces, order = [], []
        parts = np.searchsorted(np.asarray(self.starts), rows, side="right") - 1
        for p in np.unique(parts):
            sel = np.flatnonzero(parts == p)
            local = rows[sel] - self.starts[p]
            with self._lock:
                f = self._file(int(p))
                gs = np.asarray(self._group_starts[int(p)])
                groups = np.searchsorted(gs, local, side="right") - 1
                wanted = np.unique(groups)
                read = [f.read_row_group(int(g), columns=cols) for g in wanted]
            offset = np.zeros(len(gs) - 1, dtype=np.int64)
            sizes = np.diff(gs)[wanted]
            offset[wanted] = np.concatenate([[0], np.cumsum(sizes)[:-1]])
            pieces.append(pa.concat_tables(read).take(pa.array(local - gs[groups] + offset[groups])))
            order.append(sel)
        table = pa.concat_tables(pieces) if len(pieces) > 1 else pieces[0]
        back = np.empty(len(rows), dtype=np.int64)
        back[np.concatenate(order)] = np.arange(len(rows))
        return table.take(pa.array(back))

    def frame(self, columns: Sequence[str] | None = None,
              rows: "Sequence[int] | Any | None" = None) -> Any:
        return frame_of(self.table(columns, rows))

    def row_groups(self, columns: Sequence[str] | None = None) -> Iterator[tuple[int, Any]]:
        """(first row, pyarrow Table) for each part's row groups in pool order."""
        cols = self._check_columns(columns)
        for p in range(len(self.paths)):
            with self._lock:
                f = self._file(p)
                gs = list(self._group_starts[p])
            for g in range(len(gs) - 1):
                with self._lock:
                    table = f.read_row_group(g, columns=cols)
                yield self.starts[p] + gs[g], table

    def null_counts(self) -> dict[str, int | None]:
        """Unknown for a pool read in place (None per column): counting reads every part."""
        return {c: None for c in self.columns}
