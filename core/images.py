"""Finding and loading one sample's image, from a file or from an imported NumPy array.

Used by feature building (in a worker) and by the GUI to show the sample being labeled;
both get a DataError naming the file when the image is missing or cannot be decoded.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from core.errors import DataError
from core.sniff import ARRAY_REF_PREFIX


def is_array_ref(ref: str) -> bool:
    """True for ``@array:<row>`` references into an imported .npz array."""
    return isinstance(ref, str) and ref.startswith(ARRAY_REF_PREFIX)


def array_row(ref: str, n_rows: int | None = None) -> int:
    """The row number of an ``@array:<row>`` reference (checked against ``n_rows`` if given)."""
    try:
        row = int(ref[len(ARRAY_REF_PREFIX):])
    except ValueError:
        raise DataError(
            f"Image reference '{ref}' is not of the form @array:<row number>. Re-import the "
            ".npz archive so the image column is rebuilt."
        ) from None
    if row < 0 or (n_rows is not None and row >= n_rows):
        raise DataError(
            f"Image reference '{ref}' points outside the imported array ({n_rows} images). "
            "Re-import the .npz archive the project was made from."
        )
    return row


def resolve_image(ref: str, image_root: str | None) -> Path:
    """The file an image reference points to: absolute as given, else under ``image_root``."""
    if is_array_ref(ref):
        raise DataError(
            f"Image '{ref}' lives in an imported array, not in a file; load it with load_image "
            "and the project's image array."
        )
    if ref is None or (isinstance(ref, float) and np.isnan(ref)) or not str(ref).strip():
        raise DataError("An image reference is empty. Fill in the image path for that row and re-import.")
    p = Path(str(ref).strip()).expanduser()
    if p.is_absolute() or not image_root:
        return p
    return Path(image_root) / p


def load_image(
    ref: str,
    image_root: str | None,
    image_array: Any = None,
    mode: str | None = None,
    size: int | None = None,
) -> Image.Image:
    """Decode one image (file or ``@array:<row>``), optionally converted to ``mode`` and
    resized to ``size`` x ``size``. Missing or undecodable files give a DataError."""
    if is_array_ref(ref):
        img = _from_array(ref, image_array)
    else:
        path = resolve_image(ref, image_root)
        if not path.is_file():
            raise DataError(
                f"Image file {path} (reference '{ref}') does not exist. Restore the file, or fix "
                f"the path in the table{f' (paths are relative to {image_root})' if image_root else ''}."
            )
        try:
            with Image.open(path) as opened:
                if size is not None and opened.format == "JPEG":
                    # Let the JPEG decoder scale down by a power of two first (much faster);
                    # the final resize below gives the exact size.
                    opened.draft(mode or opened.mode, (2 * int(size), 2 * int(size)))
                opened.load()
                img = opened
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
            raise DataError(
                f"Image file {path} (reference '{ref}') cannot be decoded ({exc}). The file is "
                "damaged or not an image: replace it, or remove its row from the table."
            ) from exc
    if mode is not None:
        if img.mode != mode:
            img = img.convert(mode)
    elif img.mode not in ("L", "RGB", "RGBA"):
        img = img.convert("L" if img.mode in ("1", "I", "I;16", "F") else "RGB")
    if size is not None:
        img = img.resize((int(size), int(size)), Image.BILINEAR)
    return img


def _from_array(ref: str, image_array: Any) -> Image.Image:
    if image_array is None:
        raise DataError(
            f"Image '{ref}' refers to an imported array, but no array was given. Open the project "
            "again so its image array is loaded, or re-import the .npz archive."
        )
    arr = np.asarray(image_array[array_row(ref, len(image_array))])
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.dtype != np.uint8:
        a = arr.astype(np.float64)
        if np.nanmax(a) <= 1.0 and np.nanmin(a) >= 0.0:
            a = a * 255.0
        arr = np.clip(np.nan_to_num(a), 0, 255).astype(np.uint8)
    if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] in (3, 4)):
        return Image.fromarray(np.ascontiguousarray(arr))
    raise DataError(
        f"Image '{ref}' has array shape {arr.shape}; expected (H, W), (H, W, 1), (H, W, 3) or "
        "(H, W, 4). Re-save the .npz archive with image-shaped arrays."
    )
