"""The audit picks' estimates (``activelab.core.loop.savings``): unbiased, honest when thin."""
from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier

from activelab.core.loop.savings import (
    MIN_AUDIT, audit_folds, current_accuracy, current_hits, estimate, savings_lines,
)


def _pool(rng: np.random.Generator, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """Two overlapping Gaussian classes in 2-D (a linear model reaches about 0.84)."""
    y = rng.integers(0, 2, n)
    X = rng.normal(size=(n, 2)) + np.where(y[:, None] == 1, 1.0, -1.0) * np.array([1.0, 0.0])
    return X, y.astype(str)


def _fit_predict(X: np.ndarray, y: np.ndarray, rows: np.ndarray, make=LogisticRegression):
    def fit_predict(train: np.ndarray, test: np.ndarray):
        if len(set(y[rows[train]])) < 2:
            raise ValueError("one class")
        m = make().fit(X[rows[train]], y[rows[train]])
        return m.predict(X[rows[test]])
    return fit_predict


def _one_nn():
    """1-nearest-neighbour: memorizes its labels, so any audit pick leaking into the model
    that scores it shows as a hit (a leak-free estimate must not profit from that)."""
    return KNeighborsClassifier(n_neighbors=1)


def _labeled(rng, X, n_active, n_audit, chooser):
    """Rows labeled in order: ``n_active`` chosen by ``chooser`` and ``n_audit`` uniformly
    random audit picks from what is left, interleaved; returns (rows, audit mask)."""
    active = chooser(X, n_active)
    rest = np.setdiff1d(np.arange(len(X)), active)
    audit = rng.choice(rest, size=n_audit, replace=False)
    rows = np.concatenate([active, audit])
    mask = np.r_[np.zeros(n_active, bool), np.ones(n_audit, bool)]
    order = rng.permutation(len(rows))
    return rows[order], mask[order]


def _near_boundary(X, n):
    """An uncertainty-like strategy: the samples closest to the true boundary x0 = 0."""
    return np.argsort(np.abs(X[:, 0]))[:n]


def test_the_audit_estimate_of_the_current_model_is_unbiased_and_its_interval_covers():
    """Many simulated projects: labels chosen near the boundary (where the model errs most)
    plus uniformly random audit picks, a 1-nearest-neighbour model. The held-out audit
    estimate must average to the true accuracy of the refitted models on the unlabeled pool,
    while scoring on the strategy's own picks would be far off, and a pick that leaked into
    its own model would count as a sure hit (+0.25 here)."""
    errors, naive_errors, covered = [], [], 0
    sims = 150
    for s in range(sims):
        rng = np.random.default_rng(s)
        X, y = _pool(rng)
        rows, mask = _labeled(rng, X, 40, 30, _near_boundary)
        values = list(y[rows])
        fp = _fit_predict(X, y, rows, _one_nn)
        audit = np.flatnonzero(mask)
        folds = audit_folds(len(audit), seed=s)
        hits, _n_train = current_hits(fp, values, audit, folds)
        est = current_accuracy(hits)
        # Truth: each fold's model (fitted on every other label) on the whole unlabeled pool.
        unlabeled = np.setdiff1d(np.arange(len(X)), rows)
        truth = 0.0
        for f in folds:
            train = np.setdiff1d(np.arange(len(rows)), audit[f])
            m = _one_nn().fit(X[rows[train]], y[rows[train]])
            truth += len(f) / len(audit) * float(np.mean(m.predict(X[unlabeled]) == y[unlabeled]))
        errors.append(est["accuracy"] - truth)
        covered += est["low"] <= truth <= est["high"]
        if s < 30:   # the biased alternative: the same refits scored on the strategy's picks
            active = np.flatnonzero(~mask)
            naive_hits, _ = current_hits(fp, values, active, audit_folds(len(active), seed=s))
            naive_errors.append(float(np.nanmean(naive_hits)) - truth)
    bias, se = float(np.mean(errors)), float(np.std(errors) / np.sqrt(sims))
    assert abs(bias) < 0.015 and abs(bias) < 3.5 * se + 0.005, (bias, se)
    assert abs(float(np.mean(naive_errors))) > 0.1        # near-boundary picks: much lower
    assert 0.88 <= covered / sims <= 0.995, covered / sims


def test_too_few_audit_picks_give_no_number_but_say_why():
    rng = np.random.default_rng(0)
    X, y = _pool(rng, 500)
    rows, mask = _labeled(rng, X, 30, 3, _near_boundary)
    rec = estimate(_fit_predict(X, y, rows), list(y[rows]), mask)
    assert rec["n_audit"] == 3 and "current" not in rec and "matched" not in rec
    assert savings_lines(rec) == [f"audit estimate: not enough audit picks yet (n=3, need >= {MIN_AUDIT})"]
    assert "audit picks are off" in savings_lines({"n_audit": 0, "need": MIN_AUDIT}, audit_rate=0.0)[0]


def test_a_strategy_worse_than_random_is_reported_behind_random():
    """A strategy that only picks from the far tail of each class (uninformative about the
    boundary's position and heavily imbalanced) against 60 random audit picks."""
    def far_tail(X, n):
        order = np.argsort(X[:, 0])
        return np.concatenate([order[:3], order[-(n - 3):]])   # 3 of one class, the rest far

    rng = np.random.default_rng(1)
    X, y = _pool(rng)
    # a shifted boundary makes the tail's model wrong: class 1 picks come from x0 > 3 only
    rows, mask = _labeled(rng, X, 120, 60, far_tail)
    rec = estimate(_fit_predict(X, y, rows), list(y[rows]), mask, seed=0)
    m = rec["matched"]
    assert m["labels"] == 48 and m["n"] == 60
    assert m["random"] > m["active"] and m["high"] < 0, m
    lines = savings_lines(rec)
    assert lines[0].startswith("audit estimate: accuracy ")
    assert any(line.startswith("savings: with 48 labels") and line.endswith("behind random")
               for line in lines), lines
    r = rec["random_at_current"]
    assert r["low"] <= r["accuracy"] <= r["high"] and r["from_labels"] == 48
    assert any("random picks alone would reach about" in line for line in lines)


def test_outlook_says_when_the_cv_curve_disagrees_with_the_audit_estimate():
    """Cross-validation on actively chosen (hard) samples runs low: the outlook says so when
    the CV accuracy falls outside the audit estimate's interval, and only then."""
    from activelab.core.loop.outlook import outlook

    rec = {"n_audit": 35, "need": MIN_AUDIT, "notes": [],
           "current": {"accuracy": 0.886, "low": 0.74, "high": 0.955, "n": 35}}

    def point(cv):
        return {"version": 3, "n_labels": 120, "cv_accuracy": cv, "audit_n": 35,
                "per_task": {"digit": {"cv_accuracy": cv, "savings": rec}}}

    low = outlook([point(0.625)])["savings"]
    assert low["notes"] == ["cross-validated accuracy 0.625 lies below the audit interval: the "
                            "labeled samples are harder than the pool, so the CV curve (and its "
                            "forecast) understates the model"]
    assert low["messages"][0].startswith("audit estimate: accuracy 0.886 (95% interval 0.740–0.955)")
    assert outlook([point(0.80)])["savings"]["notes"] == []


def test_a_multi_task_project_gets_a_record_per_task_and_reuses_the_random_fits(tmp_path,
                                                                            monkeypatch):
    """Two tasks, one of them multi-label, labeled with half the picks audit picks: each
    task's curve point carries its own record; the status lines name the task; a retrain on
    the same audit picks reuses the random-only and matched fits (same numbers)."""
    import pandas as pd

    from activelab.core.loop import savings
    from activelab.core.loop.outlook import outlook
    from activelab.core.project.project import Project
    from tests.core.helpers import write_text_csv

    data = write_text_csv(tmp_path / "news.csv", n=200)
    truth = pd.read_csv(data).set_index("id")
    proj = Project.create(tmp_path / "p", data=data, text_columns=["text"], id_column="id",
                          tasks=["topic=topic", "tags=tags"], multilabel=["tags"],
                          settings={"audit_rate": 0.5})
    try:
        for _ in range(9):
            for it in proj.query(5):
                proj.label_sample(it.id, {"topic": truth.loc[it.id, "topic"],
                                          "tags": truth.loc[it.id, "tags"].split("|")}, item=it)
            proj.retrain()
        point = proj.curve()[-1]
        recs = {t: point.per_task[t]["savings"] for t in ("topic", "tags")}
        assert recs["topic"]["n_audit"] == recs["tags"]["n_audit"] >= MIN_AUDIT
        assert all("current" in r and "matched" in r for r in recs.values()), recs
        lines = outlook(proj.curve())["savings"]["messages"]
        assert any(m.startswith("[topic] audit estimate: accuracy") for m in lines)
        assert any(m.startswith("[tags] audit estimate: accuracy") for m in lines)
        from activelab.core.loop.cycle import retrain_and_query

        calls = []
        fits = savings._random_and_matched
        monkeypatch.setattr(savings, "_random_and_matched",
                            lambda *a: calls.append(1) or fits(*a))
        result = retrain_and_query(proj.training_snapshot())   # no new label: same picks
        again = result.curve_point.per_task["topic"]["savings"]
        assert again["matched"] == recs["topic"]["matched"] and calls == []   # reused
        monkeypatch.setattr(savings, "_MEMO", type(savings._MEMO)())
        retrain_and_query(proj.training_snapshot())
        assert len(calls) == 2                     # forgotten: refitted, once per task
    finally:
        proj.close()
