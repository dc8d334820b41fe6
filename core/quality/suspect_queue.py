"""The suspect queue as last shown, and a reviewer's decision on one of its samples.

``activelab review PROJECT --suspects`` saves the ranked suspects it printed in the project's
cache folder (derived data, like the features: rebuilt by running it again), so that a later
``--relabel`` / ``--keep`` records the provenance of what the reviewer was shown: strategy
``review:suspect``, its rank and label quality, the model's alternative and confidence.
A decision is a label event like any other (the store is the source of truth); keeping the
label as it is records the same value again with input ``kept``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Mapping

from activelab.core.errors import LabelError
from activelab.core.records import LabelEvent
from activelab.core.quality.suspects import Suspect, TaskSuspects

__all__ = ["QUEUE_FILE", "load_suspects", "record_decision", "save_suspects", "suspect_for"]

QUEUE_FILE = "suspects.json"


def save_suspects(cache_dir: Path, found: Mapping[str, TaskSuspects], event_seq: int) -> Path | None:
    """Write the suspects of ``found`` (task -> TaskSuspects) to ``cache_dir/suspects.json``,
    keeping the saved suspects of tasks not in ``found``; computed at event ``event_seq``.
    Returns the path, or None when the folder cannot be written (a read-only project)."""
    path = Path(cache_dir) / QUEUE_FILE
    tasks = {t: [s.to_dict() for s in v] for t, v in load_suspects(cache_dir).items()}
    tasks.update({t: [s.to_dict() for s in r.suspects] for t, r in found.items()})
    tmp = path.with_name(f"{QUEUE_FILE}.tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps({"event_seq": int(event_seq), "tasks": tasks}), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass
        return None
    return path


def load_suspects(cache_dir: Path) -> dict[str, list[Suspect]]:
    """task -> the suspects last saved, most suspect first ({} when none were saved, or the
    file is unreadable: it is derived data, rebuilt by the next review)."""
    try:
        d = json.loads((Path(cache_dir) / QUEUE_FILE).read_text(encoding="utf-8"))
        return {str(t): [Suspect.from_dict(s) for s in v] for t, v in d["tasks"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def suspect_for(saved: Mapping[str, list[Suspect]], sample_id: str, task: str | None,
                project_path: Any) -> Suspect:
    """The saved suspect of ``sample_id`` (in ``task`` when given). Raises LabelError saying
    what to run when the sample is not in the queue, or is in several tasks' queues and no
    task was named."""
    hits = [s for t, v in saved.items() if task is None or t == task
            for s in v if s.sample_id == sample_id]
    if not hits:
        where = f" of task '{task}'" if task else ""
        raise LabelError(
            f"Sample '{sample_id}' is not in the suspect queue{where} last shown. Run "
            f"'activelab review {project_path} --suspects' first and pick a sample it lists "
            f"(or relabel any sample with 'activelab label').")
    if len(hits) > 1:
        raise LabelError(
            f"Sample '{sample_id}' is a suspect in several tasks "
            f"({', '.join(s.task for s in hits)}); say which one with --task NAME.")
    return hits[0]


def record_decision(project: Any, suspect: Suspect, value: Any, *,
                    annotator: str | None = None) -> LabelEvent:
    """Record a reviewer's decision on ``suspect``: its task labeled ``value`` with the
    provenance ``review:suspect`` (rank, label quality, the model's alternative and
    confidence). Input ``kept`` when ``value`` is the current label, else ``cli``. Raises
    LabelError for an unknown class; StoreWriteError when the event cannot be saved."""
    current = project.labels().get(suspect.task, {}).get(suspect.idx, suspect.label)
    same = (sorted(value) == sorted(current) if isinstance(value, list) and
            isinstance(current, list) else str(value) == str(current))
    return project.label_sample(
        suspect.sample_id, {suspect.task: value}, annotator=annotator,
        item=suspect.queue_item(project.model_version),
        inputs={suspect.task: "kept" if same else "cli"})[0]
