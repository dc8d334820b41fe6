"""The labels a model is trained on, in a team project: the resolved label wherever several
annotators (or a reviewer) labeled a sample, the latest label everywhere else.

A project labeled by one person is trained exactly as before (nothing is replaced).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from activelab.core.team.annotations import team_labels
from activelab.core.team.resolution import resolved_labels

__all__ = ["training_labels"]


def training_labels(store: Any, tasks: Sequence[str], index: Mapping[str, int],
                    labeled: dict[str, tuple[np.ndarray, list[Any]]]
                    ) -> dict[str, tuple[np.ndarray, list[Any]]]:
    """``labeled`` (task -> (pool positions, their latest labels), as a ``Snapshot`` holds
    them) with the value of every sample that has a resolution (``resolved_labels``)
    replaced by its resolved label; the rows and their order are unchanged. ``store``: the
    project's ``LabelStore``; ``index``: sample id -> pool position. Returns ``labeled``
    itself when no sample has more than one annotator or a review decision."""
    resolved = resolved_labels(team_labels(store), [t for t in tasks if t in labeled])
    if not resolved:
        return labeled
    out = dict(labeled)
    for task, per in resolved.items():
        by_row = {index[sid]: r.value for sid, r in per.items() if sid in index}
        rows, values = labeled[task]
        out[task] = (rows, [by_row.get(int(r), v) for r, v in zip(rows, values)])
    return out
