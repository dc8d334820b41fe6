"""Third-party strategies arrive through the entry-point group; broken ones are reported."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

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
