"""Why a task has no cross-validated accuracy yet, in the user's terms (what is missing).

The rule is the one ``activelab.core.learning.fitting.Fitter._task_folds`` applies per task
(a held-out fold must be tested on classes its model has seen):

- at least ``MIN_CV_LABELS`` (4) labeled samples;
- at least two different classes (multi-label: two different label sets);
- single-label: at least 2 labels in most of the classes labeled so far (the median count over
  the classes labeled is >= 2).

``cv_missing`` says, for one task, what is missing (None when cross-validation is possible);
``cv_readiness`` does it for every task of a project. Models that fit all tasks at once (a shared
multi-task network) fold over rows instead; this is the per-task rule of every other model.
No I/O, no Qt.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["MIN_CV_LABELS", "cv_missing", "cv_readiness", "plural"]

MIN_CV_LABELS = 4


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 pick', '2 picks', '0 picks' (``many``: an irregular plural)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def cv_missing(task: str, multilabel: bool, class_counts: Mapping[str, int],
               n_labeled: int) -> str | None:
    """What task ``task`` lacks for cross-validation, as one sentence such as
    "digit: 3 labels, needs at least 4 (1 more); 2 labels in most classes (only 1 in: 3, 7)",
    or None when it has enough. ``class_counts``: labels per class (a multi-label sample
    counts once per class); ``n_labeled``: samples labeled for the task."""
    counts = {c: int(n) for c, n in class_counts.items() if int(n) > 0}
    needs: list[str] = []
    if n_labeled < MIN_CV_LABELS:
        needs.append(f"at least {MIN_CV_LABELS} labels ({MIN_CV_LABELS - n_labeled} more)")
    if len(counts) < 2:
        needs.append("two different label sets" if multilabel else
                     f"a second class (only {next(iter(counts))!r} so far)" if counts else
                     "two different classes")
    elif not multilabel and float(np.median(list(counts.values()))) < 2:
        ones = sorted(c for c, n in counts.items() if n == 1)
        shown = ", ".join(ones[:6]) + (f" and {len(ones) - 6} more" if len(ones) > 6 else "")
        needs.append(f"2 labels in most of its classes (only 1 in {shown})")
    if not needs:
        return None
    return f"{task}: {plural(n_labeled, 'label')}, needs " + "; ".join(needs)


def cv_readiness(tasks: Sequence[Any], class_counts: Mapping[str, Mapping[str, int]],
                 labels: Mapping[str, Mapping[Any, Any]]) -> list[str]:
    """One ``cv_missing`` sentence per task that cannot be cross-validated yet ([] when every
    task can). ``tasks``: TaskSpec-like (``name``, ``multilabel``); ``class_counts``: task ->
    class -> labels (``LabelingEngine.class_counts()``); ``labels``: task -> labeled samples
    (``LabelingEngine.labels()``, only their number is used)."""
    out = []
    for t in tasks:
        why = cv_missing(t.name, bool(t.multilabel), class_counts.get(t.name, {}),
                         len(labels.get(t.name, {})))
        if why:
            out.append(why)
    return out
