"""torch stays inside core/neural: the base install imports without it, and core/neural never
imports Qt."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )
    return set(out.stdout.split())


def test_base_modules_do_not_import_torch():
    mods = _modules_after(
        "import activelab.core.learning.models, activelab.core.querying.strategy_api, activelab.core.querying.runner, activelab.strategies.builtin, "
        "activelab.strategies.cotesting, activelab.core.learning.neural"
    )
    assert "torch" not in mods


def test_neural_package_does_not_import_qt():
    mods = _modules_after(
        "import activelab.core.learning.neural.register, activelab.core.learning.neural.classifier, activelab.core.learning.neural.multimodal, "
        "activelab.core.learning.neural.weights"
    )
    assert "torch" in mods
    assert not {m for m in mods if m.startswith(("PySide6", "pyqtgraph", "app"))}
