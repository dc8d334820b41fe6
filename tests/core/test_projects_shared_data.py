"""Projects made from each shared data form, used as a user would (skipped without the data)."""
from __future__ import annotations

import pandas as pd
import pytest

from activelab.core.export.labels import export_labels
from activelab.core.project.project import Project


def _label_from_truth(p: Project, truth: dict[str, dict[str, str]], rounds: int, n: int) -> None:
    for _ in range(rounds):
        for it in p.query(n):
            vals = {t: v for t, v in truth[it.id].items() if isinstance(v, str)}
            if vals:
                p.label_sample(it.id, vals)
            else:
                p.skip(it.id)


@pytest.mark.slow
def test_sms_spam_project(shared_data, tmp_path):
    data = shared_data("sms_spam", "SMSSpamCollection")
    p = Project.create(tmp_path / "sms", data=data, tasks=["spam=Label"])
    assert p.n_samples == 5574 and p.spec.text_columns == ("SMS",)
    df = pd.read_csv(data, sep="\t")
    truth = {str(i): {"spam": v} for i, v in enumerate(df["Label"])}
    _label_from_truth(p, truth, rounds=3, n=10)
    assert p.labeled_count() == 30
    assert p.curve()[-1].cv_accuracy is not None


@pytest.mark.slow
def test_adult_census_tabular_project(shared_data, tmp_path):
    full = pd.read_csv(shared_data("adult_census", "adult_train.csv"))
    sub = tmp_path / "adult.csv"
    full.head(3000).to_csv(sub, index=False)
    p = Project.create(tmp_path / "adult", data=sub, tasks=["income=income"])
    assert len(p.spec.feature_columns) == 14          # numeric and categorical, with gaps
    truth = {str(i): {"income": v} for i, v in enumerate(full.head(3000)["income"])}
    _label_from_truth(p, truth, rounds=3, n=10)
    point = p.curve()[-1]
    assert point.n_labels >= 20 and point.cv_accuracy is not None
    # Cross-validation on margin's picks (the hard cases) runs low at 20 labels; what the user
    # gets is a model of the whole pool: judged on the rows nobody labeled (majority: 0.76).
    pred, _conf = p.predictions()["income"]
    labeled = set(p.labels()["income"])
    rows = [i for i in range(3000) if i not in labeled]
    hits = sum(pred[i] == truth[str(i)]["income"] for i in rows)
    assert hits / len(rows) >= 0.70


@pytest.mark.slow
def test_fashion_products_three_tasks_with_images(shared_data, tmp_path):
    meta_path = shared_data("fashion_products", "metadata.csv")
    meta = pd.read_csv(meta_path).head(400)
    meta["image"] = [str(meta_path.parent / v) for v in meta["image"]]    # absolute paths
    sub = tmp_path / "products.csv"
    meta.to_csv(sub, index=False)
    p = Project.create(
        tmp_path / "prod", data=sub, image_column="image", text_columns=["productDisplayName"],
        feature_columns=[], tasks=["category=masterCategory", "gender=gender", "usage=usage"],
    )
    assert p.spec.modalities == ("image", "text")
    assert p.image(0).size[0] > 0
    truth = {str(r.id): {"category": r.masterCategory, "gender": r.gender, "usage": r.usage}
             for r in meta.itertuples()}
    _label_from_truth(p, truth, rounds=3, n=10)
    point = p.curve()[-1]
    assert set(point.per_task) == {"category", "gender", "usage"}
    item = p.query(1)[0]
    assert set(item.predictions) == {"category", "gender", "usage"} or item.audit
    out = pd.read_csv(export_labels(p, tmp_path / "out.csv"))
    assert len(out) == p.labeled_count() == 30
    assert {"activelab__category__label", "activelab__gender__label",
            "activelab__usage__label"} <= set(out.columns)


@pytest.mark.slow
def test_fashion_mnist_npz_project(shared_data, tmp_path):
    import numpy as np

    npz = np.load(shared_data("fashion_mnist", "fashion_mnist.npz"))
    rng = np.random.default_rng(0)
    idx = rng.choice(len(npz["y_train"]), 2000, replace=False)
    small = tmp_path / "fm.npz"
    np.savez(small, X=npz["X_train"][idx], y=npz["y_train"][idx])
    p = Project.create(tmp_path / "fm", data=small, tasks=["cloth=label"])
    assert p.n_samples == 2000
    assert p.image(5).size == (28, 28)
    y = npz["y_train"][idx]
    truth = {sid: {"cloth": str(y[i])} for i, sid in enumerate(p.ids)}
    _label_from_truth(p, truth, rounds=3, n=20)
    assert p.curve()[-1].cv_accuracy > 0.3
