"""Save and load fitted torch models as plain tensors (safetensors) plus a JSON description.

``save_weights(model, "m.safetensors")`` writes the tensors and ``m.json`` (the class name,
the constructor parameters, the classes and the input spec). Loading rebuilds the network
from the JSON and fills in the tensors; nothing is unpickled, so a shared project file cannot
run code.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.torch import load_file, save_file

from activelab.core.errors import ModelError

FORMAT_VERSION = 1


def _classes():
    from activelab.core.learning.neural.classifier import DeepEnsembleClassifier, TorchClassifier
    from activelab.core.learning.neural.multimodal import MultimodalClassifier
    from activelab.core.learning.neural.multitask import MultiTaskClassifier

    return {
        c.__name__: c
        for c in (TorchClassifier, DeepEnsembleClassifier, MultiTaskClassifier, MultimodalClassifier)
    }


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.ndarray):
        return _jsonable(v.tolist())
    if isinstance(v, np.generic):
        return v.item()
    if hasattr(v, "classes") and hasattr(v, "multilabel"):  # a TaskSpec
        return [list(v.classes), bool(v.multilabel)]
    return v


def json_path(path: str | Path) -> Path:
    return Path(path).with_suffix(".json")


def save_weights(model: Any, path: str | Path) -> Path:
    """Write the tensors to ``path`` (safetensors) and the description beside it (.json)."""
    if not hasattr(model, "nets_"):
        raise ModelError("Only a fitted model can be saved; fit it first.")
    path = Path(path)
    tensors = {
        f"m{i}.{k}": v.detach().contiguous().clone()
        for i, net in enumerate(model.nets_)
        for k, v in net.state_dict().items()
    }
    save_file(tensors, str(path))
    meta = {
        "format_version": FORMAT_VERSION,
        "class": type(model).__name__,
        "params": _jsonable(model.get_params()),
        "classes": _jsonable(model.classes_),
        "net_spec": _jsonable(model.net_spec_),
        "multilabel": list(model.multilabel_),
        "n_members": len(model.nets_),
        "task_names": list(getattr(model, "task_names_", [])),
    }
    json_path(path).write_text(json.dumps(meta, indent=1), encoding="utf-8")
    return path


def _params(raw: dict) -> dict:
    out = dict(raw)
    for key in ("hidden", "text_hidden", "image_shape"):
        if isinstance(out.get(key), list):
            out[key] = tuple(out[key])
    if isinstance(out.get("tasks"), dict):
        out["tasks"] = {t: (list(v[0]), bool(v[1])) for t, v in out["tasks"].items()}
    return out


def load_weights(model: Any, path: str | Path) -> Any:
    """Fill ``model`` (an instance of the saved class) with the saved parameters and weights."""
    path = Path(path)
    meta_file = json_path(path)
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"Cannot read the model description {meta_file}: {exc}. Retrain the model; "
            "saved models are derived data and can be rebuilt from the labels."
        ) from exc
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise ModelError(f"{meta_file} was written by a newer activelab; update activelab.")
    if meta.get("class") != type(model).__name__:
        raise ModelError(
            f"{path} holds a {meta.get('class')}, not a {type(model).__name__}; "
            "load it with load_model(path) instead."
        )
    model.set_params(**_params(meta["params"]))
    spec = meta["net_spec"]
    try:
        tensors = load_file(str(path))
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelError(f"Cannot read the weights file {path}: {exc}. Retrain the model.") from exc
    nets = []
    for i in range(int(meta["n_members"])):
        net = model.build_net(spec)
        prefix = f"m{i}."
        state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        try:
            net.load_state_dict(state)
        except RuntimeError as exc:
            raise ModelError(f"The weights in {path} do not fit the saved description: {exc}") from exc
        net.eval()
        nets.append(net)
    model.nets_ = nets
    model.net_spec_ = spec
    model.multilabel_ = list(meta["multilabel"])
    classes = meta["classes"]
    if isinstance(classes, dict):
        model.classes_ = {t: np.asarray(c, dtype=object) for t, c in classes.items()}
        model.task_names_ = list(meta["task_names"]) or list(classes)
    else:
        model.classes_ = np.asarray(classes)
        first = spec["blocks"][0]
        model.n_features_in_ = int(first["d_in"])
    if hasattr(model, "needs_blocks") and model.needs_blocks:
        model.modalities_ = [b["name"] for b in spec["blocks"]]
    model.train_logs_, model.n_epochs_, model.warm_started_ = [], 0, False
    return model


def load_model(path: str | Path) -> Any:
    """A fitted model rebuilt from ``path`` and its JSON description (no pickle)."""
    meta_file = json_path(path)
    try:
        name = json.loads(meta_file.read_text(encoding="utf-8")).get("class")
    except (OSError, ValueError) as exc:
        raise ModelError(f"Cannot read the model description {meta_file}: {exc}.") from exc
    classes = _classes()
    if name not in classes:
        raise ModelError(f"{meta_file} names an unknown model class {name!r}.")
    return load_weights(classes[name](), path)


__all__ = ["save_weights", "load_weights", "load_model"]
