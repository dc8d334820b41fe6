"""Leases: which annotator a sample was handed to, and until when (table ``claims``).

Several app windows and CLI processes label one project at once; the sample handed to one
annotator must not be handed to another. Handing out a sample *claims* it: a row
(sample, slot, annotator, time, expires). A sample has one slot, or several when it is an
overlap sample meant for several annotators. A slot is free when it has no row or its row has
expired; it is taken with one upsert that only overwrites an expired row::

    INSERT ... ON CONFLICT (sample_id, slot) DO UPDATE ... WHERE claims.expires < now

so two processes racing for the same slot cannot both win: the primary key decides, inside
each writer's transaction, on SQLite (BEGIN IMMEDIATE) and on PostgreSQL alike (only ``?``
placeholders and standard upsert; no PRAGMA, no rowid). A claim ends when its annotator labels
or skips the sample, closes the window (``release``), or when it expires (a crashed or idle
annotator does not keep samples forever).
"""
from __future__ import annotations

import time
from typing import Callable, Iterable

__all__ = ["claim", "first_release", "live_claims", "release"]

_UPSERT = (
    "INSERT INTO claims(sample_id, slot, annotator, time, expires) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (sample_id, slot) DO UPDATE SET annotator=excluded.annotator, "
    "time=excluded.time, expires=excluded.expires WHERE claims.expires < ?"
)


def claim(store, sample_id: str, annotator: str, *, slots: int = 1,
          lease_seconds: float = 900.0, now: float | None = None,
          refuse: Callable[[], bool] | None = None) -> bool:
    """Hand ``sample_id`` to ``annotator`` for ``lease_seconds``: True when it is theirs (a
    live claim of theirs is renewed), False when all ``slots`` are held by others' live
    claims, or when ``refuse()`` -- asked inside the transaction once the slot is taken, so
    it sees every label committed before the previous holder's release -- says the sample
    is no longer to be handed out (another annotator labeled it meanwhile). One durable
    transaction; raises ``StoreWriteError`` when it cannot be written."""
    now = time.time() if now is None else float(now)
    expires = now + float(lease_seconds)
    with store.writing("claim") as conn:
        mine = conn.execute(
            "SELECT slot FROM claims WHERE sample_id=? AND annotator=? AND expires >= ?",
            (sample_id, annotator, now)).fetchone()
        if mine is not None:
            conn.execute("UPDATE claims SET time=?, expires=? WHERE sample_id=? AND slot=?",
                         (now, expires, sample_id, mine[0]))
            got = mine[0]
        else:
            got = None
            for slot in range(max(1, int(slots))):
                conn.execute(_UPSERT, (sample_id, slot, annotator, now, expires, now))
                row = conn.execute(
                    "SELECT annotator, time FROM claims WHERE sample_id=? AND slot=?",
                    (sample_id, slot)).fetchone()
                if row is not None and row[0] == annotator and float(row[1]) == now:
                    got = slot
                    break
        if got is None:
            return False
        if refuse is not None and refuse():
            conn.execute("DELETE FROM claims WHERE sample_id=? AND slot=? AND annotator=?",
                         (sample_id, got, annotator))
            return False
    return True


def release(store, annotator: str, sample_ids: Iterable[str] | None = None) -> None:
    """End ``annotator``'s claims (of ``sample_ids``, or all of them): the samples can be
    handed to others at once. Raises ``StoreWriteError`` when it cannot be written."""
    if sample_ids is not None:
        sample_ids = list(sample_ids)
        held = store._conn().execute(   # a read first: most labels end no claim, so no write
            "SELECT COUNT(*) FROM claims WHERE annotator=? AND sample_id IN ("
            + ",".join("?" * len(sample_ids)) + ")", (annotator, *sample_ids)).fetchone()[0] \
            if sample_ids else 0
        if not held:
            return
    with store.writing("claim") as conn:
        if sample_ids is None:
            conn.execute("DELETE FROM claims WHERE annotator=?", (annotator,))
        else:
            for sid in sample_ids:
                conn.execute("DELETE FROM claims WHERE annotator=? AND sample_id=?",
                             (annotator, sid))


def live_claims(store, now: float | None = None) -> dict[str, set[str]]:
    """{sample id: annotators holding a live claim on it} (expired claims left out)."""
    now = time.time() if now is None else float(now)
    out: dict[str, set[str]] = {}
    for sid, who in store._conn().execute(
            "SELECT sample_id, annotator FROM claims WHERE expires >= ?", (now,)):
        out.setdefault(sid, set()).add(who)
    return out


def first_release(store, annotator: str, now: float | None = None) -> float | None:
    """Seconds from ``now`` until the first live claim of an annotator other than
    ``annotator`` expires (None when others hold none)."""
    now = time.time() if now is None else float(now)
    row = store._conn().execute(
        "SELECT MIN(expires) FROM claims WHERE expires >= ? AND annotator <> ?",
        (now, annotator)).fetchone()
    return None if row is None or row[0] is None else max(0.0, float(row[0]) - now)
