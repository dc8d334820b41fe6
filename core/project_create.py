"""Creating a project folder from data: import, check, store the samples, build features."""
from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from core.errors import ProjectError
from core.progress import NULL_PROGRESS, Progress
from core.settings import Settings
from core.spec import FeatureConfig
from core.store import STORE_NAME, LabelStore

IMAGES_NPY = "images.npy"
CACHE_DIR = "cache"


def _plain(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return None if math.isnan(f) else f
    if isinstance(v, np.bool_):
        return bool(v)
    if v is None:
        return None
    try:
        import pandas as pd

        if v is pd.NA or v is pd.NaT:
            return None
    except ImportError:  # pragma: no cover
        pass
    return v if isinstance(v, (str, int, bool, list, dict)) else str(v)


def create_project(
    path: str | Path,
    *,
    data: str | Path,
    format: str | None = None,
    encoding: str | None = None,
    id_column: str | None = None,
    text_columns: Sequence[str] = (),
    image_column: str | None = None,
    feature_columns: Sequence[str] | None = None,
    tasks: Sequence[str] = (),
    multilabel: Sequence[str] = (),
    import_labels: bool = False,
    model: str = "logistic_regression",
    model_params: Mapping[str, Any] | None = None,
    strategy: str = "entropy",
    feature_config: FeatureConfig | None = None,
    settings: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
) -> tuple[Path, list[str]]:
    """Import ``data`` into a new project folder and return it with the import decisions.

    Atomic: everything is built in a hidden sibling folder that is renamed into place at the
    end, so on any error no half-made project is left behind.
    """
    from core.features import build_features
    from core.importers import (
        imported_labels, infer_spec, read_table, sample_ids, validate_table,
    )
    from core.models import model_info
    from core.registry import get_strategy

    progress = progress or NULL_PROGRESS
    final = Path(path).expanduser().resolve()
    if final.exists() and (not final.is_dir() or any(final.iterdir())):
        raise ProjectError(
            f"{final} already exists and is not empty. Choose a new folder for the project, "
            "or open the existing one with 'activelab status'."
        )
    model_info(model)
    get_strategy(strategy)
    # Settings, the model's and the strategy's parameters are checked before any work.
    s = Settings(model=model, model_params=dict(model_params or {}), strategy=strategy)
    s = s.updated(**dict(settings or {})).check_choices()   # updated() checks every field
    progress.update(0.0, f"reading {data}")
    table = read_table(data, format=format, encoding=encoding, image_column=image_column)
    spec, decisions = infer_spec(
        table, id_column=id_column, text_columns=text_columns, image_column=image_column,
        feature_columns=feature_columns, tasks=tasks, multilabel=multilabel,
    )
    decisions = list(table.decisions) + list(decisions)
    progress.update(0.1, "checking the data")
    validate_table(table, spec)
    ids = sample_ids(table, spec)
    labels = imported_labels(table, spec) if import_labels else []
    fc = feature_config or FeatureConfig()
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.creating-", dir=final.parent))
    try:
        store = LabelStore(tmp / STORE_NAME, create=True)
        frame = table.frame
        columns = list(frame.columns)
        rows = (
            (i, ids[i], {c: _plain(v) for c, v in zip(columns, rec)})
            for i, rec in enumerate(frame.itertuples(index=False, name=None))
        )
        store.add_samples(rows)
        if table.image_array is not None:
            np.save(tmp / IMAGES_NPY, np.ascontiguousarray(table.image_array), allow_pickle=False)
        image_root = str(Path(table.image_root).resolve()) if table.image_root else None
        store.set_setting("spec", spec.to_dict())
        store.set_setting("feature_config", fc.to_dict())
        store.set_setting("settings", s.to_dict())
        store.set_setting("source", {
            "data": str(Path(data).expanduser().resolve()), "format": table.format,
            "image_root": image_root,
            "image_root_rel": os.path.relpath(image_root, final) if image_root else None,
        })
        store.set_setting("decisions", decisions)
        if labels:
            events = [
                {"kind": "label", "sample_id": ids[row], "task": task, "value": value,
                 "annotator": "import"}
                for row, task, value in labels
            ]
            store.append_group(events)
        progress.update(0.2, "building features")
        fs = build_features(
            frame, spec, fc, image_root=image_root, image_array=table.image_array,
            cache_dir=tmp / CACHE_DIR, progress=progress.sub(0.2, 1.0),
        )
        store.set_setting("feature_fingerprint", fs.fingerprint)
        store.close()
        if final.exists():
            final.rmdir()
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final, decisions

