"""An in-memory ``LabelingEngine`` (``activelab.core.project.engine``) for widget tests.

Only for testing the app's wiring in isolation; flows that matter end to end also run against
the real Project in test_labeling_flow.py. ``test_engine_contract.py`` checks that this fake and
``Project`` both implement the protocol, member by member.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from PIL import Image

from activelab.core.data.spec import DatasetSpec, TaskSpec
from activelab.core.loop.cycle import RetrainResult
from activelab.core.loop.settings import Settings
# The engine's own records, so the fake cannot drift from the real contract.
from activelab.core.records import (
    CurvePoint, Installed, LabelEvent, Prediction, QueueItem, Sample, SavedPosition,
)

__all__ = ["FakeProject", "FakeSnapshot", "Sample", "fake_retrain"]


@dataclass(frozen=True)
class FakeSnapshot:
    labels: dict
    version: int
    event_seq: int
    fail: bool = False


def fake_retrain(snapshot: FakeSnapshot, progress) -> RetrainResult:
    """Worker-side stand-in for ``activelab.core.loop.cycle.retrain_and_query``."""
    progress.update(0.5, "fitting")
    if snapshot.fail:
        raise ValueError("the model cannot fit: broken on purpose")
    n = len(set().union(*[set(v) for v in snapshot.labels.values()]))
    point = CurvePoint(snapshot.version + 1, n, time.time(), 0.5, 0.4, None, 0, 0.01, {})
    return RetrainResult(None, point, [], snapshot.event_seq, f"model v{point.version} trained")


class FakeProject:
    """Digits-like images with one (or two) tasks; queue = next unlabeled in order.

    ``retrain``: the worker job its snapshots are retrained with (``fake_retrain``)."""

    def __init__(self, path: Path, n: int = 60, tasks: tuple[TaskSpec, ...] | None = None,
                 modality: str = "image",
                 retrain: Callable[[FakeSnapshot, Any], RetrainResult] = fake_retrain) -> None:
        self.path = Path(path)
        tasks = tasks or (TaskSpec("digit", tuple(str(i) for i in range(10))),)
        self.spec = DatasetSpec(
            image_column="image" if modality in ("image", "multi") else None,
            text_columns=("text",) if modality in ("text", "multi") else (),
            feature_columns=("a", "b") if modality in ("tabular", "multi") else (),
            tasks=tasks,
        )
        self.ids = [f"s{i}" for i in range(n)]
        self.decisions: list[str] = []
        self._settings = Settings(annotator="tester")
        self._app_name: str | None = None
        self._retrain = retrain
        self._n = n
        self._version = 0
        self._read_only = False    # Project.read_only: opened read-only, every write refused
        self._events: list[LabelEvent] = []
        self._undone: list[list[LabelEvent]] = []
        self._groups: list[list[LabelEvent]] = []
        self._curve: list[CurvePoint] = []
        self._queue: list[QueueItem] = self._make_queue(set())
        self._position = SavedPosition()
        rng = np.random.default_rng(0)
        self._images = (rng.random((n, 8, 8)) * 255).astype(np.uint8)

    # what it is
    @property
    def name(self) -> str:
        return self.path.name

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def n_samples(self) -> int:
        return self._n

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def read_only_reason(self) -> str | None:
        return "opened read-only" if self._read_only else None

    @property
    def reads_in_place(self) -> bool:
        return False

    def pool_panels(self) -> Any:
        return None

    @property
    def model_version(self) -> int:
        return self._version

    @property
    def features(self) -> Any:
        return type("Features", (), {"dense": np.random.default_rng(0).normal(size=(self._n, 4))})()

    # the pool
    def sample(self, idx: int) -> Sample:
        return Sample(idx, self.ids[idx], {"text": f"sample {idx} " * 30, "a": idx, "b": 2 * idx},
                      {"text": f"This is sample number {idx}. " * 20} if self.spec.text_columns else {},
                      f"@array:{idx}" if self.spec.image_column else None,
                      {"a": idx, "b": 2.5 * idx} if self.spec.feature_columns else {})

    def index_of(self, sample_id: str) -> int:
        return self.ids.index(sample_id)

    def image(self, idx: int, size: int | None = None) -> Image.Image:
        return Image.fromarray(self._images[idx])

    def image_array(self) -> np.ndarray | None:
        return None

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

    def labels(self) -> dict[str, Mapping[int, Any]]:
        return self._state()[0]

    def labeled_count(self) -> int:
        return len(set().union(*[set(v) for v in self.labels().values()]))

    def class_counts(self) -> dict[str, dict[str, int]]:
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

    def _append(self, evs: list[LabelEvent]) -> list[LabelEvent]:
        self._events.extend(evs)
        self._groups.append(evs)
        self._undone.clear()
        return evs

    def _ev(self, kind: str, sample_id: str, task: str | None, value: Any, seconds=None,
            annotator: str | None = None) -> LabelEvent:
        seq = len(self._events) + 1
        return LabelEvent(seq, time.time(), kind, sample_id, task, value, annotator or self._settings.annotator,
                          seconds, None, None, None, None, False, None, None, None, group=seq)

    def label_sample(self, sample_id: str, values: Mapping[str, Any], *, annotator: str | None = None,
                     seconds: float | None = None, item: QueueItem | None = None,
                     inputs: Mapping[str, str] | None = None) -> list[LabelEvent]:
        inputs = inputs or {}
        return self._append([replace(self._ev("label", sample_id, t, v, seconds, annotator),
                                     input=inputs.get(t))
                             for t, v in values.items()])

    def skip(self, sample_id: str, *, annotator: str | None = None) -> LabelEvent:
        return self._append([self._ev("skip", sample_id, None, None, annotator=annotator)])[0]

    def flag(self, sample_id: str, *, annotator: str | None = None) -> LabelEvent:
        return self._append([self._ev("flag", sample_id, None, None, annotator=annotator)])[0]

    # several annotators: one annotator, nothing hidden, every claim granted
    @property
    def annotator(self) -> str:
        return self._app_name or self._settings.annotator

    def set_annotator(self, name: str | None, *, source: str = "flag") -> str:
        self._app_name = name
        return self.annotator

    def default_annotator(self) -> str:
        return self._settings.annotator

    def annotator_names(self) -> set[str]:
        return {e.annotator for e in self._events if e.annotator} - {"import"}

    def claim(self, sample_id: str) -> bool:
        return True

    def release_claims(self) -> None:
        pass

    def shown_labels(self, idx: int) -> dict[str, Any]:
        return {task: per[idx] for task, per in self.labels().items() if idx in per}

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

    def update_settings(self, **changes: Any) -> Settings:
        old, self._settings = self._settings, self._settings.updated(**changes)
        if Settings.invalidates_queue(old, self._settings):
            self._queue = []      # as the real project: the prepared queue is stale
        return self._settings

    # the model and the queue
    def _make_queue(self, done: set) -> list[QueueItem]:
        out = []
        for idx in range(self._n):
            if idx in done:
                continue
            preds = {t.name: Prediction(t.classes[idx % len(t.classes)], 0.5) for t in self.spec.tasks} \
                if self._version else {}
            out.append(QueueItem(idx, self.ids[idx], self._settings.strategy, 1.0 / (idx + 1), len(out) + 1,
                                 100.0 - len(out), False, preds, self._version,
                                 "cold start: diverse pick" if not self._version else "highest entropy"))
            if len(out) >= self._settings.batch_size:
                break
        return out

    def curve(self) -> list[CurvePoint]:
        return list(self._curve)

    def queue(self) -> list[QueueItem]:
        labels, skipped = self._state()
        done = set(skipped).union(*[set(v) for v in labels.values()])
        return [q for q in self._queue if q.idx not in done]

    def training_snapshot(self) -> FakeSnapshot:
        return FakeSnapshot(self.labels(), self._version, len(self._events),
                            fail=self._settings.model == "broken")

    def retrain_function(self) -> Callable[[FakeSnapshot, Any], RetrainResult]:
        return self._retrain

    def retrain_request(self, snapshot: FakeSnapshot) -> Any | None:
        return None               # retrained in a thread, never in the training process

    def install(self, result: RetrainResult, *, keep_queue: bool = False) -> Installed:
        point = result.curve_point
        self._version = point.version
        labels, skipped = self._state()
        done = set(skipped).union(*[set(v) for v in labels.values()])
        if not (keep_queue and self.queue()):
            self._queue = self._make_queue(done)
        self._curve.append(point)
        return Installed(point, tuple(self.queue()))

    def model_state(self) -> Any:
        return self._version or None

    def predictions(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        return {t.name: (np.array([t.classes[0]] * self._n, dtype=object),
                         np.full(self._n, 0.5)) for t in self.spec.tasks}

    def suggestion(self, idx: int) -> dict[str, Prediction]:
        if not self._version:
            return {}
        return {t.name: Prediction(t.classes[0], 0.5) for t in self.spec.tasks}

    def pool_projection(self) -> np.ndarray:
        return np.random.default_rng(0).normal(size=(self._n, 2))

    # where the expert left off
    def save_position(self, sample_id: str | None, item: QueueItem | None,
                      queue: Sequence[QueueItem]) -> None:
        if sample_id is not None:
            self._position = SavedPosition(sample_id, item)

    def saved_position(self) -> SavedPosition:
        return self._position

    def close(self) -> None:
        pass
