"""Export the labeled data set: a pure function (project, format, path) -> file.

One row per sample: the id, the original columns (images as paths), the label per task
(column ``<task>__label``; multi-label values joined by the task's separator, "|"), and
provenance per label (annotator, time, seconds spent, strategy and score that chose the sample,
model version at that time, whether it was a random audit pick). With ``include_unlabeled``,
the model's predicted label and confidence per task for the rest (pre-annotations).
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ActiveLabError
from core.progress import NULL_PROGRESS, Progress

FORMATS = ("csv", "parquet", "jsonl")


def _fmt_from_path(path: Path) -> str:
    ext = path.suffix.lower().lstrip(".")
    return {"csv": "csv", "parquet": "parquet", "pq": "parquet", "jsonl": "jsonl",
            "ndjson": "jsonl", "json": "jsonl"}.get(ext, "csv")


def _label_text(v: Any, sep: str) -> Any:
    return sep.join(v) if isinstance(v, list) else v


def export_labels(
    project: Any,
    out_path: str | Path,
    format: str | None = None,
    include_unlabeled: bool = False,
    progress: Progress | None = None,
) -> Path:
    """Write the export file atomically and return its path."""
    import pandas as pd

    from core.project import Project

    progress = progress or NULL_PROGRESS
    proj = project if isinstance(project, Project) else Project.open(project)
    out = Path(out_path).expanduser()
    fmt = format or _fmt_from_path(out)
    if fmt not in FORMATS:
        raise ActiveLabError(f"Unknown export format '{fmt}'; use one of {', '.join(FORMATS)}.")
    if out.parent and not out.parent.exists():
        raise ActiveLabError(
            f"The folder {out.parent} does not exist. Create it or choose another destination."
        )
    progress.update(0.05, "reading labels")
    st = proj.store.state()
    frame = proj.frame()
    spec = proj.spec
    if spec.image_column and spec.image_column in frame.columns:
        root = proj.image_root()
        if root:
            frame[spec.image_column] = [
                v if v is None or str(v).startswith("@array:") or os.path.isabs(str(v))
                else str(Path(root) / str(v))
                for v in frame[spec.image_column]
            ]
    ids = proj.ids
    frame.insert(0, "id", ids) if "id" not in frame.columns else frame.__setitem__("id", ids)
    labeled_ids = {sid for per in st.labels.values() for sid in per}
    preds: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if include_unlabeled:
        progress.update(0.2, "predicting labels for unlabeled samples")
        preds = proj.predictions()
    progress.update(0.6, "assembling rows")
    for t in spec.tasks:
        per = st.labels.get(t.name, {})
        frame[f"{t.name}__label"] = [_label_text(per.get(sid), t.separator) for sid in ids]
        prov = {sid: st.provenance.get((t.name, sid)) for sid in per}
        def field(fn):
            return [fn(prov[sid]) if sid in prov and prov[sid] is not None else None for sid in ids]
        frame[f"{t.name}__annotator"] = field(lambda e: e.annotator)
        frame[f"{t.name}__time"] = field(
            lambda e: dt.datetime.fromtimestamp(e.time, dt.timezone.utc).isoformat(timespec="seconds")
        )
        frame[f"{t.name}__seconds"] = field(lambda e: e.seconds)
        frame[f"{t.name}__strategy"] = field(lambda e: e.strategy)
        frame[f"{t.name}__score"] = field(lambda e: e.score)
        frame[f"{t.name}__rank"] = pd.array(field(lambda e: e.rank), dtype="Int64")
        frame[f"{t.name}__model_version"] = pd.array(field(lambda e: e.model_version), dtype="Int64")
        frame[f"{t.name}__audit"] = field(lambda e: bool(e.audit))
        if include_unlabeled and t.name in preds:
            labels, conf = preds[t.name]
            frame[f"{t.name}__predicted"] = [
                None if sid in per else _label_text(labels[i], t.separator)
                for i, sid in enumerate(ids)
            ]
            frame[f"{t.name}__confidence"] = [
                None if sid in per else float(conf[i]) for i, sid in enumerate(ids)
            ]
    frame["skipped"] = [sid in st.skipped for sid in ids]
    frame["flagged"] = [sid in st.flagged for sid in ids]
    if not include_unlabeled:
        frame = frame[[sid in labeled_ids for sid in ids]]
    progress.update(0.8, f"writing {out.name}")
    tmp = out.with_name(f".{out.name}.tmp")
    if fmt == "csv":
        frame.to_csv(tmp, index=False)
    elif fmt == "parquet":
        frame.to_parquet(tmp, index=False)
    else:
        frame.to_json(tmp, orient="records", lines=True, force_ascii=False)
    os.replace(tmp, out)
    progress.update(1.0, f"exported {len(frame)} rows to {out}")
    return out
