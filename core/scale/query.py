"""A query on a Dask-engine project: train on the labelled rows, score the pool as Dask tasks.

The labelled rows are few: they are read row by row from their parts, featurised and fitted on
the driver (the project's model, one per task). The fitted models are scattered to the
workers once per model version (kept per client in this process, never written to the
project); then one task per part scores it (``activelab.core.scale.scoring``) and the driver
merges:

* score strategies (least confidence, margin, entropy, ...): each part's top ``n``, merged to
  the global top ``n``: exactly the picks of scoring the whole pool in one process.
* batch strategies (core-set, cluster, BADGE, ...) and scores that read the pool's geometry
  (density-weighted): a pre-filter draws a uniform
  sample of ``BATCH_CANDIDATES`` candidates (each part in proportion to its candidates), then
  the strategy's exact batch step runs on that sample with the labelled rows. When the pool
  has no more candidates than that, the picks equal the one-process run; above it they are the
  batch strategy's picks among a uniform candidate sample (tolerance: what a uniform
  subsample of that size loses, e.g. a core-set radius within the sample's covering radius).

Audit picks: as in the embedded engine, a uniformly random share of the queue (the project's
``audit_rate``) for the unbiased accuracy estimate, drawn from the same generator
(``default_rng([seed, last label event])``) in the same order: their count, the tie-breaking
draws of the score strategies, the picks, their slots (``activelab.core.scale.audit``). For score
strategies the whole queue equals the embedded engine's on the same pool, labels and seed.

Progress is the share of part tasks finished; a cancelled progress cancels the futures. Each
task is retried twice by Dask when its worker is lost; a scheduler that is gone gives the
previous queue back, its reason saying why (or a SchedulerGoneError when there is none).
"""
from __future__ import annotations

import math
import time
from concurrent.futures import CancelledError
from dataclasses import dataclass
from typing import Any

import numpy as np

from activelab.core.errors import ModelError
from activelab.core.progress import NULL_PROGRESS, Cancelled, Progress
from activelab.core.records import CurvePoint, Prediction, QueueItem
from activelab.core.scale.audit import audit_picks
from activelab.core.scale.cluster import SchedulerGoneError, client_for, engine_of, gone_message, is_gone
from activelab.core.scale.embed import EMBED_DIR, cached_rows
from activelab.core.scale.embed_images import image_rows
from activelab.core.scale.featurize import Featurizer
from activelab.core.scale.panels import cold_start_panels, collect, part_args
from activelab.core.scale.scoring import SAMPLE, TOP_K, merge_top_k, score_part, warm_up

BATCH_CANDIDATES = 20_000
RETRIES = 2
_SCATTERED: dict[tuple[int, str, int], Any] = {}   # (client, project, label seq) -> future


def _labelled(proj: Any, state: Any) -> tuple[dict[str, tuple[np.ndarray, list]], np.ndarray]:
    """Per task (rows, values) of the labelled rows, and every excluded row (labelled or
    skipped), sorted. In a team project the values are the resolved labels (review
    decisions, majorities, Dawid-Skene on ties: ``activelab.core.team.training``), as the
    embedded engine trains on; the suspects search reads the same."""
    per_task, excluded = {}, []
    for t in proj.spec.tasks:
        got = state.by_index.get(t.name) or {}
        if got:
            rows = np.fromiter(got.keys(), dtype=np.int64, count=len(got))
            per_task[t.name] = (rows, list(got.values()))
            excluded.append(rows)
    index = proj.ids.index
    if per_task:
        from activelab.core.team.training import resolved_labels
        per_task = resolved_labels(proj.store, list(per_task), index, per_task)
    skipped = [index[s] for s in state.skipped if s in index]
    if skipped:
        excluded.append(np.asarray(skipped, dtype=np.int64))
    all_rows = np.unique(np.concatenate(excluded)) if excluded else np.empty(0, dtype=np.int64)
    return per_task, all_rows


_ROWS: dict[tuple[str, tuple[str, ...]], Any] = {}   # (project, columns) -> rows read so far


def rows_frame(proj: Any, columns: list[str], rows: np.ndarray) -> Any:
    """The pool's ``rows`` (labelled rows: few) as a DataFrame, in the order given; rows read
    before in this process are kept, so a retrain reads only the newly labelled ones (each
    read costs a row group of its part)."""
    import pandas as pd

    key = (str(proj.path), tuple(columns))
    kept = _ROWS.get(key)
    rows = np.asarray(rows, dtype=np.int64)
    new = rows if kept is None else np.setdiff1d(rows, kept.index.to_numpy())
    if len(new):
        got = proj.pool.frame(columns=list(columns), rows=new)
        got.index = new
        kept = got if kept is None else pd.concat([kept, got])
        _ROWS[key] = kept
    return kept.loc[rows].reset_index(drop=True)


def rows_features(proj: Any, featurizer: Featurizer, rows: np.ndarray, frame: Any = None) -> Any:
    """Features of pool positions ``rows`` on the driver (``frame``: those rows, else read
    with ``rows_frame``), with their text and image embeddings from the parts' caches when
    there (else computed for these rows)."""
    layout = proj.store.get_setting("pool")
    if frame is None:
        frame = rows_frame(proj, featurizer.columns, rows)
    return featurizer.transform(frame, cached_rows(featurizer, proj.path, layout, rows),
                                image_rows(featurizer, proj.path, layout, rows, frame))


def _cross_validated(model: Any, x: Any, y: np.ndarray, seed: int) -> dict[str, float | None]:
    """Stratified k-fold accuracy and macro-F1 of a fresh copy of ``model`` on the labelled
    rows (k = min(5, the rarest class's count); None when a class has a single example)."""
    from sklearn.base import clone
    from sklearn.model_selection import StratifiedKFold, cross_validate

    _, counts = np.unique(y, return_counts=True)
    k = int(min(5, counts.min()))
    if k < 2:
        return {"cv_accuracy": None, "cv_macro_f1": None}
    folds = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    got = cross_validate(clone(model), x, y, cv=folds, scoring=("accuracy", "f1_macro"))
    return {"cv_accuracy": float(np.mean(got["test_accuracy"])),
            "cv_macro_f1": float(np.mean(got["test_f1_macro"]))}


def fit_models(proj: Any, featurizer: Featurizer, per_task: dict,
               scores: dict[str, dict] | None = None) -> dict[str, Any]:
    """The project's model fitted per single-label task with at least two labelled classes;
    ``scores`` (a dict) receives each task's cross-validated accuracy and macro-F1."""
    from activelab.core.learning.models import make_model

    s = proj.settings
    models = {}
    for t in proj.spec.tasks:
        if t.name not in per_task:
            continue
        if t.multilabel:
            raise ModelError(f"Task '{t.name}' is multi-label; the Dask engine trains single-"
                             "label tasks only. Use the embedded engine for this project.")
        rows, values = per_task[t.name]
        if len(set(values)) < 2:
            continue
        x = rows_features(proj, featurizer, rows)
        model = make_model(s.model, s.model_params)
        y = np.asarray([str(v) for v in values], dtype=object)
        if scores is not None:
            scores[t.name] = _cross_validated(model, x, y, s.seed)
        model.fit(x, y)
        models[t.name] = model
    return models


def _fresh(proj: Any, state: Any, items: list[dict]) -> list[QueueItem]:
    """The stored queue's items minus samples labelled or skipped since."""
    index = proj.ids.index
    return [QueueItem.from_dict(d, idx=index[d["id"]]) for d in items
            if d["id"] in index and not state.is_labeled(d["id"]) and d["id"] not in state.skipped]


def _previous_queue(proj: Any, state: Any, why: str) -> list[QueueItem]:
    items, _seq = proj.store.load_queue()
    return [QueueItem(it.idx, it.id, it.strategy, it.score, it.rank, it.percentile, it.audit,
                      it.predictions, it.model_version,
                      f"fallback: {why} This is the previous queue ({it.reason}).")
            for it in _fresh(proj, state, items)]


def _cold_start(proj: Any, excluded: np.ndarray, n: int, seed: int) -> list[QueueItem]:
    """Uniformly random picks among the candidates (before two classes are labelled)."""
    total = len(proj.pool)
    rng = np.random.default_rng(seed)
    picks: list[int] = []
    want = min(n, total - len(excluded))
    while len(picks) < want:
        draw = rng.integers(0, total, size=2 * want + 8)
        draw = draw[~np.isin(draw, excluded)]
        picks = list(dict.fromkeys([*picks, *draw.tolist()]))[:want]
    return [QueueItem(int(i), proj.ids[int(i)], "random", math.nan, r + 1, None, False, {}, 0,
                      "cold start: random pick (the Dask engine trains once two classes of a "
                      "task are labelled)") for r, i in enumerate(picks)]


def _scattered_models(client: Any, proj: Any, seq: int, models: dict) -> Any:
    key = (id(client), str(proj.path), seq)
    fut = _SCATTERED.get(key)
    if fut is None:
        for old in [k for k in _SCATTERED if k[:2] == key[:2]]:
            _SCATTERED.pop(old).release()     # the superseded version leaves the workers
        # One future for the dict (scattering the dict itself would key each model by its
        # task name, shared by every project on the cluster).
        fut = client.scatter([models], broadcast=True, hash=False)[0]
        _SCATTERED[key] = fut
    return fut


def run_parts(client: Any, layout: dict, submit_args: dict, k_per_part: list[int],
              excluded: np.ndarray, progress: Progress,
              per_part: list[dict] | None = None) -> list[dict]:
    """Submit one ``score_part`` task per part that has candidates (rows neither labelled
    nor skipped; ``k_per_part[p]`` > 0) and gather them in part order, reporting the share
    done; ``per_part``: extra arguments of each part's task (indexed by part). Cancelling
    ``progress`` cancels the futures (Cancelled is raised)."""
    from distributed import as_completed

    starts = layout["starts"]
    futures = []
    for p, path in enumerate(layout["paths"]):
        lo, hi = np.searchsorted(excluded, [starts[p], starts[p + 1]])
        wanted = bool(per_part and per_part[p].get("panels"))   # its counts and map rows
        if (starts[p + 1] - starts[p] - (hi - lo) <= 0 or k_per_part[p] <= 0) and not wanted:
            continue   # an empty part, or every row labelled or skipped: no candidate there
        futures.append(client.submit(
            score_part, path, starts[p], k=k_per_part[p], excluded=excluded[lo:hi] - starts[p],
            seed=p, retries=RETRIES, pure=False, **submit_args, **(per_part[p] if per_part else {})))
    results: dict[int, dict] = {}
    order = {f.key: p for p, f in enumerate(futures)}
    try:
        for done, fut in enumerate(as_completed(futures, loop=client.loop), 1):
            progress.check()
            results[order[fut.key]] = fut.result()
            progress.update(done / len(futures), f"scored {done} of {len(futures)} partitions")
    except Cancelled:
        client.cancel(futures)
        raise
    except (CancelledError, OSError, TimeoutError) as exc:
        # Futures cancelled by no one here, or a lost connection: the scheduler went away.
        if client.status == "running" and not isinstance(exc, (CancelledError, OSError)):
            raise
        raise SchedulerGoneError(gone_message(
            getattr(client.scheduler, "address", None), exc)) from exc
    return [results[p] for p in range(len(futures))]


@dataclass(frozen=True)
class DaskRequest:
    """What the app's retrain job of a Dask project is given (taken on the GUI thread): the
    queue length and the label event the queue will answer to."""

    n: int
    event_seq: int


def retrain_on_dask(proj: Any, request: DaskRequest, progress: Progress) -> Any:
    """The app's retrain job for a Dask project (a worker thread): a new queue scored on the
    cluster, returned as a ``RetrainResult`` without a model in memory or a curve point (the
    queue is saved when the GUI thread installs it)."""
    from activelab.core.loop.cycle import RetrainResult

    out: dict[str, Any] = {}
    queue = dask_query(proj, request.n, None, progress=progress, save=False, reuse=False,
                       made=out, panels=True)
    return RetrainResult(state=None, curve_point=out.get("point"), queue=queue,
                         event_seq=request.event_seq, panels=out.get("panels"))


def dask_query(proj: Any, n: int, strategy: str | None = None, progress: Progress | None = None,
               client: Any = None, save: bool = True, reuse: bool = True,
               made: dict[str, Any] | None = None, panels: bool = False) -> list[QueueItem]:
    """The next ``n`` samples of a Dask-engine project (see the module docstring); the queue is
    saved in the store (``save``) like the embedded engine's, so the app and ``activelab
    query`` read it. ``reuse``: the stored queue is returned when no label changed since.
    ``made`` (a dict) receives the learning-curve point of the models fitted (``point``, with
    their cross-validated scores on the labelled rows; saved with the queue when ``save``)
    and, with ``panels``, the app's ``panels`` from the same pass (``activelab.core.scale.panels``)."""
    from activelab.core.querying.registry import get_strategy
    from activelab.core.querying.runner import run_strategy
    from activelab.core.querying.strategy_api import QueryContext, TaskOutput

    progress = progress or NULL_PROGRESS
    store, s = proj.store, proj.settings
    state = store.state()
    items, seq = store.load_queue()
    last = store.last_seq()
    if reuse and strategy is None and seq == last and len(items) >= n:
        fresh = _fresh(proj, state, items)
        if fresh:
            return fresh[:n]
    name = strategy or s.strategy
    strat = get_strategy(name)
    params = strat.resolve_params(s.strategy_params if name == s.strategy else {})
    featurizer = Featurizer.from_dict(store.get_setting("scale_featurizer"))
    per_task, excluded = _labelled(proj, state)
    engine = engine_of(store.get_setting("engine"))
    warm: list = []
    if any(len({str(v) for v in values}) >= 2 for _, values in per_task.values()):
        try:   # the workers import what scoring needs while the driver fits
            client = client or client_for(engine)
            warm = [client.submit(warm_up, name, workers=[w], allow_other_workers=False,
                                  pure=False) for w in client.scheduler_info()["workers"]]
        except SchedulerGoneError as exc:
            return _fall_back(proj, state, str(exc))
    began = time.time()
    per_task_scores: dict[str, dict] = {}
    models = fit_models(proj, featurizer, per_task, per_task_scores)
    fit_seconds = time.time() - began
    if not models:
        queue = _cold_start(proj, excluded, n, s.seed)
        if save:
            store.save_queue([it.to_dict() for it in queue], last)
        if panels and made is not None:   # the map of the sample, uncoloured (no model yet)
            made["panels"] = cold_start_panels(proj, featurizer, client or engine, queue,
                                               per_task, progress)
        return queue
    try:
        client = client or client_for(engine)
        scattered = _scattered_models(client, proj, last, models)
        layout = store.get_setting("pool")
        classes = {t: [str(c) for c in m.classes_] for t, m in models.items()}
        lab_rows = np.unique(np.concatenate([r for r, _ in per_task.values()]))
        pargs = ([{"panels": a} for a in part_args(layout, lab_rows, s.seed)] if panels
                 else [{} for _ in layout["paths"]])
        common = dict(featurizer_dict=featurizer.to_dict(), models=scattered, classes=classes,
                      strategy=name, params=params, aggregate=s.aggregate,
                      embed_cache=str(proj.path / EMBED_DIR))
        sizes = np.diff(layout["starts"])
        # The embedded engine's draws: the audit picks' count, then one tie-breaking draw per
        # candidate (score strategies), then the audit picks themselves (see audit_picks).
        rng = np.random.default_rng([s.seed, last])
        n_cand = len(proj.pool) - len(excluded)
        n = min(n, n_cand)
        n_audit = int(rng.binomial(n, s.audit_rate)) if s.audit_rate > 0 else 0
        n_main = n - n_audit
        # A score that reads only each row's own model outputs merges exactly; one that
        # reads the pool's geometry (density, distances) goes through the pre-filter.
        if n_main <= 0:
            merged = {"positions": np.empty(0, np.int64), "scores": np.empty(0)}
            merged.update({f"proba:{t}": np.empty((0, len(c)), np.float32)
                           for t, c in classes.items()})
        elif strat.kind == "score" and not (set(strat.requires) & {"features", "embeddings"}):
            state0 = rng.bit_generator.state
            before = np.asarray(layout["starts"][:-1]) - np.searchsorted(
                excluded, layout["starts"][:-1])
            ties = [{"ties": {"state": state0, "offset": int(o)}, **a} for o, a in zip(before, pargs)]
            parts = run_parts(client, layout, {**common, "mode": TOP_K},
                              [n_main] * len(sizes), excluded, progress, ties)
            merged = merge_top_k(parts, n_main)
            rng.bit_generator.advance(n_cand)     # past the draws the parts made
        else:
            free = sizes - np.diff(np.searchsorted(excluded, layout["starts"]))
            budget = min(BATCH_CANDIDATES, int(free.sum()))
            share = [int(min(f, math.ceil(budget * f / max(1, free.sum())))) for f in free]
            parts = run_parts(client, layout, {**common, "mode": SAMPLE}, share, excluded, progress,
                              pargs)
            merged = _batch_step(proj, featurizer, models, parts, per_task, strat, params, n_main,
                                 s, QueryContext, TaskOutput, run_strategy)
    except SchedulerGoneError as exc:
        return _fall_back(proj, state, str(exc))
    except (OSError, TimeoutError) as exc:
        if not is_gone(exc):
            raise
        return _fall_back(proj, state, gone_message(engine.get("scheduler"), exc))
    del warm   # the warm-up futures were kept until the parts were scored
    accs = [v["cv_accuracy"] for v in per_task_scores.values() if v["cv_accuracy"] is not None]
    f1s = [v["cv_macro_f1"] for v in per_task_scores.values() if v["cv_macro_f1"] is not None]
    point = CurvePoint(version=store.model_version() + 1, n_labels=state.labeled_count,
                       time=time.time(), cv_accuracy=float(np.mean(accs)) if accs else None,
                       cv_macro_f1=float(np.mean(f1s)) if f1s else None,
                       audit_accuracy=None, audit_n=0, train_seconds=fit_seconds,
                       per_task=per_task_scores, model=s.model)
    if made is not None:
        made["point"] = point
    version = point.version
    if save:
        version = store.add_curve_point(point.to_dict(), event_seq=last) or store.model_version()
    queue = []
    for r, (pos, score) in enumerate(zip(merged["positions"], merged["scores"])):
        preds = {}
        for t in models:
            row = merged[f"proba:{t}"][r]
            j = int(np.argmax(row))
            preds[t] = Prediction(classes[t][j], float(row[j]))
        queue.append(QueueItem(int(pos), proj.ids[int(pos)], name, float(score), r + 1, None,
                               False, preds, version,
                               f"chosen by {name} (Dask engine, {len(sizes)} partitions)"))
    known: dict[int, Any] = {}     # the audit picks' features, for the map
    for slot, item in audit_picks(proj, featurizer, models, classes, excluded, merged["positions"],
                                  n, n_audit, rng, version, known):
        queue.insert(slot, item)
    if panels and made is not None:
        made["panels"] = collect(proj, featurizer, models, classes, parts if n_main > 0 else [],
                                 lab_rows, queue, known, version)
    if save:
        store.save_queue([it.to_dict() for it in queue], last)
    return queue


def _fall_back(proj: Any, state: Any, message: str) -> list[QueueItem]:
    previous = _previous_queue(proj, state, message)
    if not previous:
        raise SchedulerGoneError(message.replace(
            " The previous queue stays usable: label from it, and query again once the "
            "scheduler is back.", " There is no previous queue yet."))
    return previous


def _batch_step(proj, featurizer, models, parts, per_task, strat, params, n, s,
                QueryContext, TaskOutput, run_strategy) -> dict[str, np.ndarray]:
    """The exact batch step on the candidates sampled by the parts plus the labelled rows."""
    cand_pos = np.concatenate([p["positions"] for p in parts])
    cand_x = np.concatenate([p["features"] for p in parts])
    lab_rows = np.unique(np.concatenate([r for r, _ in per_task.values()]))
    lab_x_raw = rows_features(proj, featurizer, lab_rows)
    lab_x = np.asarray(lab_x_raw.toarray() if hasattr(lab_x_raw, "toarray") else lab_x_raw,
                       dtype=np.float32)
    tasks = {}
    for t, m in models.items():
        proba = np.concatenate([np.concatenate([p[f"proba:{t}"] for p in parts]),
                                m.predict_proba(lab_x_raw)])
        tasks[t] = TaskOutput(proba=proba, classes=tuple(str(c) for c in m.classes_))
    nc = len(cand_pos)
    ctx = QueryContext(n_pool=nc + len(lab_rows), candidates=np.arange(nc, dtype=np.int64),
                       labeled=np.arange(nc, nc + len(lab_rows), dtype=np.int64),
                       rng=np.random.default_rng(s.seed), features=np.vstack([cand_x, lab_x]),
                       tasks=tasks, aggregate=s.aggregate)
    result = run_strategy(strat, ctx, n, params)
    idx = np.asarray(result.indices, dtype=np.int64)
    out = {"positions": cand_pos[idx], "scores": np.asarray(result.scores, dtype=np.float64)}
    for t, task in tasks.items():
        out[f"proba:{t}"] = task.proba[idx]
    return out
