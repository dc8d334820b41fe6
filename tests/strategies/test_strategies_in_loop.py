"""Every registered strategy through the real loop (Project.query) and the simulator, with the
inputs the engine builds itself (bootstrap committees and samples, per-task training rows)."""
from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification

import activelab.core.learning.committee
from activelab.core.cli.simulate import add_parser, run
from activelab.core.errors import StrategyError
from activelab.core.project.project import Project
from activelab.core.querying.registry import registry
from activelab.core.simulation.simulate import simulate
from activelab.core.learning.fitting import Fitter
from activelab.core.learning.models import resolve_model
from activelab.core.learning.strategy_inputs import task_outputs
from activelab.core.querying.runner import wanted_inputs
from tests.core.helpers import write_text_csv

#: Needs per-modality heads, which only the multimodal model gives (not this text project;
#: see the fashion_products test below).
MULTIMODAL_ONLY = {"cross_modal_disagreement"}
#: Run only on real posterior samples / learned or pretrained embeddings: on this TF-IDF
#: project with logistic regression they fall back to margin and say why.
STAND_IN_ONLY = {"bald", "variation_ratios"}
#: Run on raw features (no learned or pretrained embeddings), flagged in the reason.
RAW_FLAGGED = {"density_weighted", "coreset"}


def _label(project: Project, truth: pd.DataFrame, ids, tasks=("topic", "tags")) -> None:
    for sid in ids:
        values = {}
        if "topic" in tasks:
            values["topic"] = truth.loc[sid, "topic"]
        if "tags" in tasks:
            values["tags"] = truth.loc[sid, "tags"].split("|")
        project.label_sample(sid, values)


@pytest.fixture(scope="module")
def labeled_project(tmp_path_factory):
    """A two-task text project (single-label topic, multi-label tags), 18 samples labeled on
    both tasks and 6 more on topic only, so the tasks have different labeled rows."""
    tmp = tmp_path_factory.mktemp("loop")
    data = write_text_csv(tmp / "news.csv", n=150)
    p = Project.create(tmp / "proj", data=data, text_columns=["text"], id_column="id",
                       tasks=["topic=topic", "tags=tags"], multilabel=["tags"],
                       settings={"audit_rate": 0.0})
    truth = pd.read_csv(data).set_index("id")
    _label(p, truth, truth.index[:18])
    _label(p, truth, truth.index[18:24], tasks=("topic",))
    return p


@pytest.mark.parametrize("name", registry().names())
def test_every_registered_strategy_runs_through_project_query(labeled_project, name):
    p = labeled_project
    labeled = {sid for per in p.labels().values() for sid in per}
    if name in MULTIMODAL_ONLY:
        with pytest.raises(StrategyError, match="multimodal"):
            p.query(6, strategy=name)
        return
    items = p.query(6, strategy=name)
    ids = [it.id for it in items]
    assert len(ids) == 6 and len(set(ids)) == 6
    assert not set(ids) & labeled
    if name in STAND_IN_ONLY:       # TF-IDF and a scikit-learn model: margin, and why
        assert all(it.strategy == "margin" and it.reason.startswith(
            f"fallback to margin: {name} needs ") for it in items)
    elif name == "auto":            # the portfolio member that chose is recorded
        assert all(it.strategy.startswith("auto:") and it.reason.startswith("chosen by auto")
                   for it in items)
        assert "audit_rate is 0" in items[0].reason     # this project has no audit picks
    elif name in RAW_FLAGGED:
        assert all(it.strategy == name and it.reason.startswith(f"chosen by {name}; ")
                   and "raw features" in it.reason for it in items)
    else:
        assert all(it.strategy == name and it.reason == f"chosen by {name}" for it in items)
    assert all(set(it.predictions) == {"topic", "tags"} for it in items)
    # The same labels and seed give the same picks (a second process would agree).
    assert [it.id for it in p.query(6, strategy=name)] == ids


def test_committee_trains_each_task_on_its_own_labeled_rows(labeled_project, monkeypatch):
    p = labeled_project
    calls = []
    real = activelab.core.learning.committee.committee_outputs

    def spy(make, X_train, y_train, X_pool, classes, **kw):
        calls.append((X_train, list(y_train), tuple(classes)))
        return real(make, X_train, y_train, X_pool, classes, **kw)

    monkeypatch.setattr(activelab.core.learning.committee, "committee_outputs", spy)
    p.query(4, strategy="vote_entropy")
    snap = p.training_snapshot()
    X = p.features.model_X
    topic_idx, topic_y = snap.labeled["topic"]
    assert len(topic_idx) == 24 and len(snap.labeled["tags"][0]) == 18
    # Each task gets its own committee; the multi-label one on 0/1 targets per class.
    by_classes = {c: (Xt, yt) for Xt, yt, c in calls}
    assert len(calls) == 2
    X_train, y_train = by_classes[p.spec.task("topic").classes]
    assert y_train == [str(v) for v in topic_y]
    assert (X_train != X[topic_idx]).nnz == 0
    tags = p.spec.task("tags")
    tags_idx, tags_y = snap.labeled["tags"]
    X_tags, Y_tags = by_classes[tags.classes]
    assert (X_tags != X[tags_idx]).nnz == 0
    assert [list(r) for r in Y_tags] == [[int(c in v) for c in tags.classes] for v in tags_y]


def test_bald_gets_bootstrap_samples_from_a_scikit_learn_model_only_when_asked():
    """The stand-in is off by default (see test_model_change_and_errors); asked for, it is
    built as before (to measure it)."""
    X, y = make_classification(n_samples=400, n_features=6, n_informative=4, n_classes=3,
                               n_clusters_per_class=1, random_state=0)
    y = y.astype(str)
    lab = np.arange(30)
    fitted = Fitter(resolve_model("logistic_regression")).fit_task(X[lab], y[lab], ("0", "1", "2"))
    out = task_outputs({"t": fitted}, X, {"proba", "mc_samples"}, labeled={"t": (lab, y[lab])},
                       n_bootstrap_samples=8, bootstrap_stand_in=True)["t"]
    assert out.mc_samples.shape == (8, 400, 3)
    np.testing.assert_allclose(out.mc_samples.sum(axis=2), 1.0, atol=1e-5)
    # Members trained on different resamples disagree somewhere: BALD is not all zero.
    from activelab.strategies.bayesian import bald_block
    assert bald_block(out.mc_samples.astype(np.float64)).max() > 1e-3
    # Without training rows there is nothing to resample: no samples, not a wrong array.
    none = task_outputs({"t": fitted}, X, {"mc_samples"}, bootstrap_stand_in=True)
    assert none["t"].mc_samples is None


def test_expensive_optional_inputs_only_when_a_parameter_needs_them():
    mix = registry().get("exploration_mix")
    assert "mc_samples" not in wanted_inputs(mix, {"base": "entropy"})
    assert "committee" not in wanted_inputs(mix, {"base": "entropy"})
    assert "mc_samples" in wanted_inputs(mix, {"base": "bald"})
    assert "committee" in wanted_inputs(mix, {"base": "vote_entropy"})
    assert "committee" in wanted_inputs(registry().get("vote_entropy"))
    assert "errors" in wanted_inputs(mix, {"base": "error_prediction"})
    assert "errors" not in wanted_inputs(mix, {"base": "egl"})
    assert "input_norms" in wanted_inputs(mix, {"base": "egl"})


def test_simulate_runs_strategies_that_need_committees_samples_and_features():
    X, y = make_classification(n_samples=600, n_features=8, n_informative=5, n_classes=3,
                               n_clusters_per_class=1, random_state=1)
    names = ["bald", "variation_ratios", "vote_entropy", "coreset", "density_weighted", "badge",
             "cluster", "ranked_batch", "exploration_mix"]
    r = simulate(X, y.astype(str), strategies=names, initial=6, batch=6, budget=24, repeats=1,
                 seed=0, strategy_params={"exploration_mix": {"base": "bald"}})
    counts = r.curves.groupby("strategy")["n_labels"].apply(list).to_dict()
    assert set(counts) == set(names) | {"random"}
    assert all(v == [6, 12, 18, 24] for v in counts.values())
    assert r.curves["accuracy"].between(0, 1).all()


# ---------------------------------------------------------------- real data (slow)

@pytest.mark.slow
@pytest.mark.shared_data
def test_ag_news_subset_simulate_with_bayesian_committee_and_diversity(shared_data, tmp_path):
    frame = pd.read_csv(shared_data("ag_news_test", "test.csv"))
    sub = tmp_path / "ag_subset.csv"
    frame.groupby("label").head(300).to_csv(sub, index=False)   # 1,200 rows, 4 topics
    ap = argparse.ArgumentParser()
    add_parser(ap.add_subparsers(dest="command", required=True))
    names = ["bald", "vote_entropy", "coreset", "density_weighted", "badge"]
    args = ap.parse_args([
        "simulate", "--data", str(sub), "--label-column", "label", "--text-column", "title",
        "--text-column", "description", "--strategies", ",".join(names), "--initial", "12",
        "--batch", "12", "--budget", "48", "--repeats", "1", "--out", str(tmp_path / "out"),
        "--no-progress"])
    assert run(args) == 0
    curves = pd.read_csv(tmp_path / "out" / "curves.csv")
    assert set(curves["strategy"]) == set(names) | {"random"}
    assert (curves.groupby("strategy")["n_labels"].max() == 48).all()
    # Each strategy chose its own samples (its curve after the shared start differs from
    # random's), and on average the 48-label models beat chance (0.25, four balanced topics).
    final = curves[curves["n_labels"] == 48].set_index("strategy")["accuracy"]
    later = curves[curves["n_labels"] > 12].pivot(index="n_labels", columns="strategy",
                                                  values="accuracy")
    assert all(not np.allclose(later[n], later["random"]) for n in names)
    assert final.mean() > 0.27


@pytest.mark.slow
@pytest.mark.shared_data
def test_fashion_mnist_60k_pool_query_with_bald_coreset_density(shared_data, tmp_path):
    path = shared_data("fashion_mnist", "fashion_mnist.npz")
    p = Project.create(tmp_path / "fm", data=path, settings={"audit_rate": 0.0})
    assert p.n_samples == 60000
    y = np.load(path)["y_train"]
    rng = np.random.default_rng(0)
    for i in rng.choice(len(y), 30, replace=False):
        p.label(p.ids[i], str(y[i]))
    for name in ("bald", "coreset", "density_weighted"):
        items = p.query(20, strategy=name)
        assert len({it.id for it in items}) == 20
        # Logistic regression: BALD falls back to margin, saying why; core-set and density
        # weighting run on the raw pixels, flagged.
        want = "margin" if name in STAND_IN_ONLY else name
        assert all(it.strategy == want for it in items)


@pytest.mark.slow
@pytest.mark.shared_data
def test_cross_modal_disagreement_through_the_loop_with_the_multimodal_model(shared_data, tmp_path):
    """Co-testing reads the multimodal model's per-modality heads, which the loop fills."""
    pytest.importorskip("torch")
    meta = shared_data("fashion_products", "metadata.csv")
    frame = pd.read_csv(meta).groupby("masterCategory").head(60).reset_index(drop=True)
    frame["image"] = str(meta.parent) + "/" + frame["image"]
    frame.to_csv(tmp_path / "products.csv", index=False)
    p = Project.create(tmp_path / "fp", data=tmp_path / "products.csv", image_column="image",
                       text_columns=["productDisplayName"], tasks=["cat=masterCategory"],
                       model="multimodal", settings={"audit_rate": 0.0})
    for i in np.random.default_rng(0).choice(p.n_samples, 30, replace=False):
        p.label(p.ids[i], frame.loc[i, "masterCategory"])
    items = p.query(5, strategy="cross_modal_disagreement")
    assert len({it.id for it in items}) == 5
    assert all(it.strategy == "cross_modal_disagreement" for it in items)
    assert all(np.isfinite(it.score) and it.score >= 0 for it in items)


def test_committee_of_model_types_differs_from_bootstrap(tmp_path):
    from activelab.core.project.project import Project
    from tests.core.helpers import write_text_csv

    data = write_text_csv(tmp_path / "d.csv", n=90)
    truth = pd.read_csv(data).set_index("id")["topic"]
    p = Project.create(tmp_path / "p", data=data, text_columns=["text"], tasks=["topic=topic"],
                       strategy="vote_entropy", settings={"audit_rate": 0.0})
    for sid in truth.index[:15]:
        p.label(sid, truth[sid])
    snap = p.training_snapshot()
    p.retrain()
    from activelab.core.loop.cycle import make_queue

    boot = make_queue(snap, p.model_state(), n=10)
    types = make_queue(snap, p.model_state(), n=10, strategy_params={"committee": "models"})
    assert all(i.strategy == "vote_entropy" for i in boot + types)
    assert [i.id for i in boot] != [i.id for i in types]
    with pytest.raises(Exception, match="must be one of"):
        make_queue(snap, p.model_state(), n=3, strategy_params={"committee": "bogus"})
