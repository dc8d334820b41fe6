"""Image paths that cannot be shown are refused with one paragraph naming the file (and the
row, at import) and what to do: FIFOs and device files (never opened, so nothing blocks),
folders, sockets, empty, truncated or damaged files, text saved with an image extension,
Git LFS pointers, decompression bombs. In the import checks, in load_image (features and app)
and in `activelab new`, which exits != 0 promptly without a traceback."""
from __future__ import annotations

import io
import os
import socket
import struct
import subprocess
import sys
import threading
import warnings
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
from PIL import Image, ImageFile

from activelab.core.errors import DataError
from activelab.core.data.images import load_image
from activelab.core.data.checks import validate_table
from activelab.core.data.read import infer_spec, read_table

ROOT = Path(__file__).resolve().parents[2]
LIMIT = Image.MAX_IMAGE_PIXELS  # Pillow's default decompression-bomb limit, 89,478,485


def within(seconds: float, fn: Callable[[], Any]) -> Any:
    """fn() in a daemon thread; a call that blocks (an opened FIFO) fails the test instead of
    hanging the run."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still blocked after {seconds} s (a FIFO or device was opened?)"
    if "error" in box:
        raise box["error"]
    return box.get("value")


def noise_image(fmt: str) -> bytes:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, fmt)
    return buf.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A 70-byte PNG whose header claims width x height grey pixels (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + chunk(b"IEND", b""))


def damaged_png() -> bytes:
    data = bytearray(noise_image("PNG"))
    data[data.index(b"IDAT") + 20] ^= 0xFF
    return bytes(data)


def write(content: bytes) -> Callable[[Path], None]:
    return lambda p: p.write_bytes(content)


def symlink(target: str) -> Callable[[Path], None]:
    return lambda p: p.symlink_to(target)


def unix_socket(p: Path) -> None:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(p))
    SOCKETS.append(s)


SOCKETS: list[socket.socket] = []
LFS = b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a2146\nsize 48213\n"
# (case, file name, how to make it, fragment of the reason shown to the user)
BAD = [
    ("fifo", "pipe.png", os.mkfifo, "is a named pipe (FIFO), not an image file"),
    ("dev_zero", "zero.png", symlink("/dev/zero"), "is a device file"),
    ("dev_null", "null.jpg", symlink("/dev/null"), "is a device file"),
    ("dev_urandom", "random.jpg", symlink("/dev/urandom"), "is a device file"),
    ("folder", "album.jpg", lambda p: p.mkdir(), "is a folder, not an image file"),
    ("socket", "sock.png", unix_socket, "is a socket"),
    ("empty", "empty.png", write(b""), "is empty (0 bytes)"),
    ("truncated_jpeg", "cut.jpg", write(noise_image("JPEG")[:1500]), "the file is truncated"),
    ("jpeg_header_only", "head.jpg", write(noise_image("JPEG")[:200]), "the file is truncated"),
    ("truncated_png", "cut.png", write(noise_image("PNG")[:4000]), "the file is truncated"),
    ("png_damaged_data", "bad.png", write(damaged_png()), "its image data is damaged"),
    ("text_as_jpg", "note.jpg", write(b"hello, this is a note\nsecond line\n"),
     "holds text, not an image (it begins 'hello, this is a note')"),
    ("html_as_png", "page.png", write(b"<!DOCTYPE html>\n<html><body>Not found</body></html>"),
     "it begins '<!DOCTYPE html>'"),
    ("git_lfs_pointer", "lfs.png", write(LFS), "'git lfs pull'"),
    ("binary_garbage", "junk.gif", write(bytes(range(256)) * 4), "no image format is recognised"),
    ("bomb_30000x30000", "bomb.png", write(png_claiming(30000, 30000)),
     f"claims 900,000,000 pixels, more than the limit of {LIMIT:,} pixels"),
    ("bomb_10000x10000", "big.png", write(png_claiming(10000, 10000)),
     f"claims 100,000,000 pixels, more than the limit of {LIMIT:,} pixels"),
    ("dangling_symlink", "gone.png", symlink("/nonexistent/activelab/photo.png"), "exist"),
]
IDS = [b[0] for b in BAD]


@pytest.fixture(autouse=True, scope="module")
def _close_sockets():
    yield
    for s in SOCKETS:
        s.close()


def folder_with(tmp_path: Path, name: str, make: Callable[[Path], None]) -> Path:
    """images/ holding one good image and the bad one, and meta.csv listing both (row 2 bad)."""
    (tmp_path / "images").mkdir()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(tmp_path / "images" / "ok.png")
    make(tmp_path / "images" / name)
    (tmp_path / "meta.csv").write_text(f"image,label\nimages/ok.png,a\nimages/{name},b\n")
    return tmp_path


@pytest.mark.parametrize("case, name, make, fragment", BAD, ids=IDS)
def test_import_refuses_naming_row_and_file(case, name, make, fragment, tmp_path):
    folder = folder_with(tmp_path, name, make)
    table = read_table(folder / "meta.csv")
    spec, _ = infer_spec(table, image_column="image")
    with pytest.raises(DataError) as err:
        within(30, lambda: validate_table(table, spec))
    msg = str(err.value)
    assert "row 2" in msg and name in msg and fragment in msg, msg
    assert "\n" not in msg and "Traceback" not in msg


@pytest.mark.parametrize("case, name, make, fragment", BAD, ids=IDS)
def test_load_image_refuses_naming_file(case, name, make, fragment, tmp_path):
    """What features and the app call: the same paragraph, never a Pillow exception."""
    folder = folder_with(tmp_path, name, make)
    with pytest.raises(DataError) as err:
        within(30, lambda: load_image(f"images/{name}", str(folder), size=16))
    msg = str(err.value)
    assert f"images/{name}" in msg and fragment in msg, msg


def test_device_given_directly_as_path(tmp_path):
    """/dev/urandom written in the table (no symlink): refused by its kind, never read."""
    Image.new("RGB", (8, 8)).save(tmp_path / "ok.png")
    (tmp_path / "meta.csv").write_text(f"image,label\n{tmp_path / 'ok.png'},a\n/dev/urandom,b\n")
    table = read_table(tmp_path / "meta.csv")
    spec, _ = infer_spec(table, image_column="image")
    with pytest.raises(DataError, match=r"row 2: /dev/urandom is a device file"):
        within(30, lambda: validate_table(table, spec))


def test_fifo_swapped_in_after_the_check_does_not_block(tmp_path, monkeypatch):
    """A file replaced by a FIFO between the stat check and the open: opened non-blocking
    and refused on the open descriptor."""
    import activelab.core.data.images

    os.mkfifo(tmp_path / "late.png")
    monkeypatch.setattr(activelab.core.data.images, "_check_regular_file", lambda *a: None)
    with pytest.raises(DataError, match=r"late.png.* is a named pipe \(FIFO\)"):
        within(10, lambda: load_image("late.png", str(tmp_path)))


def test_bomb_limit_is_pillows_and_read_when_used(tmp_path, monkeypatch):
    """The limit is Pillow's MAX_IMAGE_PIXELS at the time of the call (an embedding program
    may lower it); it is stated in the message, and our call leaves it and the warning
    filters as they were."""
    Image.new("RGB", (100, 100)).save(tmp_path / "photo.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5000)
    filters = list(warnings.filters)
    with pytest.raises(DataError, match=r"claims 10,000 pixels, more than the limit of 5,000 pixels"):
        load_image("photo.png", str(tmp_path))
    assert Image.MAX_IMAGE_PIXELS == 5000 and list(warnings.filters) == filters
    assert not ImageFile.LOAD_TRUNCATED_IMAGES


def test_many_bad_files_listed_with_advice_once(tmp_path):
    (tmp_path / "images").mkdir()
    rows = ["image,label"]
    for i in range(7):
        (tmp_path / "images" / f"e{i}.png").write_bytes(b"")
        rows.append(f"images/e{i}.png,{'ab'[i % 2]}")
    (tmp_path / "meta.csv").write_text("\n".join(rows) + "\n")
    table = read_table(tmp_path / "meta.csv")
    spec, _ = infer_spec(table, image_column="image")
    with pytest.raises(DataError) as err:
        validate_table(table, spec)
    msg = str(err.value)
    assert msg.startswith("7 image file(s) in column 'image'") and "row 5:" in msg and "; ..." in msg
    assert msg.count("replace it") == 1, "the advice is given once, not per file"


# ----------------------------------------------------------------------------- CLI

CLI_CASES = [
    ("fifo", "pipe.png", os.mkfifo, "is a named pipe (FIFO)"),
    ("bomb", "bomb.png", write(png_claiming(30000, 30000)), "decompression bombs"),
    ("dev_zero", "zero.png", symlink("/dev/zero"), "is a device file"),
    ("truncated_jpeg", "cut.jpg", write(noise_image("JPEG")[:1500]), "the file is truncated"),
]


@pytest.mark.parametrize("case, name, make, fragment", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_new_on_image_folder_exits_promptly_with_message(case, name, make, fragment, tmp_path):
    data = tmp_path / "photos"
    for cls, colour in (("cats", (200, 30, 30)), ("dogs", (30, 30, 200))):
        (data / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (8, 8), colour).save(data / cls / f"{i}.png")
    make(data / "dogs" / name)
    proc = subprocess.run(
        [sys.executable, "-m", "activelab.core.cli.main", "new", str(tmp_path / "proj"), "--data", str(data)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode != 0
    assert f"dogs/{name}" in proc.stderr and fragment in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (tmp_path / "proj").exists(), "a refused import leaves no project behind"
