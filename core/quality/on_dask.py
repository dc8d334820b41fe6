"""Suspect labels of a Dask-engine project (issue 13): the same search as the embedded engine's
(``activelab.core.quality.suspects``: out-of-fold predictions ranked by confident learning,
Northcutt, Jiang & Chuang 2021), on the labelled rows only.

The search never needs the pool: it judges labelled samples by models fitted on the other
labelled samples. So their features are read on the driver, as the Dask engine's training reads
them (``activelab.core.scale.query.rows_features``: the rows from their parts, embeddings from
the parts' caches), and nothing runs on the cluster. The result maps back to pool positions, so
a suspect opens, is relabelled and is recorded exactly as on an embedded project.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from activelab.core.errors import LabelError
from activelab.core.progress import NULL_PROGRESS, Progress

__all__ = ["dask_suspects"]


def dask_suspects(project: Any, only: str | None = None,
                  progress: Progress = NULL_PROGRESS) -> dict[str, Any]:
    """Per task (only ``only`` when given) the ``TaskSuspects`` of a Dask-engine ``project``:
    its suspect labels ranked as ``find_suspects`` ranks them, with pool positions and sample
    ids. Reads the labelled rows' features on the calling thread (a worker thread in the app).
    Raises LabelError for an unknown task, ModelError when the model cannot be fitted."""
    from dataclasses import replace

    from activelab.core.learning.fitting import Fitter
    from activelab.core.learning.models import resolve_model
    from activelab.core.quality.suspects import find_suspects
    from activelab.core.scale.featurize import Featurizer
    from activelab.core.scale.query import _labelled, rows_features

    tasks = project.spec.tasks
    if only is not None and only not in {t.name for t in tasks}:
        raise LabelError(f"No task named '{only}'. Tasks: {', '.join(t.name for t in tasks)}.")
    s = project.settings
    per_task, _ = _labelled(project, project.store.state())
    rows = (np.unique(np.concatenate([r for r, _ in per_task.values()])) if per_task
            else np.empty(0, dtype=np.int64))
    progress.update(0.0, f"reading the features of {len(rows)} labelled rows")
    featurizer = Featurizer.from_dict(project.store.get_setting("scale_featurizer"))
    X = rows_features(project, featurizer, rows) if len(rows) else np.empty((0, 0), np.float32)
    # the labelled rows are numbered 0..m-1 here; their pool positions come back below
    local = {t: (np.searchsorted(rows, r), list(v)) for t, (r, v) in per_task.items()}
    ids = [project.ids[int(r)] for r in rows]
    model = resolve_model(s.model, s.model_params, None)
    found = find_suspects(Fitter(model), X, local, tasks, ids, only=only, seed=s.seed,
                          progress=progress.sub(0.1, 1.0))
    return {name: replace(r, suspects=tuple(replace(x, idx=int(rows[x.idx])) for x in r.suspects))
            for name, r in found.items()}
