"""Every registered strategy (built-ins and a toy plug-in) honours the strategy contract."""
from __future__ import annotations

import dataclasses
from typing import Annotated

import numpy as np
import pytest

from activelab.core.errors import StrategyError
from activelab.core.querying.runner import run_strategy
from activelab.core.querying.registry import registry
from activelab.core.querying.strategy_api import Doc, TaskOutput
from tests.strategies import _toy_plugin
from tests.strategies.stub import arrays_of, current_arrays, stub_context

STRATEGIES = {s.name: s for s in registry(reload=True)}
STRATEGIES.update({s.name: s for s in _toy_plugin.strategies()})
NAMES = sorted(STRATEGIES)
MODEL_INPUTS = ("proba", "mc_samples", "committee")


def test_registry_lists_the_whole_family():
    expected = {"random", "least_confidence", "margin", "entropy", "density_weighted", "coreset",
                "cluster", "ranked_batch", "typiclust", "vote_entropy", "consensus_entropy",
                "kl_max_disagreement", "bald", "variation_ratios", "badge", "exploration_mix",
                "egl", "error_prediction", "auto"}
    reg = registry()
    assert expected <= set(reg.names())
    assert not reg.failures
    for s in reg:
        assert s.description and s.description.endswith(".")


@pytest.mark.parametrize("name", NAMES)
def test_picks_unique_candidates_in_requested_count(name):
    ctx = stub_context()
    res = run_strategy(STRATEGIES[name], ctx, 7)
    assert len(res.indices) == 7
    assert len(np.unique(res.indices)) == 7
    assert np.isin(res.indices, ctx.candidates).all()
    assert len(res.scores) == 7 and np.isfinite(res.scores).all()
    if res.candidate_scores is not None:
        assert len(res.candidate_scores) == len(ctx.candidates)


@pytest.mark.parametrize("name", NAMES)
def test_fewer_candidates_than_requested_gives_all(name):
    ctx = stub_context(candidates=np.array([3, 50, 77, 120, 299], dtype=np.int64),
                       labeled=np.array([0, 1, 2], dtype=np.int64))
    res = run_strategy(STRATEGIES[name], ctx, 10)
    assert sorted(res.indices.tolist()) == [3, 50, 77, 120, 299]


@pytest.mark.parametrize("name", NAMES)
def test_cold_start_without_labels(name):
    ctx = stub_context(labeled=np.empty(0, dtype=np.int64))
    res = run_strategy(STRATEGIES[name], ctx, 5)
    assert len(np.unique(res.indices)) == 5 and np.isin(res.indices, ctx.candidates).all()


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_for_a_fixed_seed(name):
    a = run_strategy(STRATEGIES[name], stub_context(rng_seed=5), 9)
    b = run_strategy(STRATEGIES[name], stub_context(rng_seed=5), 9)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.scores, b.scores)


@pytest.mark.parametrize("name", NAMES)
def test_inputs_not_mutated(name):
    ctx = stub_context()
    before = arrays_of(ctx)
    run_strategy(STRATEGIES[name], ctx, 8)
    after = current_arrays(ctx)
    assert before.keys() == after.keys()
    for key in before:
        np.testing.assert_array_equal(before[key], after[key], err_msg=key)


@pytest.mark.parametrize("name", [n for n in NAMES if set(STRATEGIES[n].requires) & set(MODEL_INPUTS)])
def test_unfitted_model_gives_clear_error(name):
    unfitted = {"kind": TaskOutput(classes=("a", "b")), "tags": TaskOutput(multilabel=True)}
    ctx = stub_context(tasks=unfitted)
    with pytest.raises(StrategyError, match="model"):
        run_strategy(STRATEGIES[name], ctx, 3)


@pytest.mark.parametrize("name", [n for n in NAMES if set(STRATEGIES[n].requires) & set(MODEL_INPUTS)])
def test_wrong_shape_of_model_output_is_reported(name):
    ctx = stub_context()
    need = next(r for r in MODEL_INPUTS if r in STRATEGIES[name].requires)
    bad = {}
    for t, out in ctx.tasks.items():
        arr = getattr(out, need)
        short = arr[:-10] if need == "proba" else arr[:, :-10]
        bad[t] = dataclasses.replace(out, **{need: short})
    with pytest.raises(StrategyError, match="shape"):
        run_strategy(STRATEGIES[name], dataclasses.replace(ctx, tasks=bad), 3)


@pytest.mark.parametrize("name", [n for n in NAMES if "features" in STRATEGIES[n].requires])
def test_missing_or_misshapen_features_are_reported(name):
    ctx = stub_context()
    with pytest.raises(StrategyError, match="features"):
        run_strategy(STRATEGIES[name], dataclasses.replace(ctx, features=None), 3)
    with pytest.raises(StrategyError, match="shape"):
        run_strategy(STRATEGIES[name], dataclasses.replace(ctx, features=ctx.features[:-1]), 3)


def test_builtins_are_declared_beside_their_functions_with_one_default_each():
    """Every built-in is declared with @strategy on its function, and each parameter's
    default is the function's own (so there is no second copy to drift); a committee
    strategy's committee parameters are the loop's (Committee), not the function's."""
    import inspect

    from activelab.core.querying.strategy_api import Committee
    from activelab.strategies.builtin import strategies

    for s in strategies():
        assert getattr(s.func, "__strategy__", None) is not None, s.name
        signature = inspect.signature(inspect.unwrap(s.func)).parameters
        for p in s.params:
            if p.engine:
                assert p.name not in signature
                assert p.default == getattr(Committee, {"committee": "kind"}.get(p.name, p.name))
            else:
                assert signature[p.name].default == p.default, (s.name, p.name)
        assert ("committee" in s.requires) == any(p.engine for p in s.params)


def test_strategy_declared_from_its_signature():
    """Annotations are read in the function's module (here: this test module's imports)."""
    from activelab.core.querying.strategy_api import QueryResult, strategy

    @strategy("demo", requires={"features"})
    def demo(ctx, n, k: Annotated[int, Doc("Neighbours.", minimum=1)] = 3, mode="a"):
        """Demo batch strategy.

        More words."""
        return QueryResult(ctx.candidates[:n], np.ones(n))

    s = demo.__strategy__
    assert (s.name, s.kind, s.description) == ("demo", "batch", "Demo batch strategy.")
    k, mode = s.params
    assert (k.type, k.default, k.minimum, k.description) == (int, 3, 1, "Neighbours.")
    assert (mode.type, mode.default) == (str, "a")
    with pytest.raises(StrategyError, match="needs a default"):
        strategy("bad")(lambda ctx, power: ctx)
    with pytest.raises(StrategyError, match="'k' must be an integer >= 1"):
        s.resolve_params({"k": 0})
    with pytest.raises(StrategyError, match="annotation of parameter 'x'"):
        strategy("unreadable")(_unreadable)


def _unreadable(ctx, x: NotAName = 1):  # noqa: F821 - the annotation cannot be read
    return ctx
