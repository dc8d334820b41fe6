"""The project's pool: the imported table, kept with its exact types (``pool.parquet``).

``activelab new`` writes the imported columns once, in source order and with the names as
read, into ``PROJECT/pool.parquet`` (Arrow, row groups of ``ROW_GROUP_ROWS`` rows; see
``activelab.core.store.pool_writer``). So what comes out of the project (the export, the
sample view) has the types that went in: text read from a CSV stays text (``0020`` is not
20), Parquet/JSON integers stay integers (nullable ones too), booleans, timestamps and lists
stay what they are.

``Pool.open(project_dir)`` reads it: ``len(pool)``, ``pool.columns``, ``pool.row(i)`` (one row
as a dict, reading and caching one row group), ``pool.frame(columns, rows)`` (a DataFrame
with the source types; text columns as Python ``str`` with ``None`` for an empty cell; only
the row groups holding ``rows`` are read, so k rows cost O(k)) and ``pool.table(columns,
rows)`` (the same as Arrow) and ``pool.row_groups(columns)`` (the whole pool, one row group
at a time). Projects made before the pool file existed keep their rows as JSON in the store;
``Pool.open`` falls back to those.

pandas, numpy and pyarrow are imported when data is read, not when this module is.
"""
from __future__ import annotations

import bisect
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

from activelab.core.errors import ProjectError
from activelab.core.store.pool_writer import (  # noqa: F401  (the pool's API, in one place)
    POOL_FILE, ROW_GROUP_ROWS, pool_table, write_pool, write_pool_table,
)

if TYPE_CHECKING:   # pragma: no cover
    import numpy as np
    import pandas as pd

_WHOLE_FILE_SHARE = 0.5   # rows spread over more than this share of row groups: read them all


# ----------------------------------------------------------------------------- reading


def _text_columns(schema: Any) -> list[str]:
    import pyarrow as pa

    return [f.name for f in schema
            if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]


def frame_of(table: Any) -> "pd.DataFrame":
    """An Arrow table as pandas with the source types; text as ``str``/None (object)."""
    import pandas as pd

    text = set(_text_columns(table.schema))
    rest = [n for n in table.column_names if n not in text]
    # One block per column, without consolidating them into a 2-D copy (1M x 32 floats:
    # 6 ms instead of 2 s and two extra copies).
    other = table.select(rest).to_pandas(split_blocks=True) if rest else None
    cols = {
        n: (pd.Series(table.column(n).to_numpy(zero_copy_only=False), dtype=object)
            if n in text else other[n])
        for n in table.column_names
    }
    return pd.DataFrame(cols, columns=table.column_names, index=pd.RangeIndex(table.num_rows),
                        copy=False)


class Pool:
    """Read access to a project's samples (see the module docstring)."""

    columns: list[str]

    @classmethod
    def open(cls, project_dir: str | Path, store: Any = None) -> "Pool":
        """The pool of the project in ``project_dir``: its ``pool.parquet``, or for projects
        made before it existed, the rows kept as JSON in the store (``store``, or the
        project's ``project.sqlite``). ProjectError when the pool file is recorded in the
        store but missing or unreadable."""
        folder = Path(project_dir)
        path = folder / POOL_FILE
        if path.exists():
            return ParquetPool(path)
        if store is None:
            from activelab.core.store.backends import open_store

            store = open_store(folder)
        layout = store.get_setting("pool")
        if isinstance(layout, dict) and layout.get("paths"):   # read in place (Dask engine)
            from activelab.core.store.partitioned_pool import PartitionedPool

            return PartitionedPool(layout)
        if layout is not None and getattr(store, "dialect", "") == "postgresql":
            raise ProjectError(
                f"This machine has no copy of the team project's samples file {path} (the "
                "labels are safe on the PostgreSQL server). Rebuild it from the source data "
                f"with: activelab attach {getattr(store, 'display_url', 'URL')} {folder}")
        if store.get_setting("pool") is not None:
            raise ProjectError(
                f"The project's samples file {path} is missing (the project was made with it). "
                "Restore the project folder from a copy or backup, or create the project again "
                "from the data; labels are safe in project.sqlite."
            )
        return JsonPool(store)

    def __len__(self) -> int:
        raise NotImplementedError

    def row(self, idx: int) -> dict[str, Any]:
        """Sample ``idx`` (0-based, project order) as {column: value}."""
        raise NotImplementedError

    def frame(self, columns: Sequence[str] | None = None,
              rows: "Sequence[int] | np.ndarray | None" = None) -> "pd.DataFrame":
        """The pool (or the given columns / rows, in the order given) as a DataFrame."""
        raise NotImplementedError

    def _check_columns(self, columns: Sequence[str] | None) -> list[str]:
        if columns is None:
            return list(self.columns)
        missing = [c for c in columns if c not in self.columns]
        if missing:
            raise ProjectError(
                f"Column(s) {', '.join(repr(c) for c in missing)} are not in the project's "
                f"samples (columns: {', '.join(self.columns[:20])})."
            )
        return list(columns)

    def _check_row(self, idx: int) -> int:
        n = len(self)
        if not 0 <= int(idx) < n:
            raise ProjectError(f"Sample #{idx} is not in the project (it has {n} samples).")
        return int(idx)

    def _check_rows(self, rows: Any) -> "np.ndarray":
        import numpy as np

        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        n = len(self)
        if len(rows) and (rows.min() < 0 or rows.max() >= n):
            bad = int(rows[(rows < 0) | (rows >= n)][0])
            raise ProjectError(f"Sample #{bad} is not in the project (it has {n} samples).")
        return rows


class ParquetPool(Pool):
    """The pool in ``pool.parquet``; row groups are read on demand, the last one cached."""

    def __init__(self, path: Path) -> None:
        import pyarrow.parquet as pq

        self.path = path
        try:
            self._file = pq.ParquetFile(path)
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, ...
            raise ProjectError(
                f"The project's samples file {path} cannot be read ({type(exc).__name__}: "
                f"{exc}). Restore the project folder from a copy or backup, or create the "
                "project again from the data; labels are safe in project.sqlite."
            ) from exc
        meta = self._file.metadata
        self.schema = self._file.schema_arrow
        self.columns = list(self.schema.names)
        self._starts = [0]
        for i in range(meta.num_row_groups):
            self._starts.append(self._starts[-1] + meta.row_group(i).num_rows)
        self._n = meta.num_rows
        self._cached: tuple[int, Any] | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._n

    def _group(self, g: int) -> Any:
        # The GUI thread and workers may read at once: one reader at a time, and the cache
        # is read into a local so another thread's replacement cannot swap the group.
        with self._lock:
            cached = self._cached
            if cached is None or cached[0] != g:
                cached = (g, self._file.read_row_group(g))
                self._cached = cached
        return cached[1]

    def row(self, idx: int) -> dict[str, Any]:
        idx = self._check_row(idx)
        g = bisect.bisect_right(self._starts, idx) - 1
        return self._group(g).slice(idx - self._starts[g], 1).to_pylist()[0]

    def table(self, columns: Sequence[str] | None = None,
              rows: "Sequence[int] | np.ndarray | None" = None) -> Any:
        """The pool (or the given columns / rows, in the order given) as a pyarrow Table.

        With ``rows``, only the row groups that hold them are read (k rows: at most k row
        groups), unless they are spread over most of the file.
        """
        import numpy as np
        import pyarrow as pa

        cols = self._check_columns(columns)
        if rows is None:
            with self._lock:
                return self._file.read(columns=cols)
        rows = self._check_rows(rows)
        if len(rows) == 0:
            return self.schema.empty_table().select(cols)
        starts = np.asarray(self._starts, dtype=np.int64)
        groups = np.searchsorted(starts, rows, side="right") - 1
        wanted = np.unique(groups)
        n_groups = len(starts) - 1
        if len(wanted) > _WHOLE_FILE_SHARE * n_groups:
            with self._lock:
                return self._file.read(columns=cols).take(pa.array(rows))
        with self._lock:
            parts = [self._file.read_row_group(int(g), columns=cols) for g in wanted]
        offset = np.zeros(n_groups, dtype=np.int64)   # where each read group starts in ``parts``
        sizes = np.diff(starts)[wanted]
        offset[wanted] = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        local = rows - starts[groups] + offset[groups]
        return pa.concat_tables(parts).take(pa.array(local))

    def frame(self, columns: Sequence[str] | None = None,
              rows: "Sequence[int] | np.ndarray | None" = None) -> "pd.DataFrame":
        return frame_of(self.table(columns, rows))

    def row_groups(self, columns: Sequence[str] | None = None) -> Iterator[tuple[int, Any]]:
        """(first row, pyarrow Table) for each row group in pool order: the whole pool,
        one group in memory at a time."""
        cols = self._check_columns(columns)
        for g in range(len(self._starts) - 1):
            with self._lock:
                table = self._file.read_row_group(g, columns=cols)
            yield self._starts[g], table

    def null_counts(self) -> dict[str, int | None]:
        """Missing values per column over the whole pool, from the file's statistics (None
        for a nested column or one without statistics)."""
        meta = self._file.metadata
        leaf = {meta.schema.column(j).path: j for j in range(meta.num_columns)}
        out: dict[str, int | None] = {}
        for name in self.columns:
            j = leaf.get(name)
            total: int | None = None if j is None else 0
            for g in range(meta.num_row_groups if j is not None else 0):
                stats = meta.row_group(g).column(j).statistics
                if stats is None or not stats.has_null_count:
                    total = None
                    break
                total += stats.null_count
            out[name] = total
        return out


class JsonPool(Pool):
    """Rows kept as JSON in the store (projects made before ``pool.parquet``)."""

    def __init__(self, store: Any) -> None:
        from activelab.core.store.samples import sample_count

        self.store = store
        self._n = sample_count(store)
        self._columns: list[str] | None = None

    @property
    def columns(self) -> list[str]:  # type: ignore[override]
        if self._columns is None:
            self._columns = list(self._all().columns)
        return self._columns

    def __len__(self) -> int:
        return self._n

    def _all(self) -> "pd.DataFrame":
        import pandas as pd

        return pd.DataFrame(self.store.all_sample_data())

    def row(self, idx: int) -> dict[str, Any]:
        return self.store.sample_data(self._check_row(idx))

    def frame(self, columns: Sequence[str] | None = None,
              rows: "Sequence[int] | np.ndarray | None" = None) -> "pd.DataFrame":
        df = self._all()
        if columns is not None:
            df = df[self._check_columns(columns)]
        if rows is not None:
            df = df.iloc[self._check_rows(rows)].reset_index(drop=True)
        return df
