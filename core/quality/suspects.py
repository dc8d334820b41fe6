"""Suspect labels: labels that the project's own model, trained out-of-fold, confidently
contradicts, found and ranked by confident learning.

Method: every labeled sample of a task is predicted by a copy of the project's model fitted on
the other folds (the fold rule of ``activelab.core.learning.fitting.Fitter``: stratified K-fold
per task, or folds over the shared rows for a multi-task network), so no sample is judged by a
model that saw its own label. cleanlab's ``find_label_issues`` (confident learning: Northcutt,
Jiang & Chuang, "Confident Learning: Estimating Uncertainty in Dataset Labels", JAIR 70, 2021)
then picks the samples whose given label is likely wrong, ranked by self-confidence (the
out-of-fold probability of the given label, lowest first). Multi-label tasks use cleanlab's
multi-label mode (``cleanlab.multilabel_classification``: each class judged as its own
yes/no label), ranked by its label quality score.

A class with a single label cannot be predicted out-of-fold (the fold that holds it out never
saw the class): its samples are left out and the note says how many more labels it needs.

No Qt, no I/O: ``snapshot_suspects`` is the app's worker job (it takes a training ``Snapshot``).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from activelab.core.errors import LabelError
from activelab.core.learning.cv_readiness import MIN_CV_LABELS, cv_missing, plural
from activelab.core.learning.fitting import Fitter, Labeled, take_rows
from activelab.core.learning.labels import can_fit, label_matrix
from activelab.core.progress import NULL_PROGRESS, Progress
from activelab.core.project.pick_provenance import REVIEW_SUSPECT   # the label's provenance
from activelab.core.records import Prediction, QueueItem

__all__ = ["MIN_PER_CLASS", "REVIEW_SUSPECT", "Suspect", "TaskSuspects", "find_suspects",
           "out_of_fold_proba", "rank_label_issues", "snapshot_suspects"]

#: Labels a class needs before its samples can be checked (one in each of two folds).
MIN_PER_CLASS = 2


@dataclass(frozen=True)
class Suspect:
    """One label the out-of-fold model contradicts.

    ``idx``: pool position; ``label``: the current label (a class; a list for multi-label);
    ``alternative``: the model's class (multi-label: its set of classes) and ``confidence``
    its out-of-fold probability (multi-label: the lowest probability among the classes it
    changes); ``quality``: cleanlab's label quality score of the given label in [0, 1]
    (self-confidence; lower = more suspect); ``rank``: 1 = most suspect in its task.
    """

    idx: int
    sample_id: str
    task: str
    label: Any
    alternative: Any
    confidence: float
    quality: float
    rank: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Suspect":
        return cls(int(d["idx"]), str(d["sample_id"]), str(d["task"]), d["label"],
                   d["alternative"], float(d["confidence"]), float(d["quality"]), int(d["rank"]))

    def queue_item(self, model_version: int) -> QueueItem:
        """The provenance a label given on this suspect records: strategy ``review:suspect``,
        score = label quality, its rank, and the model's alternative as the prediction."""
        shown = "|".join(self.alternative) if isinstance(self.alternative, list) else self.alternative
        given = "|".join(self.label) if isinstance(self.label, list) else self.label
        return QueueItem(int(self.idx), self.sample_id, REVIEW_SUSPECT, float(self.quality),
                         int(self.rank), None, False,
                         {self.task: Prediction(self.alternative, float(self.confidence))},
                         int(model_version),
                         f"suspect label: labeled {given!s}, the model trained without it says "
                         f"{shown!s} ({self.confidence:.0%})")


@dataclass(frozen=True)
class TaskSuspects:
    """A task's suspects, most suspect first; ``checked``: labels judged out-of-fold;
    ``note``: why none (or not every label) could be checked, None when all were."""

    task: str
    suspects: tuple[Suspect, ...]
    checked: int
    note: str | None = None


def _single_label_checkable(task: str, values: Sequence[Any]) -> tuple[np.ndarray, str | None]:
    """Positions of the labels that can be checked (classes with >= MIN_PER_CLASS labels),
    and a note saying what is missing for the rest (None when every label can be checked)."""
    ys = np.asarray([str(v) for v in values], dtype=object)
    names, counts = np.unique(ys, return_counts=True)
    ok = {str(c) for c, n in zip(names, counts) if n >= MIN_PER_CLASS}
    short = sorted((str(c), int(n)) for c, n in zip(names, counts) if n < MIN_PER_CLASS)
    keep = np.flatnonzero(np.isin(ys, list(ok))) if ok else np.empty(0, np.int64)
    if len(ok) < 2 or len(keep) < MIN_CV_LABELS:
        best = sorted(zip(counts.tolist(), names.tolist()), reverse=True)[:2]
        needs = [f"{MIN_PER_CLASS - n} more of '{c}'" for n, c in best if n < MIN_PER_CLASS]
        if len(best) < 2:
            needs.append(f"{MIN_PER_CLASS} of a second class")
        if not needs:
            needs.append(f"{MIN_CV_LABELS - len(keep)} more in all")
        return np.empty(0, np.int64), (
            f"{task}: {plural(len(ys), 'label')}; finding suspects needs out-of-fold predictions: "
            f"at least {MIN_PER_CLASS} labels in each of two classes and {MIN_CV_LABELS} in all "
            f"(label {', '.join(needs)}).")
    note = None
    if short:
        shown = ", ".join(f"'{c}'" for c, _ in short[:6]) + (
            f" and {len(short) - 6} more" if len(short) > 6 else "")
        note = (f"{task}: {plural(len(short), 'label')} of classes labeled only once "
                f"({shown}) not checked: a model trained without it never saw its class; "
                f"label {MIN_PER_CLASS - 1} more of each to check them.")
    return keep, note


def out_of_fold_proba(fitter: Fitter, X: Any, labeled: Labeled, task: Any, tasks: Sequence[Any],
                      seed: int = 0, progress: Progress = NULL_PROGRESS
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(positions, proba): for the labeled rows of ``task`` (``labeled[task.name]``), the
    positions in that list predicted out-of-fold and their (k, C) float64 probabilities over
    ``task.classes``, each from a model fitted on the other folds by the project's fold rule
    (``Fitter._task_folds``; ``_shared_folds`` over ``tasks`` for a shared multi-task model).
    Empty while no fold can be formed. Raises ModelError when a fold's fit fails."""
    rows, values = labeled[task.name]
    where = {int(r): i for i, r in enumerate(rows)}
    if fitter.model.shared_multitask:
        plans, fit_tasks = fitter._shared_folds(labeled, tasks, seed), list(tasks)
    else:
        plans, fit_tasks = fitter._task_folds(labeled, task, seed), [task]
    pos, probas = [], []
    for i, (train, test) in enumerate(plans):
        progress.update(i / max(1, len(plans)), f"'{task.name}': out-of-fold model {i + 1} "
                        f"of {len(plans)}")
        if task.name not in test:
            continue
        views = fitter.fit(X, train, fit_tasks)
        if task.name not in views:
            continue
        te_rows = test[task.name][0]
        probas.append(np.asarray(views[task.name].predict_proba(take_rows(X, te_rows)), float))
        pos.append(np.asarray([where[int(r)] for r in te_rows], np.int64))
    C = len(task.classes)
    if not pos:
        return np.empty(0, np.int64), np.empty((0, C))
    return np.concatenate(pos), np.concatenate(probas)


def rank_label_issues(given: Sequence[Any], proba: np.ndarray, classes: Sequence[str],
                      multilabel: bool) -> tuple[np.ndarray, np.ndarray]:
    """cleanlab's confident learning on one task: (issues, quality) where ``issues`` are the
    positions in ``given`` whose label is likely wrong, most suspect first (ranked by
    self-confidence), and ``quality`` the (n,) label quality score of every label.
    ``proba``: (n, C) out-of-fold probabilities over ``classes``. Only classes that occur in
    the labels take part (cleanlab needs each column's class to be labeled)."""
    classes = [str(c) for c in classes]
    if multilabel:
        from cleanlab.multilabel_classification import get_label_quality_scores
        from cleanlab.multilabel_classification.filter import find_label_issues as ml_issues

        Y = label_matrix(given, classes)
        cols = np.flatnonzero((Y.sum(0) > 0) & (Y.sum(0) < len(Y)))
        if len(cols) == 0:
            return np.empty(0, np.int64), np.ones(len(given))
        lab = [[int(j) for j in np.flatnonzero(row)] for row in Y[:, cols]]
        p = np.clip(proba[:, cols], 0.0, 1.0)
        issues = ml_issues(lab, p, n_jobs=1, return_indices_ranked_by="self_confidence")
        return np.asarray(issues, np.int64), get_label_quality_scores(lab, p)
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    ys = [str(v) for v in given]
    present = sorted(set(ys), key=classes.index)
    cols = np.asarray([classes.index(c) for c in present])
    p = np.clip(proba[:, cols], 1e-12, None)
    p = p / p.sum(axis=1, keepdims=True)
    lab = np.asarray([present.index(c) for c in ys])
    issues = find_label_issues(lab, p, n_jobs=1, return_indices_ranked_by="self_confidence")
    return np.asarray(issues, np.int64), get_label_quality_scores(lab, p, method="self_confidence")


def _alternative(label: Any, p: np.ndarray, classes: Sequence[str], multilabel: bool
                 ) -> tuple[Any, float]:
    """The model's alternative to ``label`` and its probability (see ``Suspect``)."""
    if not multilabel:
        q = p.copy()
        q[list(classes).index(str(label))] = -1.0
        j = int(q.argmax())
        return classes[j], float(p[j])
    have = label_matrix([label], classes)[0].astype(bool)
    says = p >= 0.5
    changed = np.flatnonzero(says != have)
    if len(changed) == 0:          # the set agrees at 0.5: change its least certain class
        changed = np.asarray([int(np.argmin(np.where(have, p, 1.0 - p)))])
        says = have.copy()
        says[changed] = ~says[changed]
    conf = float(np.min(np.where(says[changed], p[changed], 1.0 - p[changed])))
    return [c for c, on in zip(classes, says) if on], conf


def find_suspects(fitter: Fitter, X: Any, labeled: Labeled, tasks: Sequence[Any],
                  ids: Sequence[str], *, only: str | None = None, seed: int = 0,
                  progress: Progress = NULL_PROGRESS) -> dict[str, TaskSuspects]:
    """Per task (only ``only`` when given): its suspect labels, ranked (see the module doc).
    ``X``: the model's input for the pool; ``labeled``: task -> (pool rows, labels);
    ``ids``: sample ids by pool row. A task that cannot be checked yet has no suspects and a
    note saying how many more labels it needs. Raises ModelError when a fit fails."""
    out: dict[str, TaskSuspects] = {}
    chosen = [t for t in tasks if only is None or t.name == only]
    for k, task in enumerate(chosen):
        step = progress.sub(k / len(chosen), (k + 1) / len(chosen))
        rows, values = labeled.get(task.name, (np.empty(0, np.int64), []))
        values = list(values)
        if not values:
            out[task.name] = TaskSuspects(task.name, (), 0, (
                f"{task.name}: no labels yet; finding suspects needs at least {MIN_PER_CLASS} "
                f"labels in each of two classes."))
            continue
        if task.multilabel:
            why = cv_missing(task.name, True, _set_counts(values), len(values))
            keep = np.arange(len(values)) if why is None else np.empty(0, np.int64)
            note = None if why is None else f"{why} (out-of-fold predictions need them)"
        else:
            keep, note = _single_label_checkable(task.name, values)
        if len(keep) == 0:
            out[task.name] = TaskSuspects(task.name, (), 0, note)
            continue
        sub = {**labeled, task.name: (np.asarray(rows)[keep], [values[i] for i in keep])}
        pos, proba = out_of_fold_proba(fitter, X, sub, task, tasks, seed, step)
        if len(pos) < MIN_CV_LABELS or not can_fit([sub[task.name][1][i] for i in pos],
                                                   task.multilabel):
            out[task.name] = TaskSuspects(task.name, (), 0, note or (
                f"{task.name}: too few labels for out-of-fold predictions yet; label more."))
            continue
        given = [sub[task.name][1][i] for i in pos]
        step.update(0.95, f"'{task.name}': confident learning over {len(pos)} labels")
        issues, quality = rank_label_issues(given, proba, task.classes, task.multilabel)
        issues = issues[np.argsort(quality[issues], kind="stable")]   # rank = shown quality
        classes = [str(c) for c in task.classes]
        found = []
        for rank, j in enumerate(issues, start=1):
            row = int(sub[task.name][0][pos[j]])
            alt, conf = _alternative(given[j], proba[j], classes, task.multilabel)
            q = float(quality[j])
            found.append(Suspect(row, str(ids[row]), task.name, given[j], alt, conf,
                                 q if math.isfinite(q) else 0.0, rank))
        out[task.name] = TaskSuspects(task.name, tuple(found), len(pos), note)
    return out


def _set_counts(values: Sequence[Any]) -> dict[str, int]:
    """Label sets by how often each occurs (what ``cv_missing`` counts for multi-label)."""
    counts: dict[str, int] = {}
    for v in values:
        key = "|".join(sorted(v)) if isinstance(v, (list, tuple)) else str(v)
        counts[key] = counts.get(key, 0) + 1
    return counts


def snapshot_suspects(snapshot: Any, only: str | None = None,
                      progress: Progress = NULL_PROGRESS) -> dict[str, TaskSuspects]:
    """``find_suspects`` on a training ``Snapshot`` (``activelab.core.loop.cycle``) with the
    project's model, features and seed: the app's worker job and the CLI's computation. The
    labels judged (and shown) are the ones the model is trained on: in a team project the
    resolved label (ties decided by Dawid-Skene here, so worker-side only).
    Raises ModelError when the model cannot be fitted, LabelError for an unknown task."""
    from activelab.core.loop.cycle import snapshot_model
    from activelab.core.team.training import resolve_ties

    if only is not None and only not in {t.name for t in snapshot.spec.tasks}:
        raise LabelError(f"No task named '{only}'. Tasks: "
                         f"{', '.join(t.name for t in snapshot.spec.tasks)}.")
    snapshot = resolve_ties(snapshot)   # the labels the model is trained on (Dawid-Skene ties)
    model = snapshot_model(snapshot)
    X = model.input_of(snapshot.features)
    return find_suspects(Fitter(model), X, snapshot.labeled, snapshot.spec.tasks, snapshot.ids,
                         only=only, seed=snapshot.settings.seed, progress=progress)
