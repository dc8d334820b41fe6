"""Finding, decoding and showing one sample's image, from a file or an imported NumPy array.

Feature building (in a worker), the import checks and the GUI all go through ``load_image``,
so a sample is featurised exactly as it is shown. What "as an image viewer shows it" means
here (``to_8bit``):

- EXIF orientation is applied (a photo taken sideways shows upright); animated files (GIF,
  APNG, WebP) and multi-page TIFFs give their first frame.
- Every mode Pillow decodes becomes 8-bit grey ("L") or 8-bit colour ("RGB"): 1, L, P, RGB,
  CMYK (as Pillow decodes it, Adobe-inverted JPEGs included), YCbCr, HSV, LAB, RGBX.
  High-bit-depth grey is *scaled*, never clipped: 16-bit modes (I;16, I;16B, I;16L, ...)
  by their type's range (0..65535 -> 0..255); mode I (32-bit integers, how Pillow decodes
  16-bit PGM/PPM) the same when its values fit 0..65535, else its own min..max; mode F
  (floats) times 255 when every value lies in 0..1, else its own min..max (NaN shown black).
  Arrays from a .npz archive: see ``array_to_8bit``.
- Transparency (LA, PA, RGBA, premultiplied modes, a palette or grey tRNS entry) is
  composited on WHITE, both in the features and in the app.

A file is refused with a DataError naming it (and its row, at import) when it is missing, not
a regular file (a folder, a FIFO, a device such as /dev/zero: checked with ``os.stat`` before
anything is opened, so nothing blocks), empty, truncated, not an image, or larger than
Pillow's decompression-bomb limit ``PIL.Image.MAX_IMAGE_PIXELS`` (89.5 megapixels by default).
Pillow's global flags (``LOAD_TRUNCATED_IMAGES``, ``MAX_IMAGE_PIXELS``) are never changed.
"""
from __future__ import annotations

import os
import re
import stat
import struct
import threading
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from activelab.core.errors import DataError
from activelab.core.data.sniff import ARRAY_REF_PREFIX

COMPOSITE_COLOUR = 255  # transparent pixels become white (grey 255 / RGB 255,255,255)

# What Pillow's decoders raise on damaged or hostile files (besides the bomb guard).
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError, struct.error, IndexError,
                  KeyError, TypeError, ZeroDivisionError)
_BOMB_ERRORS = (Image.DecompressionBombError, Image.DecompressionBombWarning)
# warnings.catch_warnings is process-wide: one opener at a time turns the bomb warning into an
# error. Only Image.open (the header) runs under the lock; decoding runs in parallel.
_OPEN_LOCK = threading.Lock()
_ADVICE_NOT_A_FILE = ("Point the row at a regular image file (.jpg, .png, ...) or remove the row; "
                      "activelab never reads images from pipes, devices or folders.")
_ADVICE_DAMAGED = ("The file is damaged or not an image: replace it (download or export it "
                   "again), or remove its row from the table.")


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


class ImageFileError(DataError):
    """An image file that cannot be shown. ``reason`` completes "Image file X ..." (no full
    stop), ``advice`` says what to do; ``missing`` is True when the file does not exist."""

    def __init__(self, path: Path, ref: str | None, reason: str, advice: str,
                 missing: bool = False) -> None:
        self.path, self.reason, self.advice, self.missing = path, reason, advice, missing
        named = f" (reference '{ref}')" if ref is not None and str(ref) != str(path) else ""
        super().__init__(f"Image file {path}{named} {reason}. {advice}")


def load_image(
    ref: str,
    image_root: str | None,
    image_array: Any = None,
    mode: str | None = None,
    size: int | None = None,
) -> Image.Image:
    """Decode one image (a file or ``@array:<row>``) as a viewer shows it (see the module doc).

    Returns a PIL image in mode "L" or "RGB" (``to_8bit``), converted to ``mode`` ("L" or
    "RGB") if given and resized to ``size`` x ``size`` pixels if given. Raises DataError
    (ImageFileError for files) naming the file and what to do when it cannot be shown.
    """
    if is_array_ref(ref):
        img = to_8bit(_from_array(ref, image_array))
    else:
        path = resolve_image(ref, image_root)
        img = _decode_file(path, ref, image_root, draft=size, draft_mode=mode)
    if mode is not None and img.mode != mode:
        img = img.convert(mode)
    if size is not None:
        img = img.resize((int(size), int(size)), Image.BILINEAR)
    return img


def image_file_problem(path: Path, image_root: str | None = None) -> ImageFileError | None:
    """Why the image file at ``path`` cannot be shown (an ImageFileError, not raised), or None.

    Decodes the whole file (JPEGs at a reduced scale), so a truncated file is caught here.
    """
    try:
        _decode_file(path, None, image_root, draft=32, draft_mode=None)
    except ImageFileError as exc:
        return exc
    return None


def _decode_file(path: Path, ref: str | None, image_root: str | None, *, draft: int | None,
                 draft_mode: str | None) -> Image.Image:
    _check_regular_file(path, ref, image_root)
    # Opened non-blocking and checked again on the open descriptor: a file swapped for a FIFO
    # after the check still cannot block (O_NONBLOCK changes nothing for regular files).
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise ImageFileError(path, ref, f"cannot be opened ({exc.strerror or exc})",
                             "Make the file readable (check its permissions), or remove its row.") from exc
    kind = _file_kind(os.fstat(fd).st_mode)
    if kind is not None:
        os.close(fd)
        raise ImageFileError(path, ref, f"is {kind}, not an image file", _ADVICE_NOT_A_FILE)
    with os.fdopen(fd, "rb") as fh:
        try:
            img = _open_guarded(fh)
            if draft is not None and img.format == "JPEG":
                # The JPEG decoder scales down by a power of two first (much faster); the
                # caller's resize gives the exact size. The whole stream is still decoded.
                img.draft(draft_mode if draft_mode in ("L", "RGB") else None, (2 * draft, 2 * draft))
            img.load()
            _apply_orientation(img)
            return to_8bit(img)
        except _BOMB_ERRORS as exc:
            raise _bomb_error(path, ref, exc) from exc
        except UnidentifiedImageError as exc:
            raise ImageFileError(path, ref, "cannot be decoded: " + _not_an_image(path),
                                 _advice_for_non_image(path)) from exc
        except _DECODE_ERRORS as exc:
            why = ("the file is truncated (it ends before the image data does)"
                   if "truncated" in str(exc).lower()
                   else f"its image data is damaged ({type(exc).__name__}: {exc})")
            raise ImageFileError(path, ref, f"cannot be decoded: {why}", _ADVICE_DAMAGED) from exc


def _check_regular_file(path: Path, ref: str | None, image_root: str | None) -> None:
    """Refuse what is not a non-empty regular file BEFORE opening it: opening a FIFO blocks
    until a writer appears, and a device such as /dev/zero or /dev/urandom never ends."""
    try:
        st = os.stat(path)
    except FileNotFoundError as exc:
        where = f" (paths are relative to {image_root})" if image_root else ""
        raise ImageFileError(path, ref, "does not exist",
                             f"Restore the file, or fix the path in the table{where}.", missing=True) from exc
    except OSError as exc:
        raise ImageFileError(path, ref, f"cannot be reached ({exc.strerror or exc})",
                             "Check the path and the permissions of its folders, or remove its row.") from exc
    kind = _file_kind(st.st_mode)
    if kind is not None:
        raise ImageFileError(path, ref, f"is {kind}, not an image file", _ADVICE_NOT_A_FILE)
    if st.st_size == 0:
        raise ImageFileError(path, ref, "is empty (0 bytes)", _ADVICE_DAMAGED)


def _file_kind(st_mode: int) -> str | None:
    if stat.S_ISREG(st_mode):
        return None
    if stat.S_ISDIR(st_mode):
        return "a folder"
    if stat.S_ISFIFO(st_mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(st_mode) or stat.S_ISBLK(st_mode):
        return "a device file (like /dev/zero)"
    if stat.S_ISSOCK(st_mode):
        return "a socket"
    return "not a regular file"


def _open_guarded(fh: Any) -> Image.Image:
    """Image.open with Pillow's decompression-bomb warning (above MAX_IMAGE_PIXELS) raised as
    an error too, without changing the process's warning filters for longer than the call."""
    with _OPEN_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        return Image.open(fh)


def _bomb_error(path: Path, ref: str | None, exc: Exception) -> ImageFileError:
    found = re.search(r"\((\d+) pixels\)", str(exc))
    claimed = f"claims {int(found.group(1)):,} pixels, " if found else ""
    limit = Image.MAX_IMAGE_PIXELS or 0
    return ImageFileError(
        path, ref,
        f"is too large to decode safely: it {claimed}more than the limit of {limit:,} pixels "
        f"({limit / 1e6:.1f} megapixels, Pillow's MAX_IMAGE_PIXELS) that guards against "
        "decompression bombs, small files that expand to gigabytes in memory",
        f"If the image is genuine, shrink it below {limit / 1e6:.0f} megapixels and import again; "
        "otherwise remove its row from the table.",
    )


def _head(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:  # a regular file: _check_regular_file ran first
            return fh.read(512)
    except OSError:
        return b""


def _not_an_image(path: Path) -> str:
    """What the bytes are when Pillow recognises no image format in them."""
    head = _head(path)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(c.isprintable() or c in "\r\n\t" for c in text):
        first = text.strip().splitlines()[0][:60] if text.strip() else ""
        return f"it holds text, not an image (it begins '{first}')"
    return "no image format is recognised in its bytes"


def _advice_for_non_image(path: Path) -> str:
    if _head(path).startswith(b"version https://git-lfs"):
        return ("It is a Git LFS pointer, not the image: fetch the images with 'git lfs pull' "
                "and import again.")
    return _ADVICE_DAMAGED


def _apply_orientation(img: Image.Image) -> None:
    """Turn a photo upright by its EXIF orientation tag, in place; broken EXIF is ignored
    (the pixels are shown as stored, as viewers do)."""
    try:
        ImageOps.exif_transpose(img, in_place=True)
    except _DECODE_ERRORS:
        pass


# ----------------------------------------------------------------------------- pixels


def to_8bit(img: Image.Image) -> Image.Image:
    """``img`` as an image viewer shows it, in mode "L" or "RGB" (8 bits per channel).

    The one conversion used by features and by the app (see the module doc for each mode's
    rule). L and RGB images are returned unchanged.
    """
    mode = img.mode
    if mode in ("L", "RGB"):
        return img
    if mode == "1":
        return img.convert("L")
    if mode.startswith("I") or mode == "F":
        return _high_bit_grey(img)
    if _has_alpha(img):
        return _on_white(img)
    return img.convert("RGB")  # P, CMYK, YCbCr, HSV, LAB (CIELAB D50 -> sRGB), RGBX, ...


def _has_alpha(img: Image.Image) -> bool:
    bands = img.getbands()
    palette_alpha = img.mode == "P" and img.palette is not None and "A" in img.palette.mode
    return "A" in bands or "a" in bands or "transparency" in img.info or palette_alpha


def _on_white(img: Image.Image) -> Image.Image:
    grey = img.mode in ("LA", "La", "L")
    with_alpha = img.convert("LA" if grey else "RGBA")
    base = with_alpha.convert("L" if grey else "RGB")
    out = Image.new(base.mode, img.size, COMPOSITE_COLOUR if grey else (COMPOSITE_COLOUR,) * 3)
    out.paste(base, mask=with_alpha.getchannel("A"))
    return out


def _high_bit_grey(img: Image.Image) -> Image.Image:
    a = np.asarray(img)
    if img.mode == "F":
        grey = _float_to_8bit(a)
    elif img.mode == "I":
        grey = _int_to_8bit(a, 0, 65535) if a.size and a.min() >= 0 and a.max() <= 65535 else _stretch(a)
    else:  # I;16 and its byte orders / signed variant: the type's own range
        info = np.iinfo(a.dtype)
        grey = _int_to_8bit(a, info.min, info.max)
    t = img.info.get("transparency")
    if isinstance(t, int) and not isinstance(t, bool):
        grey[a == t] = COMPOSITE_COLOUR  # a tRNS grey value: that value is see-through
    return Image.fromarray(grey)


def _int_to_8bit(a: np.ndarray, lo: int, hi: int) -> np.ndarray:
    return np.rint((a.astype(np.float64) - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def _stretch(a: np.ndarray) -> np.ndarray:
    """The data's min..max to 0..255 (non-finite values excluded; NaN -> 0)."""
    a = a.astype(np.float64)
    finite = np.isfinite(a)
    if not finite.any():
        return np.zeros(a.shape, np.uint8)
    lo, hi = float(a[finite].min()), float(a[finite].max())
    if hi == lo:
        scaled = np.full(a.shape, 255.0 * min(max(lo, 0.0), 1.0))
    else:
        scaled = (a - lo) * (255.0 / (hi - lo))
    scaled[np.isnan(a)] = 0.0
    return np.rint(np.clip(scaled, 0, 255)).astype(np.uint8)


def _float_to_8bit(a: np.ndarray) -> np.ndarray:
    a = a.astype(np.float64)
    finite = a[np.isfinite(a)]
    if finite.size and finite.min() >= 0.0 and finite.max() <= 1.0:
        scaled = np.nan_to_num(a, nan=0.0, posinf=1.0, neginf=0.0) * 255.0
        return np.rint(np.clip(scaled, 0, 255)).astype(np.uint8)
    return _stretch(a)


def array_to_8bit(arr: np.ndarray) -> np.ndarray:
    """An image array of any numeric dtype as uint8 (for imported .npz images).

    uint8 as is; any other array whose values lie within 0..1 x255; within 0..255 as is
    (8-bit data in a wider type); integers within 0..65535 divided by 257 (16-bit data);
    anything else stretched from the data's min..max to 0..255. NaN becomes 0.
    """
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype == np.bool_:
        return arr.astype(np.uint8) * 255
    a = arr.astype(np.float64)
    finite = a[np.isfinite(a)]
    if not finite.size:
        return np.zeros(a.shape, np.uint8)
    lo, hi = float(finite.min()), float(finite.max())
    if lo >= 0.0 and hi <= 1.0:
        a = a * 255.0
    elif lo >= 0.0 and hi <= 255.0:
        pass
    elif np.issubdtype(arr.dtype, np.integer) and lo >= 0 and hi <= 65535:
        a = a / 257.0
    else:
        return _stretch(a)
    return np.rint(np.clip(np.nan_to_num(a, nan=0.0), 0, 255)).astype(np.uint8)


def _from_array(ref: str, image_array: Any) -> Image.Image:
    if image_array is None:
        raise DataError(
            f"Image '{ref}' refers to an imported array, but no array was given. Open the project "
            "again so its image array is loaded, or re-import the .npz archive."
        )
    arr = np.asarray(image_array[array_row(ref, len(image_array))])
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] in (3, 4)):
        return Image.fromarray(np.ascontiguousarray(array_to_8bit(arr)))
    raise DataError(
        f"Image '{ref}' has array shape {arr.shape}; expected (H, W), (H, W, 1), (H, W, 3) or "
        "(H, W, 4). Re-save the .npz archive with image-shaped arrays."
    )
