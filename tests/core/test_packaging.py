"""One installed namespace: the wheel holds only ``activelab``, and neither an unrelated
package named ``strategies`` nor a user's own ``core/`` or ``strategies/`` folder can shadow
ours (napari checks its wheel the same way, with check-wheel-contents)."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_installs_one_top_level_name(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert top == {"activelab"}
    for room in ("activelab/core/store/store.py", "activelab/core/data/read.py",
                 "activelab/app/main_window.py", "activelab/strategies/builtin.py",
                 "activelab/resources/style.qss", "activelab/__main__.py"):
        assert room in names, room
    meta = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    entry_points = zipfile.ZipFile(wheel).read(meta).decode()
    assert "activelab = activelab.app.launcher:main" in entry_points
    assert "builtin = activelab.strategies.builtin:strategies" in entry_points


def _run(code: str, cwd: Path, extra_path: Path | None = None) -> subprocess.CompletedProcess:
    env = None
    if extra_path is not None:
        import os

        env = {**os.environ, "PYTHONPATH": str(extra_path)}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env,
                          capture_output=True, text=True)


FIND_STRATEGIES = """
    from activelab.core.querying.registry import registry
    import activelab
    names = sorted(s.name for s in registry())
    assert "margin" in names and len(names) >= 16, names
    assert activelab.Project.__module__ == "activelab.core.project.project"
    print(len(names))
"""


def test_a_package_named_strategies_beside_ours_does_not_shadow_it(tmp_path):
    """An unrelated distribution that installs a top-level ``strategies`` (as PyPI's does)."""
    site = tmp_path / "site"
    (site / "strategies").mkdir(parents=True)
    (site / "strategies" / "__init__.py").write_text("raise ImportError('not activelab')\n")
    (site / "core").mkdir()
    (site / "core" / "__init__.py").write_text("raise ImportError('not activelab')\n")
    r = _run(FIND_STRATEGIES, cwd=tmp_path, extra_path=site)
    assert r.returncode == 0, r.stderr


def test_running_from_a_folder_with_its_own_core_and_strategies(tmp_path):
    """A web app's usual layout, or the natural place to write a plug-in."""
    for pkg in ("core", "strategies", "app", "resources"):
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    (tmp_path / "strategies" / "builtin.py").write_text("strategies = []\n")
    r = _run(FIND_STRATEGIES, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    cli = subprocess.run([sys.executable, "-m", "activelab", "strategies"], cwd=tmp_path,
                         capture_output=True, text=True)
    assert cli.returncode == 0 and "margin" in cli.stdout, cli.stderr


def test_python_dash_m_activelab_runs_the_command(tmp_path):
    r = subprocess.run([sys.executable, "-m", "activelab", "models"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert r.returncode == 0 and "logistic_regression" in r.stdout, r.stderr


def test_the_public_api_is_at_the_top():
    import activelab
    from activelab import Param, Project, QueryContext, Strategy, export_labels, simulate

    assert callable(export_labels) and callable(simulate)
    assert {"Project", "export_labels", "simulate", "Strategy", "Param"} <= set(dir(activelab))
    assert Project.__name__ == "Project" and Strategy and Param and QueryContext
