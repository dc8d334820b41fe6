"""A project folder: the store (source of truth), the imported samples, derived features.

``Project`` is the Python API a data scientist uses and what the CLI and GUI call. Writes go
to the store and are committed before a method returns. Models are derived data kept in memory
(and rebuilt on demand), never unpickled from disk.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from activelab.core.errors import ActiveLabError, LabelError, ProjectError, StoreWriteError
from activelab.core.data.export_columns import check_class_name, parse_multilabel_cell
from activelab.core.project.create import CACHE_DIR, IMAGES_NPY
from activelab.core.store.pool import Pool
from activelab.core.store.samples import SampleIds
from activelab.core.project.model_side import ProjectModelMixin
from activelab.core.loop.settings import Settings
from activelab.core.data.spec import DatasetSpec, FeatureConfig, TaskSpec
from activelab.core.store.store import STORE_NAME, LabelEvent, LabelStore, LabelState
from activelab.core.store.events import event_problem

__all__ = [
    "Project", "Settings", "Sample", "QueueItem", "LabelEvent", "CurvePoint", "Prediction",
]


def __getattr__(name: str) -> Any:
    # The loop's records, re-exported without importing the loop (and scikit-learn) when a
    # command only labels or reads the status.
    if name in ("QueueItem", "CurvePoint", "Prediction", "ModelState"):
        from activelab.core.loop import cycle

        return getattr(cycle, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Sample:
    idx: int
    id: str
    fields: dict[str, Any]
    texts: dict[str, str]
    image_ref: str | None
    tabular: dict[str, Any]


class Project(ProjectModelMixin):
    """An activelab project folder. Create with ``Project.create``, open with ``Project.open``."""

    def __init__(self, path: Path, store: LabelStore) -> None:
        self.path = path
        self.store = store
        spec = store.get_setting("spec", expect=dict)
        if spec is None:
            raise ProjectError(
                f"The project store {store.path} has no spec (settings key 'spec' is missing or "
                "damaged), so its tasks and columns are unknown. Restore project.sqlite from a "
                f"backup; 'activelab check {path}' lists what else is damaged."
            )
        self.spec = DatasetSpec.from_dict(spec)
        self.feature_config = store.get_setting_as("feature_config", FeatureConfig.from_dict, FeatureConfig())
        # A damaged setting falls back to its default; the problems are kept for reports.
        self._settings, self.settings_problems = Settings.load(
            store.get_setting("settings", {}, expect=dict) or {})
        if self.settings_problems:   # listed by 'activelab check' like any damaged row
            store.report_damage("settings", "key 'settings'",
                                "cannot be read (" + "; ".join(self.settings_problems) + ")")
        # Ids are looked up in the store as needed, not read at open (see core.store.samples).
        self.ids = SampleIds(store)
        self._index = self.ids.index
        self._task_classes: tuple[DatasetSpec, dict[str, tuple[bool, frozenset[str]]]] | None = None
        store.event_filter = self._event_problem   # damaged events are skipped, and reported
        self._features = None
        self._image_array = None
        self._state = None          # the loop's ModelState, once a model is trained
        self._projection = None     # (n_samples, 2) pool map, once computed
        self._pool: Pool | None = None
        self.decisions: list[str] = list(store.get_setting("decisions", [], expect=list))

    # ---------------------------------------------------------------- creation and opening
    @classmethod
    def create(cls, path: str | Path, *, data: str | Path, **options: Any) -> "Project":
        """Import ``data`` into a new project folder; atomic: on error nothing is left behind.

        Options: format, encoding, read_options (delimiter, decimal, na_values for
        ``activelab.core.data.read.read_table``), id_column, text_columns, image_column, feature_columns,
        tasks, multilabel, import_labels, model, model_params, strategy, feature_config,
        settings, progress (see ``activelab.core.project.create.create_project``).
        """
        from activelab.core.project.create import create_project
        from activelab.core.store.temp_folders import sigterm_as_keyboard_interrupt

        with sigterm_as_keyboard_interrupt():   # a kill cleans up like Ctrl+C does
            final, decisions = create_project(path, data=data, **options)
        proj = cls.open(final)
        proj.decisions = decisions
        return proj

    @classmethod
    def open(cls, path: str | Path) -> "Project":
        p = Path(path).expanduser().resolve()
        if not p.is_dir():
            raise ProjectError(
                f"{p} is not a project folder. Create one with 'activelab new {p} --data FILE'."
            )
        from activelab.core.store.temp_folders import is_temp_name

        if is_temp_name(p.name):
            raise ProjectError(
                f"{p} is an unfinished project or backup that activelab was still making (or "
                "left behind when it was killed); it is removed by the next 'activelab new' or "
                "'activelab backup' into its folder. Open the finished project instead."
            )
        store = LabelStore(p / STORE_NAME)
        try:
            return cls(p, store)
        except (KeyError, TypeError, ValueError) as exc:
            raise ProjectError(
                f"The project store {p / STORE_NAME} has a damaged spec (settings key 'spec': "
                f"{exc}). Restore it from a backup; 'activelab check {p}' lists what else is "
                "damaged."
            ) from exc

    def close(self) -> None:
        """Checkpoint the store (``project.sqlite`` alone then holds every label) and close it."""
        self.store.close()

    @property
    def read_only(self) -> bool:
        """True when the project could not be opened for writing (read-only folder, file or
        file system): viewing, status and export work; labeling raises ``StoreWriteError``."""
        return self.store.read_only

    def damaged_rows(self) -> list:
        """Store rows skipped so far because they are damaged (``activelab.core.store.store.DamagedRow``)."""
        return self.store.damaged_rows()

    def _event_problem(self, e: LabelEvent) -> str | None:
        if self._task_classes is None or self._task_classes[0] is not self.spec:
            self._task_classes = (self.spec, {t.name: (t.multilabel, frozenset(t.classes))
                                              for t in self.spec.tasks})
        return event_problem(e, self._task_classes[1], self._index)

    # ---------------------------------------------------------------- data access
    @property
    def name(self) -> str:
        return self.path.name

    @property
    def settings(self) -> Settings:
        return self._settings

    @property
    def n_samples(self) -> int:
        return len(self.ids)

    @property
    def rows_read(self) -> int | None:
        """Data rows the import read (None for projects made before it was recorded)."""
        return self.store.get_setting("source", {}).get("rows_read")

    @property
    def pool(self) -> Pool:
        """The imported samples with their source types (``activelab.core.store.pool``), opened on first use."""
        if self._pool is None:
            self._pool = Pool.open(self.path, store=self.store)
        return self._pool

    @property
    def model_version(self) -> int:
        """The highest model version on the learning curve (versions are unique across
        processes: the store assigns each committed curve point the next one)."""
        return self.store.model_version()

    def index_of(self, sample_id: str) -> int:
        try:
            return self._index[str(sample_id)]
        except KeyError:
            raise LabelError(
                f"No sample with id '{sample_id}' in project {self.path}. "
                "Use an id printed by 'activelab query' or present in the imported data."
            ) from None

    def sample(self, idx: int) -> Sample:
        """Sample ``idx`` (0-based, project order): its id, every column, and its texts,
        image reference and tabular values as imported (text exactly as written)."""
        data = self.pool.row(idx)
        spec = self.spec
        texts = {c: "" if data.get(c) is None else str(data.get(c)) for c in spec.text_columns}
        image_ref = data.get(spec.image_column) if spec.image_column else None
        tabular = {c: data.get(c) for c in spec.feature_columns}
        return Sample(idx, self.ids[idx], data, texts, image_ref, tabular)

    def image_root(self) -> str | None:
        src = self.store.get_setting("source", {})
        rel, absolute = src.get("image_root_rel"), src.get("image_root")
        if rel:
            cand = (self.path / rel).resolve()
            if cand.exists():
                return str(cand)
        return absolute

    def image_array(self):
        """The images imported from a NumPy archive, memory-mapped (None for other pools)."""
        if self._image_array is None and (self.path / IMAGES_NPY).exists():
            import numpy as np

            self._image_array = np.load(self.path / IMAGES_NPY, mmap_mode="r", allow_pickle=False)
        return self._image_array

    def image(self, idx: int, size: int | None = None):
        from activelab.core.data.images import load_image

        ref = self.sample(idx).image_ref
        if ref is None:
            raise ActiveLabError(f"Sample '{self.ids[idx]}' has no image.")
        return load_image(ref, self.image_root(), self.image_array(), size=size)

    def frame(self, columns: list[str] | None = None, rows=None):
        """The imported columns (all, or ``columns``) as a pandas DataFrame: one row per
        sample in project order (or the positions ``rows``, in that order: only the parts of
        the pool that hold them are read), source column names and order, source types (text
        read from a CSV as ``str``/None, integers, booleans, timestamps, lists as imported).
        activelab's own columns of an imported export are not part of it."""
        return self.pool.frame(columns=columns, rows=rows)

    @property
    def features(self):
        """The feature set (built once, cached on disk, memory-mapped)."""
        if self._features is None:
            from activelab.core.features.build import build_features, load_cached_features

            # The samples never change after import, so the fingerprint recorded at creation
            # finds the cache without re-reading every row; a missing or stale cache is rebuilt.
            fp = self.store.get_setting("feature_fingerprint", expect=str)
            fs = load_cached_features(self.path / CACHE_DIR, fp, n_samples=self.n_samples) if fp else None
            if fs is None:   # missing, damaged or stale: rebuilt (and re-cached when writable)
                spec = self.spec
                used = [c for c in (spec.image_column, *spec.text_columns, *spec.feature_columns)
                        if c and c in self.pool.columns]
                fs = build_features(
                    self.frame(list(dict.fromkeys(used))), spec, self.feature_config,
                    image_root=self.image_root(), image_array=self.image_array(),
                    cache_dir=self.path / CACHE_DIR, pool=self.pool,
                    decimal=self.store.get_setting("source", {}).get("decimal") or ".",
                )
                if fs.fingerprint != fp and not self.read_only:
                    try:
                        self.store.set_setting("feature_fingerprint", fs.fingerprint)
                    except StoreWriteError:   # only saves a look-up next time; not data
                        pass
            self._features = fs
        return self._features

    # ---------------------------------------------------------------- labels
    def _state_now(self) -> LabelState:
        return self.store.state()

    def labels(self) -> dict[str, dict[int, Any]]:
        st = self._state_now()
        return {
            t.name: {self._index[sid]: v for sid, v in st.labels.get(t.name, {}).items()}
            for t in self.spec.tasks
        }

    def labeled_count(self) -> int:
        st = self._state_now()
        return len({sid for per in st.labels.values() for sid in per})

    def class_counts(self) -> dict[str, dict[str, int]]:
        st = self._state_now()
        out: dict[str, dict[str, int]] = {}
        for t in self.spec.tasks:
            counts = {c: 0 for c in t.classes}
            for v in st.labels.get(t.name, {}).values():
                for c in (v if isinstance(v, list) else [v]):
                    counts[c] = counts.get(c, 0) + 1
            out[t.name] = counts
        return out

    def history(self, limit: int = 50) -> list[LabelEvent]:
        return list(reversed(self.store.events()))[:limit]

    def curve(self) -> list[CurvePoint]:
        from activelab.core.loop.cycle import CurvePoint

        return [CurvePoint(**d) for d in self.store.curve()]

    def _check_value(self, task: TaskSpec, value: Any) -> Any:
        """The label to store: a class (single-label) or a list of classes (multi-label).

        Surrounding spaces (and a stray ``\\r``) of each class are removed. A multi-label value
        is a list (``[]`` is the empty set: labeled, no class applies), a JSON array written
        as text (``'[]'``, ``'["red","round"]'``) or classes joined by the task's separator
        (``'red|round'``); repeated classes are kept once. Raises LabelError for an unknown
        class, an empty value, or a list given to a single-label task.
        """
        if task.multilabel:
            if isinstance(value, (list, tuple)):
                vals = [str(v).strip() for v in value if v is not None and str(v).strip()]
            else:
                vals = parse_multilabel_cell(value, task.separator)
            if vals is None:
                raise LabelError(
                    f"No class given for the multi-label task '{task.name}'. Give classes "
                    f"joined by '{task.separator}' (e.g. '{task.separator.join(task.classes[:2])}'), "
                    "or [] for the empty set (labeled: none of the classes applies)."
                )
            vals = list(dict.fromkeys(vals))
            bad = [v for v in vals if v not in task.classes]
        else:
            if isinstance(value, (list, tuple)):
                raise LabelError(f"Task '{task.name}' is single-label; give one class, not {value}.")
            vals = "" if value is None else str(value).strip()
            if not vals:
                raise LabelError(f"No class given for task '{task.name}'. Its classes: "
                                 f"{', '.join(task.classes)}.")
            bad = [] if vals in task.classes else [vals]
        if bad:
            raise LabelError(
                f"'{', '.join(bad)}' is not a class of task '{task.name}'. Its classes: "
                f"{', '.join(task.classes)}. Add a class with 'activelab add-class "
                f"{self.path} {task.name} NAME' if it is new."
            )
        return vals

    def _task(self, name: str | None) -> TaskSpec:
        if name is None:
            if len(self.spec.tasks) == 1:
                return self.spec.tasks[0]
            raise LabelError(
                f"This project has several tasks ({', '.join(t.name for t in self.spec.tasks)}); "
                "say which one with --task NAME."
            )
        try:
            return self.spec.task(name)
        except KeyError:
            raise LabelError(
                f"No task named '{name}'. Tasks: {', '.join(t.name for t in self.spec.tasks)}."
            ) from None

    def _provenance(self, sample_id: str) -> dict[str, Any]:
        entry = self.store.queue_entry(sample_id)
        if entry is None:
            return {}
        return {k: entry.get(k) for k in ("strategy", "score", "rank", "model_version", "audit")} | {
            "_predictions": entry.get("predictions") or {}
        }

    def label_sample(
        self, sample_id: str, values: Mapping[str, Any], *, annotator: str | None = None,
        seconds: float | None = None, item: QueueItem | None = None,
    ) -> list[LabelEvent]:
        """Label one sample for one or several tasks in one durable transaction.

        ``item`` is the queue item the expert was shown (its strategy, score, rank, model
        version, audit flag and the predictions recorded before the label); without it the
        persisted queue is looked up.
        """
        self.index_of(sample_id)
        if item is not None and item.id == str(sample_id):
            prov = {"strategy": item.strategy, "score": item.score, "rank": item.rank,
                    "model_version": item.model_version, "audit": item.audit,
                    "_predictions": {t: {"label": p.label, "confidence": p.confidence}
                                     for t, p in item.predictions.items()}}
        else:
            prov = self._provenance(str(sample_id))
        preds = prov.pop("_predictions", {})
        events = []
        for task_name, value in values.items():
            task = self._task(task_name)
            v = self._check_value(task, value)
            pred = preds.get(task.name) or {}
            score = prov.get("score")
            events.append({
                "kind": "label", "sample_id": str(sample_id), "task": task.name, "value": v,
                "annotator": annotator or self._settings.annotator, "seconds": seconds,
                **{k: prov.get(k) for k in ("strategy", "rank", "model_version", "audit")},
                "score": None if score is None or (isinstance(score, float) and math.isnan(score)) else score,
                "predicted": pred.get("label"), "confidence": pred.get("confidence"),
            })
        if not events:
            raise LabelError("No label given.")
        return self.store.append_group(events)

    def label(self, sample_id: str, value: Any, *, task: str | None = None,
              annotator: str | None = None, seconds: float | None = None) -> LabelEvent:
        t = self._task(task)
        return self.label_sample(sample_id, {t.name: value}, annotator=annotator, seconds=seconds)[0]

    def skip(self, sample_id: str, *, annotator: str | None = None) -> LabelEvent:
        self.index_of(sample_id)
        return self.store.append_group([{"kind": "skip", "sample_id": str(sample_id),
                                         "annotator": annotator or self._settings.annotator}])[0]

    def flag(self, sample_id: str, *, annotator: str | None = None, note: str | None = None) -> LabelEvent:
        self.index_of(sample_id)
        return self.store.append_group([{"kind": "flag", "sample_id": str(sample_id), "value": note,
                                         "annotator": annotator or self._settings.annotator}])[0]

    def undo(self) -> LabelEvent | None:
        """Undo the latest label/skip/flag action (an event; nothing is deleted)."""
        st = self._state_now()
        if not st.undo_stack:
            return None
        grp = st.undo_stack[-1]
        target = next(e for e in self.store.events(grp - 1) if e.group == grp)
        self.store.append_group([{"kind": "undo", "target_seq": grp, "sample_id": target.sample_id,
                                  "annotator": self._settings.annotator}])
        return target

    def redo(self) -> LabelEvent | None:
        st = self._state_now()
        if not st.redo_stack:
            return None
        grp = st.redo_stack[-1]
        target = next(e for e in self.store.events(grp - 1) if e.group == grp)
        self.store.append_group([{"kind": "redo", "target_seq": grp, "sample_id": target.sample_id,
                                  "annotator": self._settings.annotator}])
        return target

    def add_class(self, task: str, name: str) -> TaskSpec:
        """Add class ``name`` (surrounding spaces removed) to ``task``; saved at once.

        Raises LabelError for an empty name and, for a multi-label task, a name containing
        the task's separator or written as a JSON array (it could not be told apart from a
        set of classes when typed, imported or exported).
        """
        t = self._task(task)
        name = check_class_name(name, task=t.name, multilabel=t.multilabel,
                                separator=t.separator, error=LabelError)
        if name in t.classes:
            return t
        new = TaskSpec(t.name, t.classes + (name,), t.multilabel, t.column, t.separator)
        self.spec = DatasetSpec(
            self.spec.id_column, self.spec.text_columns, self.spec.image_column,
            self.spec.feature_columns, tuple(new if x.name == t.name else x for x in self.spec.tasks),
        )
        self.store.set_setting("spec", self.spec.to_dict())
        return new

    def update_settings(self, **changes: Any) -> Settings:
        """Check and store changed settings; nothing is stored when a value is refused.

        Each value is checked against its type and range, and the model's / strategy's
        parameters against their typed parameters (ActiveLabError naming the key, the value
        and what is allowed). A new model or strategy given without its parameters starts
        from their defaults: the previous parameters belonged to the previous one.
        """
        changes = dict(changes)
        if "model" in changes and changes["model"] != self._settings.model:
            changes.setdefault("model_params", {})
        if "strategy" in changes and changes["strategy"] != self._settings.strategy:
            changes.setdefault("strategy_params", {})
        new = self._settings.updated(**changes).check_choices(changes)
        self.store.set_setting("settings", new.to_dict())
        old, self._settings = self._settings, new
        if (old.model, old.model_params) != (new.model, new.model_params):
            self._state = None          # a different model: nothing to warm-start from
            self._projection = None
            self.store.set_setting("curve_event_seq", None)   # its first fit is a new point
        queue_keys = ("model", "model_params", "strategy", "strategy_params", "aggregate",
                      "task_weights", "audit_rate", "batch_size", "seed")
        if any(getattr(old, k) != getattr(new, k) for k in queue_keys):
            self.store.save_queue([], -1)   # the prepared queue no longer matches the settings
        return new
