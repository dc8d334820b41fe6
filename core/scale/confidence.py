"""The confidence panel's numbers as fixed-bin counts: exact over a whole pool, merged part by part.

A pool read in place is never predicted whole in one process, so the panel cannot histogram an
array of confidences. Instead each part's scoring task (``activelab.core.scale.scoring``), which
predicts every row of its part anyway, counts its unlabelled rows per confidence bin, below
``LOW`` and per predicted class; the driver adds the parts' counts (``merge``). Counts add
exactly, so the merged bars equal a histogram of the whole pool's confidences (the embedded
engine's panel draws the same bins with the same function, ``confidence_counts``).

The median cannot be added up: it is read from ``FINE_BINS`` counts (bins 0.001 wide), so the
merged median is within half a bin (0.0005) of the exact one, and shown as approximate.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

#: The panel's bin edges: 20 bins, 0.05 wide, over [0, 1].
EDGES = np.linspace(0.0, 1.0, 21)
FINE_BINS = 1000
#: The summary line counts the rows below this confidence ("where the doubt is").
LOW = 0.6


def confidence_counts(conf: np.ndarray) -> np.ndarray:
    """(20,) int64 counts of the finite confidences ``conf`` (any shape, clipped to [0, 1]) per
    bin of ``EDGES``: the bars of the confidence panel."""
    conf = np.asarray(conf, dtype=float).ravel()
    conf = conf[np.isfinite(conf)]
    return np.histogram(np.clip(conf, 0.0, 1.0), bins=EDGES)[0].astype(np.int64)


def _fine_counts(conf: np.ndarray) -> np.ndarray:
    bins = np.clip((np.clip(conf, 0.0, 1.0) * FINE_BINS).astype(np.int64), 0, FINE_BINS - 1)
    return np.bincount(bins, minlength=FINE_BINS).astype(np.int64)


@dataclass(frozen=True)
class ConfidenceSummary:
    """One task's confidence over a set of rows: bar counts (``EDGES``), counts per
    ``FINE_BINS`` bin, rows counted, rows below ``LOW``, rows per predicted class (class
    name -> count, in the model's class order) and the median (exact when made from an
    array, from the fine bins when merged: ``median_exact``)."""

    counts: np.ndarray
    fine: np.ndarray
    n: int
    below: int
    classes: Mapping[str, int] = field(default_factory=dict)
    median: float | None = None
    median_exact: bool = True

    @classmethod
    def from_confidence(cls, conf: np.ndarray, predicted: Sequence[str] | None = None,
                        class_names: Sequence[str] = ()) -> "ConfidenceSummary":
        """The summary of an array of confidences (N,) (non-finite ones are left out) and,
        optionally, the predicted class of each row (counted per name; ``class_names`` first,
        in that order)."""
        conf = np.asarray(conf, dtype=float).ravel()
        ok = np.isfinite(conf)
        conf = conf[ok]
        per: dict[str, int] = {str(c): 0 for c in class_names}
        if predicted is not None:
            names, counts = np.unique(np.asarray(predicted, dtype=object)[ok].astype(str),
                                      return_counts=True)
            per.update({str(k): int(v) for k, v in zip(names, counts)})
        return cls(confidence_counts(conf), _fine_counts(conf), int(len(conf)),
                   int((conf < LOW).sum()), per,
                   float(np.median(conf)) if len(conf) else None, True)

    @classmethod
    def merge(cls, parts: Sequence["ConfidenceSummary"]) -> "ConfidenceSummary":
        """The summary of the union of the parts' rows: counts added; the median read from the
        added fine counts (the middle row's bin centre: within 0.0005 of the exact median)."""
        counts = np.sum([p.counts for p in parts], axis=0) if parts else np.zeros(20, np.int64)
        fine = np.sum([p.fine for p in parts], axis=0) if parts else np.zeros(FINE_BINS, np.int64)
        n = int(sum(p.n for p in parts))
        per: dict[str, int] = {}
        for p in parts:
            for name, c in p.classes.items():
                per[name] = per.get(name, 0) + int(c)
        return cls(np.asarray(counts, np.int64), np.asarray(fine, np.int64), n,
                   int(sum(p.below for p in parts)), per, fine_median(fine), False)

    def to_parts(self) -> dict:
        """Plain data (what a worker's task returns; ``from_parts`` reverses it)."""
        return {"counts": self.counts, "fine": self.fine, "n": self.n, "below": self.below,
                "classes": dict(self.classes)}

    @classmethod
    def from_parts(cls, d: Mapping) -> "ConfidenceSummary":
        return cls(np.asarray(d["counts"], np.int64), np.asarray(d["fine"], np.int64),
                   int(d["n"]), int(d["below"]), dict(d["classes"]), None, False)


def fine_median(fine: np.ndarray) -> float | None:
    """The median of the rows counted in ``fine`` (``FINE_BINS`` bins over [0, 1]): the centre
    of the bin holding the middle row (None for no rows)."""
    fine = np.asarray(fine, dtype=np.int64)
    n = int(fine.sum())
    if n == 0:
        return None
    b = int(np.searchsorted(np.cumsum(fine), (n + 1) / 2))
    return (min(b, FINE_BINS - 1) + 0.5) / FINE_BINS


def part_confidence(probas: Mapping[str, np.ndarray], classes: Mapping[str, Sequence[str]],
                    keep: np.ndarray) -> dict[str, dict]:
    """Per task, the plain-data ``ConfidenceSummary`` of one part's rows where ``keep`` (bool
    (N,)) is set: each row's confidence is its highest class probability, as the embedded
    engine's ``prediction_summary`` gives it (float32), and its predicted class the argmax."""
    out = {}
    for task, p in probas.items():
        p = np.asarray(p)[keep]
        names = list(classes[task])
        conf = p.max(axis=1).astype(np.float32) if len(p) else np.empty(0, np.float32)
        pred = np.bincount(p.argmax(axis=1), minlength=len(names)) if len(p) else \
            np.zeros(len(names), np.int64)
        conf64 = conf.astype(float)
        ok = np.isfinite(conf64)
        out[task] = ConfidenceSummary(
            confidence_counts(conf64), _fine_counts(conf64[ok]), int(ok.sum()),
            int((conf64[ok] < LOW).sum()), {n: int(c) for n, c in zip(names, pred)}).to_parts()
    return out
