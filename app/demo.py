"""The bundled demo: scikit-learn's handwritten digits (shipped with scikit-learn, no download).

``open_or_create_demo(folder)`` reopens the demo project in ``folder`` or creates it there from
1,797 8x8 digit images written to a temporary .npz, with one task, ``digit`` (classes 0-9).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from activelab.core.progress import Progress

DEFAULT_DEMO_DIR = Path("~/.activelab/demo")
STORE_NAME = "project.sqlite"


def default_demo_dir() -> Path:
    return Path(os.environ.get("ACTIVELAB_DEMO_DIR", DEFAULT_DEMO_DIR)).expanduser()


def write_digits_npz(path: Path) -> Path:
    """The digits as (N, 8, 8) uint8 images plus their true labels (used only to simulate)."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = np.clip(digits.images * 16.0, 0, 255).astype(np.uint8)
    np.savez(path, X=images, y=digits.target.astype(str))
    return path


def open_or_create_demo(folder: str | Path | None = None, progress: Progress | None = None) -> Any:
    """Reopen the demo project in ``folder`` (default ~/.activelab/demo) or create it."""
    from activelab.core.project.project import Project

    target = Path(folder).expanduser() if folder else default_demo_dir()
    if (target / STORE_NAME).exists():
        return Project.open(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="activelab-demo-") as tmp:
        data = write_digits_npz(Path(tmp) / "digits.npz")
        return Project.create(
            target, data=data, tasks=("digit=label",), import_labels=False,
            settings={"batch_size": 10, "retrain_every": 5}, progress=progress,
        )
