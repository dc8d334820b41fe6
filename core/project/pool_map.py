"""The pool map's UMAP layout of a project: a worker job (``fn(project, progress)``) that the app
runs like the warm-up job (activelab.core.loop.pool_warm_up), next to the PCA map it makes."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from activelab.core.progress import Progress
from activelab.core.project.create import CACHE_DIR


def pool_umap(project: Any, progress: Progress) -> np.ndarray:
    """Worker job: the pool map's UMAP layout, (n_samples, 2) float32, of the project's
    features (loaded first), cached in the project's ``cache/`` (unless it is read-only) and
    computed in a child process (``activelab.core.features.umap_map``: seeded with the
    project's ``seed``, fitted on a subsample). Raises ActiveLabError when umap-learn is
    missing (saying how to install it) or the layout cannot be made."""
    from activelab.core.errors import ActiveLabError
    from activelab.core.features.umap_map import umap_projection

    progress.update(0.0, "loading features")
    features = project.features
    cache_dir = None if project.read_only else Path(project.path) / CACHE_DIR
    xy = np.asarray(umap_projection(features.dense, getattr(features, "fingerprint", None),
                                    cache_dir, seed=int(project.settings.seed), progress=progress))
    if xy.shape != (project.n_samples, 2) or not np.isfinite(xy).all():
        raise ActiveLabError(f"The UMAP layout has shape {xy.shape}, expected "
                             f"({project.n_samples}, 2) finite values.")
    return xy
