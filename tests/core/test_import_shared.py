"""The real data sets in ../shared/data import as their users expect (skipped when absent)."""
from __future__ import annotations

import numpy as np

from activelab.core.data.images import load_image
from activelab.core.data.read import imported_labels, infer_spec, read_table, sample_ids, validate_table


def test_sms_spam_no_extension(shared_data):
    table = read_table(shared_data("sms_spam", "SMSSpamCollection"))
    assert table.format == "tsv"
    assert list(table.frame.columns) == ["Label", "SMS"]
    assert len(table.frame) == 5574
    assert "no extension" in table.decisions[0] and "tab-separated" in table.decisions[0]
    spec, decisions = infer_spec(table)
    assert spec.tasks[0].classes == ("ham", "spam")
    assert spec.text_columns == ("SMS",)
    counts = {}
    for _, _, lab in imported_labels(table, spec):
        counts[lab] = counts.get(lab, 0) + 1
    assert counts == {"ham": 4827, "spam": 747}


def test_ag_news(shared_data):
    table = read_table(shared_data("ag_news_test", "test.csv"))
    assert len(table.frame) == 7600
    spec, _ = infer_spec(table)
    assert spec.text_columns == ("title", "description")
    assert spec.tasks[0].classes == ("1", "2", "3", "4")
    assert len(imported_labels(table, spec)) == 7600


def test_adult_census_mixed_tabular(shared_data):
    table = read_table(shared_data("adult_census", "adult_train.csv"))
    assert len(table.frame) == 32561
    assert table.frame["workclass"].isna().sum() > 0  # '?' was made empty -> NaN kept
    spec, decisions = infer_spec(table, tasks=["income"])
    assert len(spec.feature_columns) == 14 and "income" not in spec.feature_columns
    assert any("14 (6 numeric, 8 categorical)" in d for d in decisions)
    assert spec.tasks[0].classes == ("<=50K", ">50K")
    validate_table(table, spec)


def test_fashion_products_multimodal_multitask(shared_data):
    table = read_table(shared_data("fashion_products", "metadata.csv"))
    assert table.format == "metadata" and len(table.frame) == 9583
    spec, _ = infer_spec(table, tasks=["masterCategory", "gender", "usage"])
    assert spec.image_column == "image" and spec.id_column == "id"
    assert spec.text_columns == ("productDisplayName",)
    assert set(spec.modalities) == {"image", "text", "tabular"}
    assert len(spec.task("masterCategory").classes) == 6
    assert len(spec.task("gender").classes) == 5
    validate_table(table, spec)  # every one of the 9,583 JPEGs exists and opens
    labels = imported_labels(table, spec)
    usage = [lab for _, task, lab in labels if task == "usage"]
    assert len(usage) == 9583 and usage.count("NA") == 8  # 'NA' is a value as written (issue 8)
    table = read_table(shared_data("fashion_products", "metadata.csv"), na_values=["NA"])
    spec, _ = infer_spec(table, tasks=["usage"])
    usage = [lab for _, _, lab in imported_labels(table, spec)]
    assert len(usage) == 9583 - 8  # unless the user says NA means missing
    ids = sample_ids(table, spec)
    assert ids[0] == "10000" and len(set(ids)) == 9583
    img = load_image(table.frame["image"][0], table.image_root, size=32)
    assert img.size == (32, 32) and img.mode == "RGB"


def test_fashion_products_image_folder(shared_data):
    table = read_table(shared_data("fashion_products", "images"))
    assert table.format == "image_folder" and len(table.frame) == 9583
    assert "label" not in table.frame.columns


def test_trec_latin1(shared_data):
    table = read_table(shared_data("trec", "train_5500.label"))
    assert len(table.frame) == 5452
    assert table.frame.iloc[0, 0].startswith("DESC:manner How did serfdom")
    assert any("latin-1" in d.lower() for d in table.decisions)


def test_fashion_mnist_npz(shared_data):
    table = read_table(shared_data("fashion_mnist", "fashion_mnist.npz"))
    assert table.format == "npz" and len(table.frame) == 60000
    assert table.image_array.shape == (60000, 28, 28)
    assert table.frame["image"].iloc[59999] == "@array:59999"
    spec, _ = infer_spec(table)
    assert spec.tasks[0].classes == tuple(str(i) for i in range(10))
    validate_table(table, spec)
    img = load_image("@array:5", None, table.image_array)
    assert np.array_equal(np.asarray(img), table.image_array[5])
