"""The first labels: which representation the cold-start picks use, and zero-shot class seeking.

Before a task has a model, the loop picks with the cold-start strategy (TypiClust) on the
best representation the project has (``cold_start_representation``), and, when the text
features are sentence embeddings, shows zero-shot suggestions (``activelab.core.learning.
zero_shot``) on every queued sample and spends part of each batch looking for the classes
nobody has labeled yet (``seek_unseen_classes``): the sample the zero-shot suggestions find
likeliest to be such a class. That goes on after the first model too (which cannot predict a
class it has never seen) for a fifth of each batch, until every class has a label or the
suggestions for a class have missed ``MAX_MISSES`` times.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from activelab.core.data.spec import DatasetSpec

#: A class is no longer looked for once this many labeled samples had it as their zero-shot
#: suggestion but were labeled otherwise (the class may not be in the pool at all).
MAX_MISSES = 5


def cold_start_representation(features: Any) -> np.ndarray | None:
    """What the cold-start picks measure distances in: a pretrained embedding block (sentence
    embeddings of the text, or pretrained image features) when it is the project's only
    feature block, else the dense view (which, with several embedding blocks, is already a
    PCA of them side by side). None when the features have neither."""
    blocks = getattr(features, "blocks", None) or {}
    if len(blocks) == 1:
        (name, block), = blocks.items()
        pretrained_image = name == "image" and getattr(features, "image_shape", None) is None
        sentence_text = name == "text" and isinstance(block, np.ndarray)
        if (pretrained_image or sentence_text) and isinstance(block, np.ndarray):
            return block
    return getattr(features, "dense", None)


def unseen_classes(spec: DatasetSpec, labeled: Mapping[str, tuple[np.ndarray, list[Any]]]
                   ) -> dict[str, list[str]]:
    """Per single-label task, its classes that no sample is labeled with yet (tasks with
    none left are omitted)."""
    out: dict[str, list[str]] = {}
    for t in spec.tasks:
        if t.multilabel:
            continue
        seen = {str(v) for v in labeled.get(t.name, (None, []))[1]}
        missing = [c for c in t.classes if str(c) not in seen]
        if missing:
            out[t.name] = missing
    return out


@dataclass(frozen=True)
class SeekPick:
    """A sample queued because the zero-shot suggestions find it the likeliest of a class
    not labeled yet: pool index, task, class and that class's suggestion probability."""

    idx: int
    task: str
    cls: str
    probability: float


def seek_unseen_classes(spec: DatasetSpec, labeled: Mapping[str, tuple[np.ndarray, list[Any]]],
                        suggestions: Mapping[str, np.ndarray], candidates: np.ndarray,
                        n: int, rng: np.random.Generator) -> list[SeekPick]:
    """At most ``n`` picks, one per unseen class (tasks and classes taken in turn, a random
    order within a task): for class c, the candidate with the highest zero-shot probability of
    c among those not picked yet. A class whose suggestions missed MAX_MISSES times (labeled
    samples suggested as c, labeled otherwise) is skipped. ``suggestions``: task -> (N, C)."""
    if n <= 0 or len(candidates) == 0:
        return []
    queues: list[list[tuple[str, int]]] = []
    for task, missing in unseen_classes(spec, labeled).items():
        proba = suggestions.get(task)
        if proba is None:
            continue
        classes = [str(c) for c in spec.task(task).classes]
        rows, values = labeled.get(task, (np.empty(0, np.int64), []))
        top = proba[np.asarray(rows, dtype=np.int64)].argmax(axis=1) if len(rows) else np.empty(0)
        vals = np.array([str(v) for v in values], dtype=object)
        keep = []
        for c in missing:
            j = classes.index(str(c))
            if int(np.sum((top == j) & (vals != str(c)))) < MAX_MISSES:
                keep.append((task, j))
        order = rng.permutation(len(keep))
        queues.append([keep[i] for i in order])
    picks: list[SeekPick] = []
    taken: set[int] = set()
    cand = np.asarray(candidates, dtype=np.int64)
    while len(picks) < n and any(queues):
        for q in queues:
            if not q or len(picks) >= n:
                continue
            task, j = q.pop(0)
            p = np.asarray(suggestions[task][cand, j], dtype=np.float64)
            if taken:
                p = np.where(np.isin(cand, list(taken)), -np.inf, p)
            best = int(np.argmax(p))
            if not np.isfinite(p[best]):
                continue
            taken.add(int(cand[best]))
            picks.append(SeekPick(int(cand[best]), task, str(spec.task(task).classes[j]),
                                  float(p[best])))
    return picks
