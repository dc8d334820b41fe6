"""The architecture as import contracts (import-linter, configured in pyproject.toml): the app
on top; core and strategies never import Qt or the app (neural/ included); strategies read only
the strategy contract from core; core's rooms import only downwards (cli > simulation, export >
project > loop > learning > querying > features > data, store); errors and progress import no
room. The contracts are checked on the package as installed (the wheel unpacked), which is the
tree import-linter can walk: on disk the rooms are mapped folders (core/, app/, ...)."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_import_contracts_are_kept(wheel, tmp_path):
    pytest.importorskip("importlinter", reason="import-linter is in the test extra")
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    lint = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(lint), str(ROOT / "pyproject.toml")], cwd=site, capture_output=True,
                       text=True, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
    import tomllib

    n = len(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
            ["contracts"])
    assert "0 broken" in r.stdout and f"Contracts: {n} kept" in r.stdout
