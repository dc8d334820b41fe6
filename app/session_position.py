"""Where the expert left off: the sample on screen and the queue as they saw it, kept in the
project store when the window closes and read back when it opens. Plain functions, no Qt."""
from __future__ import annotations

from typing import Any, Sequence

POSITION_KEY = "gui_current_sample"   # project-store setting: the sample on screen at close
POSITION_ITEM_KEY = "gui_current_item"  # its queue entry (suggestion, why), when it came from one


def save_position(project: Any, current: Any | None, queue: Sequence[Any]) -> None:
    """Store the shown sample (``Current`` or None) and the queue still to come.

    Raises what the store raises for a failed write (``StoreWriteError``); labels are never
    touched here, so a failure loses only the place in the queue."""
    store = getattr(project, "store", None)
    if store is None:
        return
    if current is not None:
        store.set_setting(POSITION_KEY, current.sample.id)
        item = current.item
        store.set_setting(POSITION_ITEM_KEY, item.to_dict() if item is not None else {})
    if hasattr(store, "save_queue"):
        # The queue as the expert sees it (a sample put back after a revisit included), so
        # reopening shows the same next samples and their labels keep their provenance.
        items = ([current.item] if current is not None and current.item else []) + list(queue)
        if items and [q.id for q in items] != [q.id for q in project.queue()]:
            _saved, seq = store.load_queue()
            store.save_queue([q.to_dict() for q in items], store.last_seq() if seq is None else seq)


def saved_position(project: Any) -> tuple[str | None, dict[str, Any] | None]:
    """The sample id on screen at the last close and its saved queue entry (or None)."""
    store = getattr(project, "store", None)
    if store is None:
        return None, None
    sample_id = store.get_setting(POSITION_KEY)
    saved = store.get_setting(POSITION_ITEM_KEY) if sample_id else None
    return (str(sample_id) if sample_id else None), (saved if isinstance(saved, dict) else None)


def queue_item(idx: int, d: dict[str, Any]) -> Any:
    """A queue entry saved with ``QueueItem.to_dict`` as a QueueItem again (plain data)."""
    from activelab.core.loop.cycle import Prediction, QueueItem

    preds = {t: Prediction(p.get("label"), p.get("confidence"))
             for t, p in (d.get("predictions") or {}).items()}
    score = d.get("score")
    return QueueItem(idx, str(d["id"]), d.get("strategy") or "",
                     float("nan") if score is None else float(score), int(d.get("rank") or 0),
                     d.get("percentile"), bool(d.get("audit")), preds,
                     int(d.get("model_version") or 0), d.get("reason") or "")
