"""``activelab new --engine dask``: every part read as a Dask task on the workers.

Three passes over the parts, each one task per part (the footers: a task per chunk of parts),
so the driver reads no part itself and its memory is bounded by one part's results:

1. ``layout_on``: each part's row count and column names from its footer; the driver checks
   that every part has the first part's columns (naming the first that differs).
2. ``sample_on``: each part is read once on a worker, which returns the rows of the uniform
   sample (``featurize.sample_rows``, drawn on the driver from the row counts), the first row
   of each value of the task columns, and the moments of its numeric columns. The driver keeps
   the rows of values not seen in an earlier part and merges the moments in part order: the
   same sample and moments as reading the parts one after the other in one process.
3. ``store_ids_on``: each part's ids (and, with ``--import-labels``, its labels) are read on a
   worker; the driver writes them to the store in part order as they arrive, with at most
   ``window`` parts in flight (so neither the workers nor the driver hold every id). A repeated
   id is caught by the store's unique index on ``sample_id``; the message names the id and both
   parts (the earlier one found with an indexed look-up of that part's ids).
"""
from __future__ import annotations

import sqlite3
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from activelab.core.data.parts import PartLayout, list_part_paths, part_footer, check_footers
from activelab.core.errors import ActiveLabError, DataError
from activelab.core.progress import Cancelled, Progress
from activelab.core.scale.featurize import PoolMoments, sample_rows
from activelab.core.store.partitioned_pool import open_part

FOOTERS_PER_TASK = 64     # footers are small: one task reads this many
_IN_CHUNK = 500           # ids per "IN (...)" look-up (SQLite allows 999 parameters)


def window_for(client: Any) -> int:
    """Parts in flight at once: two per worker thread (at least 4), so every worker stays busy
    while the driver writes one part's ids."""
    try:
        threads = sum(int(w.get("nthreads", 1)) for w in client.scheduler_info()["workers"].values())
    except Exception:   # a client without scheduler info (never in practice): a safe default
        threads = 2
    return max(4, 2 * threads)


def in_order(client: Any, fn: Callable, args: Sequence[tuple], window: int,
             progress: Progress | None = None) -> Iterator[tuple[int, Any]]:
    """(i, ``fn(*args[i])``) for every i in order, computed as Dask tasks with at most
    ``window`` submitted and not yet handed back; each result is released once yielded.
    An exception of a task (e.g. DataError) is raised here; the rest are cancelled. A
    scheduler that went away is a SchedulerGoneError (one paragraph, nothing was created)."""
    from activelab.core.scale.cluster import SchedulerGoneError, gone_message, is_gone

    futures: dict[int, Any] = {}

    def submit(i: int) -> None:
        futures[i] = client.submit(fn, *args[i], pure=False, retries=2)

    try:
        for i in range(min(window, len(args))):
            submit(i)
        for i in range(len(args)):
            if progress is not None:
                progress.check()
            result = futures.pop(i).result()
            if i + window < len(args):
                submit(i + window)
            yield i, result
    except (ActiveLabError, Cancelled):
        raise
    except Exception as exc:
        if not is_gone(exc):
            raise
        raise SchedulerGoneError(
            gone_message(getattr(client.scheduler, "address", None), exc, queue_kept=False)
            + " The project was not created; run 'activelab new' again once the scheduler "
            "answers.") from None
    finally:
        if futures and client.status == "running":
            client.cancel(list(futures.values()))


# ----------------------------------------------------------------------------- 1. footers


def footers(paths: Sequence[str]) -> list[tuple[int, list[str]]]:
    """(rows, column names) of each part (a worker task over a chunk of parts)."""
    return [part_footer(p) for p in paths]


def layout_on(client: Any, source: str, progress: Progress | None = None) -> PartLayout:
    """``find_parts`` with the footers read on the workers (the listing on the driver)."""
    paths = list_part_paths(source)
    chunks = [tuple(paths[i:i + FOOTERS_PER_TASK])
              for i in range(0, len(paths), FOOTERS_PER_TASK)]
    found: list[tuple[int, list[str]]] = []
    for _, got in in_order(client, footers, [(c,) for c in chunks], window_for(client), progress):
        found += got
    return check_footers(source, paths, found)


# ----------------------------------------------------------------------------- 2. sample


def _first_rows(col: Any) -> list[tuple[Any, int]]:
    """(value, first row) of each non-missing value of an Arrow column, in order of first
    appearance (one pass: a dictionary encoding)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if col.num_chunks == 0 or len(col) == 0:
        return []
    enc = pc.dictionary_encode(col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col)
    codes = enc.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    values = enc.dictionary.to_pylist()
    code, first = np.unique(codes, return_index=True)
    where = {int(c): int(f) for c, f in zip(code, first) if c >= 0}
    return [(v, where[i]) for i, v in enumerate(values) if i in where and v is not None]


def _read(path: str, columns: Sequence[str] | None = None) -> Any:
    """A part as a pyarrow Table (on a worker); DataError naming it when it cannot be read."""
    try:
        return open_part(path).read(columns=None if columns is None else list(columns))
    except Exception as exc:   # pyarrow and fsspec raise many types (OSError, ArrowInvalid)
        raise DataError(f"Part {path} cannot be read ({type(exc).__name__}: {exc}). Restore or "
                        "remove that part and import again.") from None


def part_sample(path: str, picks: np.ndarray, task_columns: Sequence[str]) -> dict[str, Any]:
    """One part's share of ``new``'s sample (a worker task): ``rows`` (sorted local rows: the
    picks and the first row of each task column value), ``frame`` (those rows as pandas),
    ``firsts`` ({column: [(value, first row)]}) and ``stats`` ({numeric column: (missing,
    n present, mean, sum of squared deviations)}), as ``PoolMoments.add`` computes them."""
    import pyarrow as pa

    table = _read(path)
    firsts = {c: _first_rows(table.column(c)) for c in task_columns if c in table.column_names}
    rows = np.asarray(picks, dtype=np.int64)
    extra = [r for pairs in firsts.values() for _, r in pairs]
    if extra:
        rows = np.union1d(rows, extra)
    numeric = [f.name for f in table.schema
               if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)
               or pa.types.is_boolean(f.type)]
    stats = {}
    if numeric:
        frame = table.select(numeric).to_pandas(split_blocks=True)
        for c in numeric:
            x = np.asarray(frame[c], dtype=np.float64)
            present = x[~np.isnan(x)]
            nb = len(present)
            mb = float(present.mean()) if nb else 0.0
            stats[c] = (len(x) - nb, nb, mb, float(((present - mb) ** 2).sum()) if nb else 0.0)
        del frame
    return {"rows": rows, "frame": table.take(pa.array(rows)).to_pandas(split_blocks=True),
            "firsts": firsts, "stats": stats}


def fold_moments(moments: PoolMoments, stats: dict[str, tuple]) -> None:
    """Merge one part's ``stats`` (see ``part_sample``) into ``moments``, as ``add`` does."""
    for c, (missing, nb, mb, m2b) in stats.items():
        moments.missing[c] = moments.missing.get(c, 0) + missing
        if nb:
            moments._merge(c, moments.n.get(c, 0), moments.mean.get(c, 0.0),
                           moments.m2.get(c, 0.0), nb, mb, m2b)


def sample_on(client: Any, layout: PartLayout, progress: Progress,
              task_columns: Sequence[str] = ()) -> tuple[Any, PoolMoments, np.ndarray]:
    """The uniform sample of the pool's rows (plus the first row of each task column value
    not seen in an earlier part), the whole pool's moments, each part read on a worker, and
    each sample row's part number (int64, one per sample row)."""
    import pandas as pd

    picks = sample_rows(layout.sizes())
    args = [(path, rows, tuple(task_columns)) for path, rows in zip(layout.paths, picks)]
    frames, part_of, moments, seen = [], [], PoolMoments(), {}
    n = len(args)
    for p, got in in_order(client, part_sample, args, window_for(client), progress):
        extra = []
        for c, pairs in got["firsts"].items():
            for v, r in pairs:
                if v not in seen.setdefault(c, set()):
                    seen[c].add(v)
                    extra.append(r)
        rows = np.union1d(picks[p], extra) if extra else picks[p]
        frame = got["frame"]
        if len(rows) != len(got["rows"]):
            frame = frame.iloc[np.searchsorted(got["rows"], rows)]
        frames.append(frame)
        part_of.append(np.full(len(frame), p, dtype=np.int64))
        fold_moments(moments, got["stats"])
        progress.update(0.5 * (p + 1) / n, f"sampling part {p + 1} (on the workers)")
    return pd.concat(frames, ignore_index=True), moments, np.concatenate(part_of)


# ----------------------------------------------------------------------------- 3. ids


def part_ids(path: str, start: int, size: int, id_column: str | None, read_cols: Sequence[str],
             spec: Any, wanted: Sequence[str]) -> tuple[list[str], list[dict[str, Any]]]:
    """One part's sample ids (the id column's values as written, or pool row numbers) and,
    for the ``wanted`` tasks, its label events (a worker task). DataError for a label outside
    its task's classes."""
    from activelab.core.data.read import imported_labels, sample_ids
    from activelab.core.data.spec import ImportedTable

    part = _read(path, read_cols).to_pandas() if read_cols else None
    if id_column:
        ids = sample_ids(ImportedTable(frame=part, source=path, format="parquet"), id_column)
    else:
        ids = [str(i) for i in range(start, start + size)]
    events: list[dict[str, Any]] = []
    if wanted:
        table = ImportedTable(frame=part, source=path, format="parquet")
        events = [{"kind": "label", "sample_id": ids[row], "task": task, "value": v,
                   "annotator": "import"}
                  for row, task, v in imported_labels(table, spec, tasks=set(wanted))]
    return ids, events


def repeated_id_message(store: Any, layout: PartLayout, p: int, ids: Sequence[str],
                        id_column: str | None) -> str:
    """The paragraph for part ``p``'s ``ids`` that the store refused: the repeated id and the
    two parts (and rows, from 1) holding it."""
    path = layout.paths[p]
    first: dict[str, int] = {}
    for row, v in enumerate(ids):
        if v in first:
            where = f"rows {first[v] + 1} and {row + 1} of part {path}"
            break
        first[v] = row
    else:
        where = None
        conn = store._conn()
        for i in range(0, len(ids), _IN_CHUNK):
            chunk = list(ids[i:i + _IN_CHUNK])
            hit = conn.execute(
                f"SELECT idx, sample_id FROM samples WHERE sample_id IN "
                f"({','.join('?' * len(chunk))}) ORDER BY idx LIMIT 1", chunk).fetchone()
            if hit is not None:
                q, local = layout.locate(int(hit[0]))
                v = str(hit[1])
                where = (f"row {local + 1} of part {layout.paths[q]} and row "
                         f"{first[v] + 1} of part {path}")
                break
    said = f"'{v}' " if where else ""
    return (f"The id {said}of column '{id_column}' appears more than once in the pool"
            f"{': in ' + where if where else f' (part {path})'}. Every sample needs its own "
            "id: fix the parts and import again.")


def store_ids_on(client: Any, store: Any, layout: PartLayout, spec: Any, wanted: set[str],
                 progress: Progress) -> int:
    """Write every part's ids to ``store`` in part order (read on the workers when there is
    an id column or labels to import; row numbers otherwise) and append the imported labels;
    return how many labels. DataError for a repeated id (both parts named)."""
    from activelab.core.store.samples import add_sample_ids

    read_cols = list(dict.fromkeys(
        [c for c in (spec.id_column, *[t.column for t in spec.tasks if t.name in wanted]) if c]))
    n = len(layout.paths)
    args = [(path, layout.starts[p], layout.starts[p + 1] - layout.starts[p], spec.id_column,
             tuple(read_cols), spec, tuple(sorted(wanted))) for p, path in enumerate(layout.paths)]
    if read_cols:
        results = in_order(client, part_ids, args, window_for(client), progress)
    else:   # nothing to read: the ids are the row numbers
        results = ((p, part_ids(*a)) for p, a in enumerate(args))
    n_labels = 0
    for p, (ids, events) in results:
        progress.check()
        try:
            add_sample_ids(store, ids, start=layout.starts[p])
        except sqlite3.IntegrityError:
            raise DataError(repeated_id_message(store, layout, p, ids, spec.id_column)) from None
        if events:
            store.append_group(events)
            n_labels += len(events)
        progress.update(0.5 + 0.5 * (p + 1) / n, f"ids of part {p + 1} (read on the workers)")
    return n_labels
