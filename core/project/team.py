"""Several annotators on one project: each one's queue, claims, and blind views.

The project's ``Project`` methods of the same names call these (``project.py`` stays the
single-annotator API; this is what changes when several people label at once):

* ``annotator_queue``: the prepared queue as one annotator gets it: overlap samples that other
  annotators labeled and that still need this one's label first (a second opinion is due),
  then the shared queue minus samples whose slots others hold with a live claim.
* ``claim_sample``: hand a sample to the annotator (``activelab.core.store.claims``), refused
  when another annotator labeled it (and it is not an overlap sample still needing labels)
  or holds it.
* ``visible_history`` / ``visible_labels``: what the annotator may see; on an overlap sample
  they have not labeled yet, other annotators' events and labels are hidden.
"""
from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from activelab.core.errors import StoreWriteError
from activelab.core.project.annotators import (
    is_kth_pick, is_overlap, overlap_description, overlap_on,
)
from activelab.core.project.pick_provenance import chosen_item, original_pick_item
from activelab.core.records import LabelEvent, QueueItem
from activelab.core.store import claims

if TYPE_CHECKING:   # pragma: no cover
    from activelab.core.project.project import Project

IMPORTED = "import"
"""The annotator of labels imported with the data: never an overlap sample's first opinion."""


def overlap_sample(proj: "Project", sample_id: str, st: Any = None) -> bool:
    """Whether ``sample_id`` goes to several annotators: by its hash (a share, ``overlap``)
    or by its pick number in the log (every k-th pick, ``overlap_every``; ``st``: the
    ``LabelState`` just read, else it is read)."""
    s = proj.settings
    if s.overlap_every > 0:
        st = proj.store.state() if st is None else st
        return is_kth_pick(st.pick_number(sample_id), s.overlap_every)
    return is_overlap(sample_id, s.overlap, s.seed)


def _live_claims(proj: "Project") -> dict[str, set[str]]:
    """Live claims by sample, {} on a store that has none (read-only older layout)."""
    try:
        return claims.live_claims(proj.store)
    except sqlite3.Error:
        return {}


def _needs_more(proj: "Project", sample_id: str, labelers: set[str], st: Any = None) -> bool:
    return (bool(labelers) and IMPORTED not in labelers and overlap_sample(proj, sample_id, st)
            and len(labelers) < proj.settings.overlap_annotators)


def annotator_queue(proj: "Project", base: list[QueueItem]) -> list[QueueItem]:
    """The queue ``proj.annotator`` gets (see module doc); ``base`` is the shared queue."""
    me, st = proj.annotator, proj.store.state()
    held = _live_claims(proj)
    k = proj.settings.overlap_annotators

    def free(sid: str, labelers: set[str], overlap: bool) -> bool:
        others = held.get(sid, set()) - {me}
        return len(others) < ((k - len(labelers)) if overlap else 1)

    due: list[QueueItem] = []
    if overlap_on(proj.settings):
        seen: set[str] = set()
        for _task, sid in st.provenance:
            if sid in seen or sid in st.skipped:
                continue
            seen.add(sid)
            labelers = st.labelers(sid)
            if (me not in labelers and _needs_more(proj, sid, labelers, st)
                    and free(sid, labelers, True)):
                idx = proj.index_of(sid)
                item = (original_pick_item(st.original_pick(sid), idx, sid)
                        or chosen_item(idx, sid, proj.model_version))
                due.append(replace(item, reason=(
                    f"overlap sample: {k} annotators label it, each blind to the others")))
    rest = [q for q in base if free(q.id, set(), overlap_sample(proj, q.id, st))]
    return due + rest


def claim_sample(proj: "Project", sample_id: str) -> bool:
    """Hand ``sample_id`` to ``proj.annotator``; False when another annotator labeled it (and
    it needs no more labels) or holds it. A project that cannot be written hands out no
    claims (True: showing a sample is never blocked by a failed claim; the label's own write
    reports the problem)."""
    if proj.read_only:
        return True
    me = proj.annotator
    overlap = overlap_sample(proj, sample_id)

    def taken() -> bool:
        """Labeled (or skipped) by others so that it needs no label of ``me``."""
        st = proj.store.state()          # brought up to date with every committed event
        labelers = st.labelers(sample_id)
        if me in labelers:
            return False
        if labelers and not _needs_more(proj, sample_id, labelers, st):
            return True
        return not overlap_sample(proj, sample_id, st) and sample_id in st.skipped

    if me in proj.store.state().labelers(sample_id):
        return True
    if taken():
        return False
    slots = proj.settings.overlap_annotators - len(proj.store.state().labelers(sample_id)) \
        if overlap else 1
    try:
        return claims.claim(proj.store, sample_id, me, slots=slots,
                            lease_seconds=60.0 * proj.settings.lease_minutes, refuse=taken)
    except (StoreWriteError, sqlite3.Error):
        return True


def held_by_others(proj: "Project") -> int:
    """How many samples other annotators hold with a live claim."""
    me = proj.annotator
    return sum(1 for who in _live_claims(proj).values() if who - {me})


def claim_items(proj: "Project", items: list[QueueItem], n: int) -> list[QueueItem]:
    """The first ``n`` of ``items`` that could be claimed for ``proj.annotator`` (each one
    claimed, in order). The annotator's other claims end: these are their next samples now."""
    out: list[QueueItem] = []
    for it in items:
        if len(out) >= n:
            break
        if claim_sample(proj, it.id):
            out.append(it)
    if not proj.read_only:
        mine = [sid for sid, who in _live_claims(proj).items() if proj.annotator in who]
        release(proj, [sid for sid in mine if sid not in {it.id for it in out}])
    return out


def release(proj: "Project", sample_ids: list[str] | None = None, who: str | None = None) -> None:
    """End the claims of ``who`` (default ``proj.annotator``) on ``sample_ids`` (else all);
    a failed write is ignored: the claims expire by themselves."""
    if proj.read_only:
        return
    try:
        claims.release(proj.store, who or proj.annotator, sample_ids)
    except (StoreWriteError, sqlite3.Error):
        pass


_OVERLAP_IDS: dict[tuple, frozenset[str]] = {}


def overlap_ids(proj: "Project") -> frozenset[str]:
    """The project's overlap samples (hashed once per pool, seed and share; with every k-th
    pick, the picks so far whose number k divides, once per pick count)."""
    s = proj.settings
    if s.overlap_every > 0:
        picks = proj.store.state().picks
        key = (id(picks), len(picks), s.overlap_every)
        if key not in _OVERLAP_IDS:
            if len(_OVERLAP_IDS) > 8:
                _OVERLAP_IDS.clear()
            _OVERLAP_IDS[key] = frozenset(sid for sid, n in picks.items()
                                          if is_kth_pick(n, s.overlap_every))
        return _OVERLAP_IDS[key]
    key = (id(proj.ids), s.overlap, s.seed)
    if key not in _OVERLAP_IDS:
        if len(_OVERLAP_IDS) > 8:
            _OVERLAP_IDS.clear()
        _OVERLAP_IDS[key] = frozenset(sid for sid in proj.ids if is_overlap(sid, s.overlap, s.seed))
    return _OVERLAP_IDS[key]


def _blind_samples(proj: "Project", st: Any) -> list[str]:
    """The overlap samples labeled by others and not yet by ``proj.annotator`` (overlap on)."""
    me = proj.annotator
    return [sid for sid in overlap_ids(proj)
            if st.is_labeled(sid) and me not in (st.labelers(sid) or ())]


def blind_hidden_counts(proj: "Project") -> dict[str, int]:
    """Per task, how many labeled samples ``blind_class_counts`` leaves out: overlap samples
    labeled by others that ``proj.annotator`` has not labeled yet (0 everywhere when overlap
    is off). O(overlap samples)."""
    tasks = [t.name for t in proj.spec.tasks]
    if not overlap_on(proj.settings):
        return {t: 0 for t in tasks}
    st = proj.store.state()
    blind = _blind_samples(proj, st)
    return {t: sum(1 for sid in blind if st.labels.get(t, {}).get(sid) is not None) for t in tasks}


def blind_class_counts(proj: "Project", counts: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """``counts`` (task -> class -> labels) without the labels hidden from ``proj.annotator``
    (on overlap samples they have not labeled), so a count cannot give them away either.
    O(overlap samples) when overlap is on; ``counts`` itself otherwise."""
    if not overlap_on(proj.settings):
        return counts
    st = proj.store.state()
    for sid in _blind_samples(proj, st):
        for task, per in counts.items():
            value = st.labels.get(task, {}).get(sid)
            for c in (value if isinstance(value, list) else [] if value is None else [value]):
                if per.get(c):
                    per[c] -= 1
    return counts


def hidden(proj: "Project", sample_id: str, st: Any = None) -> bool:
    """Whether other annotators' labels of ``sample_id`` are hidden from ``proj.annotator``
    (``st``: the ``LabelState`` just read, else it is read)."""
    if not overlap_on(proj.settings):
        return False
    st = proj.store.state() if st is None else st
    return overlap_sample(proj, sample_id, st) and proj.annotator not in st.labelers(sample_id)


def visible_history(proj: "Project", events: list[LabelEvent]) -> list[LabelEvent]:
    """``events`` without other annotators' events on samples hidden from ``proj.annotator``
    (the store is read once, not once per event)."""
    if not overlap_on(proj.settings):
        return list(events)
    me, st = proj.annotator, proj.store.state()
    return [e for e in events if e.annotator == me or e.sample_id is None
            or not hidden(proj, e.sample_id, st)]


def visible_labels(proj: "Project", idx: int) -> dict[str, Any]:
    """{task: value} of pool sample ``idx`` as ``proj.annotator`` may see it: {} on an overlap
    sample they have not labeled yet; else its current labels."""
    sid = proj.ids[idx]
    if hidden(proj, sid):
        return {}
    return {task: per[idx] for task, per in proj.labels().items() if idx in per}


def overlap_summary(proj: "Project") -> dict[str, Any]:
    """The overlap rule and how far it has got, for ``status``: {"rule": a phrase ("off" when
    none), "every": k or 0, "share": the fraction or 0, "annotators": per overlap sample,
    "shared": overlap samples labeled so far, "picks": samples labeled so far (not imported)}."""
    s, st = proj.settings, proj.store.state()
    shared = (len(overlap_ids(proj)) if s.overlap_every > 0 else
              sum(1 for sid in st.picks if is_overlap(sid, s.overlap, s.seed)) if s.overlap > 0
              else 0)
    return {"rule": overlap_description(s), "every": s.overlap_every, "share": s.overlap,
            "annotators": s.overlap_annotators, "shared": shared, "picks": len(st.picks)}


def nothing_to_label(proj: "Project") -> str:
    """Why a query handed ``proj.annotator`` nothing, in one paragraph: every sample is
    labeled or skipped, or the N samples left are held by other annotators' claims (and in
    how many minutes the first claim runs out)."""
    st = proj.store.state()
    left = [sid for sid in proj.ids if not st.is_labeled(sid) and sid not in st.skipped]
    if not left:
        return "Nothing left to label: every sample is labeled or skipped."
    held = _live_claims(proj)
    taken = sum(1 for sid in left if held.get(sid, set()) - {proj.annotator})
    try:
        wait = claims.first_release(proj.store, proj.annotator)
    except sqlite3.Error:
        wait = None
    when = ("in a few minutes" if wait is None else
            f"in {max(1, int(wait // 60) + (wait % 60 > 0))} minute(s)")
    return (f"No sample for you right now: {len(left)} sample(s) are still unlabeled, and "
            f"{taken} of them are claimed by other annotators who are labeling them now. "
            f"Try again {when} (when the first claim runs out) or as soon as they label.")
