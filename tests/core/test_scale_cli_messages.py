"""What a user sees from the Dask engine's CLI entry points when something is wrong: one
paragraph, never a traceback (missing dask extra, a CSV given to --engine dask, ...)."""
from __future__ import annotations

import sys

import pandas as pd
import pytest

from activelab.core.cli.main import main


def _frame():
    return pd.DataFrame({"text": [f"message {i}" for i in range(20)], "label": ["a", "b"] * 10})


def _csv(tmp_path):
    path = tmp_path / "sms.csv"
    _frame().to_csv(path, index=False)
    return path


def _pool(tmp_path):
    folder = tmp_path / "pool"
    folder.mkdir()
    _frame().to_parquet(folder / "part-00.parquet", index=False)
    return folder


@pytest.mark.parametrize("argv", [
    ["new", "{p}", "--data", "{pool}", "--engine", "dask"],
    ["simulate", "--data", "{d}", "--engine", "dask", "--label-column", "label",
     "--text-column", "text", "--repeats", "1", "--out", "{p}"],
])
def test_dask_entry_points_without_the_extra_say_install_it(tmp_path, monkeypatch, capsys, argv):
    """With distributed not importable, the Dask entry points say: install activelab[dask]."""
    data = _csv(tmp_path)
    monkeypatch.setitem(sys.modules, "distributed", None)
    from activelab.core.scale.cluster import close_local_clusters
    close_local_clusters()
    pool = _pool(tmp_path)
    args = [a.format(p=tmp_path / "P", d=data, pool=pool) for a in argv]
    code = main(args)
    err = capsys.readouterr().err
    assert code != 0
    assert "pip install 'activelab[dask]'" in err
    assert "Traceback" not in err


def test_new_dask_on_a_csv_says_parquet_only_and_how_to_convert(tmp_path, capsys):
    """A CSV given to --engine dask: named, 'Parquet only', and both ways out; no contradiction."""
    data = _csv(tmp_path)
    code = main(["new", str(tmp_path / "DC"), "--data", str(data), "--engine", "dask"])
    err = capsys.readouterr().err
    assert code != 0
    assert str(data) in err and "Parquet only" in err
    assert "embedded engine" in err and "to_parquet" in err
    assert "single data file" not in err and "Traceback" not in err
