"""Scoring a partitioned pool as Dask tasks: one task per part, merged on the driver.

``score_part`` runs on a worker: it reads one part's feature columns, featurises them with the
project's fitted ``Featurizer``, asks the (scattered) models for class probabilities and
returns either its local top ``k`` candidates with their scores (score strategies) or a
uniform sample of its candidates with their features and probabilities (batch strategies).
``merge_top_k`` merges the parts' lists into the global top ``k``.

Why the merge is exact: a pool row's score depends on that row alone (the model and the
strategy are the same everywhere), so every row of the global top ``k`` is in its own part's
top ``k``. Ties are broken like the embedded engine's ``top_k``: each candidate has a seeded
uniform draw, the ``j``-th value of the query generator's stream for the ``j``-th candidate of
the whole pool (a part advances the generator by the candidates before it, so it draws its own
values without the others); the higher draw goes first. Without draws, lower position first.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

TOP_K = "top_k"
SAMPLE = "sample"


def tie_draws(state: Mapping[str, Any], offset: int, n: int) -> np.ndarray:
    """The ``n`` uniform draws (float64) at ``offset`` of the stream of a PCG64 generator in
    ``state`` (``bit_generator.state``): what ``Generator.random(offset + n)[offset:]`` gives,
    without drawing the first ``offset``. The embedded engine's tie-breaking draws."""
    bits = np.random.PCG64()
    bits.state = dict(state)
    bits.advance(int(offset))          # one 64-bit output per float64 draw
    return np.random.Generator(bits).random(int(n))


def local_top_k(scores: np.ndarray, positions: np.ndarray, k: int,
                tiebreak: np.ndarray | None = None) -> np.ndarray:
    """Indices into ``scores`` of the ``k`` highest, best first, NaN last; ties by the higher
    ``tiebreak`` draw (as the embedded engine's ``top_k``), else by lower position. O(n)
    selection, then a sort of the rows tied with or above the ``k``-th."""
    scores = np.where(np.isnan(scores), -np.inf, scores)
    m = len(scores)
    k = min(int(k), m)
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    if k < m:
        part = np.argpartition(-scores, k - 1)[:k]
        kth = scores[part].min()
        # every row tied with the k-th score competes on position
        keep = np.flatnonzero(scores >= kth)
    else:
        keep = np.arange(m)
    second = positions[keep] if tiebreak is None else -np.asarray(tiebreak)[keep]
    order = np.lexsort((second, -scores[keep]))
    return keep[order][:k].astype(np.int64)


def merge_top_k(parts: Sequence[Mapping[str, np.ndarray]], k: int) -> dict[str, np.ndarray]:
    """The global top ``k`` of the parts' local lists (each with ``positions``, ``scores`` and
    per-task ``proba:<task>`` rows, and ``tiebreak`` draws when the parts used them): the same
    keys, best first."""
    keys = [key for key in parts[0] if key not in ("positions", "scores", "panels")] if parts else []
    positions = np.concatenate([p["positions"] for p in parts]) if parts else np.empty(0, np.int64)
    scores = np.concatenate([p["scores"] for p in parts]) if parts else np.empty(0)
    tiebreak = np.concatenate([p["tiebreak"] for p in parts]) if keys and "tiebreak" in keys \
        else None
    pick = local_top_k(scores, positions, k, tiebreak)
    out = {"positions": positions[pick], "scores": scores[pick]}
    for key in keys:
        out[key] = np.concatenate([p[key] for p in parts])[pick]
    return out


def part_outputs(frame: Any, featurizer: Any, models: Mapping[str, Any],
                 text_block: Any = None, image_block: Any = None) -> tuple[Any, dict]:
    """(features, {task: (N, C) float32 probabilities}) of a frame of pool rows (float32, as
    the embedded engine keeps them, so both score the same numbers); ``text_block`` /
    ``image_block``: the rows' precomputed text / image embeddings, if any."""
    x = featurizer.transform(frame, text_block, image_block)
    return x, {task: np.asarray(m.predict_proba(x), dtype=np.float32) for task, m in models.items()}


def _dense(x: Any) -> np.ndarray:
    return np.asarray(x.toarray() if hasattr(x, "toarray") else x, dtype=np.float32)


def score_part(path: str, start: int, featurizer_dict: Mapping[str, Any],
               models: Mapping[str, Any], classes: Mapping[str, Sequence[str]], strategy: str,
               params: Mapping[str, Any], k: int, excluded: np.ndarray, mode: str = TOP_K,
               seed: int = 0, aggregate: str = "mean",
               ties: Mapping[str, Any] | None = None,
               embed_cache: str | None = None,
               panels: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One part's contribution to a query (runs on a worker; see the module docstring).

    ``excluded``: rows of this part (0-based within it) that are labelled or skipped.
    ``mode`` TOP_K: its ``k`` best candidates by the score strategy ``strategy``; SAMPLE: a
    uniform sample of ``k`` candidates (seeded by ``seed``) with their dense features under
    ``features``. Positions returned are pool positions (``start`` + row in the part).
    ``ties`` (TOP_K): ``{"state": generator state, "offset": candidates before this part}``:
    ties are broken by the draws ``tie_draws`` gives, returned under ``tiebreak``.
    ``embed_cache``: the folder of the part's cached text (MiniLM) and image embeddings.
    ``panels`` (the app's retrain job): also return, under ``panels``, what ``part_panels``
    gives and (TOP_K) the features of the part's picks; every row of the part is predicted.
    """
    from activelab.core.querying.registry import get_strategy
    from activelab.core.querying.runner import score_candidates
    from activelab.core.querying.strategy_api import QueryContext, TaskOutput
    from activelab.core.scale.embed import text_block_of_part
    from activelab.core.scale.embed_images import image_block_of_part
    from activelab.core.scale.featurize import Featurizer
    from activelab.core.store.partitioned_pool import open_part

    feat = Featurizer.from_dict(dict(featurizer_dict))
    frame = open_part(path).read(columns=feat.columns).to_pandas(split_blocks=True)
    emb = text_block_of_part(feat, path, frame, embed_cache)
    img = image_block_of_part(feat, path, frame, embed_cache)
    n = len(frame)
    mask = np.ones(n, dtype=bool)
    mask[np.asarray(excluded, dtype=np.int64)] = False
    cand = np.flatnonzero(mask).astype(np.int64)
    if mode == SAMPLE:
        rng = np.random.default_rng(seed)
        cand = np.sort(rng.choice(cand, size=min(int(k), len(cand)), replace=False))
    # With the app's panels every row of the part is predicted (their counts and the map's
    # sample); the candidates' rows are then taken from that, the same numbers.
    whole = None if panels is None else part_outputs(frame, feat, models, emb, img)
    x, probas = _outputs_of(frame, feat, models, emb, img, cand, whole)
    extra = {} if whole is None else {"panels": part_panels(whole, classes, panels, start, n)}
    if mode == SAMPLE:
        out = {"positions": cand + start, "scores": np.zeros(len(cand)), "features": _dense(x)}
        out.update({f"proba:{t}": p for t, p in probas.items()})
        return {**out, **extra}
    tasks = {t: TaskOutput(proba=p, classes=tuple(classes[t])) for t, p in probas.items()}
    ctx = QueryContext(n_pool=len(cand), candidates=np.arange(len(cand), dtype=np.int64),
                       rng=np.random.default_rng(seed), tasks=tasks, aggregate=aggregate)
    scores = score_candidates(get_strategy(strategy), ctx, params)
    draws = None if ties is None else tie_draws(ties["state"], ties["offset"], len(cand))
    pick = local_top_k(scores, cand, k, draws)
    out = {"positions": cand[pick] + start, "scores": scores[pick]}
    if draws is not None:
        out["tiebreak"] = draws[pick]
    out.update({f"proba:{t}": p[pick] for t, p in probas.items()})
    if extra:
        extra["panels"]["picks"] = {"positions": out["positions"], "x": _rows(x, pick)}
    return {**out, **extra}


def _rows(x: Any, rows: np.ndarray) -> Any:
    """Rows of a dense array or a CSR matrix (kept sparse: hashed text is 2**18 wide)."""
    return x[np.asarray(rows, dtype=np.int64)]


def _outputs_of(frame: Any, feat: Any, models: Mapping[str, Any], emb: Any, img: Any,
                rows: np.ndarray, whole: tuple[Any, dict] | None) -> tuple[Any, dict]:
    """(features, probabilities) of the part's ``rows``: taken from ``whole`` (every row's,
    when computed) or computed for those rows only."""
    if whole is not None:
        x, probas = whole
        return _rows(x, rows), {t: p[rows] for t, p in probas.items()}
    return part_outputs(frame.iloc[rows], feat, models, None if emb is None else emb[rows],
                        None if img is None else img[rows])


def part_panels(whole: tuple[Any, dict], classes: Mapping[str, Sequence[str]],
                panels: Mapping[str, Any], start: int, n: int) -> dict[str, Any]:
    """What the app's panels need from one part (plain data): per task the confidence counts
    of its rows without a label (``activelab.core.scale.confidence``), and its share of the
    pool map's uniform sample (``activelab.core.scale.sample_map``: pool positions, features,
    probabilities). ``panels``: ``labelled`` (rows of the part with a label, 0-based),
    ``map_rows`` (its share of the sample), ``seed`` and ``part`` (the sample's draw)."""
    from activelab.core.scale.confidence import part_confidence
    from activelab.core.scale.sample_map import part_map_rows

    x, probas = whole
    keep = np.ones(n, dtype=bool)
    keep[np.asarray(panels["labelled"], dtype=np.int64)] = False
    rows = part_map_rows(n, int(panels["map_rows"]), int(panels["seed"]), int(panels["part"]))
    return {"confidence": part_confidence(probas, classes, keep),
            "map": {"positions": rows + start, "x": _rows(x, rows),
                    "proba": {t: p[rows] for t, p in probas.items()}}}


def warm_up(strategy: str) -> None:
    """Import what ``score_part`` needs on a fresh worker (scikit-learn, the strategy
    registry), so the first query's tasks do not each wait for it."""
    import importlib

    from activelab.core.querying.registry import get_strategy

    importlib.import_module("sklearn.linear_model")
    get_strategy(strategy)
