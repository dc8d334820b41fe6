"""``activelab label`` and ``activelab status`` import only what they use.

Labeling from a script runs one process per label: scikit-learn, scipy, torch and matplotlib
(a model is not touched), and for ``label`` pandas and pyarrow (no data is read), would be
most of its start-up time. Asserted on the modules Python reports with ``-X importtime``, in
a fresh interpreter; the time itself is measured by ``benchmarks/pool_scale.py``.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from activelab.core.project.project import Project

NEVER = ("sklearn", "scipy", "torch", "matplotlib", "PySide6")


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("startup")
    data = folder / "pool.csv"
    data.write_text("id,x,y,label\n" + "".join(
        f"s{i},{i * 0.5},{(i * 7) % 5},{'ab'[i % 2] if i < 6 else ''}\n" for i in range(40)))
    proj = Project.create(folder / "p", data=data, id_column="id", feature_columns=["x", "y"],
                          tasks=["t=label"], import_labels=True)
    proj.retrain()          # a learning curve exists: status shows it
    path = proj.path
    proj.close()
    return path


def _imported(*args: str) -> tuple[set[str], str]:
    """The top-level packages a fresh ``python -m activelab ARGS`` imports, and its output."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "activelab", *args],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    assert "activelab" in names          # the report was read
    return names, done.stdout


def test_label_imports_no_model_and_no_data_library(project_dir):
    names, out = _imported("label", str(project_dir), "s17", "a")
    assert "Saved: s17 -> t = a" in out
    assert not names & {*NEVER, "pandas", "pyarrow"}, sorted(names & {*NEVER, "pandas", "pyarrow"})


def test_status_imports_no_model_library(project_dir):
    names, out = _imported("status", str(project_dir))
    assert "samples labeled" in out and "latest curve point" in out
    assert not names & set(NEVER), sorted(names & set(NEVER))


def test_a_command_that_trains_does_import_them(project_dir):
    # The check above can fail: 'retrain' touches the model and imports scikit-learn.
    names, _ = _imported("retrain", str(project_dir))
    assert {"sklearn", "scipy"} <= names
