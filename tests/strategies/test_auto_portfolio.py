"""``auto`` (Active Learning by Learning): the bandit's weights follow the reward, its state is
replayed from the picks' provenance, and the loop records which strategy chose each batch."""
from __future__ import annotations

import numpy as np

from activelab.core.querying.registry import get_strategy
from activelab.core.querying.runner import run_strategy
from activelab.core.querying.strategy_api import PickRecord
from activelab.strategies.portfolio import expert_probabilities, rounds_of
from tests.strategies.stub import stub_context

ARMS = ["margin", "entropy", "random"]


def _history(rounds: list[tuple[str, float]], n_audit: int = 4) -> list[PickRecord]:
    """Version v: the arm's batch; version v + 1's queue holds audit picks whose recorded
    predictions (by the model trained with that batch) score ``acc``."""
    out: list[PickRecord] = []
    for v, (arm, acc) in enumerate(rounds):
        out += [PickRecord(v, f"auto:{arm}") for _ in range(6)]
        hits = int(round(acc * n_audit))
        out += [PickRecord(v + 1, "audit:random", True, i < hits) for i in range(n_audit)]
    return out


def test_rounds_credit_each_arm_with_the_next_models_audit_accuracy():
    h = _history([("margin", 0.5), ("entropy", 1.0), ("random", 0.25)])
    assert rounds_of(h, ARMS) == [(0, 0.5), (1, 1.0), (2, 0.25)]
    # Audit picks of version 0 measure the model before any auto batch: no round to credit.
    early = [PickRecord(0, "audit:random", True, True)] + h[:6]
    assert rounds_of(early, ARMS) == [(0, None)]


def test_weights_move_toward_the_strategy_with_higher_reward():
    before = expert_probabilities([], ARMS)
    np.testing.assert_allclose(before, 1 / 3)
    rounds = []
    for _ in range(10):
        rounds += [("margin", 0.9), ("random", 0.3), ("entropy", 0.3)]
    after = expert_probabilities(_history(rounds), ARMS)
    assert after[0] > before[0] and after[0] > after[1] and after[0] > after[2]
    assert np.isclose(after.sum(), 1.0) and after.min() > 0       # every arm is still explored
    # Reversing the rewards reverses the preference.
    flipped = [(a, 1.2 - r) for a, r in rounds]
    again = expert_probabilities(_history(flipped), ARMS)
    assert again[0] < again[1] and again[0] < again[2]


def test_auto_names_the_strategy_that_chose_and_is_seeded():
    ctx = stub_context(history=tuple(_history([("entropy", 1.0)] * 8)))
    a = run_strategy(get_strategy("auto"), ctx, 6, {"portfolio": "margin,entropy"})
    b = run_strategy(get_strategy("auto"), stub_context(history=ctx.history), 6,
                     {"portfolio": "margin,entropy"})
    assert a.detail in ("margin", "entropy")
    np.testing.assert_array_equal(a.indices, b.indices)
    # The batch is the chosen strategy's own.
    own = run_strategy(get_strategy(a.detail), stub_context(), 6)
    assert set(own.indices.tolist()) == set(a.indices.tolist())


def test_simulated_auto_learns_from_audit_picks_inside_its_batches():
    from sklearn.datasets import make_classification

    from activelab.core.simulation.simulate import _Run

    from activelab.core.learning.fitting import Fitter
    from activelab.core.learning.models import resolve_model

    X, y = make_classification(n_samples=300, n_features=6, n_informative=4, n_classes=3,
                               n_clusters_per_class=1, random_state=0)
    y = y.astype(str)
    fitter = Fitter(resolve_model("logistic_regression"))
    run = _Run("auto", None, [])
    labeled = np.arange(10)
    rng = np.random.default_rng(0)
    for version in range(3):
        fitted = fitter.fit_task(X[labeled], y[labeled], ("0", "1", "2"))
        picked = run.query(get_strategy("auto"), fitted, labeled, X, y, X.astype(np.float32),
                           10, rng, version)
        assert len(picked) == 10 and len(set(picked.tolist()) | set(labeled.tolist())) == len(labeled) + 10
        labeled = np.concatenate([labeled, picked])
    audits = [r for r in run.history if r.audit]
    assert len(audits) == 3 and all(r.correct is not None for r in audits)
    arms = {r.strategy for r in run.history if not r.audit}
    assert all(a.startswith("auto:") for a in arms)
    assert len(rounds_of(run.history, [a.split(":")[1] for a in arms])) == 3
