"""Each annotator's own current label of every (task, sample), and the reviewers' decisions.

``LabelState`` keeps one value per (task, sample): the latest label, whoever gave it. A team
needs more: what *each* annotator says now, to measure agreement and to find the samples
to review. ``TeamLabels`` is that fold of the event log, built from the events alone (no
other module's state), kept up to date one event at a time like ``LabelState``:

* label events form groups (one user action, ``LabelEvent.group``); an undo/redo of a known
  group makes it inactive/active again (whoever asks: the undo rules are the log's);
* of the active label events of a (task, sample), taken in log order, a *review decision*
  (``strategy`` starting with ``review:``) is the latest decision; any other label is its
  annotator's latest label (annotator None counts as the name ``""``: an older or imported
  event without a name);
* a review decision is *current* only when it is not older than every annotator label of
  the (task, sample): an annotator who labels after the decision reopens the case.

No I/O here except ``team_labels(store)``, which reads the events appended since it last
looked (one indexed query when nothing changed).
"""
from __future__ import annotations

import threading
import weakref
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterable

from activelab.core.records import LabelEvent

IMPORTED = "import"
"""The annotator of labels imported with the data: a later label of the same (task, sample)
by anyone supersedes it (a correction, not a second opinion)."""

__all__ = ["REVIEW_PREFIX", "REVIEW_DISAGREEMENT", "KeyLabels", "TeamLabels", "team_labels",
           "is_review", "value_key"]

REVIEW_PREFIX = "review:"
REVIEW_DISAGREEMENT = "review:disagreement"
"""The strategy a reviewer's decision on a disagreement is recorded with."""


def is_review(e: LabelEvent) -> bool:
    """Whether label event ``e`` is a reviewer's decision (its strategy starts ``review:``)."""
    return bool(e.strategy) and str(e.strategy).startswith(REVIEW_PREFIX)


def value_key(value: Any) -> str:
    """A hashable, order-free text of a label value: the class, or for a multi-label value
    its sorted classes joined by ``\\x1f`` (so {a, b} and {b, a} are the same answer)."""
    if isinstance(value, (list, tuple)):
        return "\x1f".join(sorted(str(v) for v in value)) + "\x1e"
    return str(value)


@dataclass(frozen=True)
class KeyLabels:
    """What the team says about one (task, sample) now.

    ``by_annotator``: annotator name -> their latest active label event (in the order the
    annotators first labeled it); ``review``: the latest active review decision that is
    current (not older than every annotator label), or None."""

    by_annotator: dict[str, LabelEvent]
    review: LabelEvent | None

    @property
    def values(self) -> dict[str, Any]:
        """annotator -> their label value."""
        return {a: e.value for a, e in self.by_annotator.items()}

    @cached_property
    def answers(self) -> dict[str, str]:
        """annotator -> ``value_key`` of their label (computed once: the fold makes a new
        ``KeyLabels`` whenever the labels of the (task, sample) change)."""
        return {a: value_key(e.value) for a, e in self.by_annotator.items()}

    @property
    def disagree(self) -> bool:
        """Two or more annotators whose latest labels differ."""
        return len(set(self.answers.values())) > 1

    @cached_property
    def majority(self) -> tuple[str, Any, float] | None:
        """(answer text, value, share) of a strict majority of the annotators, else None
        (computed once)."""
        if not self.by_annotator:
            return None
        counts = Counter(self.answers.values())
        best, n = counts.most_common(1)[0]
        if n * 2 <= len(self.by_annotator):
            return None
        value = next(e.value for e in self.by_annotator.values() if value_key(e.value) == best)
        return best, value, n / len(self.by_annotator)


class TeamLabels:
    """The fold: per task, per sample, a ``KeyLabels``; read-only for callers.

    ``keys[task][sample_id]`` -> KeyLabels (only (task, sample)s with at least one active
    label); ``annotators(task)`` the names that labeled the task; ``last_seq`` the last event
    taken in. ``apply`` costs O(events given + the events of the (task, sample)s they touch).
    """

    def __init__(self) -> None:
        self.keys: dict[str, dict[str, KeyLabels]] = {}
        self.last_seq = 0
        self._active: dict[int, bool] = {}
        self._events: dict[tuple[str, str], list[LabelEvent]] = {}
        self._groups: dict[int, list[tuple[str, str]]] = {}

    def annotators(self, task: str) -> list[str]:
        """The annotators with a current label in ``task`` (review decisions not counted),
        sorted by name."""
        return sorted({a for k in self.keys.get(task, {}).values() for a in k.by_annotator})

    def multi_annotated(self, task: str) -> dict[str, KeyLabels]:
        """sample id -> KeyLabels for the samples of ``task`` labeled by two or more annotators."""
        return {sid: k for sid, k in self.keys.get(task, {}).items() if len(k.by_annotator) > 1}

    def apply(self, events: Iterable[LabelEvent]) -> "TeamLabels":
        """Take in ``events`` (usable ones, in log order, after ``last_seq``); returns self."""
        touched: dict[tuple[str, str], None] = {}
        for e in events:
            self.last_seq = max(self.last_seq, e.seq)
            if e.kind == "label" and e.task is not None and e.sample_id is not None:
                key = (e.task, e.sample_id)
                self._active.setdefault(e.group, True)
                self._events.setdefault(key, []).append(e)
                self._groups.setdefault(e.group, []).append(key)
                touched[key] = None
            elif e.kind in ("undo", "redo") and e.target_seq in self._active:
                self._active[e.target_seq] = e.kind == "redo"
                for key in self._groups.get(e.target_seq, ()):
                    touched[key] = None
            elif e.kind in ("skip", "flag"):
                self._active.setdefault(e.group, True)   # undo of a skip: a known group
        for key in touched:
            self._refresh(key)
        return self

    def _refresh(self, key: tuple[str, str]) -> None:
        by: dict[str, LabelEvent] = {}
        review: LabelEvent | None = None
        for e in self._events[key]:
            if not self._active.get(e.group, True):
                continue
            if is_review(e):
                review = e
            else:
                if e.annotator != IMPORTED:
                    by.pop(IMPORTED, None)   # a later label supersedes the imported one
                by[e.annotator or ""] = e
        if review is not None and by and review.seq < max(e.seq for e in by.values()):
            review = None                 # an annotator labeled after the decision
        task, sid = key
        per = self.keys.setdefault(task, {})
        if by or review is not None:
            per[sid] = KeyLabels(by, review)
        else:
            per.pop(sid, None)


_CACHE: "weakref.WeakKeyDictionary[Any, tuple[Any, TeamLabels]]" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def team_labels(store: Any) -> TeamLabels:
    """The ``TeamLabels`` of a project's store (a ``LabelStore``: anything with
    ``events(since)`` and ``event_filter``), brought up to date with the events appended
    since the last call, by this process or another. Kept per store object (and folded
    again when the store's event filter changes, e.g. a class was added). Thread-safe; the
    object returned is updated in place by later calls."""
    with _LOCK:
        flt = getattr(store, "event_filter", None)
        cached = _CACHE.get(store)
        if cached is None or cached[0] is not flt:
            cached = (flt, TeamLabels())
            _CACHE[store] = cached
        team = cached[1]
        new = store.events(team.last_seq)
        if new:
            team.apply(new)
        return team
