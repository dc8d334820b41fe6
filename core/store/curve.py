"""The learning curve and the prepared queue of the project store (mixed into ``LabelStore``).

Both are derived from the labels and the model, but the curve is the record of how the model
improved: its points are never replaced. Each committed point gets the next model version
inside its write transaction, so several processes retraining at once all keep theirs.
"""
from __future__ import annotations

import json
import time
from typing import Any, Sequence

from activelab.core.store.schema import CURVE_COLUMNS


class CurveQueueMixin:
    """Needs from the host: ``writing(what)``, ``_conn()``, ``_decode(...)``."""

    def add_curve_point(self, p: dict[str, Any], event_seq: int | None = None) -> int | None:
        """Add a learning-curve point; returns the model version it was given.

        The version is one more than the highest committed so far, assigned inside the write
        transaction, so concurrent retrains in several processes each keep their point.
        With ``event_seq`` (the labels it was trained on) the point is not added, and None is
        returned, when the latest point was trained on exactly those labels with the same
        model (a model rebuilt in another process is the same model version).
        """
        with self.writing("curve point") as conn:
            if event_seq is not None:
                row = conn.execute("SELECT value FROM settings WHERE key='curve_event_seq'").fetchone()
                has_points = conn.execute("SELECT 1 FROM curve LIMIT 1").fetchone() is not None
                if has_points and row is not None and row[0] == json.dumps(event_seq):
                    return None
            version = int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM curve").fetchone()[0]) + 1
            conn.execute(
                f"INSERT INTO curve({', '.join(CURVE_COLUMNS)}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    version, p["time"], p["n_labels"], p.get("cv_accuracy"),
                    p.get("cv_macro_f1"), p.get("audit_accuracy"), p.get("audit_n", 0),
                    p["train_seconds"], json.dumps(p.get("per_task", {})), p.get("model"),
                ),
            )
            if event_seq is not None:
                conn.execute("UPDATE curve SET event_seq=? WHERE version=?", (event_seq, version))
                conn.execute("INSERT INTO settings(key, value) VALUES ('curve_event_seq', ?) "
                             "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                             (json.dumps(event_seq),))
        return version

    def model_version(self) -> int:
        """The highest model version on the learning curve (0 before the first)."""
        row = self._conn().execute("SELECT MAX(version) FROM curve").fetchone()
        return int(row[0] or 0)

    def curve(self) -> list[dict[str, Any]]:
        key = getattr(self, "curve_key", "rowid")
        rows = self._conn().execute(
            f"SELECT {', '.join(CURVE_COLUMNS)}, {key} FROM curve ORDER BY version, {key}"
        ).fetchall()
        out = []
        for r in rows:
            d = dict(zip(CURVE_COLUMNS, r))
            ok, per_task = self._decode(d["per_task"], "curve", f"point {r[-1]}", "per_task")
            d["per_task"] = per_task if ok and isinstance(per_task, dict) else {}
            out.append(d)
        return out

    def save_queue(self, items: Sequence[dict[str, Any]], event_seq: int) -> None:
        now = time.time()
        with self.writing("queue") as conn:
            conn.execute("DELETE FROM queue")
            conn.executemany(
                "INSERT INTO queue VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        i, it["id"], it.get("strategy"), it.get("score"), it.get("rank"),
                        it.get("percentile"), int(bool(it.get("audit"))),
                        json.dumps(it.get("predictions", {})), it.get("model_version"),
                        it.get("reason"), now, event_seq,
                    )
                    for i, it in enumerate(items)
                ],
            )

    _QUEUE_COLS = ("sample_id, strategy, score, rank, percentile, audit, predictions, "
                   "model_version, reason, event_seq, position")

    def _queue_item(self, r: Sequence[Any]) -> dict[str, Any] | None:
        """A queue row as a ``QueueItem.to_dict``-style dict (without idx); None when damaged."""
        ok, preds = self._decode(r[6] or "{}", "queue", f"position {r[10]}", "predictions")
        if not ok or not isinstance(preds, dict):
            return None
        return {"id": r[0], "strategy": r[1], "score": r[2], "rank": r[3], "percentile": r[4],
                "audit": bool(r[5]), "predictions": preds, "model_version": r[7], "reason": r[8]}

    def load_queue(self) -> tuple[list[dict[str, Any]], int | None]:
        """The prepared queue (rows as dicts, in order, damaged ones left out) and the event
        seq it was made at (None when there is no queue)."""
        rows = self._conn().execute(
            f"SELECT {self._QUEUE_COLS} FROM queue ORDER BY position").fetchall()
        items = [it for it in map(self._queue_item, rows) if it is not None]
        return items, (rows[0][9] if rows else None)

    def queue_event_seq(self) -> int | None:
        """The event seq the prepared queue was made at (None when there is no queue)."""
        row = self._conn().execute("SELECT event_seq FROM queue ORDER BY position LIMIT 1").fetchone()
        return None if row is None else row[0]

    def queue_entry(self, sample_id: str) -> dict[str, Any] | None:
        """The prepared queue's row for ``sample_id`` (None when it is not queued)."""
        row = self._conn().execute(
            f"SELECT {self._QUEUE_COLS} FROM queue WHERE sample_id=? ORDER BY position LIMIT 1",
            (sample_id,)).fetchone()
        return None if row is None else self._queue_item(row)
