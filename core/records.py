"""The plain records the engine hands to the app and the CLI (and back).

Every record is a frozen dataclass of plain values with ``to_dict()`` (JSON-able: only dicts,
lists, strings, numbers, booleans and None; a missing score is None, never NaN) and
``from_dict()`` (its inverse: ``R.from_dict(r.to_dict()) == r``, NaN scores included). They
are what ``activelab query --json`` and ``status --json`` print, what the store keeps of a
queue, and what the app shows; nothing else decodes them.

Shared ground of core: no room is imported here.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Mapping

__all__ = [
    "CurvePoint", "DamagedRow", "Installed", "LABEL_INPUTS", "LabelEvent", "Prediction", "ProjectStatus",
    "QueueItem", "Sample", "SavedPosition", "TaskStatus",
]


def _plain(v: Any) -> Any:
    """A numpy scalar as its Python value (``json`` cannot write ``numpy.int64``)."""
    return v.item() if hasattr(v, "item") and not isinstance(v, (list, dict, str)) else v


def _score_out(v: float) -> float | None:
    v = float(v)
    return None if math.isnan(v) else v


def _score_in(v: Any) -> float:
    return float("nan") if v is None else float(v)


def _known(cls: type, d: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of ``d`` that are fields of ``cls`` (a newer writer's extra keys are ignored)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in d.items() if k in names}


@dataclass(frozen=True)
class Prediction:
    """The model's prediction for one task of one sample: a class (a list of classes for a
    multi-label task) and its confidence in [0, 1]."""

    label: Any
    confidence: float

    def to_dict(self) -> dict[str, Any]:
        return {"label": _plain(self.label), "confidence": _plain(self.confidence)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Prediction":
        return cls(d.get("label"), d.get("confidence"))


@dataclass(frozen=True)
class QueueItem:
    """One sample the loop suggests labeling next, with why (its provenance).

    ``idx``: 0-based pool position; ``score``: the strategy's score (NaN for an audit pick);
    ``rank``: 1-based rank by score (0 for an audit pick); ``percentile``: of the score among
    the candidates (None when not known); ``predictions``: task -> Prediction of the model
    that made the queue (version ``model_version``, 0 before the first model).
    """

    idx: int
    id: str
    strategy: str
    score: float
    rank: int
    percentile: float | None
    audit: bool
    predictions: dict[str, Prediction]
    model_version: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "idx": int(self.idx), "id": self.id, "strategy": self.strategy,
            "score": _score_out(self.score), "rank": int(self.rank),
            "percentile": None if self.percentile is None else float(self.percentile),
            "audit": bool(self.audit), "model_version": int(self.model_version),
            "reason": self.reason,
            "predictions": {t: p.to_dict() for t, p in self.predictions.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], idx: int | None = None) -> "QueueItem":
        """The item of ``d`` (as ``to_dict`` wrote it, or a row of the stored queue, which has
        no ``idx``: give it). Missing provenance reads as empty (strategy "", rank 0, NaN
        score, model version 0). Raises KeyError without an id, or without an idx."""
        preds = d.get("predictions") or {}
        return cls(
            int(d["idx"] if idx is None else idx), str(d["id"]), d.get("strategy") or "",
            _score_in(d.get("score")), int(d.get("rank") or 0), d.get("percentile"),
            bool(d.get("audit")), {t: Prediction.from_dict(p) for t, p in preds.items()},
            int(d.get("model_version") or 0), d.get("reason") or "",
        )

    def with_version(self, version: int) -> "QueueItem":
        """The same item, made by model ``version``."""
        return replace(self, model_version=version)


@dataclass(frozen=True)
class CurvePoint:
    """One retrain on the learning curve: model ``version`` trained on ``n_labels`` samples at
    ``time`` (seconds since the epoch) in ``train_seconds``; cross-validated accuracy and
    macro-F1 (None when they cannot be estimated), accuracy on ``audit_n`` audit picks, and the
    same per task (``per_task[task][metric]``)."""

    version: int
    n_labels: int
    time: float
    cv_accuracy: float | None
    cv_macro_f1: float | None
    audit_accuracy: float | None
    audit_n: int
    train_seconds: float
    per_task: dict[str, dict[str, float | None]]
    model: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: _plain(v) if not isinstance(v, dict) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "CurvePoint":
        d = _known(cls, d)
        d["per_task"] = dict(d.get("per_task") or {})
        d.setdefault("audit_n", 0)
        return cls(**d)


LABEL_INPUTS = ("accepted", "typed", "clicked", "kept", "cli", "imported")
"""How a label's class can be entered (``LabelEvent.input``); ``imported``: copied from a team
export when a project was made from it (``activelab.core.data.team_import``), never given
with a new label."""


@dataclass(frozen=True, slots=True)
class LabelEvent:
    """One row of the event log: a label, skip, flag, undo or redo, with its provenance.

    ``seq``: its place in the log (1, 2, …); ``group``: the ``seq`` of the first event of the
    user action it belongs to (labeling three tasks at once is one group); ``value``: the class
    (a list for a multi-label task; a flag's note); ``target_seq``: the group an undo/redo
    acts on. ``strategy``… ``confidence``: the queue item the label was given on.
    ``input``: how a label's class was entered (one of ``LABEL_INPUTS``: ``accepted`` from
    the model's suggestion with the accept key, ``typed`` with a class key or the filter,
    ``clicked`` on a class button, ``kept`` an existing label submitted again unchanged,
    ``cli`` given on the command line, ``imported`` re-imported from a team export); None
    when not known (older events, imports).
    """

    seq: int
    time: float
    kind: str
    sample_id: str | None
    task: str | None
    value: Any
    annotator: str | None
    seconds: float | None
    strategy: str | None
    score: float | None
    rank: int | None
    model_version: int | None
    audit: bool
    predicted: Any
    confidence: float | None
    target_seq: int | None
    group: int = 0
    input: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "LabelEvent":
        return cls(**_known(cls, d))


@dataclass(frozen=True)
class DamagedRow:
    """A store row that cannot be used: where it is (table and key) and why."""

    table: str
    key: str
    reason: str
    repairable: bool = True

    def __str__(self) -> str:
        return f"{self.table} {self.key}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "DamagedRow":
        return cls(**_known(cls, d))


@dataclass(frozen=True)
class Sample:
    """One pool sample as imported: ``idx`` (0-based, project order), its ``id``, every
    column (``fields``, source types), its texts (exactly as written), image reference and
    tabular values. ``to_dict`` is JSON-able when the source's values are (a timestamp column
    keeps its ``pandas.Timestamp``)."""

    idx: int
    id: str
    fields: dict[str, Any]
    texts: dict[str, str]
    image_ref: str | None
    tabular: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"idx": int(self.idx), "id": self.id, "fields": dict(self.fields),
                "texts": dict(self.texts), "image_ref": self.image_ref,
                "tabular": dict(self.tabular)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Sample":
        return cls(int(d["idx"]), str(d["id"]), dict(d.get("fields") or {}),
                   dict(d.get("texts") or {}), d.get("image_ref"), dict(d.get("tabular") or {}))


@dataclass(frozen=True)
class Installed:
    """What installing a retrain's result gave: the new learning-curve point (None when no
    model could be trained, or it is the same model version as the latest point) and the
    queue now in use (its items numbered with the version the store gave the model)."""

    point: CurvePoint | None
    queue: tuple[QueueItem, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"point": None if self.point is None else self.point.to_dict(),
                "queue": [q.to_dict() for q in self.queue]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Installed":
        p = d.get("point")
        return cls(None if p is None else CurvePoint.from_dict(p),
                   tuple(QueueItem.from_dict(q) for q in d.get("queue") or ()))


@dataclass(frozen=True)
class SavedPosition:
    """Where the expert left off: the sample on screen when the window closed and the queue
    item it was shown from (None when it was not shown from the queue, or nothing was saved)."""

    sample_id: str | None = None
    item: QueueItem | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"sample_id": self.sample_id,
                "item": None if self.item is None else self.item.to_dict()}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "SavedPosition":
        item = d.get("item")
        return cls(d.get("sample_id"), None if item is None else QueueItem.from_dict(item))


@dataclass(frozen=True)
class TaskStatus:
    """One task's progress: single/multi-label, samples labeled, labels per class."""

    multilabel: bool
    labeled: int
    classes: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"multilabel": self.multilabel, "labeled": self.labeled,
                "classes": dict(self.classes)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "TaskStatus":
        return cls(bool(d["multilabel"]), int(d["labeled"]), dict(d.get("classes") or {}))


@dataclass(frozen=True)
class ProjectStatus:
    """What ``activelab status`` reports (``--json`` prints ``to_dict()``)."""

    project: str
    samples: int
    labeled: int
    skipped: int
    flagged: int
    tasks: dict[str, TaskStatus]
    model: str
    model_version: int
    strategy: str
    strategy_params: dict[str, Any]
    latest_curve_point: CurvePoint | None
    settings: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project, "samples": self.samples, "labeled": self.labeled,
            "skipped": self.skipped, "flagged": self.flagged,
            "tasks": {t: s.to_dict() for t, s in self.tasks.items()},
            "model": self.model, "model_version": self.model_version,
            "strategy": self.strategy, "strategy_params": dict(self.strategy_params),
            "latest_curve_point": (None if self.latest_curve_point is None
                                   else self.latest_curve_point.to_dict()),
            "settings": dict(self.settings),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ProjectStatus":
        p = d.get("latest_curve_point")
        return cls(
            str(d["project"]), int(d["samples"]), int(d["labeled"]), int(d["skipped"]),
            int(d["flagged"]), {t: TaskStatus.from_dict(s) for t, s in d["tasks"].items()},
            str(d["model"]), int(d["model_version"]), str(d["strategy"]),
            dict(d.get("strategy_params") or {}), None if p is None else CurvePoint.from_dict(p),
            dict(d.get("settings") or {}),
        )
