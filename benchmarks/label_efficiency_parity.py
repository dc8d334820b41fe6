"""Parity check: activelab's least confidence, margin and entropy against modAL's and
scikit-activeml's same strategies, in the same loop, on two shared sets.

    ACTIVELAB_SHARED_DATA=/work/shared/data .venv/bin/python benchmarks/label_efficiency_parity.py

One loop per (set, strategy, library): the same random start set, the same model (the
project's logistic regression, fitted by its Fitter on the labeled rows), the same test set;
only the query differs. activelab queries through its registry and runner (what simulate
does); modAL through ``modAL.uncertainty`` given the fitted model; scikit-activeml through
``skactiveml.pool.UncertaintySampling.query`` with the fitted model wrapped as its classifier.
Reported: whether the picks of every round are the same set, and the largest difference of
the accuracy curves. Needs the ``bench`` extra (modal-python, scikit-activeml).
Written to benchmarks/results/label_efficiency_parity.txt.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from label_efficiency_data import LOADERS  # noqa: E402

PAIRS = {  # activelab name -> (modAL function, scikit-activeml method)
    "least_confidence": ("uncertainty_sampling", "least_confident"),
    "margin": ("margin_sampling", "margin_sampling"),
    "entropy": ("entropy_sampling", "entropy"),
}


class _Proba:
    """A fitted model as modAL and scikit-activeml read it: predict_proba on pool rows."""

    def __init__(self, fitted, classes):
        self.fitted, self.classes_ = fitted, np.arange(len(classes))

    def predict_proba(self, X):
        return np.asarray(self.fitted.predict_proba(X), dtype=np.float64)

    def predict(self, X):
        return self.predict_proba(X).argmax(axis=1)


def _modal_pick(name, fitted, classes, X, candidates, n, rng):
    import modAL.uncertainty as mu

    out = getattr(mu, PAIRS[name][0])(_Proba(fitted, classes), X[candidates], n_instances=n)
    idx = out[0] if isinstance(out, tuple) else out
    return candidates[np.asarray(idx, dtype=np.int64)]


def _skactiveml_pick(name, fitted, classes, X, candidates, n, rng):
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.pool import UncertaintySampling

    X = _dense(X)
    y = np.full(X.shape[0], np.nan)        # scikit-activeml's "unlabeled"
    y[np.setdiff1d(np.arange(X.shape[0]), candidates)] = 0.0
    c = len(classes)
    clf = SklearnClassifier(_FittedEstimator(fitted), classes=np.arange(c))
    clf.fit(X[:c], np.arange(c, dtype=float))   # keeps the fitted model (see _FittedEstimator)
    qs = UncertaintySampling(method=PAIRS[name][1], random_state=int(rng.integers(2**31)))
    return np.asarray(qs.query(X, y, clf=clf, fit_clf=False, batch_size=n,
                               candidates=candidates), dtype=np.int64)


_DENSE: dict = {}


def _dense(X):
    """scikit-activeml validates X as a dense array: densify a sparse pool once."""
    import scipy.sparse as sp

    if not sp.issparse(X):
        return X
    if _DENSE.get("key") is not X:
        _DENSE.update(key=X, value=X.toarray())
    return _DENSE["value"]


class _FittedEstimator(ClassifierMixin, BaseEstimator):
    """A scikit-learn classifier whose fit keeps the model activelab already fitted, so
    every library reads the same probabilities."""

    def __init__(self, fitted=None):
        self.fitted = fitted

    def fit(self, X, y, sample_weight=None):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.asarray(self.fitted.predict_proba(X), dtype=np.float64)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


def _activelab_pick(name, fitted, classes, X, candidates, n, rng, y_pool=None, labeled=None):
    from activelab.core.simulation.simulate import _query
    from activelab.core.querying.registry import get_strategy

    return _query(get_strategy(name), fitted, labeled, X, y_pool, None, n, rng, None)


def run_loop(pick, name, X, y, X_test, y_test, start, batch, budget, seed):
    """(picks per round, accuracy per round) of one loop with ``pick`` as the query."""
    from activelab.core.learning.fitting import Fitter
    from activelab.core.learning.models import resolve_model

    classes = tuple(sorted(set(y.tolist()) | set(y_test.tolist())))
    fitter = Fitter(resolve_model("logistic_regression", {}))
    labeled, picks, curve = start.copy(), [], []
    rng = np.random.default_rng(seed)
    while True:
        fitted = fitter.fit_task(X[labeled], y[labeled], classes)
        pred = np.asarray(classes, dtype=object)[fitted.predict_proba(X_test).argmax(axis=1)]
        curve.append(float((pred == y_test).mean()))
        if len(labeled) >= budget:
            return picks, np.asarray(curve)
        mask = np.ones(X.shape[0], dtype=bool)
        mask[labeled] = False
        cand = np.flatnonzero(mask).astype(np.int64)
        if pick is _activelab_pick:
            got = pick(name, fitted, classes, X, cand, batch, rng, y_pool=y, labeled=labeled)
        else:
            got = pick(name, fitted, classes, X, cand, batch, rng)
        picks.append(frozenset(int(i) for i in got))
        labeled = np.concatenate([labeled, np.asarray(got, dtype=np.int64)])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sets", default="sms_spam,trec")
    p.add_argument("--pool", type=int, default=3000)
    p.add_argument("--test", type=int, default=2000)
    p.add_argument("--initial", type=int, default=20)
    p.add_argument("--batch", type=int, default=20)
    p.add_argument("--budget", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    from label_efficiency import features_for
    from activelab.core.simulation.simulate import initial_labeled

    lines = [f"Parity: the same loop (logistic regression, {args.initial} random start labels, "
             f"{args.batch} per round to {args.budget}; pool <= {args.pool}, TF-IDF), only the "
             "query differs. 'same picks': rounds whose picked set equals activelab's.", "",
             f"{'set':<12s}{'strategy':<18s}{'library':<16s}{'same picks':>12s}"
             f"{'max |acc diff|':>16s}{'final acc':>11s}"]
    for set_name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        task = LOADERS[set_name](args.pool, args.test, args.seed)[0]
        X, _dense, X_test = features_for(task, "tfidf")
        y = task.pool[task.label].to_numpy(dtype=object)
        y_test = task.test[task.label].to_numpy(dtype=object)
        start = initial_labeled(y, args.initial, np.random.default_rng([args.seed, 0]))
        for name in PAIRS:
            ref_picks, ref_curve = run_loop(_activelab_pick, name, X, y, X_test, y_test,
                                            start, args.batch, args.budget, args.seed)
            lines.append(f"{set_name:<12s}{name:<18s}{'activelab':<16s}{'-':>12s}{'-':>16s}"
                         f"{ref_curve[-1]:>11.4f}")
            for lib, pick in (("modAL", _modal_pick), ("scikit-activeml", _skactiveml_pick)):
                picks, curve = run_loop(pick, name, X, y, X_test, y_test, start, args.batch,
                                        args.budget, args.seed)
                same = sum(a == b for a, b in zip(picks, ref_picks))
                lines.append(f"{set_name:<12s}{name:<18s}{lib:<16s}"
                             f"{f'{same}/{len(ref_picks)}':>12s}"
                             f"{np.abs(curve - ref_curve).max():>16.4f}{curve[-1]:>11.4f}")
    text = "\n".join(lines)
    print(text)
    out = HERE / "results" / "label_efficiency_parity.txt"
    out.write_text(text + "\n", encoding="utf-8")
    print(f"Wrote {out}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
