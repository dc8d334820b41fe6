"""Where the expert left off: the sample on screen when the app closed, the queue item it was
shown from, and the queue still to come, kept as store settings (and the stored queue)."""
from __future__ import annotations

from typing import Mapping, Sequence

from activelab.core.records import QueueItem, SavedPosition
from activelab.core.store.store import LabelStore

POSITION_KEY = "gui_current_sample"     # store setting: the sample on screen when the app closed
POSITION_ITEM_KEY = "gui_current_item"  # its queue item (suggestion, why), when it came from one


def save_position(store: LabelStore, sample_id: str | None, item: QueueItem | None,
                  queue: Sequence[QueueItem], stored_queue: Sequence[QueueItem]) -> None:
    """Store the shown sample and its item, and ``queue`` (what is to come, as the expert sees
    it) when it differs from ``stored_queue``. Raises ``StoreWriteError`` when not saved."""
    if sample_id is not None:
        store.set_setting(POSITION_KEY, sample_id)
        store.set_setting(POSITION_ITEM_KEY, item.to_dict() if item is not None else {})
    items = ([item] if item is not None else []) + list(queue)
    if items and [q.id for q in items] != [q.id for q in stored_queue]:
        seq = store.queue_event_seq()
        store.save_queue([q.to_dict() for q in items], store.last_seq() if seq is None else seq)


def saved_position(store: LabelStore, index: Mapping[str, int]) -> SavedPosition:
    """What ``save_position`` stored; empty when nothing was, or the sample is not in
    ``index`` (sample id -> pool position). A damaged item is reported and left out."""
    sample_id = store.get_setting(POSITION_KEY)
    if not sample_id or str(sample_id) not in index:
        return SavedPosition()
    sample_id = str(sample_id)
    saved = store.get_setting(POSITION_ITEM_KEY, expect=dict)
    item = None
    if saved and saved.get("id") == sample_id:
        try:
            item = QueueItem.from_dict(saved, idx=index[sample_id])
        except (KeyError, TypeError, ValueError) as exc:
            store.report_damage("settings", f"key '{POSITION_ITEM_KEY}'", f"cannot be read ({exc})")
    return SavedPosition(sample_id, item)
