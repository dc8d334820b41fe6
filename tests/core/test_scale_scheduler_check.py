"""`new --engine dask --scheduler ADDRESS` checks the scheduler before making the project: a
malformed address or one where nothing answers is refused at once, in one paragraph, and no
project folder is left (before, the project was made and every query failed later)."""
from __future__ import annotations

import socket

import numpy as np
import pandas as pd
import pytest

from activelab.core.cli.main import main
from activelab.core.scale import cluster


@pytest.fixture
def parts(tmp_path):
    folder = tmp_path / "pool"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        pd.DataFrame({"a": rng.normal(size=40), "b": rng.normal(size=40),
                      "y": rng.choice(["x", "z"], 40)}).to_parquet(folder / f"p{i}.parquet")
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("address, says", [
    ("garbage", "is not a Dask scheduler address"),
    ("http://127.0.0.1:8786", "unknown address scheme 'http'"),
    ("tcp://127.0.0.1:PORT", "cannot be reached"),
])
def test_a_scheduler_that_cannot_be_used_refuses_new(tmp_path, parts, capsys, monkeypatch,
                                                     address, says):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT_S", 1.0)
    address = address.replace("PORT", str(_free_port()))
    code = main(["new", str(tmp_path / "proj"), "--data", str(parts / "*.parquet"),
                 "--task", "y=y", "--engine", "dask", "--scheduler", address])
    err = capsys.readouterr().err
    assert code != 0 and says in err and "was not created" in err
    assert "Traceback" not in err
    assert not (tmp_path / "proj").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["pool"]   # no temp folder left either
