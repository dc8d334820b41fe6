"""A long labeling history written into a project, for benchmarks of reads that must not grow
with it (``label_reads.py``, ``ui_latency.py --events N``).

The history is what an expert leaves after weeks: mostly labels of new samples (a relabel now
and then, and relabels only once the pool is used up), some skips and flags, undos of the
latest action and of older ones, redos. It is written in one transaction
(``LabelStore.append_groups``), with the seqs the store gives it predicted to aim the undos.
"""
from __future__ import annotations

import random
from typing import Sequence


def write_history(project, n_events: int, *, task: str | None = None, seed: int = 0,
                  keep_unlabeled: int = 0) -> int:
    """Append about ``n_events`` events to ``project`` (an open ``Project``); returns how many.

    Labels use the classes of ``task`` (default: the first task); once only
    ``keep_unlabeled`` samples are neither labeled nor skipped, labels are relabels."""
    if n_events <= 0:
        return 0
    store = project.store
    t = project.spec.task(task) if task else project.spec.tasks[0]
    rng = random.Random(seed)
    unlabeled = list(project.ids)
    rng.shuffle(unlabeled)
    labeled: list[str] = []
    row = store._conn().execute("SELECT seq FROM sqlite_sequence WHERE name='events'").fetchone()
    next_seq = (row[0] if row else 0) + 1
    active: list[int] = []     # groups that can be undone, newest last
    undone: list[int] = []     # groups that can be redone, newest last
    groups: list[list[dict]] = []
    n = 0

    def add(events: Sequence[dict]) -> int:
        nonlocal next_seq, n
        first = next_seq
        groups.append(list(events))
        next_seq += len(events)
        n += len(events)
        return first

    while n < n_events:
        r = rng.random()
        if r < 0.07 and active:                       # undo: mostly the latest action
            g = active.pop() if rng.random() < 0.9 else active.pop(rng.randrange(len(active)))
            add([{"kind": "undo", "target_seq": g, "annotator": "bench"}])
            undone.append(g)
        elif r < 0.10 and undone:                     # redo the latest undone
            g = undone.pop()
            add([{"kind": "redo", "target_seq": g, "annotator": "bench"}])
            active.append(g)
        elif r < 0.16 and len(unlabeled) > keep_unlabeled:
            active.append(add([{"kind": "skip", "sample_id": unlabeled.pop(), "annotator": "bench"}]))
            undone.clear()
        elif r < 0.18 and labeled:
            active.append(add([{"kind": "flag", "sample_id": rng.choice(labeled), "annotator": "bench"}]))
            undone.clear()
        else:
            if len(unlabeled) > keep_unlabeled and rng.random() > 0.03:
                sid = unlabeled.pop()
                labeled.append(sid)
            else:
                sid = rng.choice(labeled) if labeled else unlabeled.pop()
            value = rng.choice(t.classes)
            active.append(add([{"kind": "label", "sample_id": sid, "task": t.name,
                                "value": [value] if t.multilabel else value,
                                "annotator": "bench", "seconds": round(rng.uniform(0.5, 4), 2),
                                "strategy": "entropy", "score": rng.random(), "rank": 1,
                                "model_version": 1}]))
            undone.clear()
    store.append_groups(groups)
    return n
