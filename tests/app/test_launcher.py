"""The activelab command: headless commands never load Qt; GUI commands reach activelab.app.main."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import activelab.app.main
from activelab.app.launcher import main

ROOT = Path(__file__).resolve().parents[2]


def test_gui_commands_reach_the_app(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(activelab.app.main, "run_gui", lambda *a, **k: calls.append(k) or 0)
    assert main(["demo", "--project", str(tmp_path / "d")]) == 0
    assert main([str(tmp_path / "some-project")]) == 0
    assert main([]) == 0
    assert calls[0] == {"demo": True, "demo_dir": str(tmp_path / "d")}
    assert calls[1] == {"project_path": str(tmp_path / "some-project")}
    assert calls[2] == {"project_path": None}


def test_headless_commands_do_not_load_qt():
    code = ("import sys; from activelab.app.launcher import main; rc = main(['strategies']); "
            "sys.exit(rc or int(any(m.startswith('PySide6') for m in sys.modules)))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "least_confidence" in r.stdout
