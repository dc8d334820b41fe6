"""The first labels: typical-and-diverse picks, zero-shot suggestions before any label."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from activelab.core.data.spec import DatasetSpec, TaskSpec
from activelab.core.features.feature_set import FeatureSet
from activelab.core.features.text_embeddings import minilm_available
from activelab.core.learning import zero_shot
from activelab.core.loop.cycle import Snapshot, make_queue
from activelab.core.loop.settings import Settings
from activelab.core.querying.registry import registry
from activelab.core.querying.runner import run_strategy
from activelab.core.querying.strategy_api import QueryContext

needs_minilm = pytest.mark.skipif(not minilm_available(), reason="embeddings extra not installed")


def clustered_pool(seed: int = 0):
    """Six classes as blobs of unequal size and spread with heavy (Student t, 3 degrees of
    freedom) tails, whose far-out members greedy k-center takes first: (X, y)."""
    rng = np.random.default_rng(seed)
    sizes = [400, 300, 200, 150, 100, 80]
    scales = [2.0, 1.5, 0.5, 0.5, 0.4, 0.3]
    X = np.vstack([8.0 * np.eye(6)[k] + s * rng.standard_t(3.0, size=(m, 6))
                   for k, (m, s) in enumerate(zip(sizes, scales))])
    return X.astype(np.float32), np.repeat(np.arange(6), sizes)


def classes_in_first_picks(name: str, n: int, seed: int) -> int:
    X, y = clustered_pool(seed)
    ctx = QueryContext(n_pool=len(X), candidates=np.arange(len(X), dtype=np.int64),
                       rng=np.random.default_rng(seed), features=X)
    picks = run_strategy(registry().get(name), ctx, n).indices
    return len(set(y[picks].tolist()))


def test_typiclust_first_picks_cover_more_classes_than_k_center():
    typ = [classes_in_first_picks("typiclust", 8, s) for s in range(3)]
    kc = [classes_in_first_picks("coreset", 8, s) for s in range(3)]
    assert typ == [6, 6, 6]              # every class within the first 8 picks
    assert max(kc) <= 4                  # k-center spends its picks on the far tails


def test_typiclust_next_batch_goes_to_clusters_without_a_label():
    for seed in range(3):
        X, y = clustered_pool(seed)
        typ = registry().get("typiclust")
        everything = np.arange(len(X), dtype=np.int64)
        first = run_strategy(typ, QueryContext(n_pool=len(X), candidates=everything,
                                               rng=np.random.default_rng(seed), features=X), 3)
        cand = np.setdiff1d(everything, first.indices)
        second = run_strategy(typ, QueryContext(n_pool=len(X), candidates=cand,
                                                labeled=first.indices,
                                                rng=np.random.default_rng(seed), features=X), 3)
        assert len(set(y[np.concatenate([first.indices, second.indices])].tolist())) == 6


def _snapshot(features, spec, labeled=None, settings=None, ids=None):
    n = features.n_samples
    labeled = labeled or {}
    mask = np.ones(n, dtype=bool)
    for rows, _ in labeled.values():
        mask[rows] = False
    return Snapshot(spec=spec, settings=settings or Settings(audit_rate=0.0), features=features,
                    ids=tuple(ids or (str(i) for i in range(n))), labeled=labeled,
                    candidates=np.flatnonzero(mask).astype(np.int64), audit_records=(),
                    event_seq=0, version=1, n_labels=sum(len(r) for r, _ in labeled.values()))


def test_the_loop_starts_with_typiclust_on_the_dense_view():
    X, y = clustered_pool(2)
    fs = FeatureSet(dense=X, blocks={"tabular": X})
    spec = DatasetSpec(feature_columns=("a",), tasks=(TaskSpec("kind", tuple("012345")),))
    items = make_queue(_snapshot(fs, spec), None, n=6)
    assert {it.strategy for it in items} == {"cold_start:typiclust"}
    assert len({int(y[it.idx]) for it in items}) == 6
    assert all(not it.predictions for it in items)     # no text embeddings: no suggestions


# ----------------------------------------------------------------------------- zero-shot
TEXTS = {
    "sports": ["The striker scored twice and the team won the football match",
               "Tennis final: she won the championship in three sets",
               "The marathon runner broke the course record this morning",
               "Basketball playoffs: the home team lost by two points"],
    "cooking": ["Simmer the onions in butter, then add the garlic and the tomatoes",
                "Bake the bread dough for forty minutes at 200 degrees",
                "This soup recipe needs carrots, celery and a pinch of salt",
                "Whisk the eggs with sugar until the cream is fluffy"],
    "finance": ["The central bank raised interest rates by a quarter point",
                "Shares of the company fell after the quarterly earnings report",
                "Investors moved their savings into government bonds",
                "The stock market index closed at a record high today"],
}


def _text_project(tmp_path, rare_finance: bool = False):
    from activelab.core.data.spec import FeatureConfig
    from activelab.core.project.project import Project

    rows = []
    for topic, texts in TEXTS.items():
        reps = 1 if (rare_finance and topic == "finance") else 5
        for r in range(reps):
            rows += [{"id": f"{topic}{r}_{i}", "text": f"{t} ({r})"} for i, t in enumerate(texts)]
    pd.DataFrame(rows).to_csv(tmp_path / "texts.csv", index=False)
    return Project.create(tmp_path / "proj", data=str(tmp_path / "texts.csv"), id_column="id",
                          text_columns=("text",), tasks=("topic:sports,cooking,finance",),
                          feature_config=FeatureConfig(text="minilm"))


@needs_minilm
def test_zero_shot_suggests_the_obvious_class():
    from activelab.core.features.text_embeddings import embed_texts

    texts = ["Our goalkeeper saved a penalty in the last minute of the game",
             "Stir the pasta sauce and let it simmer for ten minutes"]
    task = TaskSpec("topic", ("sports", "cooking", "finance"))
    p = zero_shot.zero_shot_proba(embed_texts(texts),
                                  zero_shot.embed_class_texts(zero_shot.class_texts(task)))
    assert p.shape == (2, 3) and np.allclose(p.sum(axis=1), 1.0)
    assert p[0].argmax() == 0 and p[1].argmax() == 1
    assert p[0, 0] > 0.5 and p[1, 1] > 0.5


@needs_minilm
def test_a_description_changes_what_a_cryptic_class_name_means():
    from activelab.core.features.text_embeddings import embed_texts

    task = TaskSpec("q", ("ABBR", "LOC"))
    emb = embed_texts(["What does NASA stand for?"])
    plain = zero_shot.zero_shot_proba(emb, zero_shot.embed_class_texts(zero_shot.class_texts(task)))
    told = zero_shot.zero_shot_proba(emb, zero_shot.embed_class_texts(zero_shot.class_texts(
        task, {"ABBR": "what an abbreviation or acronym stands for",
               "LOC": "a question about a place, city or country"})))
    assert told[0, 0] > plain[0, 0] and told[0, 0] > 0.5


@needs_minilm
def test_query_before_any_label_shows_suggestions(tmp_path, capsys):
    from activelab.core.cli.main import main

    proj = _text_project(tmp_path, rare_finance=True)
    items = proj.query(6)
    assert len(items) == 6
    assert all("topic" in it.predictions for it in items)    # every item has a suggestion
    by_id = {it.id: it for it in items}
    for it in items:
        topic = it.id.split("_")[0].rstrip("0123456789")
        assert it.predictions["topic"].label == topic, (it.id, it.predictions)
    sought = [it for it in items if it.strategy == "zero_shot:unseen_class"]
    assert {it.predictions["topic"].label for it in sought} == {"sports", "cooking", "finance"}
    assert any(i.startswith("finance") for i in by_id)   # the rare class is in the first batch
    proj.close()
    capsys.readouterr()
    assert main(["query", str(tmp_path / "proj"), "-n", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out) == 4 and all(d["topic_prediction"] in TEXTS for d in out)
    assert all(0.0 < d["topic_confidence"] <= 1.0 for d in out)


@needs_minilm
def test_after_a_model_the_loop_still_looks_for_a_class_never_labeled(tmp_path):
    proj = _text_project(tmp_path, rare_finance=True)
    for r in range(2):
        for i in range(4):
            proj.label(f"sports{r}_{i}", "sports")
            proj.label(f"cooking{r}_{i}", "cooking")
    items = proj.query(10)
    sought = [it for it in items if it.strategy == "zero_shot:unseen_class"]
    assert len(sought) == 1            # one class unseen: one pick looks for it
    assert all(it.id.startswith("finance") and it.predictions["topic"].label == "finance"
               for it in sought)
    assert any(it.strategy not in ("zero_shot:unseen_class",) for it in items)
    proj.close()


def test_without_sentence_embeddings_no_suggestions_and_says_why(monkeypatch):
    import scipy.sparse as sp

    spec = DatasetSpec(text_columns=("t",), tasks=(TaskSpec("topic", ("a", "b")),))
    tfidf = FeatureSet(dense=np.zeros((4, 2), np.float32), blocks={"text": sp.csr_matrix(np.eye(4))})
    got, why = zero_shot.zero_shot_suggestions(tfidf, spec)
    assert got == {} and "--text-features minilm" in why
    emb = FeatureSet(dense=np.zeros((4, 2), np.float32),
                     blocks={"text": np.eye(4, 384, dtype=np.float32)})
    monkeypatch.setattr("activelab.core.features.text_embeddings.minilm_available", lambda: False)
    got, why = zero_shot.zero_shot_suggestions(emb, spec)
    assert got == {} and "activelab[embeddings]" in why
    items = make_queue(_snapshot(emb, spec), None, n=3)      # the loop goes on without them
    assert len(items) == 3 and all(not it.predictions for it in items)


def test_class_descriptions_setting_is_checked():
    from activelab.core.errors import ActiveLabError

    s = Settings().updated(class_descriptions={"topic": {"a": "the first kind"}})
    assert s.class_descriptions == {"topic": {"a": "the first kind"}}
    with pytest.raises(ActiveLabError, match="class_descriptions"):
        Settings().updated(class_descriptions={"topic": "not a mapping"})
