"""An in-memory stand-in for activelab.core.project.project.Project (the ENGINE_API contract) for widget tests.

Only for testing the app's wiring in isolation; flows that matter end to end also run against
the real Project in test_labeling_flow.py.
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from activelab.core.data.spec import DatasetSpec, TaskSpec


# The engine's own plain-data types, so the fake cannot drift from the real contract.
from activelab.core.loop.cycle import CurvePoint, Prediction, QueueItem  # noqa: E402
from activelab.core.project.project import Sample  # noqa: E402
from activelab.core.loop.settings import Settings  # noqa: E402
from activelab.core.store.store import LabelEvent  # noqa: E402


@dataclass(frozen=True)
class Snapshot:
    labels: dict
    version: int
    fail: bool = False


@dataclass(frozen=True)
class RetrainResult:
    version: int
    n_labels: int
    queue: list


class FakeProject:
    """Digits-like images with one (or two) tasks; queue = next unlabeled in order."""

    def __init__(self, path: Path, n: int = 60, tasks: tuple[TaskSpec, ...] | None = None,
                 modality: str = "image") -> None:
        self.path = Path(path)
        self.name = self.path.name
        tasks = tasks or (TaskSpec("digit", tuple(str(i) for i in range(10))),)
        self.spec = DatasetSpec(
            image_column="image" if modality in ("image", "multi") else None,
            text_columns=("text",) if modality in ("text", "multi") else (),
            feature_columns=("a", "b") if modality in ("tabular", "multi") else (),
            tasks=tasks,
        )
        self.settings = Settings(annotator="tester")
        self.n_samples = n
        self.ids = [f"s{i}" for i in range(n)]
        self.model_version = 0
        self.read_only = False     # Project.read_only: opened read-only, every write refused
        self._events: list[LabelEvent] = []
        self._undone: list[list[LabelEvent]] = []
        self._groups: list[list[LabelEvent]] = []
        self._curve: list[CurvePoint] = []
        self._queue: list[QueueItem] = self._make_queue(set())
        rng = np.random.default_rng(0)
        self._images = (rng.random((n, 8, 8)) * 255).astype(np.uint8)

    # data
    def sample(self, idx: int) -> Sample:
        return Sample(idx, self.ids[idx], {"text": f"sample {idx} " * 30, "a": idx, "b": 2 * idx},
                      {"text": f"This is sample number {idx}. " * 20} if self.spec.text_columns else {},
                      f"@array:{idx}" if self.spec.image_column else None,
                      {"a": idx, "b": 2.5 * idx} if self.spec.feature_columns else {})

    def index_of(self, sample_id: str) -> int:
        return self.ids.index(sample_id)

    def image(self, idx: int, size: int | None = None) -> Image.Image:
        return Image.fromarray(self._images[idx])

    # labels
    def _state(self) -> tuple[dict, set]:
        labels: dict[str, dict[int, Any]] = {t.name: {} for t in self.spec.tasks}
        skipped: set[int] = set()
        for group in self._groups:
            for ev in group:
                idx = self.index_of(ev.sample_id)
                if ev.kind == "label":
                    labels[ev.task][idx] = ev.value
                elif ev.kind == "skip":
                    skipped.add(idx)
        return labels, skipped

    def labels(self) -> dict:
        return self._state()[0]

    def skipped(self) -> set:
        return self._state()[1]

    def labeled_count(self) -> int:
        return len(set().union(*[set(v) for v in self.labels().values()]))

    def class_counts(self) -> dict:
        out = {}
        for t in self.spec.tasks:
            counts = {c: 0 for c in t.classes}
            for v in self.labels()[t.name].values():
                for c in (v if isinstance(v, list) else [v]):
                    counts[c] = counts.get(c, 0) + 1
            out[t.name] = counts
        return out

    def history(self, limit: int = 50) -> list[LabelEvent]:
        return list(reversed(self._events))[:limit]

    def curve(self) -> list[CurvePoint]:
        return list(self._curve)

    def _append(self, evs: list[LabelEvent]) -> list[LabelEvent]:
        self._events.extend(evs)
        self._groups.append(evs)
        self._undone.clear()
        return evs

    def _ev(self, kind: str, sample_id: str, task: str | None, value: Any, seconds=None) -> LabelEvent:
        seq = len(self._events) + 1
        return LabelEvent(seq, time.time(), kind, sample_id, task, value, self.settings.annotator,
                          seconds, None, None, None, None, False, None, None, None, group=seq)

    def label_sample(self, sample_id: str, values: dict, *, seconds=None, item=None) -> list[LabelEvent]:
        return self._append([self._ev("label", sample_id, t, v, seconds) for t, v in values.items()])

    def skip(self, sample_id: str) -> LabelEvent:
        return self._append([self._ev("skip", sample_id, None, None)])[0]

    def flag(self, sample_id: str) -> LabelEvent:
        return self._append([self._ev("flag", sample_id, None, None)])[0]

    def undo(self) -> LabelEvent | None:
        if not self._groups:
            return None
        group = self._groups.pop()
        self._undone.append(group)
        self._events.append(self._ev("undo", group[0].sample_id, None, None))
        return group[0]

    def redo(self) -> LabelEvent | None:
        if not self._undone:
            return None
        group = self._undone.pop()
        self._groups.append(group)
        self._events.append(self._ev("redo", group[0].sample_id, None, None))
        return group[0]

    def update_settings(self, **changes) -> Settings:
        self.settings = dataclasses.replace(self.settings, **changes)
        return self.settings

    # queue and model
    def _make_queue(self, done: set) -> list[QueueItem]:
        out = []
        for idx in range(self.n_samples):
            if idx in done:
                continue
            preds = {t.name: Prediction(t.classes[idx % len(t.classes)], 0.5) for t in self.spec.tasks} \
                if self.model_version else {}
            out.append(QueueItem(idx, self.ids[idx], self.settings.strategy, 1.0 / (idx + 1), len(out) + 1,
                                 100.0 - len(out), False, preds, self.model_version,
                                 "cold start: diverse pick" if not self.model_version else "highest entropy"))
            if len(out) >= self.settings.batch_size:
                break
        return out

    def queue(self) -> list[QueueItem]:
        labels, skipped = self._state()
        done = set(skipped).union(*[set(v) for v in labels.values()])
        return [q for q in self._queue if q.idx not in done]

    def training_snapshot(self) -> Snapshot:
        return Snapshot(self.labels(), self.model_version, fail=self.settings.model == "broken")

    def install(self, result: RetrainResult) -> CurvePoint:
        self.model_version = result.version
        labels, skipped = self._state()
        done = set(skipped).union(*[set(v) for v in labels.values()])
        self._queue = self._make_queue(done)
        p = CurvePoint(result.version, result.n_labels, time.time(), 0.5, 0.4, None, 0, 0.01, {})
        self._curve.append(p)
        return p

    @property
    def features(self):
        return type("Features", (), {"dense": np.random.default_rng(0).normal(size=(self.n_samples, 4))})()

    def model_state(self):
        return self.model_version or None

    def predictions(self) -> dict:
        return {t.name: (np.array([t.classes[0]] * self.n_samples, dtype=object),
                         np.full(self.n_samples, 0.5)) for t in self.spec.tasks}

    def pool_projection(self) -> np.ndarray:
        return np.random.default_rng(0).normal(size=(self.n_samples, 2))


def fake_retrain(snapshot: Snapshot, progress) -> RetrainResult:
    """Worker-side stand-in for loop.retrain_and_query."""
    progress.update(0.5, "fitting")
    if snapshot.fail:
        raise ValueError("the model cannot fit: broken on purpose")
    n = len(set().union(*[set(v) for v in snapshot.labels.values()]))
    return RetrainResult(snapshot.version + 1, n, [])
