"""Third-party strategies arrive through the entry-point group; broken ones are reported."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from activelab.core.errors import StrategyError
from activelab.core.querying.runner import run_strategy
from activelab.core.querying.registry import GROUP, registry
from tests.strategies.stub import stub_context

HERE = Path(__file__).parent


@pytest.fixture
def installed_plugins(tmp_path, monkeypatch):
    """A fake installed distribution with a working and a broken strategy plug-in."""
    shutil.copy(HERE / "_toy_plugin.py", tmp_path / "toy_strategy.py")
    (tmp_path / "broken_strategy.py").write_text("import a_module_that_does_not_exist_xyz\n")
    info = tmp_path / "toy_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        f"[{GROUP}]\ntoy = toy_strategy:strategies\nbroken = broken_strategy:strategies\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield registry(reload=True)
    monkeypatch.undo()
    registry(reload=True)


def test_plugin_strategy_is_listed_and_runs(installed_plugins):
    reg = installed_plugins
    assert "toy_norm" in reg.names()
    toy = reg.get("toy_norm")
    assert "toy" in toy.source
    ctx = stub_context()
    res = run_strategy(toy, ctx, 5, {"power": 2})
    norms = (ctx.features[ctx.candidates] ** 2).sum(axis=1)
    expected = ctx.candidates[np.argsort(-norms)[:5]]
    np.testing.assert_array_equal(res.indices, expected)


def test_broken_plugin_is_reported_and_others_still_load(installed_plugins):
    reg = installed_plugins
    assert "broken" in reg.failures
    assert "a_module_that_does_not_exist_xyz" in reg.failures["broken"]
    for name in ("entropy", "coreset", "badge", "toy_norm"):
        assert name in reg.names()


def test_registry_is_clean_after_plugins_are_gone():
    reg = registry(reload=True)
    assert "toy_norm" not in reg.names() and "broken" not in reg.failures


def test_plugin_strategy_runs_through_the_loop(installed_plugins, tmp_path):
    """A user's plug-in is the project's strategy by name, like a built-in; Project.query
    returns the picks its scores rank highest, the same ones on a repeated query."""
    import pandas as pd

    from activelab.core.project.project import Project
    from tests.core.helpers import write_text_csv

    data = write_text_csv(tmp_path / "news.csv", n=90)
    p = Project.create(tmp_path / "proj", data=data, text_columns=["text"], id_column="id",
                       tasks=["topic=topic"], strategy="toy_norm", settings={"audit_rate": 0.0})
    truth = pd.read_csv(data).set_index("id")
    for sid in truth.index[:9]:
        p.label(sid, truth.loc[sid, "topic"])
    items = p.query(5)
    assert [it.strategy for it in items] == ["toy_norm"] * 5
    dense = p.features.dense
    labeled = {p.index_of(s) for s in truth.index[:9]}
    cand = np.array([i for i in range(p.n_samples) if i not in labeled])
    norms = (dense[cand].astype(np.float64) ** 2).sum(axis=1)
    assert [it.idx for it in items] == cand[np.argsort(-norms, kind="stable")[:5]].tolist()
    assert [it.id for it in p.query(3, strategy="toy_norm")] == [it.id for it in items[:3]]


def _readme_plugin() -> tuple[str, str]:
    """The README's plug-in example: (the module's code, its entry-point line)."""
    readme = (HERE.parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Writing a query strategy"):]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    toml = section.split("```toml\n", 1)[1].split("```", 1)[0]
    entry = next(line for line in toml.splitlines() if "=" in line and not line.startswith("["))
    entry = entry.replace("\"", "")          # TOML string -> entry_points.txt value
    return code, entry


@pytest.fixture
def readme_plugin(tmp_path, monkeypatch):
    """The README's example installed as a distribution, exactly as written there."""
    code, entry = _readme_plugin()
    assert "from activelab import" in code and "activelab.core" not in code
    (tmp_path / "my_strategies.py").write_text(code)
    info = tmp_path / "my_strategies-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-strategies\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{GROUP}]\n{entry}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield registry(reload=True)
    monkeypatch.undo()
    registry(reload=True)


def test_the_readme_plugin_is_listed_with_its_parameter_and_runs(readme_plugin):
    reg = readme_plugin
    assert not reg.failures
    s = reg.get("top_two_ratio")
    assert "plug-in 'top_two_ratio'" in s.source and s.requires == frozenset({"proba"})
    (power,) = s.params
    assert (power.name, power.type, power.default, power.minimum) == ("power", float, 1.0, 0.0)
    ctx = stub_context()
    res = run_strategy(s, ctx, 5, {"power": 2})
    expected = np.zeros(len(ctx.candidates))
    for out in ctx.tasks.values():
        p = np.sort(out.proba[ctx.candidates], axis=1)
        expected += (p[:, -2] / p[:, -1]) ** 2
    top = ctx.candidates[np.argsort(-expected / len(ctx.tasks), kind="stable")[:5]]
    assert sorted(res.indices.tolist()) == sorted(top.tolist())
    with pytest.raises(StrategyError, match="power"):
        s.resolve_params({"power": -1})


def test_exploration_mix_mixes_a_plugin_strategy(readme_plugin):
    """exploration_mix finds its base in the registry: the plug-in's picks, plus random ones."""
    mix = readme_plugin.get("exploration_mix")
    assert "top_two_ratio" in next(p for p in mix.params if p.name == "base").choices
    ctx = stub_context()
    res = run_strategy(mix, ctx, 10, {"base": "top_two_ratio", "random_fraction": 0.0})
    alone = run_strategy(readme_plugin.get("top_two_ratio"), stub_context(), 10)
    assert res.indices.tolist() == alone.indices.tolist()
    with pytest.raises(StrategyError, match="base"):
        mix.resolve_params({"base": "coreset"})          # a batch strategy has no scores


def test_a_plugin_module_registers_every_strategy_declared_in_it(tmp_path, monkeypatch):
    code, _ = _readme_plugin()
    (tmp_path / "my_strategies.py").write_text(code)
    info = tmp_path / "my_strategies-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: my-strategies\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{GROUP}]\nall_mine = my_strategies\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        reg = registry(reload=True)
        assert "top_two_ratio" in reg.names() and not reg.failures
    finally:
        monkeypatch.undo()
        registry(reload=True)
