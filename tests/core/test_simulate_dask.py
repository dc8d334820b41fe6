"""simulate --engine dask: the repeats x strategies as Dask tasks give the embedded result."""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

pytest.importorskip("distributed")

from activelab.core.cli.simulate import add_parser  # noqa: E402
from activelab.core.progress import Progress  # noqa: E402
from activelab.core.simulation.on_dask import DaskRunner  # noqa: E402
from activelab.core.simulation.simulate import simulate  # noqa: E402

# A score strategy, a distance one, one that learns from audit picks and one that falls back.
STRATEGIES = ["least_confidence", "coreset", "auto", "bald"]


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=300, n_features=8, n_informative=5, n_classes=3,
                               random_state=1)
    return X, np.array(["a", "b", "c"])[y]


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(a.curves, b.curves)
    pd.testing.assert_frame_equal(a.kappas, b.kappas)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.per_repeat, b.per_repeat)
    assert a.full_accuracy == b.full_accuracy
    assert a.notes == b.notes


def test_dask_runs_give_the_embedded_result_with_progress(data):
    X, y = data
    kw = dict(strategies=STRATEGIES, initial=8, batch=8, budget=40, repeats=2, seed=5)
    embedded = simulate(X, y, **kw)
    seen: list[tuple[float, str]] = []
    on_dask = simulate(X, y, runner=DaskRunner(workers=2, processes=False),
                       progress=Progress(lambda f, m: seen.append((f, m))), **kw)
    _same(embedded, on_dask)
    # every strategy of every repeat ran (random added as the reference)
    assert set(on_dask.curves.groupby(["strategy", "repeat"]).size().index) == {
        (s, r) for s in ["random", *STRATEGIES] for r in (0, 1)}
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert sum("done on the local cluster (2 workers)" in m for _, m in seen) == 2 * 5 + 2


def test_another_seed_on_dask_gives_other_picks(data):
    X, y = data
    kw = dict(strategies=["least_confidence"], initial=8, batch=8, budget=40, repeats=1)
    a = simulate(X, y, runner=DaskRunner(processes=False), seed=1, **kw)
    b = simulate(X, y, runner=DaskRunner(processes=False), seed=2, **kw)
    assert not a.curves.equals(b.curves)


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="activelab")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture(scope="module")
def table(data, tmp_path_factory):
    X, y = data
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    frame["label"] = y
    path = tmp_path_factory.mktemp("sim") / "pool.csv"
    frame.to_csv(path, index=False)
    return path


def test_cli_engine_dask_on_worker_processes_writes_the_embedded_summary(table, tmp_path):
    common = ["simulate", "--data", str(table), "--label-column", "label", "--strategies",
              "least_confidence,coreset", "--initial", "8", "--batch", "8", "--budget", "32",
              "--repeats", "2", "--no-progress"]
    assert _cli([*common, "--out", str(tmp_path / "emb")]) == 0
    assert _cli([*common, "--out", str(tmp_path / "dask"), "--engine", "dask",
                 "--workers", "2"]) == 0
    for name in ("summary.csv", "curves.csv", "kappas.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "emb" / name),
                                      pd.read_csv(tmp_path / "dask" / name))


def test_cli_unreachable_scheduler_is_one_clear_message(table, tmp_path, capsys):
    code = _cli(["simulate", "--data", str(table), "--label-column", "label", "--budget", "16",
                 "--repeats", "1", "--no-progress", "--out", str(tmp_path / "x"),
                 "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 1
    assert "tcp://127.0.0.1:9" in err and "cannot be reached" in err
    assert "Traceback" not in err
    assert not (tmp_path / "x" / "summary.csv").exists()


def test_cli_scheduler_without_engine_dask_is_refused(table, tmp_path, capsys):
    code = _cli(["simulate", "--data", str(table), "--label-column", "label",
                 "--no-progress", "--out", str(tmp_path / "x"), "--scheduler", "tcp://h:8786"])
    assert code == 1
    assert "--engine dask" in capsys.readouterr().err
