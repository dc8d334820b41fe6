"""simulate's honest numbers: censored labels-to-target, paired ratios with intervals, the
majority baseline, a fixed test set with pool-fitted features, and a table that can be
recomputed from summary.csv."""
from __future__ import annotations

import argparse
import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import stats
from sklearn.datasets import make_classification

from activelab.core.loop.stop_trend import first_stable_trend
from activelab.core.loop.stopping import KAPPA_THRESHOLD, WINDOW
from activelab.core.cli.simulate import add_parser, run
from activelab.core.simulation.report import format_summary, write_outputs
from activelab.core.simulation.simulate import simulate
from activelab.core.simulation.summary import (
    REPEAT_COLUMNS, SUMMARY_COLUMNS, censored_median, per_repeat, strategy_table,
)


def _rows(strategy: str, labels: list[float], aulcs: list[float], budget: int = 300
          ) -> list[dict]:
    out = []
    for r, (lab, au) in enumerate(zip(labels, aulcs)):
        out.append({c: math.nan for c in REPEAT_COLUMNS} | {
            "strategy": strategy, "repeat": r, "seed": 0, "budget": budget,
            "target_metric": "accuracy", "target_fraction": 0.95,
            "aulc_accuracy": au, "aulc_macro_f1": au, "final_accuracy": au,
            "final_macro_f1": au, "labels_to_target": lab, "reached_target": not math.isnan(lab),
            "plateau_labels": 100.0,
        })
    return out


def test_censored_repeats_count_as_more_than_the_budget_and_enter_ratios_as_bounds():
    nan = math.nan
    rows = pd.DataFrame(_rows("random", [100, 200, nan, nan], [0.80, 0.82, 0.78, 0.79])
                        + _rows("margin", [50, nan, 150, nan], [0.84, 0.80, 0.86, 0.79]))
    t = strategy_table(rows).set_index("strategy")
    assert list(strategy_table(rows).columns) == SUMMARY_COLUMNS
    # margin reached it in 2 of 4 repeats: the median (50, 150, >300, >300) is beyond 300.
    assert t.loc["margin", "reached_target"] == 2 and t.loc["margin", "labels_to_target_censored"]
    # Repeat 0: 50/100. Repeat 1: only random reached (200): margin needs > 300, ratio > 1.5.
    # Repeat 2: only margin reached (150): random needs > 300, ratio < 0.5. Repeat 3: neither.
    assert t.loc["margin", "labels_vs_random_pairs"] == 3
    assert t.loc["margin", "labels_vs_random_bounds"] == 2
    expected = math.exp(np.mean(np.log([0.5, 1.5, 0.5])))
    assert t.loc["margin", "labels_vs_random_ratio"] == pytest.approx(expected)
    ci = stats.ttest_1samp(np.log([0.5, 1.5, 0.5]), 0).confidence_interval(0.95)
    assert t.loc["margin", "labels_vs_random_low"] == pytest.approx(math.exp(ci.low))
    # AULC ratio paired per repeat.
    ratios = np.array([0.84 / 0.80, 0.80 / 0.82, 0.86 / 0.78, 0.79 / 0.79])
    assert t.loc["margin", "aulc_vs_random_ratio"] == pytest.approx(math.exp(np.log(ratios).mean()))
    # random against itself: exactly 1, a zero-width interval.
    assert t.loc["random", "labels_vs_random_ratio"] == 1.0
    assert t.loc["random", "labels_vs_random_low"] == t.loc["random", "labels_vs_random_high"] == 1.0


def test_censored_median():
    assert censored_median([140, 150, 160, 170, 180], [True] * 5) == (160.0, False)
    assert censored_median([140, 150, 0, 0, 0], [True, True, False, False, False]) == (
        pytest.approx(math.nan, nan_ok=True), True)
    assert censored_median([140, 150, 160, 0, 0], [True, True, True, False, False]) == (160.0, False)
    # A repeat that reached the target late does not look better for the others missing it.
    assert censored_median([20, 0, 0], [True, False, False])[1]


@pytest.fixture(scope="module")
def imbalanced():
    """5% rare class, well separated, 3% of labels noisy: a good model's accuracy is about
    0.97, and 95% of it (0.92) lies below the 0.95 of always answering "common"."""
    rng = np.random.default_rng(4)
    y = np.where(rng.random(900) < 0.05, "rare", "common")
    X = rng.normal(size=(900, 6))
    X[y == "rare", 0] += 4.0
    noisy = rng.random(900) < 0.03
    y[noisy] = np.where(y[noisy] == "rare", "common", "rare")
    return X, y


def test_target_below_the_majority_baseline_is_flagged(imbalanced):
    X, y = imbalanced
    kw = dict(strategies=["margin"], initial=6, batch=10, budget=46, repeats=2, seed=0)
    r = simulate(X, y, **kw)
    text = format_summary(r)
    assert "Majority-class baseline: accuracy 0.9" in text
    assert "FLAG: target below the majority-class baseline: a constant model reaches it" in text
    first = r.per_repeat.drop_duplicates("repeat")
    assert (first["target_value"] <= first["majority_accuracy"]).all()
    # The same run measured on macro-F1 is not flagged: a constant model's macro-F1 is ~0.49.
    f1 = simulate(X, y, target_metric="macro_f1", **kw)
    assert "FLAG" not in format_summary(f1)
    assert (f1.per_repeat["majority_macro_f1"] < 0.5).all()
    assert f1.per_repeat["target_value"].tolist() == pytest.approx(
        (0.95 * f1.per_repeat["full_macro_f1"]).tolist())
    # Curves are identical: only what is measured against changes.
    pd.testing.assert_frame_equal(r.curves, f1.curves)


@pytest.fixture(scope="module")
def four_repeats():
    X, y = make_classification(n_samples=700, n_features=10, n_informative=4, n_redundant=0,
                               n_classes=3, n_clusters_per_class=1, class_sep=1.2,
                               random_state=7)
    return simulate(X, y.astype(str), strategies=["margin", "entropy"], initial=6, batch=6,
                    budget=60, repeats=4, seed=3, target=0.97)


def _t_interval(logs: np.ndarray) -> tuple[float, float, float]:
    """Geometric mean and 95% t interval, written out from the t distribution."""
    m, n = logs.mean(), len(logs)
    if n < 2:
        return math.exp(m), math.nan, math.nan
    sd = logs.std(ddof=1)
    if sd == 0:
        return (math.exp(m),) * 3
    h = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    return math.exp(m), math.exp(m - h), math.exp(m + h)


def test_printed_table_is_recomputed_from_summary_csv(four_repeats, tmp_path):
    paths = write_outputs(four_repeats, tmp_path / "out")
    rows = pd.read_csv(paths["summary_csv"])
    text = format_summary(four_repeats)
    lines = {ln.split()[0]: ln for ln in text.splitlines()
             if ln.split() and ln.split()[0] in ("random", "margin", "entropy")
             and "x" in ln and "(" in ln}
    ref = rows[rows["strategy"] == "random"].set_index("repeat")
    budget = int(rows["budget"].iloc[0])
    for name, g in rows.groupby("strategy"):
        g = g.set_index("repeat")
        line = lines[name]
        assert line.split()[1] == f"{g['aulc_accuracy'].mean():.3f}"
        assert f"{g['aulc_macro_f1'].mean():.3f}" in line
        m, lo, hi = _t_interval(np.log(g["aulc_accuracy"] / ref["aulc_accuracy"]).to_numpy())
        assert (f"{m:.3f}x ({lo:.3f}–{hi:.3f})" if not math.isnan(lo) else f"{m:.3f}x") in line
        # labels to target: median with unreached repeats as infinitely many labels
        vals = np.sort(np.where(g["reached_target"], g["labels_to_target"], np.inf))
        med = (vals[1] + vals[2]) / 2
        k = int(g["reached_target"].sum())
        assert (f"{med:.0f} ({k}/4)" if np.isfinite(med) else
                f"> {budget} ({k}/4 reached)" if k else f"not reached (> {budget})") in line
        ratios, bound = [], False
        for rep, row in g.iterrows():
            s_ok, r_ok = row["reached_target"], ref.loc[rep, "reached_target"]
            if s_ok and r_ok:
                ratios.append(row["labels_to_target"] / ref.loc[rep, "labels_to_target"])
            elif s_ok or r_ok:
                bound = True
                ratios.append(row["labels_to_target"] / budget if s_ok
                              else budget / ref.loc[rep, "labels_to_target"])
        if ratios:
            m, lo, hi = _t_interval(np.log(ratios))
            cell = f"{m:.2f}x" + (f" ({lo:.2f}–{hi:.2f})" if not math.isnan(lo) else "")
            assert cell + ("*" if bound else "") in line, (cell, line)
    # table.csv is the same computation applied to summary.csv.
    pd.testing.assert_frame_equal(strategy_table(rows), pd.read_csv(paths["table_csv"]),
                                  check_dtype=False)


def test_summary_csv_holds_every_per_repeat_value(four_repeats, tmp_path):
    rows = pd.read_csv(write_outputs(four_repeats, tmp_path / "o")["summary_csv"])
    assert list(rows.columns) == REPEAT_COLUMNS and len(rows) == 3 * 4
    assert rows["seed"].eq(3).all() and rows["budget"].eq(60).all()
    full = rows.groupby("repeat")["full_accuracy"].nunique()
    assert (full == 1).all()                                  # one full-data model per repeat
    assert rows["full_accuracy"].round(12).tolist() == [
        round(four_repeats.full_accuracy[r], 12) for r in rows["repeat"]]
    assert rows["target_value"].tolist() == pytest.approx((0.97 * rows["full_accuracy"]).tolist())
    curves = four_repeats.curves
    for row in rows.itertuples():
        c = curves[(curves.strategy == row.strategy) & (curves.repeat == row.repeat)]
        ok = c["accuracy"].to_numpy() >= row.target_value
        if row.reached_target:       # reached at L: at or above from L on, below just before
            at = c["n_labels"].to_numpy() >= row.labels_to_target
            assert ok[at].all()
            assert at.all() or not ok[np.flatnonzero(at)[0] - 1]
        else:
            assert not ok[-1]


def test_stopping_and_forecast_columns_are_filled(four_repeats):
    rows = four_repeats.per_repeat
    # A plateau is a label count of the run, or censored (NaN) when the run does not show it.
    assert rows["plateau_labels"].dropna().between(6, 60).all()
    assert rows["plateau_bound"].between(6, 60).all()
    fired = rows["stop_labels"].dropna()
    assert fired.between(6, 60).all()
    assert rows["forecast_from"].dropna().le(20).all()        # a third of the budget
    t = four_repeats.summary
    flat = rows.groupby("strategy", sort=False)["plateau_labels"].count()
    assert (t.set_index("strategy")["stop_evaluated"] >= flat).all()
    assert (t["stop_evaluated"] <= 4).all() and (t["plateau_flat"] == flat.to_numpy()).all()
    text = format_summary(four_repeats)
    assert "the stopping rule (Bloodgood & Vijay-Shanker 2009" in text
    assert "forecast error" in text
    # The rule's firing point is recomputed from kappas.csv: the kappas' fitted trend
    # >= KAPPA_THRESHOLD at WINDOW checks in a row, between models at least SPAN labels apart
    # (batches of 6: every 4th round, 24 labels apart, is compared); the raw kappas under
    # "each" (each of WINDOW successive kappas >= KAPPA_THRESHOLD).
    k = four_repeats.kappas
    assert list(k.columns) == ["strategy", "repeat", "n_labels", "kappa"]
    assert sorted(set(k["n_labels"])) == [6, 30, 54]
    for row in rows.itertuples():
        g = k[(k.strategy == row.strategy) & (k.repeat == row.repeat)].sort_values("n_labels")
        i = first_stable_trend(g["n_labels"], g["kappa"], KAPPA_THRESHOLD, WINDOW)
        expected = g["n_labels"].iloc[i] if i is not None else math.nan
        assert (row.stop_labels == expected) or (math.isnan(expected) and math.isnan(row.stop_labels))
    first = rows.drop_duplicates("repeat")
    refs = [{int(r.repeat): (getattr(r, f"{w}_accuracy"), getattr(r, f"{w}_macro_f1"))
             for r in first.itertuples()} for w in ("full", "majority")]
    each = per_repeat(four_repeats.curves, *refs, k, aggregate="each")
    for row in each.itertuples():
        g = k[(k.strategy == row.strategy) & (k.repeat == row.repeat)].sort_values("n_labels")
        ok = (g["kappa"] >= KAPPA_THRESHOLD).to_numpy()
        runs = [i for i in range(WINDOW, len(ok)) if ok[i - WINDOW + 1:i + 1].all()]
        expected = g["n_labels"].iloc[runs[0]] if runs else math.nan
        assert (row.stop_labels == expected) or (math.isnan(expected) and math.isnan(row.stop_labels))


# ----------------------------------------------------------------------------- fixed test set


def test_fixed_test_set_is_the_evaluation_for_every_repeat():
    from activelab.core.learning.fitting import Fitter
    from activelab.core.learning.models import resolve_model
    from activelab.core.simulation.evaluation import model_scores

    X, y = make_classification(n_samples=900, n_features=8, n_informative=4, n_redundant=0,
                               random_state=5)
    y = np.where(y == 1, "a", "b")
    pool, test = slice(0, 600), slice(600, 900)
    r = simulate(X[pool], y[pool], test=(X[test], y[test]), strategies=["margin"], initial=6,
                 batch=10, budget=56, repeats=3, seed=1)
    assert r.settings["test_data"] and r.settings["n_test"] == 300
    assert r.settings["n_train"] == 600 and r.settings["test_size"] is None
    full = Fitter(resolve_model("logistic_regression", {})).fit_task(X[pool], y[pool], ("a", "b"))
    acc, f1 = model_scores(full, X[test], y[test], ("a", "b"))
    assert all(v == pytest.approx(acc) for v in r.full_accuracy.values())
    assert r.per_repeat["full_macro_f1"].eq(f1).all()
    # Repeats differ by their start set, not by the evaluation rows.
    first = r.curves[r.curves["n_labels"] == 6].groupby("repeat")["accuracy"].first()
    assert first.nunique() > 1
    assert "fixed test set (300 rows" in format_summary(r)


def test_test_classes_missing_from_the_pool_are_said():
    X, y = make_classification(n_samples=400, n_features=6, n_informative=4, n_classes=3,
                               n_clusters_per_class=1, random_state=0)
    y = y.astype(str)
    pool = y[:300] != "2"
    r = simulate(X[:300][pool], y[:300][pool], test=(X[300:], y[300:]), strategies=["random"],
                 initial=4, batch=10, budget=24, repeats=1)
    assert any("classes the pool does not (2)" in n for n in r.notes)


def test_pool_fitted_features_never_learn_from_test_rows():
    from activelab.core.data.spec import DatasetSpec, FeatureConfig, TaskSpec
    from activelab.core.features.blocks import tfidf_block
    from activelab.core.features.held_out import build_pool_and_test_features

    pool = pd.DataFrame({"text": ["cats purr softly", "dogs bark loudly", "cats and dogs play",
                                  "birds sing", "cats sleep", "dogs run"] * 10,
                         "size": np.arange(60, dtype=float)})
    test = pd.DataFrame({"text": ["zebra zebra giraffe", "cats bark"], "size": [1000.0, 29.5]})
    spec = DatasetSpec(id_column=None, text_columns=("text",), feature_columns=("size",),
                       image_column=None, tasks=(TaskSpec("t", ("a", "b"), False),))
    fs = build_pool_and_test_features(pool, test, spec, FeatureConfig())
    text_only = DatasetSpec(id_column=None, text_columns=("text",), feature_columns=(),
                            image_column=None, tasks=spec.tasks)
    alone = build_pool_and_test_features(pool, test, text_only, FeatureConfig())
    # The pool's features are those of the pool alone; words only the test has get no column.
    ref = tfidf_block(pool["text"].tolist(), 50000)
    assert (abs(alone.pool_X - ref)).max() < 1e-6
    assert alone.test_X.shape == (2, ref.shape[1]) and alone.test_X[0].nnz == 0
    assert alone.test_X[1].nnz > 0
    # Test numbers are scaled with the pool's mean and deviation.
    tab = np.asarray(fs.test_X.toarray() if sp.issparse(fs.test_X) else fs.test_X)[:, -1]
    mean, sd = pool["size"].mean(), pool["size"].std(ddof=0)
    scale = np.sqrt(1.0)   # one tabular column: divided by sqrt(width) = 1
    assert tab[1] == pytest.approx((29.5 - mean) / sd / scale, rel=1e-5)
    assert fs.pool_dense.shape[0] == 60


def _cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="activelab")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return run(parser.parse_args(argv))


def test_cli_test_data_and_target_flags(tmp_path, capsys):
    from tests.core.helpers import write_text_csv

    pool = write_text_csv(tmp_path / "pool.csv", n=150, seed=1)
    test = write_text_csv(tmp_path / "test.csv", n=60, seed=2)
    out = tmp_path / "sim"
    code = _cli(["simulate", "--data", str(pool), "--test-data", str(test), "--label-column",
                 "topic", "--text-column", "text", "--id-column", "id", "--strategies", "margin",
                 "--initial", "4", "--batch", "8", "--budget", "36", "--repeats", "2",
                 "--target-metric", "macro_f1", "--target", "0.9", "--out", str(out),
                 "--no-progress"])
    cap = capsys.readouterr()
    assert code == 0, cap.err
    assert "fitted on the pool's 150 rows only" in cap.err
    assert "the fixed test set (60 rows; features fitted on the pool only)" in cap.out
    assert "Target: 90% of the full-data model's macro-F1" in cap.out
    assert "labels→90%" in cap.out
    rows = pd.read_csv(out / "summary.csv")
    assert rows["target_metric"].eq("macro_f1").all() and rows["target_fraction"].eq(0.9).all()
    with pytest.raises(SystemExit):
        _cli(["simulate", "--data", str(pool), "--label-column", "topic", "--target", "1.5"])
    assert "--target must be a number above 0 and at most 1" in capsys.readouterr().err


def test_cli_image_size_native_keeps_28_pixels(tmp_path):
    from activelab.core.cli.simulate import load_labeled

    rng = np.random.default_rng(0)
    X = rng.integers(0, 255, size=(40, 28, 28), dtype=np.uint8)
    np.savez(tmp_path / "digits.npz", X=X, y=np.array(["a", "b"] * 20))
    parser = argparse.ArgumentParser(prog="activelab")
    add_parser(parser.add_subparsers(dest="command", required=True))
    base = ["simulate", "--data", str(tmp_path / "digits.npz"), "--label-column", "label"]
    for flag, width in ((["--image-size", "native"], 28 * 28), ([], 32 * 32),
                        (["--image-size", "16"], 16 * 16)):
        args = parser.parse_args(base + flag)
        Xm, dense, y, _ = load_labeled(args, None)
        assert Xm.shape == (40, width), flag
    with pytest.raises(SystemExit):
        parser.parse_args(base + ["--image-size", "huge"])
    # native 28x28 pixels are the array's own values, not resampled
    args = parser.parse_args(base + ["--image-size", "native"])
    Xm = load_labeled(args, None)[0]
    assert np.allclose(np.asarray(Xm[3]).reshape(28, 28), X[3] / 255.0, atol=1e-6)


@pytest.mark.parametrize("flag, value", [("--target", "1.5"), ("--target", "x"),
                                         ("--stop-kappa", "0"), ("--stop-kappa", "nan")])
def test_a_bad_fraction_is_refused_naming_its_own_flag(flag, value, capsys):
    from activelab.core.cli.main import main

    with pytest.raises(SystemExit) as exit_:
        main(["simulate", "--data", "x.csv", "--label-column", "y", flag, value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"{flag} must be a number above 0 and at most 1" in err and repr(value) in err
