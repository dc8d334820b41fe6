"""The pool's sample ids, kept in the store's ``samples`` table and read on demand.

``activelab new`` writes one row per sample (position, id) in one bulk insert
(``add_sample_ids``); the data itself lives in ``pool.parquet``. Opening a project reads none of
them: ``SampleIds`` (the ids in pool order, a read-only sequence) and ``IdIndex`` (id ->
position, a read-only mapping) answer each question with one indexed SQLite look-up (the
``samples`` table is keyed by position, and ``sample_id`` is UNIQUE, so both directions are
B-tree searches), and keep what they found. Something that needs every id (a retrain, the
app's queue) calls ``SampleIds.all()``: one scan, kept for the rest of the session.

So ``activelab label PROJECT ID`` costs the same on a pool of 1,000 or 1,000,000 samples.
"""
from __future__ import annotations

import json
import threading
from itertools import repeat
from typing import Any, Iterable, Iterator, Mapping, Sequence, overload

_IN_CHUNK = 500               # ids per "IN (...)" query (SQLite allows 999 parameters)
_LOAD_ALL_AFTER = 20_000      # single look-ups after which reading every id once is cheaper
_SMALL_POOL = 20_000          # pools this small are read at once on first use (a few ms)
IMPORT_CACHE_KIB = 65_536     # SQLite page cache while ids are inserted (KiB; then restored)
IMPORT_SORTED = True          # insert each batch in id order (see add_sample_ids)


def add_sample_ids(store: Any, ids: Iterable[str], start: int = 0) -> int:
    """Insert the ids (positions start, start + 1, ...) in one transaction; return how many.

    The row data is ``'{}'`` (the samples are in ``pool.parquet``; projects made before it
    kept each row as JSON there). The ids go to SQLite as one JSON array expanded by
    ``json_each`` (one statement: 1M ids in about 2 s on a busy 2-core machine, where one
    bound row at a time took 5-7 s), in id order with a 64 MiB page cache, so a pool written
    part by part does not slow down as the unique index grows; ids holding a NUL character
    are bound one by one. ``start``: the position of the first id (a part's start).
    Raises ``StoreWriteError`` when the write does not land and ``sqlite3.IntegrityError``
    for a repeated id (the importer refuses those first).
    """
    ids = list(ids)
    blob = json.dumps(ids)   # ASCII with escapes: every character comes back as written
    with store.writing("import") as conn:
        if getattr(store, "dialect", "sqlite") == "postgresql":
            # PostgreSQL text cannot hold NUL (the importer names such ids); one statement.
            conn.execute("INSERT INTO samples(idx, sample_id, data) SELECT t.ord - 1 + ?, "
                         "t.value, '{}' FROM json_array_elements_text(CAST(? AS json)) "
                         "WITH ORDINALITY AS t(value, ord)", (int(start), blob))
        elif "\\u0000" in blob:   # SQLite's JSON text would end at a NUL
            conn.executemany("INSERT INTO samples(idx, sample_id, data) VALUES (?, ?, ?)",
                             zip(range(start, start + len(ids)), ids, repeat("{}")))
        else:
            # In id order, the unique index on sample_id is filled left to right rather than
            # at random pages, and a larger page cache keeps its upper levels in memory while
            # a pool's parts arrive one after another (benchmarks/store_id_insert.py).
            before = conn.execute("PRAGMA cache_size").fetchone()[0]
            conn.execute(f"PRAGMA cache_size={-int(IMPORT_CACHE_KIB)}")
            try:
                conn.execute("INSERT INTO samples(idx, sample_id, data) SELECT key + ?, value, "
                             f"'{{}}' FROM json_each(?){' ORDER BY value' if IMPORT_SORTED else ''}",
                             (int(start), blob))
            finally:
                conn.execute(f"PRAGMA cache_size={int(before)}")
    return len(ids)


def sample_count(store: Any, exact: bool = False) -> int:
    """The number of samples: one past the highest position (an index look-up, not a scan);
    ``exact``: the rows counted (a scan, for ``activelab check``)."""
    if exact:
        return int(store._conn().execute("SELECT count(*) FROM samples").fetchone()[0])
    row = store._conn().execute("SELECT max(idx) FROM samples").fetchone()
    return 0 if row is None or row[0] is None else int(row[0]) + 1


class SampleIds(Sequence[str]):
    """The sample ids in pool order, read from the store as they are asked for.

    ``ids[i]`` is one look-up (or a list index once ``all()`` has run); ``len(ids)`` is the
    pool size; iterating, slicing and ``==`` read every id once and keep them. ``index`` is
    the matching ``IdIndex``. Thread-safe (the store gives each thread its connection).
    """

    def __init__(self, store: Any, n: int | None = None) -> None:
        self._store = store
        self._n = sample_count(store) if n is None else int(n)
        self._all: list[str] | None = None
        self._lock = threading.Lock()
        self.index = IdIndex(self)

    def __len__(self) -> int:
        return self._n

    def all(self) -> list[str]:
        """Every id, in pool order (read once, then kept)."""
        if self._all is None:
            with self._lock:
                if self._all is None:
                    self._all = self._store.sample_ids()
                    self._n = len(self._all)
        return self._all

    @property
    def loaded(self) -> bool:
        """True once every id has been read (``all()``)."""
        return self._all is not None

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if self._all is not None:
            return self._all[i]
        if isinstance(i, slice):
            start, stop, step = i.indices(self._n)
            if step != 1:
                return self.all()[i]
            return self.range(start, stop)
        j = int(i)
        if j < 0:
            j += self._n
        if not 0 <= j < self._n:
            raise IndexError(f"sample position {i} is outside the pool (0..{self._n - 1})")
        row = self._store._conn().execute(
            "SELECT sample_id FROM samples WHERE idx=?", (j,)).fetchone()
        if row is None:
            raise IndexError(f"sample position {i} is not in the project store")
        return row[0]

    def range(self, start: int, stop: int) -> list[str]:
        """The ids at positions ``start`` .. ``stop - 1`` (one range scan)."""
        if self._all is not None:
            return self._all[start:stop]
        return [r[0] for r in self._store._conn().execute(
            "SELECT sample_id FROM samples WHERE idx >= ? AND idx < ? ORDER BY idx",
            (int(start), int(stop)))]

    def __iter__(self) -> Iterator[str]:
        return iter(self.all())

    def __contains__(self, sid: object) -> bool:
        return isinstance(sid, str) and sid in self.index

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SampleIds):
            other = other.all()
        if isinstance(other, (list, tuple)):
            return list(self.all()) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, tuple[list[str]]]:
        # Sent to another process (a retrain job) as the plain list it stands for.
        return (list, (self.all(),))

    def __repr__(self) -> str:
        return f"SampleIds({self._n} samples{', loaded' if self.loaded else ''})"


def _load_all_after(n: int) -> int:
    """Single look-ups after which reading all ``n`` ids at once is cheaper: one indexed
    look-up costs about as much as reading 50 ids in one scan (60,000 ids: 1,200 look-ups)."""
    return max(1000, min(_LOAD_ALL_AFTER, n // 50))


class IdIndex(Mapping[str, int]):
    """Sample id -> pool position, looked up in the store as asked (see the module doc).

    Found positions are kept; after ``_load_all_after(n)`` look-ups (a fold of a long
    history) every id is read once instead. ``positions(ids)`` answers many ids in a few queries.
    """

    def __init__(self, ids: SampleIds) -> None:
        self._ids = ids
        self._known: dict[str, int] = {}
        self._full: dict[str, int] | None = None
        self._lookups = 0

    def _load_all(self) -> dict[str, int]:
        if self._full is None:
            self._full = {sid: i for i, sid in enumerate(self._ids.all())}
        return self._full

    def _lookup(self, sid: str) -> int | None:
        if self._full is not None:
            return self._full.get(sid)
        if sid in self._known:
            return self._known[sid]
        self._lookups += 1
        if len(self._ids) <= _SMALL_POOL or self._lookups > _load_all_after(len(self._ids)):
            return self._load_all().get(sid)
        row = self._ids._store._conn().execute(
            "SELECT idx FROM samples WHERE sample_id=?", (sid,)).fetchone()
        if row is None:
            return None
        self._known[sid] = int(row[0])
        return int(row[0])

    def __getitem__(self, sid: str) -> int:
        i = self._lookup(sid) if isinstance(sid, str) else None
        if i is None:
            raise KeyError(sid)
        return i

    def __contains__(self, sid: object) -> bool:
        return isinstance(sid, str) and self._lookup(sid) is not None

    def get(self, sid: str, default: Any = None) -> Any:  # type: ignore[override]
        i = self._lookup(sid) if isinstance(sid, str) else None
        return default if i is None else i

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[str]:
        return iter(self._ids.all())

    def positions(self, sids: Iterable[str]) -> dict[str, int]:
        """{id: position} for the given ids that are in the pool (unknown ids left out);
        a few ``IN (...)`` queries, or dict look-ups once every id is loaded."""
        wanted = [s for s in dict.fromkeys(sids) if isinstance(s, str)]
        if self._full is not None or len(self._ids) <= _SMALL_POOL:
            full = self._load_all()
            return {s: full[s] for s in wanted if s in full}
        out = {s: self._known[s] for s in wanted if s in self._known}
        todo = [s for s in wanted if s not in out]
        conn = self._ids._store._conn()
        for start in range(0, len(todo), _IN_CHUNK):
            chunk = todo[start:start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            for sid, idx in conn.execute(
                    f"SELECT sample_id, idx FROM samples WHERE sample_id IN ({marks})", chunk):
                out[sid] = self._known[sid] = int(idx)
        return out

    def __repr__(self) -> str:
        return f"IdIndex({len(self)} samples)"
