"""A stub model's outputs for strategy tests: two tasks (one multi-label), MC samples,
a committee and features, all seeded."""
from __future__ import annotations

import dataclasses

import numpy as np

from activelab.core.querying.strategy_api import QueryContext, TaskOutput


def _dirichlet(rng, shape_prefix, c):
    return rng.dirichlet(np.ones(c) * 0.7, size=shape_prefix).astype(np.float32)


def stub_context(n_pool: int = 300, n_candidates: int = 200, n_labeled: int = 30,
                 d: int = 8, seed: int = 0, rng_seed: int = 1, **overrides) -> QueryContext:
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n_pool)
    candidates = np.sort(perm[:n_candidates]).astype(np.int64)
    labeled = np.sort(perm[n_candidates:n_candidates + n_labeled]).astype(np.int64)
    features = rng.normal(size=(n_pool, d)).astype(np.float32)
    kind = TaskOutput(
        proba=_dirichlet(rng, n_pool, 4),
        classes=("a", "b", "c", "d"),
        mc_samples=_dirichlet(rng, (5, n_pool), 4),
        committee=_dirichlet(rng, (3, n_pool), 4),
    )
    tags = TaskOutput(
        proba=rng.random((n_pool, 3)).astype(np.float32),
        multilabel=True,
        classes=("x", "y", "z"),
        mc_samples=rng.random((5, n_pool, 3)).astype(np.float32),
        committee=rng.random((3, n_pool, 3)).astype(np.float32),
    )
    if "by_modality" in TaskOutput.__dataclass_fields__:  # multimodal heads (co-testing)
        kind = dataclasses.replace(kind, by_modality={
            "image": _dirichlet(rng, n_pool, 4), "text": _dirichlet(rng, n_pool, 4)})
        tags = dataclasses.replace(tags, by_modality={
            "image": rng.random((n_pool, 3)).astype(np.float32),
            "text": rng.random((n_pool, 3)).astype(np.float32)})
    fields = dict(n_pool=n_pool, candidates=candidates, labeled=labeled,
                  rng=np.random.default_rng(rng_seed), features=features,
                  tasks={"kind": kind, "tags": tags})
    fields.update(overrides)
    return QueryContext(**fields)


def arrays_of(ctx: QueryContext) -> dict[str, np.ndarray]:
    """Copies of every array in the context (to check that nothing was mutated)."""
    out = {"candidates": ctx.candidates.copy(), "labeled": ctx.labeled.copy()}
    if ctx.features is not None:
        out["features"] = ctx.features.copy()
    for t, o in ctx.tasks.items():
        for name in ("proba", "mc_samples", "committee"):
            a = getattr(o, name)
            if a is not None:
                out[f"{t}.{name}"] = a.copy()
    return out


def current_arrays(ctx: QueryContext) -> dict[str, np.ndarray]:
    out = {"candidates": ctx.candidates, "labeled": ctx.labeled}
    if ctx.features is not None:
        out["features"] = ctx.features
    for t, o in ctx.tasks.items():
        for name in ("proba", "mc_samples", "committee"):
            a = getattr(o, name)
            if a is not None:
                out[f"{t}.{name}"] = a
    return out
