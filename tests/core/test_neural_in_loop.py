"""The torch models through the real loop: selectable by name, warm-started retrains, MC
samples for BALD, one shared network for several tasks, several modalities, co-testing."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")

from activelab.core.project.project import Project  # noqa: E402
from tests.core.helpers import write_text_csv  # noqa: E402


def _label_rounds(p, truth, rounds, n):
    for _ in range(rounds):
        for it in p.query(n):
            p.label_sample(it.id, truth[it.id])


@pytest.fixture
def text_project(tmp_path):
    data = write_text_csv(tmp_path / "d.csv", n=150)
    truth_df = pd.read_csv(data).set_index("id")
    truth = {i: {"topic": r.topic, "tags": r.tags.split("|")} for i, r in truth_df.iterrows()}
    return data, truth


def test_torch_mlp_warm_starts_and_feeds_bald(tmp_path, text_project):
    data, truth = text_project
    p = Project.create(tmp_path / "p", data=data, text_columns=["text"], tasks=["topic=topic"],
                       model="torch_mlp", model_params={"max_epochs": 30}, strategy="bald")
    _label_rounds(p, {k: {"topic": v["topic"]} for k, v in truth.items()}, rounds=3, n=8)
    items = p.query(5)
    assert {i.strategy for i in items} <= {"bald", "audit:random"} and len(items) == 5
    est = next(iter(p.model_state().fitted.values())).estimator
    assert est.warm_started_            # the retrain started from the previous version's weights
    assert p.curve()[-1].cv_accuracy > 0.5


def test_multitask_network_one_model_for_two_tasks(tmp_path, text_project):
    data, truth = text_project
    p = Project.create(tmp_path / "p", data=data, text_columns=["text"],
                       tasks=["topic=topic", "tags=tags"], multilabel=["tags"],
                       model="multitask_mlp", model_params={"max_epochs": 30}, strategy="entropy")
    # label only some tasks on some samples: the masked loss copes
    for k, (sid, t) in enumerate(list(truth.items())[:24]):
        p.label_sample(sid, {"topic": t["topic"]} if k % 3 else {"topic": t["topic"], "tags": t["tags"]})
    p.retrain()
    fitted = p.model_state().fitted
    assert set(fitted) == {"topic", "tags"}
    assert fitted["topic"].estimator is fitted["tags"].estimator      # one shared network
    point = p.curve()[-1]
    assert set(point.per_task) == {"topic", "tags"} and point.per_task["topic"]["cv_accuracy"] is not None
    item = next(i for i in p.query(4) if not i.audit)
    assert isinstance(item.predictions["tags"].label, list)


def test_multimodal_three_tasks_cotesting_and_embeddings(tmp_path, shared_data):
    meta_path = shared_data("fashion_products", "metadata.csv")
    meta = pd.read_csv(meta_path).head(160)
    meta["image"] = [str(meta_path.parent / v) for v in meta["image"]]
    meta.to_csv(tmp_path / "p.csv", index=False)
    p = Project.create(
        tmp_path / "proj", data=tmp_path / "p.csv", image_column="image",
        text_columns=["productDisplayName"], feature_columns=[],
        tasks=["category=masterCategory", "gender=gender", "usage=usage"], model="multimodal",
        model_params={"max_epochs": 8, "align_weight": 0.5}, strategy="cross_modal_disagreement",
    )
    truth = {str(r.id): {k: v for k, v in (("category", r.masterCategory), ("gender", r.gender),
                                          ("usage", r.usage)) if isinstance(v, str)}
             for r in meta.itertuples()}
    _label_rounds(p, truth, rounds=2, n=10)
    items = [i for i in p.query(5) if not i.audit]
    assert items and all(i.strategy == "cross_modal_disagreement" for i in items)
    assert set(items[0].predictions) == {"category", "gender", "usage"}
    state = p.model_state()
    assert state.embeddings is not None and state.embeddings.shape[0] == 160
    xy = p.pool_projection()                      # the pool map uses the shared space
    assert xy.shape == (160, 2) and np.isfinite(xy).all()


def test_model_change_in_settings_takes_effect(tmp_path, text_project):
    data, truth = text_project
    p = Project.create(tmp_path / "p", data=data, text_columns=["text"], tasks=["topic=topic"])
    _label_rounds(p, {k: {"topic": v["topic"]} for k, v in truth.items()}, rounds=2, n=8)
    n_points = len(p.curve())
    p.update_settings(model="torch_mlp", model_params={"max_epochs": 20})
    p.query(3)
    assert p.curve()[-1].model == "torch_mlp" and len(p.curve()) == n_points + 1
