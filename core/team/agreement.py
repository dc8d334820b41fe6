"""Inter-annotator agreement per task: Cohen's kappa per annotator pair, Krippendorff's alpha.

The statistics are the libraries', not re-derived here:

* Cohen's kappa (Cohen 1960, "A coefficient of agreement for nominal scales") with
  ``sklearn.metrics.cohen_kappa_score`` on the samples *both* annotators labeled (each one's
  latest label, after undo; reviewers' decisions are not an annotator's label), with ``n``
  those samples;
* Krippendorff's alpha (Krippendorff 2011, "Computing Krippendorff's alpha-reliability"),
  nominal, with the ``krippendorff`` package over every annotator and every sample labeled by
  at least two of them (missing labels allowed, as alpha is defined for).

Multi-label tasks: each class is a binary question (in the set or not); kappa and alpha are
computed per class on the same samples and averaged over the classes where they are defined
(an unweighted mean; ``per_class`` keeps each).

Undefined values are said, never printed as NaN: fewer than two annotators, a pair with no
sample in common, or every label one class (kappa and alpha are 0/0 then) give ``None``
with the reason in ``note``.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from activelab.core.team.annotations import TeamLabels, value_key

__all__ = ["PairKappa", "TaskAgreement", "task_agreement", "project_agreement", "agreement_lines",
           "shared_pairs", "unshared_line"]


@dataclass(frozen=True)
class PairKappa:
    """Cohen's kappa of annotators ``a`` and ``b`` on the ``n`` samples both labeled
    (None with ``note`` when undefined)."""

    a: str
    b: str
    n: int
    kappa: float | None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"a": self.a, "b": self.b, "n": self.n, "kappa": self.kappa, "note": self.note}


@dataclass(frozen=True)
class TaskAgreement:
    """Agreement in one task: the annotators, the pairs, Krippendorff's alpha over the
    ``n_samples`` samples labeled by two or more annotators, how many of them disagree, and
    (multi-label) alpha per class."""

    task: str
    annotators: tuple[str, ...]
    pairs: tuple[PairKappa, ...]
    alpha: float | None
    n_samples: int
    n_disagree: int
    note: str = ""
    per_class: dict[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "annotators": list(self.annotators),
                "pairs": [p.to_dict() for p in self.pairs], "alpha": self.alpha,
                "n_samples": self.n_samples, "n_disagree": self.n_disagree, "note": self.note,
                "per_class": dict(self.per_class)}


def _finite(x: float) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else float(x)


def _kappa(y1: Sequence[Any], y2: Sequence[Any]) -> float | None:
    from sklearn.metrics import cohen_kappa_score

    if len(set(y1) | set(y2)) < 2:
        return None                     # one class throughout: 0/0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _finite(cohen_kappa_score(list(y1), list(y2)))


def _alpha(matrix: np.ndarray) -> float | None:
    """Nominal alpha of an annotators x samples matrix of class codes (NaN = not labeled)."""
    import krippendorff

    values = matrix[~np.isnan(matrix)]
    if matrix.shape[1] == 0 or len(np.unique(values)) < 2:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return _finite(krippendorff.alpha(reliability_data=matrix,
                                               level_of_measurement="nominal"))
    except (ValueError, ZeroDivisionError):
        return None


def _mean(xs: Sequence[float | None]) -> float | None:
    got = [x for x in xs if x is not None]
    return float(np.mean(got)) if got else None


def task_agreement(team: TeamLabels, task: str, multilabel: bool = False,
                   classes: Sequence[str] = ()) -> TaskAgreement:
    """The agreement of ``task`` from the team's current labels (``TeamLabels``).

    ``multilabel``: the values are lists of classes (``classes`` the task's classes; those
    never used are left out of the per-class average). O(labeled samples x annotators)."""
    per = team.keys.get(task, {})
    people = team.annotators(task)
    if len(people) < 2:
        who = f"only {people[0]!r} labeled it" if people else "nobody labeled it yet"
        return TaskAgreement(task, tuple(people), (), None, 0, 0,
                             f"fewer than 2 annotators ({who}): no agreement to measure")
    shared = {sid: k.values for sid, k in per.items() if len(k.by_annotator) > 1}
    n_disagree = sum(1 for k in per.values() if k.disagree)
    if multilabel:
        used = sorted({c for vals in shared.values() for v in vals.values() for c in v})
        cls = [c for c in classes if c in used] + [c for c in used if c not in classes]
    pairs = []
    for i, a in enumerate(people):
        for b in people[i + 1:]:
            both = [(v[a], v[b]) for v in shared.values() if a in v and b in v]
            if not both:
                pairs.append(PairKappa(a, b, 0, None, "no sample labeled by both"))
                continue
            if multilabel:
                k = _mean([_kappa([c in x for x, _ in both], [c in y for _, y in both])
                           for c in cls])
            else:
                k = _kappa([value_key(x) for x, _ in both], [value_key(y) for _, y in both])
            pairs.append(PairKappa(a, b, len(both), k,
                                   "" if k is not None else "every label the same class"))
    sids = list(shared)
    alpha, per_class, note = None, {}, ""
    if not sids:
        note = "no sample labeled by two or more annotators yet"
    elif multilabel:
        for c in cls:
            m = np.full((len(people), len(sids)), np.nan)
            for j, sid in enumerate(sids):
                for i, a in enumerate(people):
                    if a in shared[sid]:
                        m[i, j] = float(c in shared[sid][a])
            per_class[c] = _alpha(m)
        alpha = _mean(list(per_class.values()))
    else:
        codes: dict[str, int] = {}
        m = np.full((len(people), len(sids)), np.nan)
        for j, sid in enumerate(sids):
            for i, a in enumerate(people):
                if a in shared[sid]:
                    m[i, j] = codes.setdefault(value_key(shared[sid][a]), len(codes))
        alpha = _alpha(m)
    if sids and alpha is None:
        note = "every shared label is the same class: alpha is undefined"
    return TaskAgreement(task, tuple(people), tuple(pairs), alpha, len(sids), n_disagree, note,
                         per_class)


def project_agreement(team: TeamLabels, tasks: Sequence[Any]) -> list[TaskAgreement]:
    """``task_agreement`` for each of ``tasks`` (``TaskSpec``s: name, multilabel, classes)."""
    return [task_agreement(team, t.name, t.multilabel, t.classes) for t in tasks]


def _fmt(x: float | None) -> str:
    return "undefined" if x is None else f"{x:.3f}"


def shared_pairs(t: TaskAgreement) -> tuple[list[PairKappa], int]:
    """The pairs of ``t`` that labeled at least one sample in common, most shared samples
    first (then by name), and how many pairs share none (those are not worth a line each:
    20 annotators make 190 pairs, nearly all with n=0 early on)."""
    shared = sorted((p for p in t.pairs if p.n > 0), key=lambda p: (-p.n, p.a, p.b))
    return shared, len(t.pairs) - len(shared)


def unshared_line(k: int) -> str:
    """'K pairs share no samples yet' ('' when K is 0)."""
    if not k:
        return ""
    return f"{k} pair{'' if k == 1 else 's'} share{'s' if k == 1 else ''} no samples yet"


def agreement_lines(report: Sequence[TaskAgreement], indent: str = "  ") -> list[str]:
    """Human-readable lines: per task alpha (or why not), then kappa per pair with n for the
    pairs that share samples (most shared first), then one line counting the pairs that
    share none."""
    out = []
    for t in report:
        if len(t.annotators) < 2:
            out.append(f"{indent}agreement {t.task}: {t.note}")
            continue
        head = (f"{indent}agreement {t.task}: Krippendorff's alpha {_fmt(t.alpha)} on "
                f"{t.n_samples} samples labeled by 2+ of {len(t.annotators)} annotators, "
                f"{t.n_disagree} in disagreement")
        out.append(head + (f" ({t.note})" if t.note else ""))
        shared, unshared = shared_pairs(t)
        for p in shared:
            tail = f" ({p.note})" if p.note else ""
            out.append(f"{indent}  Cohen's kappa {p.a} / {p.b}: {_fmt(p.kappa)}, n={p.n}{tail}")
        if unshared:
            out.append(f"{indent}  {unshared_line(unshared)}")
    return out
