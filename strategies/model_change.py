"""Expected model change: expected gradient length (Settles, Craven & Ray 2008).

A candidate is informative when labeling it would change the model most. For a model whose
last layer is linear with a softmax (multinomial logistic regression, or a torch network's
output layer on its embedding h), the gradient of the log loss at label y with respect to the
last layer's weights and bias is (p - e_y) outer [x; 1], whose norm is ||p - e_y|| ||[x; 1]||.
EGL is its expectation under the model's own prediction:

    EGL(x) = ||[x; 1]|| * sum_y p(y|x) ||e_y - p||,   ||e_y - p||^2 = ||p||^2 - 2 p_y + 1.

The input norm comes from ``QueryContext.input_norms`` (the loop computes it from the rows the
model actually predicts from: TF-IDF row norms, pixel rows, or the torch model's embedding);
without it, from the distance representation (embeddings, else features); without either it
is 1 for every sample, and EGL ranks by the expected norm of the output-layer error alone.
A binary scikit-learn logistic regression has one weight vector instead of two; its gradient
norm is sqrt(2) times smaller for every sample, so the ranking is the same. Multi-label tasks
(independent sigmoids) use the root of the expected squared norm, sqrt(sum_c p_c (1 - p_c)).
For models that are not trained by gradient on a linear last layer (trees, k-NN) EGL is the
change a softmax layer on the same inputs would see: an approximation, said here.
"""
from __future__ import annotations

import numpy as np

from activelab.core.querying.strategy_api import (
    QueryContext, TaskOutput, aggregate_task_scores, strategy,
)


def expected_gradient_factor(p: np.ndarray, multilabel: bool = False) -> np.ndarray:
    """(m, C) probabilities -> (m,) expected norm of the output-layer error e_y - p under
    y ~ p (single-label), or sqrt(sum_c p_c (1 - p_c)) (multi-label). Dimensionless."""
    p = np.asarray(p, dtype=np.float64)
    if multilabel:
        return np.sqrt(np.clip(p * (1.0 - p), 0.0, None).sum(axis=1))
    sq = (p * p).sum(axis=1, keepdims=True)
    dist = np.sqrt(np.clip(sq - 2.0 * p + 1.0, 0.0, None))   # ||e_y - p|| for every y
    return (p * dist).sum(axis=1)


def input_norms_of(ctx: QueryContext) -> np.ndarray:
    """(N,) norms of [x; 1] per pool row: ``ctx.input_norms`` when the loop gave them, else
    from the representation (embeddings, else features), else ones."""
    if ctx.input_norms is not None:
        return np.asarray(ctx.input_norms, dtype=np.float64)
    rep = ctx.embeddings if ctx.embeddings is not None else ctx.features
    if rep is None:
        return np.ones(ctx.n_pool)
    rep = np.asarray(rep, dtype=np.float64)
    return np.sqrt(np.einsum("ij,ij->i", rep, rep) + 1.0)


@strategy("egl",
          "Expected gradient length: the expected change of the model's last linear layer.",
          requires={"proba"}, optional={"input_norms", "features"})
def egl(ctx: QueryContext) -> np.ndarray:
    """Expected gradient length (Settles, Craven & Ray 2008) of a softmax last layer:
    ||[x; 1]|| * sum_y p(y|x) ||e_y - p(.|x)|| (see the module doc)."""
    norms = input_norms_of(ctx)

    def one(out: TaskOutput, cand: np.ndarray):
        if out.proba is None:
            return None
        return expected_gradient_factor(out.proba[cand], out.multilabel) * norms[cand]

    return aggregate_task_scores(ctx, one)
