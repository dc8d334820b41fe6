"""activelab simulate: strategy comparison with the known labels playing the expert."""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.datasets import make_classification

from activelab.core.cli.simulate import add_parser, run
from activelab.core.errors import DataError, StrategyError
from activelab.core.progress import Cancelled, Progress
from activelab.core.simulation.simulate import CURVE_COLUMNS, initial_labeled, simulate
from activelab.core.simulation.report import (
    SUMMARY_COLUMNS, aulc, format_summary, labels_to_reach, write_outputs,
)

UNCERTAINTY = ["least_confidence", "margin", "entropy"]


@pytest.fixture(scope="module")
def binary():
    """Two well-separated Gaussian classes: uncertainty sampling should beat random here."""
    X, y = make_classification(
        n_samples=1000, n_features=10, n_informative=4, n_redundant=0, n_classes=2,
        n_clusters_per_class=1, class_sep=1.0, flip_y=0.0, random_state=2,
    )
    return X, np.where(y == 1, "pos", "neg")


@pytest.fixture(scope="module")
def binary_result(binary):
    X, y = binary
    return simulate(X, y, strategies=UNCERTAINTY, initial=6, batch=4, budget=70, repeats=4, seed=2)


def test_uncertainty_strategies_beat_random_in_aulc(binary_result):
    s = binary_result.summary.set_index("strategy")
    for name in UNCERTAINTY:
        assert s.loc[name, "aulc_accuracy"] > s.loc["random", "aulc_accuracy"] + 0.01, s
        assert s.loc[name, "aulc_vs_random_ratio"] > 1.0
        assert s.loc[name, "aulc_vs_random_diff"] > 0.01
    assert s.loc["random", "aulc_vs_random_ratio"] == pytest.approx(1.0)
    assert s.loc["random", "aulc_vs_random_diff"] == pytest.approx(0.0)


def test_summary_columns_and_reference(binary_result):
    r = binary_result
    assert list(r.summary.columns) == SUMMARY_COLUMNS
    assert list(r.summary["strategy"]) == ["random", *UNCERTAINTY]
    assert r.reference_added and any("random" in n for n in r.notes)
    assert set(r.full_accuracy) == {0, 1, 2, 3}
    assert all(0.5 < a <= 1.0 for a in r.full_accuracy.values())
    assert (r.summary["repeats"] == 4).all()
    # Reaching 95% of the full-split accuracy is easy here, and uncertainty needs fewer labels.
    s = r.summary.set_index("strategy")
    assert (s["reached_target"] == 4).all()
    for name in UNCERTAINTY:
        assert s.loc[name, "labels_to_target"] <= s.loc["random", "labels_to_target"]


def test_curves_progress_in_batches_to_the_budget_from_a_shared_start(binary_result):
    c = binary_result.curves
    assert list(c.columns) == CURVE_COLUMNS
    assert len(c) == 4 * 4 * 17
    for (_, _), g in c.groupby(["strategy", "repeat"]):
        assert g["n_labels"].tolist() == list(range(6, 71, 4))
    # Every strategy starts from the same labeled set in a repeat: same first accuracy.
    first = c[c["n_labels"] == 6].pivot(index="repeat", columns="strategy", values="accuracy")
    assert (first.nunique(axis=1) == 1).all()
    assert c["accuracy"].between(0, 1).all() and c["macro_f1"].between(0, 1).all()


def test_budget_not_multiple_of_batch_ends_exactly_at_budget(binary):
    X, y = binary
    r = simulate(X[:300], y[:300], strategies=["margin"], initial=5, batch=10, budget=32,
                 repeats=1)
    g = r.curves[r.curves["strategy"] == "margin"]
    assert g["n_labels"].tolist() == [5, 15, 25, 32]


def test_same_seed_reproduces_and_other_seed_differs(binary):
    X, y = binary[0][:400], binary[1][:400]
    kw = dict(strategies=["random", "entropy"], initial=6, batch=6, budget=36, repeats=2)
    a = simulate(X, y, seed=5, **kw)
    b = simulate(X, y, seed=5, **kw)
    c = simulate(X, y, seed=6, **kw)
    pd.testing.assert_frame_equal(a.curves, b.curves)
    pd.testing.assert_frame_equal(a.summary, b.summary)
    assert a.full_accuracy == b.full_accuracy
    assert not a.curves["accuracy"].equals(c.curves["accuracy"])


def test_a_strategys_curve_does_not_depend_on_the_others_run(binary):
    X, y = binary[0][:400], binary[1][:400]
    kw = dict(initial=6, batch=6, budget=36, repeats=2, seed=1)
    alone = simulate(X, y, strategies=["random", "entropy"], **kw).curves
    mixed = simulate(X, y, strategies=["margin", "random", "entropy"], **kw).curves
    pick = lambda c: c[c["strategy"] == "entropy"].reset_index(drop=True)  # noqa: E731
    pd.testing.assert_frame_equal(pick(alone), pick(mixed))


def test_sparse_input_works_like_dense(binary):
    X, y = binary[0][:400], binary[1][:400]
    Xs = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    kw = dict(strategies=["least_confidence"], initial=6, batch=6, budget=30, repeats=1, seed=0)
    sparse = simulate(Xs, y, **kw)
    dense = simulate(Xs.toarray(), y, **kw)
    assert sparse.curves["n_labels"].tolist() == dense.curves["n_labels"].tolist()
    np.testing.assert_allclose(sparse.curves["accuracy"], dense.curves["accuracy"], atol=0.02)


def test_feature_and_committee_strategies_run_with_a_dense_view():
    X, y = make_classification(n_samples=300, n_features=8, n_informative=4, n_classes=3,
                               n_clusters_per_class=1, random_state=0)
    r = simulate(sp.csr_matrix(X), y, X_dense=X.astype(np.float32),
                 strategies=["random", "coreset", "vote_entropy"], initial=6, batch=5,
                 budget=21, repeats=1)
    assert set(r.curves["strategy"]) == {"random", "coreset", "vote_entropy"}
    assert not r.reference_added
    with pytest.raises(StrategyError, match="dense"):
        simulate(sp.csr_matrix(X), y, strategies=["coreset"], initial=6, batch=5, budget=21,
                 repeats=1)


def test_initial_set_holds_two_classes_when_one_is_rare():
    y = np.array(["a"] * 495 + ["b"] * 5, dtype=object)
    for s in range(50):
        start = initial_labeled(y, 4, np.random.default_rng(s))
        assert len(start) == 4 and len(set(start)) == 4
        assert set(y[start]) == {"a", "b"}


def test_rare_class_data_runs_without_model_errors():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    y = np.where(np.arange(400) < 12, "rare", "common")
    X[y == "rare"] += 2.0
    r = simulate(X, y, strategies=["entropy"], initial=4, batch=4, budget=20, repeats=2)
    assert len(r.curves) == 2 * 2 * 5


def test_budget_beyond_the_pool_is_capped_and_said(binary):
    X, y = binary[0][:80], binary[1][:80]
    r = simulate(X, y, strategies=["random"], initial=10, batch=20, budget=500, repeats=1,
                 test_size=0.25)
    assert r.curves["n_labels"].max() == 60
    assert any("capped" in n for n in r.notes)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(y=["a"] * 50), DataError, "single class"),
        (dict(strategies=["no_such_strategy"]), StrategyError, "Unknown strategy"),
        (dict(budget=5, initial=10), DataError, "budget"),
        (dict(initial=1), DataError, "initial"),
        (dict(test_size=1.5), DataError, "test-size"),
        (dict(y=["a", "b"] * 10), DataError, "same samples"),
    ],
)
def test_bad_settings_raise_clear_errors(kwargs, error, match):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    args = dict(y=["a", "b"] * 25, strategies=["margin"], initial=4, batch=2, budget=10,
                repeats=1)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        simulate(X, **args)


def test_progress_reports_strategy_repeat_labels_and_can_cancel(binary):
    X, y = binary[0][:200], binary[1][:200]
    seen: list[tuple[float, str]] = []
    simulate(X, y, strategies=["margin"], initial=6, batch=6, budget=18, repeats=2,
             progress=Progress(lambda f, m: seen.append((f, m))))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("margin" in m and "repeat 2/2" in m and "18/18 labels" in m for _, m in seen)

    p = Progress(lambda f, m: p.cancel() if f > 0.3 else None)
    with pytest.raises(Cancelled):
        simulate(X, y, strategies=["margin"], initial=6, batch=6, budget=18, repeats=2,
                 progress=p)


def test_aulc_and_labels_to_reach():
    x = np.array([10, 20, 40])
    assert aulc(x, np.array([0.5, 0.5, 0.5])) == pytest.approx(0.5)
    # trapezoids: 10*(0.5+0.7)/2 + 20*(0.7+0.9)/2 = 6 + 16 = 22 over a range of 30
    assert aulc(x, np.array([0.5, 0.7, 0.9])) == pytest.approx(22 / 30)
    assert labels_to_reach(x, np.array([0.5, 0.7, 0.9]), 0.7) == 20
    assert np.isnan(labels_to_reach(x, np.array([0.5, 0.7, 0.9]), 0.95))
    # An early spike that falls back does not count as reached; the first point does.
    spike = np.array([0.8, 0.6, 0.8])
    assert labels_to_reach(x, spike, 0.75) == 40
    assert labels_to_reach(x, spike, 0.75, sustained=False) == 10
    assert np.isnan(labels_to_reach(x, np.array([0.8, 0.8, 0.6]), 0.75))


def test_outputs_are_written_and_table_is_readable(binary_result, tmp_path):
    paths = write_outputs(binary_result, tmp_path / "out")
    curves = pd.read_csv(paths["curves_csv"])
    assert list(curves.columns) == CURVE_COLUMNS and len(curves) == len(binary_result.curves)
    summary = pd.read_csv(paths["summary_csv"])   # one row per strategy and repeat
    assert list(dict.fromkeys(summary["strategy"])) == ["random", *UNCERTAINTY]
    assert len(summary) == 4 * 4 and "full_accuracy" in summary.columns
    table = pd.read_csv(paths["table_csv"])
    assert list(table["strategy"]) == ["random", *UNCERTAINTY]
    png = paths["curves_png"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    text = format_summary(binary_result)
    lines = text.splitlines()
    for name in ["random", *UNCERTAINTY]:
        assert any(line.startswith(name) for line in lines)
    assert "'random' was added as the reference" in text
    assert "AULC" in text


def test_table_says_not_reached():
    # Three labels on a 20-dimensional problem stay far below a model trained on 300.
    rng = np.random.default_rng(0)
    Xn = rng.normal(size=(400, 20))
    yn = np.where(Xn[:, :10].sum(axis=1) > 0, "p", "n")
    r = simulate(Xn, yn, strategies=["random"], initial=2, batch=1, budget=3, repeats=1)
    assert r.summary["reached_target"].iloc[0] == 0
    assert "not reached" in format_summary(r)


# ----------------------------------------------------------------------------- CLI


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="activelab")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return run(args)


def _small_text_csv(path) -> None:
    rng = np.random.default_rng(0)
    sport = ["match", "goal", "team", "coach", "league", "score", "player", "season"]
    money = ["bank", "stock", "market", "profit", "price", "trade", "shares", "loan"]
    rows = []
    for i in range(240):
        label = "sport" if i % 3 else "business"
        words = rng.choice(sport if label == "sport" else money, size=6).tolist()
        words += rng.choice(sport + money, size=2).tolist()
        rows.append({"doc": f"d{i}", "text": " ".join(words), "topic": label})
    rows[5]["topic"] = ""  # an unlabeled row is left out, not an error
    pd.DataFrame(rows).to_csv(path, index=False)


def test_cli_writes_files_and_prints_the_table(tmp_path, capsys):
    data = tmp_path / "news.csv"
    _small_text_csv(data)
    out = tmp_path / "sim"
    code = _cli(["simulate", "--data", str(data), "--label-column", "topic",
                 "--text-column", "text", "--id-column", "doc", "--strategies", "margin,entropy",
                 "--initial", "4", "--batch", "4", "--budget", "24", "--repeats", "2",
                 "--out", str(out), "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    for f in ("curves.csv", "curves.png", "summary.csv", "table.csv"):
        assert (out / f).is_file()
    curves = pd.read_csv(out / "curves.csv")
    assert set(curves["strategy"]) == {"random", "margin", "entropy"}
    assert curves["n_labels"].max() == 24
    assert "margin" in captured.out and "labels→95%" in captured.out
    assert str(out / "curves.png") in captured.out
    assert "1 rows without a label" in captured.err


def test_cli_default_out_folder_is_named_after_the_data(tmp_path, monkeypatch, capsys):
    data = tmp_path / "news.csv"
    _small_text_csv(data)
    monkeypatch.chdir(tmp_path)
    code = _cli(["simulate", "--data", str(data), "--label-column", "topic", "--strategies",
                 "least_confidence", "--initial", "4", "--batch", "10", "--budget", "14",
                 "--repeats", "1", "--model-param", "C=10"])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "simulation-news" / "curves.csv").is_file()


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--label-column", "nope"], "Label column 'nope'"),
        (["--label-column", "topic", "--strategies", "nonsense"], "Unknown strategy"),
        (["--label-column", "topic", "--model", "nonsense"], "Unknown model"),
        (["--label-column", "topic", "--model-param", "C"], "KEY=VALUE"),
    ],
)
def test_cli_errors_print_a_message_and_return_1(tmp_path, capsys, extra, match):
    data = tmp_path / "news.csv"
    _small_text_csv(data)
    code = _cli(["simulate", "--data", str(data), "--out", str(tmp_path / "o"), "--no-progress",
                 *extra])
    err = capsys.readouterr().err
    assert code == 1
    assert match in err and err.startswith("error:")


def test_cli_missing_file_returns_1(tmp_path, capsys):
    code = _cli(["simulate", "--data", str(tmp_path / "missing.csv"), "--label-column", "y"])
    assert code == 1
    assert "missing.csv" in capsys.readouterr().err


# ----------------------------------------------------------------------------- real data


@pytest.mark.slow
@pytest.mark.shared_data
def test_sms_spam_uncertainty_beats_random(shared_data, tmp_path, capsys):
    path = shared_data("sms_spam", "SMSSpamCollection")
    out = tmp_path / "sms"
    code = _cli(["simulate", "--data", str(path), "--label-column", "Label",
                 "--strategies", "least_confidence,margin,entropy", "--initial", "10",
                 "--batch", "10", "--budget", "300", "--repeats", "2", "--out", str(out),
                 "--no-progress"])
    assert code == 0, capsys.readouterr().err
    s = pd.read_csv(out / "summary.csv").groupby("strategy").mean(numeric_only=True)
    for name in UNCERTAINTY:
        assert s.loc[name, "aulc_accuracy"] > s.loc["random", "aulc_accuracy"], s
        assert s.loc[name, "aulc_macro_f1"] > s.loc["random", "aulc_macro_f1"], s
    assert (out / "curves.png").stat().st_size > 20_000


def test_main_cli_runs_simulate(tmp_path, capsys):
    from activelab.core.cli.main import main

    data = tmp_path / "news.csv"
    _small_text_csv(data)
    out = tmp_path / "via-main"
    code = main(["simulate", "--data", str(data), "--label-column", "topic", "--initial", "4",
                 "--batch", "5", "--budget", "14", "--repeats", "1", "--out", str(out),
                 "--no-progress"])
    assert code == 0, capsys.readouterr().err
    assert (out / "curves.png").is_file() and (out / "summary.csv").is_file()
