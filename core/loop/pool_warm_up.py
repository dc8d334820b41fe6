"""The labeling window's warm-up job: load the pool's features (the project rebuilds a missing or
damaged cache) and the 2-D projection for the pool map. A core job like any other
(``fn(project, progress)``): the app runs it in a worker thread and only adapts its outcome.

The features are needed for retraining; the projection only for the map. So a features failure
fails the job (the window says why and offers Retry, labeling goes on), while a projection that
cannot be read from or written to the cache is recomputed in memory, and if even that fails the
map stays empty: the job still succeeds.
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np

from activelab.core.progress import Progress

log = logging.getLogger(__name__)


def warm_up_pool(project: Any, progress: Progress) -> np.ndarray | None:
    """Worker job: the features loaded (cached by the project), then the pool map's projection,
    an (n_samples, 2) float array, or None when it cannot be made.

    Raises whatever loading the features raises (an ActiveLabError with the cause, or an
    unexpected error the runner reports as "Type: message")."""
    from activelab.core.features.projection import project_2d

    if getattr(project, "reads_in_place", False):   # a Dask project: scored on its cluster
        return None                                  # (no whole-pool features, no map)
    progress.update(0.0, "loading features")
    features = project.features
    if project.spec.image_column:
        project.image_array()
    progress.update(0.5, "projecting the pool")
    try:   # cached on disk by the project
        return _checked(np.asarray(project.pool_projection()), project.n_samples)
    except Exception as exc:  # noqa: BLE001 - derived data: recompute below, never fail the job
        log.warning("pool projection cache unusable (%s: %s); recomputing", type(exc).__name__, exc)
    try:
        return _checked(project_2d(np.asarray(features.dense)), project.n_samples)
    except Exception as exc:  # noqa: BLE001 - the map is optional; labeling and retraining go on
        log.warning("pool projection failed (%s: %s); the pool map stays empty", type(exc).__name__, exc)
        return None


def _checked(xy: np.ndarray, n: int) -> np.ndarray:
    if xy.shape != (n, 2) or not np.isfinite(xy).all():
        raise ValueError(f"projection of shape {xy.shape}, expected ({n}, 2) finite values")
    return xy
