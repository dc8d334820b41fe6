"""The embedded engine's import of a partitioned Parquet pool, streamed part by part.

``stream_parts`` reads the parts one at a time (``read_parquet``: the rules of a single
Parquet file), turns each into the table the project stores (``pool_table``) and appends it to
``pool.parquet`` through one ``ParquetWriter``, carrying the rows past the last whole row group
into the next part; so the file has the row groups, types and values that joining the parts in
memory and writing them at once gives (``write_pool_table``), while at most one part and one
row group are held. The imported table the project is then made from is that file, read back
column by column, each in one piece (``frame_of``: numeric columns without a copy).

Parts whose stored tables differ in type or pandas metadata (a column of nulls only in one
part, integers with missing values in one part and none in another, ...) are not streamed:
``stream_parts`` returns None and the caller joins them in memory as before (the join resolves
such differences the way pandas does).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from activelab.core.data.parts import find_parts, is_url, read_part


@dataclass
class StreamedPool:
    """A pool file written part by part: its path, the reader's notes and ``pool_table``'s
    decisions (each said once); ``table`` reads it back on first use."""

    path: Path
    notes: list[str] = field(default_factory=list)
    pool_decisions: list[str] = field(default_factory=list)
    _table: Any = None

    @property
    def table(self) -> Any:
        """The pool file as a pyarrow Table (read once), each column in one piece: read column
        by column and joined, so pandas views of its numeric columns need no copy and at most
        one column is held twice."""
        if self._table is None:
            import pyarrow as pa
            import pyarrow.parquet as pq

            f = pq.ParquetFile(self.path)
            columns = [f.read(columns=[name]).column(0).combine_chunks()
                       for name in f.schema_arrow.names]
            self._table = pa.Table.from_arrays(columns, schema=f.schema_arrow)
        return self._table


def _part_frame(path: str, na_values: Sequence[str]) -> Any:
    from activelab.core.data.typed import read_parquet

    if is_url(path):
        return read_part(path).to_pandas(split_blocks=True)
    return read_parquet(Path(path), na_values, [])


def stream_parts(source: str | Path, pool_path: Path, na_values: Sequence[str] = (),
                 row_group_rows: int | None = None) -> StreamedPool | None:
    """Write the parts of ``source`` into ``pool_path`` (see the module docstring); None when
    the parts' stored types differ or a part holds activelab's own export columns (then
    nothing is left at ``pool_path``). DataError for a part that cannot be read."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from activelab.core.data.own_export import activelab_columns
    from activelab.core.store.pool_writer import ROW_GROUP_ROWS, _dictionary_columns, pool_table

    group = max(1, int(ROW_GROUP_ROWS if row_group_rows is None else row_group_rows))
    layout = find_parts(source)
    empty = [path for p, path in enumerate(layout.paths)
             if layout.starts[p + 1] == layout.starts[p]]
    writer, schema, carry = None, None, None
    decisions: list[str] = []
    try:
        for path in layout.paths:
            if path in empty:   # a part with no rows (as Spark and Dask writers leave) adds none
                continue
            frame = _part_frame(path, na_values)
            if activelab_columns(frame.columns):
                return _abandon(writer, pool_path)
            table, said = pool_table(frame)
            del frame
            decisions += [d for d in said if d not in decisions]
            if schema is None:
                schema = table.schema
                writer = pq.ParquetWriter(pool_path, schema,
                                          use_dictionary=_dictionary_columns(schema))
            elif not table.schema.equals(schema, check_metadata=True):
                return _abandon(writer, pool_path)
            rows = table if carry is None else pa.concat_tables([carry, table])
            whole = (rows.num_rows // group) * group
            if whole:
                writer.write_table(rows.slice(0, whole), row_group_size=group)
            carry = rows.slice(whole) if whole < rows.num_rows else None
        if carry is not None:
            writer.write_table(carry, row_group_size=group)
        writer.close()
        writer = None
    except BaseException:
        _abandon(writer, pool_path)
        raise
    notes = [f"{Path(str(source)).name or source}: {len(layout.paths)} Parquet parts, "
             f"{layout.rows} rows, read in path order"]
    if empty:
        notes.append(f"{len(empty)} part(s) without rows skipped: "
                     + ", ".join(Path(str(p)).name for p in empty[:5])
                     + (" ..." if len(empty) > 5 else ""))
    return StreamedPool(pool_path, notes, decisions)


def _abandon(writer: Any, pool_path: Path) -> None:
    if writer is not None:
        writer.close()
    Path(pool_path).unlink(missing_ok=True)
    return None


def imported_frame(stored: Any) -> Any:
    """The stored pool as the frame ``read_parquet`` would have given: ``frame_of`` (text as
    ``str``/None) with list cells as Python lists."""
    import numpy as np
    import pyarrow as pa

    from activelab.core.store.pool import frame_of

    frame = frame_of(stored)
    for f in stored.schema:
        if pa.types.is_list(f.type) or pa.types.is_large_list(f.type):
            frame[f.name] = [v.tolist() if isinstance(v, np.ndarray) else v for v in frame[f.name]]
    return frame
