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
    labelled: int = 0     # rows with a label then (left out of the counts)


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
    from activelab.core.scale.query import rows_features

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
        x = rows_features(proj, featurizer, missing)
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
    from activelab.core.scale.query import rows_features

    if not len(rows):
        return None
    x = rows_features(proj, featurizer, rows)
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
    return PoolPanels(confidence, built, int(version), len(labelled))


def map_part(path: str, start: int, featurizer_dict: Mapping[str, Any],
             panels: Mapping[str, Any], extra_rows: np.ndarray,
             embed_cache: str | None = None) -> dict[str, Any]:
    """Before the first model (runs on a worker): one part's share of the map's sample and
    the features of ``extra_rows`` (the queue's rows in this part, 0-based), no predictions;
    shaped like ``score_part``'s ``panels`` so ``collect`` takes it."""
    from activelab.core.scale.embed import text_block_of_part
    from activelab.core.scale.embed_images import image_block_of_part
    from activelab.core.scale.featurize import Featurizer
    from activelab.core.store.partitioned_pool import open_part

    feat = Featurizer.from_dict(dict(featurizer_dict))
    frame = open_part(path).read(columns=feat.columns).to_pandas(split_blocks=True)
    emb = text_block_of_part(feat, path, frame, embed_cache)
    img = image_block_of_part(feat, path, frame, embed_cache)
    rows = sample_map.part_map_rows(len(frame), int(panels["map_rows"]), int(panels["seed"]),
                                    int(panels["part"]))

    def features(r: np.ndarray) -> Any:
        return feat.transform(frame.iloc[r], None if emb is None else emb[r],
                              None if img is None else img[r])

    extra = np.asarray(extra_rows, dtype=np.int64)
    return {"panels": {"confidence": {},
                       "map": {"positions": rows + start, "x": features(rows), "proba": {}},
                       "picks": {"positions": extra + start, "x": features(extra)}}}


def cold_start_panels(proj: Any, featurizer: Any, client: Any, queue: Sequence[Any],
                      per_task: Mapping[str, tuple[np.ndarray, list]],
                      progress: Any) -> PoolPanels | None:
    """The map before any model (its points uncoloured; no confidence counts): the sample
    drawn and featurised on the cluster, plus the labelled rows (``per_task``: task -> (rows,
    values)) and the cold-start ``queue``. One pass over the parts, in the retrain job.
    ``client``: a distributed Client, or the project's engine record to get one from. None
    when the cluster cannot be reached (the random queue does not need it). Cancelling
    ``progress`` cancels the tasks."""
    from distributed import as_completed

    from activelab.core.progress import Cancelled
    from activelab.core.scale.cluster import SchedulerGoneError, client_for
    from activelab.core.scale.embed import EMBED_DIR

    layout = proj.store.get_setting("pool")
    starts = np.asarray(layout["starts"], dtype=np.int64)
    picks = np.asarray(sorted(it.idx for it in queue), dtype=np.int64)
    lab = [r for r, _ in per_task.values()]
    labelled = np.unique(np.concatenate(lab)) if lab else np.empty(0, np.int64)
    futures: list = []
    try:
        client = client_for(client) if isinstance(client, Mapping) else client
        for p, args in enumerate(part_args(layout, labelled, int(proj.settings.seed))):
            lo, hi = np.searchsorted(picks, [starts[p], starts[p + 1]])
            futures.append(client.submit(
                map_part, layout["paths"][p], int(starts[p]), featurizer.to_dict(), args,
                picks[lo:hi] - starts[p], str(proj.path / EMBED_DIR), retries=2, pure=False))
        parts = []
        for done, fut in enumerate(as_completed(futures, loop=client.loop), 1):
            progress.check()
            parts.append(fut.result())
            progress.update(done / len(futures), f"drew the map's sample from {done} of "
                                                 f"{len(futures)} partitions")
    except Cancelled:
        client.cancel(futures)
        raise
    except (SchedulerGoneError, OSError, TimeoutError):
        return None     # the map waits for the scheduler; the queue did not need it
    return collect(proj, featurizer, {}, {}, parts, labelled, queue, {}, 0)
