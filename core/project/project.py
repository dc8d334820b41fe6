"""A project folder: the store (source of truth), the imported samples, derived features.

``Project`` is the Python API a data scientist uses and what the CLI and GUI call. Writes go
to the store and are committed before a method returns. Models are derived data kept in memory
(and rebuilt on demand), never unpickled from disk.
"""
from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from activelab.core.errors import ActiveLabError, LabelError, ProjectError, StoreWriteError
from activelab.core.data.export_columns import check_class_name
from activelab.core.progress import NULL_PROGRESS, Progress
from activelab.core.project.create import CACHE_DIR, IMAGES_NPY
from activelab.core.project import position
from activelab.core.project.label_values import checked_value, label_rows
from activelab.core.project.pick_provenance import chosen_item, original_pick_item
from activelab.core.records import (
    CurvePoint, Installed, LabelEvent, Prediction, ProjectStatus, QueueItem, Sample, SavedPosition,
    TaskStatus,
)
from activelab.core.store.pool import Pool
from activelab.core.store.samples import SampleIds
from activelab.core.loop.settings import Settings
from activelab.core.data.spec import DatasetSpec, FeatureConfig, TaskSpec, pretrained_dense
from activelab.core.store.label_state import LabelState
from activelab.core.store.backends import open_store
from activelab.core.store.store import STORE_NAME, LabelStore
from activelab.core.store.events import event_problem

if TYPE_CHECKING:   # pragma: no cover
    import numpy as np

    from activelab.core.loop.cycle import ModelState, RetrainResult, Snapshot
    from activelab.core.project.model_side import ModelSide

__all__ = [
    "Project", "Settings", "Sample", "QueueItem", "LabelEvent", "CurvePoint", "Prediction",
]



class Project:
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
        # Damaged events are skipped (and reported); the labels are kept by pool position too.
        store.configure_events(self._event_problem, self._index)
        self._features = None
        self._image_array = None
        self._model_side: ModelSide | None = None   # made on first use (numpy, the model)
        self._pool: Pool | None = None
        self.decisions: list[str] = list(store.get_setting("decisions", [], expect=list))
        self._annotator: dict[str, str | None] = {"flag": None, "app": None}

    @property
    def _model(self) -> ModelSide:
        """The model side, made on first use: a command that only labels never imports it."""
        if self._model_side is None:
            from activelab.core.project.model_side import ModelSide

            self._model_side = ModelSide(self.store, self.path / CACHE_DIR)
        return self._model_side

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
        store = open_store(p)    # project.sqlite, or a team project's PostgreSQL store
        try:
            return cls(p, store)
        except (KeyError, TypeError, ValueError) as exc:
            raise ProjectError(
                f"The project store {p / STORE_NAME} has a damaged spec (settings key 'spec': "
                f"{exc}). Restore it from a backup; 'activelab check {p}' lists what else is "
                "damaged."
            ) from exc

    # ---------------------------------------------------------------- who labels (core/project/team.py)
    @property
    def annotator(self) -> str:
        """Who this process labels as: --annotator > $ACTIVELAB_ANNOTATOR > the app's name >
        this machine's name, login@host (``activelab.core.project.annotators``, ``identity``)."""
        from activelab.core.project.annotators import resolve_annotator

        return resolve_annotator(self._annotator["flag"], self._annotator["app"],
                                 self.default_annotator)

    def default_annotator(self) -> str:
        """The name used when none is given (worked out once per process): this machine's
        ``login@host``, or the bare login of a project labeled before names carried the
        machine, on the machine that claimed it (``activelab.core.project.identity``)."""
        if self._annotator.get("default") is None:
            from activelab.core.project.identity import default_annotator

            self._annotator["default"] = default_annotator(self)
        return str(self._annotator["default"])

    def annotator_names(self) -> set[str]:
        """Every name that owns an action in the log, without ``import`` (labels imported
        with the data) and "" (events naming nobody). O(annotators)."""
        return self.store.state().actors() - {"", "import"}

    def set_annotator(self, name: str | None, *, source: str = "flag") -> str:
        """Set the name given by a command's --annotator (``source="flag"``) or the app's
        per-machine name (``"app"``); None clears it. Returns ``annotator`` as resolved."""
        from activelab.core.project.annotators import clean_name

        where = "--annotator" if source == "flag" else "the app's annotator name"
        self._annotator[source] = clean_name(name, where, refuse_blank=source == "flag")
        return self.annotator

    def claim(self, sample_id: str) -> bool:
        """Hand ``sample_id`` to ``annotator`` (a lease of ``lease_minutes``); False when
        another annotator labeled or holds it (``activelab.core.project.team.claim_sample``)."""
        from activelab.core.project import team

        return team.claim_sample(self, str(sample_id))

    def release_claims(self) -> None:
        """Give back every sample handed to ``annotator`` (closing a window, ending a loop)."""
        from activelab.core.project import team

        team.release(self)

    def shown_labels(self, idx: int) -> dict[str, Any]:
        """{task: label} of pool sample ``idx`` as ``annotator`` may see it ({} on an overlap
        sample they have not labeled yet: blind to the others' labels)."""
        from activelab.core.project import team

        return team.visible_labels(self, int(idx))

    def labels_by_annotator(self, task: str, sample_id: str) -> dict[str, Any]:
        """{annotator: label} of one task of one sample (each annotator's latest active label)."""
        return self.store.state().labels_by_annotator(self._task(task).name, str(sample_id))

    def annotator_counts(self) -> dict[str, int]:
        """Samples each annotator has a label for, most first."""
        return self.store.state().annotator_counts()

    def close(self) -> None:
        """Checkpoint the store (``project.sqlite`` alone then holds every label) and close it."""
        self.store.close()

    @property
    def read_only(self) -> bool:
        """True when the project could not be opened for writing (read-only folder, file or
        file system): viewing, status and export work; labeling raises ``StoreWriteError``."""
        return self.store.read_only

    @property
    def read_only_reason(self) -> str | None:
        """Why the store was opened read-only, in a few words (None when it was not, or the
        store does not know)."""
        return self.store.read_only_reason or None

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

    # ---------------------------------------------------------------- labels (reads: O(1))
    def label_state(self) -> LabelState:
        """The current labels, skips and flags by sample id (read-only; kept up to date by the
        store, in step with other processes writing to the project)."""
        return self.store.state()

    def labels(self) -> dict[str, Mapping[int, Any]]:
        """Per task: pool position -> label (a class, or a list of classes), in the order the
        samples were first labeled. Read-only views that follow later labels (``dict(...)``
        keeps a copy); O(number of tasks)."""
        by_index = self.store.state().by_index
        return {t.name: MappingProxyType(by_index.get(t.name, {})) for t in self.spec.tasks}

    def labeled_count(self) -> int:
        """Samples with a label for at least one task."""
        return self.store.state().labeled_count

    def class_counts(self) -> dict[str, dict[str, int]]:
        """Per task: labels per class (every class of the task, 0 when unused), without the
        labels hidden from ``annotator`` on overlap samples they have not labeled yet."""
        from activelab.core.project import team

        st = self.store.state()
        return team.blind_class_counts(self, {t.name: {c: 0 for c in t.classes} | st.class_counts(t.name)
                                              for t in self.spec.tasks})

    def history(self, limit: int = 50) -> list[LabelEvent]:
        """The latest ``limit`` events, newest first (reads only those rows), without other
        annotators' events on an overlap sample ``annotator`` has not labeled yet (blind)."""
        from activelab.core.project import team

        return team.visible_history(self, self.store.recent_events(limit))

    def curve(self) -> list[CurvePoint]:
        return [CurvePoint.from_dict(d) for d in self.store.curve()]

    def outlook(self, target: float | None = None) -> dict[str, Any]:
        """The stopping rule, the forecast and the audit picks' savings estimates of the
        learning curve (``activelab.core.loop.outlook.outlook``: the forecast's bootstrap refits
        take up to a second, so the app runs ``outlook_task`` in its worker instead)."""
        from activelab.core.loop.outlook import outlook

        return outlook(self.curve(), target, audit_rate=self._settings.audit_rate)

    def status(self) -> ProjectStatus:
        """What ``activelab status`` reports: progress per task, the model, the settings."""
        st, curve = self.store.state(), self.curve()
        tasks = {t.name: TaskStatus(t.multilabel, len(st.labels.get(t.name, {})), counts)
                 for t, counts in zip(self.spec.tasks, self.class_counts().values())}
        s = self._settings
        return ProjectStatus(
            project=str(self.path), samples=self.n_samples, labeled=st.labeled_count,
            skipped=len(st.skipped), flagged=len(st.flagged), tasks=tasks, model=s.model,
            model_version=self.model_version, strategy=s.strategy,
            strategy_params=dict(s.strategy_params), latest_curve_point=curve[-1] if curve else None,
            settings=s.to_dict())

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

    def label_sample(
        self, sample_id: str, values: Mapping[str, Any], *, annotator: str | None = None,
        seconds: float | None = None, item: QueueItem | None = None,
        inputs: Mapping[str, str] | None = None,
    ) -> list[LabelEvent]:
        """Label one sample for one or several tasks in one durable transaction.

        ``item`` is the queue item the expert was shown (its strategy, score, rank, model
        version, audit flag and the predictions recorded before the label); without it the
        persisted queue is looked up, then the sample's original pick (a relabel), else the
        label is recorded as ``annotator:chosen`` (``activelab.core.project.pick_provenance``).
        ``inputs``: task -> how its class was entered
        (``activelab.core.records.LABEL_INPUTS``: accepted from the suggestion, typed,
        clicked …), recorded as each event's ``input``; a task left out records None.
        Raises LabelError for an unknown class or input kind.
        """
        idx = self.index_of(sample_id)
        sample_id = str(sample_id)
        if item is None or item.id != sample_id:
            entry = self.store.queue_entry(sample_id)
            item = None if entry is None else QueueItem.from_dict(entry, idx=idx)
        if item is None:   # a relabel keeps its original pick's provenance; else chosen by hand
            item = (original_pick_item(self.store.state().original_pick(sample_id), idx, sample_id)
                    or chosen_item(idx, sample_id, self.model_version))
        checked = [(task, checked_value(task, value, self.path))
                   for task, value in ((self._task(t), v) for t, v in values.items())]
        if not checked:
            raise LabelError("No label given.")
        events = self.store.append_group(label_rows(sample_id, checked, item, annotator or
                                                    self.annotator, seconds, inputs))
        self._released(sample_id, annotator)
        return events

    def _released(self, sample_id: str, annotator: str | None) -> None:
        from activelab.core.project import team

        team.release(self, [sample_id], who=annotator or self.annotator)

    def label(self, sample_id: str, value: Any, *, task: str | None = None,
              annotator: str | None = None, seconds: float | None = None,
              input: str | None = None) -> LabelEvent:
        """Label one task of a sample (see ``label_sample``; ``input``: how it was entered)."""
        t = self._task(task)
        return self.label_sample(sample_id, {t.name: value}, annotator=annotator, seconds=seconds,
                                 inputs=None if input is None else {t.name: input})[0]

    def skip(self, sample_id: str, *, annotator: str | None = None) -> LabelEvent:
        self.index_of(sample_id)
        ev = self.store.append_group([{"kind": "skip", "sample_id": str(sample_id),
                                       "annotator": annotator or self.annotator}])[0]
        self._released(str(sample_id), annotator)
        return ev

    def flag(self, sample_id: str, *, annotator: str | None = None, note: str | None = None) -> LabelEvent:
        self.index_of(sample_id)
        return self.store.append_group([{"kind": "flag", "sample_id": str(sample_id), "value": note,
                                         "annotator": annotator or self.annotator}])[0]

    def undo(self) -> LabelEvent | None:
        """Undo ``annotator``'s own latest label/skip/flag action (an event; nothing is
        deleted; other annotators' actions are never touched). Returns the first event of the
        action undone, or None when there is nothing to undo."""
        return self._undo_redo("undo", self.store.state().undo_target(self.annotator))

    def redo(self) -> LabelEvent | None:
        """Redo ``annotator``'s latest undone action; returns its first event (None: nothing
        to redo)."""
        return self._undo_redo("redo", self.store.state().redo_target(self.annotator))

    def _undo_redo(self, kind: str, group: int | None) -> LabelEvent | None:
        if group is None:
            return None
        target = self.store.state().group_events(group)[0]
        self.store.append_group([{"kind": kind, "target_seq": group, "sample_id": target.sample_id,
                                  "annotator": self.annotator}])
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
        self.store.configure_events(self._event_problem, self._index)   # labels of it count now
        return new

    def update_settings(self, **changes: Any) -> Settings:
        """Check and store changed settings; nothing is stored when a value is refused.

        Each value is checked against its type and range, and the model's / strategy's
        parameters against their typed parameters (ActiveLabError naming the key, the value
        and what is allowed). A new model or strategy given without its parameters starts
        from their defaults: the previous parameters belonged to the previous one. A change
        that makes the prepared queue stale (``Settings.invalidates_queue``) empties it: ask
        for a new one (``query``, or a retrain).
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
            self._model.forget()        # a different model: nothing to warm-start from
            self.store.set_setting("curve_event_seq", None)   # its first fit is a new point
        if Settings.invalidates_queue(old, new):
            self.store.save_queue([], -1)   # the prepared queue no longer matches the settings
        return new

    # ---------------------------------------------------------------- the model and the queue
    @property
    def reads_in_place(self) -> bool:
        """True for a Dask-engine project (issue 13): the pool is read in place from its
        Parquet parts and scored on the cluster; no whole-pool features are built."""
        return (self.store.get_setting("engine") or {}).get("name") == "dask"

    def training_snapshot(self) -> Snapshot:
        """What a retrain needs (see ``ModelSide.snapshot``); taken on the caller's thread."""
        if self.reads_in_place:
            from activelab.core.scale.query import DaskRequest

            return DaskRequest(self._settings.batch_size, self.store.last_seq())  # type: ignore[return-value]
        return self._model.snapshot(spec=self.spec, settings=self._settings, features=self.features,
                                    ids=self.ids, index=self._index, labels=self.store.state(),
                                    pretrained_dense=pretrained_dense(self.spec, self.feature_config))

    def retrain_function(self) -> Callable[[Snapshot, Progress], RetrainResult]:
        """The worker job that retrains a ``training_snapshot`` (in a thread)."""
        if self.reads_in_place:
            from functools import partial

            from activelab.core.scale.query import retrain_on_dask

            return partial(retrain_on_dask, self)
        from activelab.core.loop.cycle import retrain_and_query   # the learning room: on demand

        return retrain_and_query

    def retrain_request(self, snapshot: Snapshot) -> Any | None:
        """``snapshot`` as a request for the training process
        (``activelab.core.loop.retrain_process``), or None: retrain it in a thread."""
        if self.reads_in_place:
            return None
        from activelab.core.loop import retrain_process

        return retrain_process.retrain_request(snapshot, self.path / CACHE_DIR)

    def install(self, result: RetrainResult, *, keep_queue: bool = False) -> Installed:
        """Swap in a worker's result: the model, a new curve point, the persisted queue.

        ``keep_queue``: a model rebuilt when a project is reopened keeps the persisted queue
        (when one is left), so the expert finds the queue they left; the next retrain replaces
        it. Returns the curve point as committed and the queue now in use."""
        kept = self.queue() if keep_queue else []
        done = self._model.install(result, save_queue=not kept)
        return Installed(done.point, tuple(kept)) if kept else done

    def retrain(self, progress: Progress | None = None) -> CurvePoint | None:
        """Retrain now (synchronously) and prepare a new queue."""
        from activelab.core.loop.cycle import retrain_and_query

        return self.install(retrain_and_query(self.training_snapshot(), progress or NULL_PROGRESS)).point

    def queue(self) -> list[QueueItem]:
        """The prepared queue as ``annotator`` gets it: overlap samples still needing their
        label first, then the prepared queue minus samples labeled or skipped since it was
        made and samples other annotators hold (``activelab.core.project.team``)."""
        from activelab.core.project import team

        return team.annotator_queue(self, self._model.queue(self.store.state(), self._index))

    def query(self, n: int | None = None, strategy: str | None = None) -> list[QueueItem]:
        """The next samples to label (synchronous; retrains first when labels changed),
        handed to ``annotator``: each is claimed for ``lease_minutes`` (never a sample another
        annotator holds or labeled, unless overlap asks for it: ``activelab.core.project.team``)."""
        from activelab.core.project import team

        n = self._settings.batch_size if n is None else int(n)
        if strategy is not None:
            from activelab.core.querying.registry import get_strategy

            get_strategy(strategy)
        extra = team.held_by_others(self)
        if self.reads_in_place:   # issue 13: scored on Dask
            from activelab.core.scale.query import dask_query

            items = dask_query(self, n + extra, strategy)
        else:
            items = self._model.query(self.training_snapshot, self.store.state, self._index,
                                      n + extra, strategy, annotator=self.annotator,
                                      retrain_every=self._settings.retrain_every)
        out = team.claim_items(self, team.annotator_queue(self, items), n)
        if len(out) < n and getattr(self._model, "served_stored", False):
            # The stored queue's items were held by others: rank the pool anew, past them.
            items = self._model.query(self.training_snapshot, self.store.state, self._index,
                                      n + team.held_by_others(self), strategy,
                                      annotator=self.annotator, fresh=True)
            out = team.claim_items(self, team.annotator_queue(self, items), n)
        return out

    def model_state(self) -> ModelState | None:
        return self._model.state

    def predictions(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Predicted label and confidence per task for every pool sample (trains if needed)."""
        if self._model.state is None:
            self.retrain()
        return self._model.predictions(self.spec)

    def suggestion(self, idx: int) -> dict[str, Prediction]:
        """The model in memory's prediction per task for pool sample ``idx`` (what a queue
        item carries; {} while no model is in memory: never trains)."""
        return self._model.suggestion(self.spec, int(idx))

    def pool_panels(self) -> Any:
        """A Dask project's confidence counts and sampled pool map from its latest retrain
        (``activelab.core.scale.panels.PoolPanels``), or None (none yet, or the embedded engine)."""
        return self._model.panels

    def pool_projection(self) -> np.ndarray:
        """A 2-D PCA of the pool, (n_samples, 2) (model embeddings when the model has them)."""
        return self._model.projection(self.features, self.n_samples)

    # ---------------------------------------------------------------- where the expert left off
    def save_position(self, sample_id: str | None, item: QueueItem | None,
                      queue: Sequence[QueueItem]) -> None:
        """Remember the sample on screen (and the queue item it was shown from) and the queue
        still to come, so reopening shows the same next samples and their labels keep their
        provenance. Raises ``StoreWriteError`` when not saved (labels are never touched)."""
        position.save_position(self.store, sample_id, item, queue, self.queue())

    def saved_position(self) -> SavedPosition:
        """The sample on screen when the app last closed and its queue item (empty when none
        was saved, or the sample is gone)."""
        return position.saved_position(self.store, self._index)
