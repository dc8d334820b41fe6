"""Error-prediction sampling: ask for the samples the current model most likely gets wrong.

A second, small model learns where the current model errs. Its training rows are the pool
rows whose correctness is known (``TaskOutput.errors``): the labeled rows with the model's
out-of-fold prediction (a model fitted without that row), and the audit picks with the
prediction recorded before their label. Its inputs are how unsure the model was when it made
that prediction (top probability, margin, normalised entropy of the out-of-fold
probabilities; of the current model's for candidates) and where the sample lies (the embeddings, else the
dense features, standardised). Its output, the predicted probability of an error, is the
score. This is the idea of learning the loss of Yoo & Kweon (2019, "Learning Loss for Active
Learning"), with the loss predictor fitted on known mistakes instead of trained as a head of
the network; a loss-prediction head inside the torch models is not built.

While too few mistakes (or too few right answers) are known to fit the error model (fewer
than ``MIN_EACH`` of either), the score is the model's least confidence 1 - max p, the
error probability the model itself would predict.
"""
from __future__ import annotations

from typing import Annotated

import numpy as np

from activelab.core.querying.strategy_api import (
    Doc, QueryContext, TaskOutput, aggregate_task_scores, strategy,
)
from activelab.strategies.uncertainty import entropy_scores, least_confidence_scores, margin_scores

#: Known mistakes and known right answers each needed before the error model is fitted.
MIN_EACH = 2


def uncertainty_inputs(p: np.ndarray, multilabel: bool) -> np.ndarray:
    """(m, C) probabilities -> (m, 3): top probability, margin, entropy / log(C)."""
    p = np.asarray(p, dtype=np.float64)
    c = max(p.shape[1], 2)
    return np.column_stack([
        1.0 - least_confidence_scores(p, multilabel),
        -margin_scores(p, multilabel),
        entropy_scores(p, multilabel) / (np.log(2.0) if multilabel else np.log(c)),
    ])


def error_probability(Z_known: np.ndarray, wrong: np.ndarray, Z_cand: np.ndarray,
                      C: float) -> np.ndarray:
    """Fit an L2 logistic regression (balanced classes) on known rows ``Z_known`` (k, f) and
    ``wrong`` (k,) bool; return the predicted error probability of ``Z_cand`` (m, f)."""
    from sklearn.linear_model import LogisticRegression

    mu = Z_known.mean(axis=0)
    sd = Z_known.std(axis=0)
    sd[sd == 0] = 1.0
    clf = LogisticRegression(C=C, class_weight="balanced", max_iter=500)
    clf.fit((Z_known - mu) / sd, wrong.astype(np.int64))
    return clf.predict_proba((Z_cand - mu) / sd)[:, 1]


@strategy("error_prediction",
          "Samples a model of the current model's known mistakes predicts it gets wrong.",
          requires={"proba", "errors"}, optional={"features"})
def error_prediction(ctx: QueryContext, C: Annotated[float, Doc(
        "Inverse regularisation strength of the error model.", minimum=1e-6)] = 0.5,
        use_position: Annotated[bool, Doc(
            "Also learn from where samples lie (embeddings or features), not only from how "
            "unsure the model is.")] = True) -> np.ndarray:
    """Predicted probability that the current model's prediction is wrong (see the module
    doc); least confidence until ``MIN_EACH`` mistakes and right answers are known."""
    rep = None
    if use_position and (ctx.embeddings is not None or ctx.features is not None):
        rep = np.asarray(ctx.representation(), dtype=np.float64)

    def one(out: TaskOutput, cand: np.ndarray):
        if out.proba is None:
            return None
        p_cand = np.asarray(out.proba[cand], dtype=np.float64)
        fallback = least_confidence_scores(p_cand, out.multilabel)
        if out.errors is None:
            return fallback
        rows, wrong, p_known = (np.asarray(a) for a in out.errors)
        wrong = wrong.astype(bool)
        if wrong.sum() < MIN_EACH or (~wrong).sum() < MIN_EACH:
            return fallback
        Z_known = uncertainty_inputs(p_known, out.multilabel)
        Z_cand = uncertainty_inputs(p_cand, out.multilabel)
        if rep is not None:
            Z_known = np.hstack([Z_known, rep[rows]])
            Z_cand = np.hstack([Z_cand, rep[cand]])
        return error_probability(Z_known, wrong, Z_cand, C)

    return aggregate_task_scores(ctx, one)
