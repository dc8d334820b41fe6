"""The model list shows the torch models without importing torch (launch stays fast)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_settings_model_list_has_torch_models_without_importing_torch():
    pytest.importorskip("torch")
    code = (
        "import os, sys; os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtWidgets import QApplication; app = QApplication([])\n"
        "from activelab.app.main_window import _model_names\n"
        "from activelab.app.panels.settings_panel import SettingsPanel\n"
        "p = SettingsPanel(models=_model_names('logistic_regression'))\n"
        "names = [p.model_combo.itemText(i) for i in range(p.model_combo.count())]\n"
        "print(','.join(names)); print('torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.split()
    names, torch_imported = out[-2].split(","), out[-1]
    assert {"torch_mlp", "torch_cnn", "multimodal", "logistic_regression"} <= set(names)
    assert torch_imported == "False"
