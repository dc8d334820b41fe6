"""The app's confidence panel and pool map of a Dask-engine project, from the query's own pass.

The app's retrain job (``activelab.core.scale.query.retrain_on_dask``) scores every part of the
pool on the cluster. With ``panels`` on, each part's task also returns its confidence counts
and its share of the map's uniform sample (``activelab.core.scale.scoring.part_panels``); this
module gives each part its arguments (``part_args``) and, on the driver, merges what came back
with the labelled rows and the queue into ``PoolPanels`` (``collect``). No second pass over the
pool, and nothing of it is held whole in memory.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from activelab.core.scale import sample_map
from activelab.core.scale.confidence import ConfidenceSummary
from activelab.core.scale.sample_map import MapBlock, SampleMap, block_from_proba


@dataclass(frozen=True)
class PoolPanels:
    """What the app's side panels show for a pool read in place: per task the confidence
    summary of every row without a label (exact counts over the whole pool), and the sampled
    pool map (None when no part gave rows)."""

    confidence: Mapping[str, ConfidenceSummary]
    map: SampleMap | None
    model_version: int = 0


def part_args(layout: Mapping[str, Any], labelled: np.ndarray, seed: int,
              total: int | None = None) -> list[dict[str, Any]]:
    """Per part, the ``panels`` argument of its scoring task: its labelled rows (0-based in
    the part; ``labelled``: sorted pool positions), its share of the map's sample of
    ``total`` rows (``sample_map.MAP_SAMPLE`` by default) and the sample's seed."""
    starts = np.asarray(layout["starts"], dtype=np.int64)
    shares = sample_map.map_shares(np.diff(starts), sample_map.MAP_SAMPLE if total is None
                                   else total)
    labelled = np.asarray(labelled, dtype=np.int64)
    out = []
    for p in range(len(starts) - 1):
        lo, hi = np.searchsorted(labelled, [starts[p], starts[p + 1]])
        out.append({"labelled": labelled[lo:hi] - starts[p], "map_rows": int(shares[p]),
                    "seed": int(seed), "part": p})
    return out


def _stack(blocks: Sequence[Any]) -> Any:
    from scipy import sparse

    if any(sparse.issparse(b) for b in blocks):
        return sparse.vstack([sparse.csr_matrix(b) for b in blocks], format="csr")
    return np.vstack(blocks)


def _queue_block(proj: Any, featurizer: Any, parts: Sequence[Mapping[str, Any]],
                 queue: Sequence[Any], known: Mapping[int, Any]) -> MapBlock | None:
    """The queue's rows: features from the parts (their picks, or their sampled candidates),
    then ``known`` (the audit picks'), else read on the driver; predictions from the items."""
    from activelab.core.scale.embed import cached_rows
    from activelab.core.scale.query import rows_frame

    if not queue:
        return None
    rows = {}
    for part in parts:
        pan = part.get("panels", {})
        src = pan.get("picks") or ({"positions": part["positions"], "x": part["features"]}
                                   if "features" in part else None)
        if src is not None:
            pos = np.asarray(src["positions"], dtype=np.int64)
            for j, r in enumerate(pos.tolist()):
                rows[r] = src["x"][j:j + 1]
    rows.update({int(r): x for r, x in known.items()})
    positions = np.asarray([it.idx for it in queue], dtype=np.int64)
    missing = np.asarray(sorted({int(r) for r in positions} - set(rows)), dtype=np.int64)
    if len(missing):
        x = featurizer.transform(rows_frame(proj, featurizer.columns, missing), cached_rows(
            featurizer, proj.path, proj.store.get_setting("pool"), missing))
        rows.update({int(r): x[j:j + 1] for j, r in enumerate(missing)})
    preds = {}
    for t in {t for it in queue for t in it.predictions}:
        labels = np.asarray([it.predictions[t].label if t in it.predictions else None
                             for it in queue], dtype=object)
        conf = np.asarray([it.predictions[t].confidence if t in it.predictions else np.nan
                           for it in queue], dtype=np.float32)
        preds[t] = (labels, conf)
    return MapBlock(positions, _stack([rows[int(r)] for r in positions]), preds)


def _labelled_block(proj: Any, featurizer: Any, models: Mapping[str, Any],
                    classes: Mapping[str, Sequence[str]], rows: np.ndarray) -> MapBlock | None:
    """The labelled rows with their features (read on the driver, as for training: kept
    from the fit) and the models' predictions."""
    from activelab.core.scale.embed import cached_rows
    from activelab.core.scale.query import rows_frame

    if not len(rows):
        return None
    x = featurizer.transform(rows_frame(proj, featurizer.columns, rows), cached_rows(
        featurizer, proj.path, proj.store.get_setting("pool"), rows))
    proba = {t: np.asarray(m.predict_proba(x), dtype=np.float32) for t, m in models.items()}
    return block_from_proba(rows, x, proba, classes)


def collect(proj: Any, featurizer: Any, models: Mapping[str, Any],
            classes: Mapping[str, Sequence[str]], parts: Sequence[Mapping[str, Any]],
            labelled: np.ndarray, queue: Sequence[Any], known: Mapping[int, Any],
            version: int) -> PoolPanels:
    """The panels of one query: the parts' confidence counts merged per task, and the map of
    the parts' sample plus the ``labelled`` rows (sorted pool positions) and the ``queue``
    (items; ``known``: features of queue rows the parts did not send, by pool position)."""
    per_task: dict[str, list[ConfidenceSummary]] = {t: [] for t in classes}
    sample = []
    for part in parts:
        pan = part.get("panels")
        if pan is None:
            continue
        for t, d in pan["confidence"].items():
            per_task[t].append(ConfidenceSummary.from_parts(d))
        m = pan["map"]
        sample.append(block_from_proba(m["positions"], m["x"], m["proba"], classes))
    confidence = {t: ConfidenceSummary.merge(got) for t, got in per_task.items()}
    built = sample_map.build_sample_map(
        sample, _labelled_block(proj, featurizer, models, classes, labelled),
        _queue_block(proj, featurizer, parts, queue, known), classes, len(proj.pool),
        int(proj.settings.seed))
    return PoolPanels(confidence, built, int(version))
