"""The current labels, skips and flags, kept up to date one event at a time (no I/O here).

The event log is the truth; ``LabelState`` is its fold. Replaying the whole log on every read
grew with the history (384 ms at 20k events), so the state is kept instead: the store feeds it
the events appended since it last looked (``apply``), and every read is a dictionary look-up.

What the fold means (the rules ``apply`` keeps, event by event):

* label/skip/flag events form groups (one user action; ``group`` is the seq of its first
  event). A new group is active, goes on the undo stack and empties the redo stack.
* an undo of a known group makes it inactive and moves it to the redo stack; a redo makes it
  active again and moves it back (undo and redo of any group, not only the latest).
* each annotator also has their own pair of stacks (a group belongs to the annotator of its
  first event): a new group empties only its annotator's redo stack, so one annotator's
  undo/redo (``undo_target(annotator)``) never touches another's actions.
* of the active events, taken in group order (then seq order): a label sets the value of
  (task, sample) and un-skips the sample; a skip skips it; a flag flags it.

* picks: the n-th sample ever to get a label (undone or not) has pick number n
  (``pick_number``): the log's order, which every process reads alike, so "every k-th pick"
  needs no other coordination. A sample whose first label came with the data (annotator
  ``import``) is no pick: nobody picked it.

So a value is the one of the latest active label of (task, sample), a sample is skipped when
its latest active label-or-skip is a skip, and flagged while any of its flags is active. The
dictionaries keep the order a full replay gives them (keys in the order of their first active
label), which decides the row order a model is trained on.
"""
from __future__ import annotations

import bisect
from collections import Counter
from typing import Any, Iterable, Mapping

from activelab.core.records import LabelEvent
from activelab.core.store.group_stack import GroupStack

__all__ = ["LabelState"]

_IMPORTED = "import"              # the annotator of labels imported with the data
_Key = tuple[int, int]            # (group order, seq): the order a full replay applies events


class LabelState:
    """The fold of the event log: what is labeled, skipped and flagged now.

    Read-only for callers (the store updates it). ``labels[task][sample_id]`` is the value (a
    class, or a list of classes); ``provenance[(task, sample_id)]`` the label event it came
    from; ``skipped`` / ``flagged`` sample ids; ``undo_stack`` / ``redo_stack`` group ids,
    newest last; ``last_seq`` the last event read. With an ``index`` (sample id -> pool
    position) ``by_index[task][position]`` mirrors ``labels`` in the same order.
    ``labeled_count`` and ``class_counts(task)`` are kept as counts.
    """

    def __init__(self, index: Mapping[str, int] | None = None) -> None:
        self.labels: dict[str, dict[str, Any]] = {}
        self.provenance: dict[tuple[str, str], LabelEvent] = {}
        self.skipped: set[str] = set()
        self.flagged: set[str] = set()
        self.last_seq = 0
        self.by_index: dict[str, dict[int, Any]] = {}
        self.audits: dict[tuple[str, str], LabelEvent] = {}   # labels given on audit picks
        self._index = index
        self._undo = GroupStack()
        self._redo = GroupStack()
        self._undo_by: dict[str, GroupStack] = {}            # annotator -> their own stacks
        self._redo_by: dict[str, GroupStack] = {}
        self._owner: dict[int, str] = {}                 # group -> its annotator ("" unknown)
        self._groups: dict[int, list[LabelEvent]] = {}
        self._order: dict[int, int] = {}                 # group -> its place in group order
        self._active: dict[int, bool] = {}
        # Each in replay order (``_key``): the labels of a (task, sample), the events of a sample.
        self._label_events: dict[tuple[str, str], list[LabelEvent]] = {}
        self._sample_events: dict[str, list[LabelEvent]] = {}
        self._first: dict[tuple[str, str], _Key] = {}    # key of the first active label
        self._tasks_of: Counter[str] = Counter()         # sample id -> tasks labeled
        self._classes: dict[str, Counter[str]] = {}
        self._picks: dict[str, int] = {}                 # sample id -> its pick number
        self._ever_labeled: set[str] = set()

    # ------------------------------------------------------------------ reads
    @property
    def undo_stack(self) -> list[int]:
        """Active groups, newest last (a copy: O(groups); ``undo_target`` is O(1))."""
        return self._undo.items()

    @property
    def redo_stack(self) -> list[int]:
        """Undone groups, newest last (a copy: O(groups); ``redo_target`` is O(1))."""
        return self._redo.items()

    def undo_target(self, annotator: str | None = None) -> int | None:
        """The group an undo acts on, or None: the newest on the undo stack, or with
        ``annotator`` the newest of that annotator's own actions still active."""
        if annotator is None:
            return self._undo.last()
        stack = self._undo_by.get(annotator)
        return None if stack is None else stack.last()

    def redo_target(self, annotator: str | None = None) -> int | None:
        """The group a redo acts on, or None: the newest on the redo stack, or with
        ``annotator`` the newest of that annotator's own undone actions."""
        if annotator is None:
            return self._redo.last()
        stack = self._redo_by.get(annotator)
        return None if stack is None else stack.last()

    def actors(self) -> set[str]:
        """Every name that owns an action in the log ("" for events naming none, ``import``
        for labels imported with the data). O(annotators)."""
        return set(self._undo_by)

    def owner(self, group: int) -> str | None:
        """The annotator of ``group`` (of its first event; "" when it named none)."""
        return self._owner.get(group)

    def labels_by_annotator(self, task: str, sample_id: str) -> dict[str, Any]:
        """{annotator: value} of the active labels of (``task``, ``sample_id``): each
        annotator's latest active label ("" for events that name no annotator), in the order
        of their first label. O(label events of that sample and task)."""
        out: dict[str, Any] = {}
        for e in self._label_events.get((task, sample_id), ()):
            if self._active[e.group]:
                out[e.annotator or ""] = e.value
        return out

    def labelers(self, sample_id: str) -> set[str]:
        """The annotators with an active label of ``sample_id`` for some task."""
        return {e.annotator or "" for e in self._sample_events.get(sample_id, ())
                if e.kind == "label" and self._active[e.group]}

    def pick_number(self, sample_id: str) -> int | None:
        """n when ``sample_id`` was the n-th sample (1, 2, ...) to get its first label in the
        log (an undone label keeps its number); None when it never had one or its first label
        was imported with the data (annotator ``import``)."""
        return self._picks.get(sample_id)

    @property
    def picks(self) -> dict[str, int]:
        """{sample id: pick number} in pick order (read-only; see ``pick_number``)."""
        return self._picks

    def annotator_counts(self) -> dict[str, int]:
        """Samples each annotator has an active label for (any task), most first."""
        counts: Counter[str] = Counter()
        for sid in self._tasks_of:
            for who in self.labelers(sid):
                counts[who] += 1
        return dict(counts.most_common())

    @property
    def labeled_count(self) -> int:
        """Samples with a label for at least one task."""
        return len(self._tasks_of)

    def is_labeled(self, sample_id: str) -> bool:
        return sample_id in self._tasks_of

    def class_counts(self, task: str) -> dict[str, int]:
        """Labels per class of ``task`` (a multi-label value counts once per class)."""
        return dict(self._classes.get(task, {}))

    def group_events(self, group: int) -> list[LabelEvent]:
        """The usable events of ``group`` (one user action), in log order."""
        return list(self._groups.get(group, ()))

    def original_pick(self, sample_id: str) -> list[LabelEvent]:
        """The label events of the first labeling action of ``sample_id`` that recorded why it
        was picked (a strategy), undone or not, in log order; [] when none did. Their query
        provenance (strategy, score, rank, model version, audit flag, prediction) is what a
        relabel from the history or after an undo keeps. O(events of the sample)."""
        for e in self._sample_events.get(sample_id, ()):
            if e.kind == "label" and e.strategy:
                return [x for x in self._groups[e.group] if x.kind == "label"]
        return []

    # ------------------------------------------------------------------ updates
    def apply(self, events: Iterable[LabelEvent]) -> "LabelState":
        """Take in ``events`` (usable ones, in log order, after ``last_seq``); returns self.

        O(events given) plus, per sample they touch, O(its own events); the first call on an
        empty state replays them in one pass."""
        touched: dict[int, None] = {}      # groups with new events or a new activity
        for e in events:
            self.last_seq = e.seq
            if e.kind in ("label", "skip", "flag"):
                self._add(e)
                touched[e.group] = None
            elif e.kind in ("undo", "redo") and e.target_seq in self._active:
                g = e.target_seq
                undo = e.kind == "undo"
                stack, other = (self._undo, self._redo) if undo else (self._redo, self._undo)
                if g in stack:
                    stack.remove(g)
                other.append(g)
                who = self._owner[g]
                mine, theirs = ((self._undo_by, self._redo_by) if undo
                                else (self._redo_by, self._undo_by))
                if g in mine.setdefault(who, GroupStack()):
                    mine[who].remove(g)
                theirs.setdefault(who, GroupStack()).append(g)
                self._active[g] = not undo
                touched[g] = None
        if not touched:
            return self
        if not self.provenance and not self.skipped and not self.flagged:
            self._replay()
            return self
        keys: dict[tuple[str, str], None] = {}
        samples: dict[str, None] = {}
        for g in touched:
            for e in self._groups[g]:
                samples[e.sample_id] = None
                if e.kind == "label":
                    keys[(e.task or "", e.sample_id)] = None
        for sid in samples:
            self._refresh_sample(sid)
        # New keys are appended in the order of their first active label, as a replay would.
        for key in sorted(keys, key=self._first_active_key):
            self._refresh_label(key)
        return self

    def _add(self, e: LabelEvent) -> None:
        g = e.group
        if g not in self._groups:
            self._groups[g] = []
            self._order[g] = len(self._order)
            self._active[g] = True
            self._undo.append(g)
            self._redo.clear()
            # a team export's labels, re-imported at creation, are nobody's action to undo
            who = self._owner[g] = "import" if e.input == "imported" else (e.annotator or "")
            self._undo_by.setdefault(who, GroupStack()).append(g)
            self._redo_by.setdefault(who, GroupStack()).clear()
        self._groups[g].append(e)
        self._insert(self._sample_events.setdefault(e.sample_id, []), e)
        if e.kind == "label":
            self._insert(self._label_events.setdefault((e.task or "", e.sample_id), []), e)
            if e.sample_id not in self._ever_labeled:
                self._ever_labeled.add(e.sample_id)
                if e.annotator != _IMPORTED:
                    self._picks[e.sample_id] = len(self._picks) + 1

    def _key(self, e: LabelEvent) -> _Key:
        """Where a replay applies ``e``: its group's place, then its seq."""
        return (self._order[e.group], e.seq)

    def _insert(self, events: list[LabelEvent], e: LabelEvent) -> None:
        last = events[-1] if events else None
        if last is None or last.group == e.group or self._order[last.group] < self._order[e.group]:
            events.append(e)                    # (events come in seq order)
        else:                                   # an event of an older group (a damaged log)
            bisect.insort(events, e, key=self._key)

    def _replay(self) -> None:
        """Build every dictionary from the log in one pass (the first read of a project)."""
        order, first = self._order, self._first
        labels, provenance = self.labels, self.provenance
        for g, events in self._groups.items():     # in group order
            if not self._active[g]:
                continue
            for e in events:
                sid = e.sample_id
                if e.kind == "label":
                    key = (e.task or "", sid)
                    if key not in provenance:
                        first[key] = (order[g], e.seq)
                    labels.setdefault(key[0], {})[sid] = e.value
                    provenance[key] = e
                    self.skipped.discard(sid)
                elif e.kind == "skip":
                    self.skipped.add(sid)
                else:
                    self.flagged.add(sid)
        for (task, sid), e in provenance.items():
            self._tasks_of[sid] += 1
            self._count(task, e.value, +1)
            if e.audit and e.predicted is not None:
                self.audits[(task, sid)] = e
        if self._index is not None:
            self.by_index = {t: {self._index[s]: v for s, v in per.items()}
                             for t, per in labels.items()}

    def _first_active_key(self, key: tuple[str, str]) -> _Key:
        return next((self._key(e) for e in self._label_events[key] if self._active[e.group]), (-1, -1))

    def _refresh_sample(self, sid: str) -> None:
        """Recompute whether ``sid`` is skipped (its latest active label-or-skip is a skip)
        and flagged (one of its flags is active)."""
        last = None
        flagged = False
        for ev in reversed(self._sample_events[sid]):
            if self._active[ev.group]:
                if ev.kind == "flag":
                    flagged = True
                elif last is None:
                    last = ev
        if last is not None and last.kind == "skip":
            self.skipped.add(sid)
        else:
            self.skipped.discard(sid)
        if flagged:
            self.flagged.add(sid)
        else:
            self.flagged.discard(sid)

    def _refresh_label(self, key: tuple[str, str]) -> None:
        """Recompute the value of (task, sample) ``key``: its latest active label."""
        active = [ev for ev in self._label_events[key] if self._active[ev.group]]
        task, sid = key
        if not active:
            if key in self.provenance:
                self._remove(key)
            return
        first_k, ev = self._key(active[0]), active[-1]
        if key in self.provenance and self._first[key] == first_k:
            self._set_value(key, ev)            # keeps its place, as a replay would
            return
        if key in self.provenance:
            self._remove(key)
        self._first[key] = first_k
        self._set_value(key, ev)                # appended: the newest first label…
        if not self._in_order(task, key, first_k):
            self._reorder()                     # …else (a redo of an old action) re-sorted

    def _in_order(self, task: str, key: tuple[str, str], first_k: _Key) -> bool:
        """Whether ``key`` (just appended) belongs at the end of its dictionaries."""
        for d, k_of in ((self.provenance, lambda k: k), (self.labels[task], lambda s: (task, s))):
            keys = reversed(d)
            next(keys)                          # ``key`` itself
            before = next(keys, None)
            if before is not None and self._first[k_of(before)] > first_k:
                return False
        return True

    def _set_value(self, key: tuple[str, str], ev: LabelEvent) -> None:
        task, sid = key
        old = self.provenance.get(key)
        per = self.labels.setdefault(task, {})
        if old is not None:
            self._count(task, old.value, -1)
        else:
            self._tasks_of[sid] += 1
        self._count(task, ev.value, +1)
        per[sid] = ev.value
        self.provenance[key] = ev
        if ev.audit and ev.predicted is not None:
            self.audits[key] = ev
        else:
            self.audits.pop(key, None)
        if self._index is not None:
            self.by_index.setdefault(task, {})[self._index[sid]] = ev.value

    def _remove(self, key: tuple[str, str]) -> None:
        task, sid = key
        old = self.provenance.pop(key)
        self._count(task, old.value, -1)
        self._tasks_of[sid] -= 1
        if self._tasks_of[sid] == 0:
            del self._tasks_of[sid]
        del self._first[key]
        self.audits.pop(key, None)
        for d, k in ((self.labels, sid), (self.by_index, None if self._index is None
                                           else self._index[sid])):
            if k is None:
                continue
            del d[task][k]
            if not d[task]:
                del d[task]

    def _count(self, task: str, value: Any, step: int) -> None:
        counts = self._classes.get(task)
        if counts is None:
            counts = self._classes[task] = Counter()
        for c in (value if isinstance(value, list) else [value]):
            counts[c] += step
            if counts[c] == 0:
                del counts[c]

    def _reorder(self) -> None:
        """Put every dictionary back in replay order (rare: after a redo of an old action)."""
        keys = sorted(self.provenance, key=self._first.__getitem__)
        self.provenance = {k: self.provenance[k] for k in keys}
        self.audits = {k: self.audits[k] for k in keys if k in self.audits}
        labels: dict[str, dict[str, Any]] = {}
        for task, sid in keys:
            labels.setdefault(task, {})[sid] = self.labels[task][sid]
        self.labels = labels
        if self._index is not None:
            self.by_index = {t: {self._index[s]: v for s, v in per.items()}
                             for t, per in labels.items()}
