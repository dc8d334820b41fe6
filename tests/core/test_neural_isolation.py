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
        "import core.models, core.strategy_api, core.query_runner, strategies.builtin, "
        "strategies.cotesting, core.neural"
    )
    assert "torch" not in mods


def test_neural_package_does_not_import_qt():
    mods = _modules_after(
        "import core.neural.register, core.neural.classifier, core.neural.multimodal, "
        "core.neural.weights"
    )
    assert "torch" in mods
    assert not {m for m in mods if m.startswith(("PySide6", "pyqtgraph", "app"))}
