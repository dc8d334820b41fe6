"""``LabelingEngine``: exactly what the app uses of a project.

``activelab.core.project.project.Project`` implements it, and so does the app tests' in-memory
fake (``tests/app/fake_engine.py``); ``tests/app/test_engine_contract.py`` checks both member by
member (same parameters, same kinds, extra ones optional). The app is typed against this
protocol and uses nothing else of a project: no attribute probes, no store.

Reads the app makes per key press (labels, counts, history, the queue entry of a sample) cost
O(1) in the number of events of the project (see ``activelab.core.store.label_state``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, Sequence, runtime_checkable

import numpy as np

from activelab.core.data.spec import DatasetSpec
from activelab.core.loop.cycle import ModelState, RetrainResult, Snapshot
from activelab.core.loop.settings import Settings
from activelab.core.progress import Progress
from activelab.core.records import (
    CurvePoint, Installed, LabelEvent, Prediction, QueueItem, Sample, SavedPosition,
)

__all__ = ["LabelingEngine"]


@runtime_checkable
class LabelingEngine(Protocol):
    """A project open for labeling, as the app sees it."""

    # ------------------------------------------------------------------ what it is
    path: Path
    spec: DatasetSpec
    ids: list[str]
    decisions: list[str]

    @property
    def name(self) -> str: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def n_samples(self) -> int: ...

    @property
    def read_only(self) -> bool: ...

    @property
    def read_only_reason(self) -> str | None: ...

    @property
    def model_version(self) -> int: ...

    @property
    def features(self) -> Any: ...

    @property
    def reads_in_place(self) -> bool: ...   # a Dask-engine project (issue 13)

    # ------------------------------------------------------------------ the pool
    def sample(self, idx: int) -> Sample: ...

    def index_of(self, sample_id: str) -> int: ...

    def image(self, idx: int, size: int | None = None) -> Any: ...

    def image_array(self) -> np.ndarray | None: ...

    # ------------------------------------------------------------------ labels (O(1) reads)
    def labels(self) -> dict[str, Mapping[int, Any]]: ...

    def labeled_count(self) -> int: ...

    def class_counts(self) -> dict[str, dict[str, int]]: ...

    def history(self, limit: int = 50) -> list[LabelEvent]: ...

    # ``annotator``: who gives the label (the app's per-machine name); None: the project's setting.
    def label_sample(self, sample_id: str, values: Mapping[str, Any], *, annotator: str | None = None,
                     seconds: float | None = None, item: QueueItem | None = None,
                     inputs: Mapping[str, str] | None = None) -> list[LabelEvent]: ...

    def skip(self, sample_id: str, *, annotator: str | None = None) -> LabelEvent: ...

    def flag(self, sample_id: str, *, annotator: str | None = None) -> LabelEvent: ...

    # Undo/redo act on ``annotator``'s own actions only (others' are never touched).
    def undo(self) -> LabelEvent | None: ...

    def redo(self) -> LabelEvent | None: ...

    # ------------------------------------------------------------------ several annotators
    @property
    def annotator(self) -> str: ...

    # ``source``: "app" for the app's per-machine name (a command's --annotator is "flag").
    def set_annotator(self, name: str | None, *, source: str = "flag") -> str: ...

    # The name recorded when none is given (this computer's login@host).
    def default_annotator(self) -> str: ...

    # Every name that acted (labels imported with the data and nameless events left out).
    def annotator_names(self) -> set[str]: ...

    def claim(self, sample_id: str) -> bool: ...

    def release_claims(self) -> None: ...

    def shown_labels(self, idx: int) -> dict[str, Any]: ...

    def update_settings(self, **changes: Any) -> Settings: ...

    # ------------------------------------------------------------------ the model and the queue
    def curve(self) -> list[CurvePoint]: ...

    def queue(self) -> list[QueueItem]: ...

    def training_snapshot(self) -> Snapshot: ...

    def retrain_function(self) -> Callable[[Snapshot, Progress], RetrainResult]: ...

    def retrain_request(self, snapshot: Snapshot) -> Any | None: ...

    def install(self, result: RetrainResult, *, keep_queue: bool = False) -> Installed: ...

    def model_state(self) -> ModelState | None: ...

    def predictions(self) -> dict[str, tuple[np.ndarray, np.ndarray]]: ...

    def suggestion(self, idx: int) -> dict[str, Prediction]: ...

    def pool_projection(self) -> np.ndarray: ...

    def pool_panels(self) -> Any: ...   # a Dask project's PoolPanels (core/scale/panels.py) or None

    # ------------------------------------------------------------------ where the expert left off
    def save_position(self, sample_id: str | None, item: QueueItem | None,
                      queue: Sequence[QueueItem]) -> None: ...

    def saved_position(self) -> SavedPosition: ...

    def close(self) -> None: ...
