"""Every image mode Pillow decodes is featurised and shown as an image viewer shows it.

Each case writes one small image file (every mode, EXIF orientation, animated and multi-page
files) and says which colour a user sees at a few points (as fractions of the upright image).
The same points are read through the feature path (activelab.core.features.blocks.image_block, the
pixels the model sees) and the app path (project.image -> SampleView, the QImage on screen).
Transparency is composited on white in both.
"""
from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import pytest
from PIL import Image, ImageFile

from activelab.core.features.blocks import image_block, image_mode
from activelab.core.data.images import load_image, to_8bit
from activelab.core.progress import NULL_PROGRESS

RED, GREEN, BLUE, WHITE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)


class Case(NamedTuple):
    name: str
    build: Callable[[Path], str]          # writes the file under the folder, returns its name
    probes: list[tuple[float, float, int | tuple[int, int, int]]]  # (fx, fy, grey or RGB)
    size: tuple[int, int]                 # (width, height) as shown, upright
    tol: int = 1


def px(i: int, n: int) -> float:
    """The centre of pixel i of n, as a fraction."""
    return (i + 0.5) / n


def row_image(mode: str, values: list, size: int = 4, **save) -> Callable[[Path], str]:
    """A size x size image whose first row holds ``values`` (the rest: the first value)."""
    def build(folder: Path) -> str:
        img = Image.new(mode, (size, size), values[0])
        for x, v in enumerate(values):
            img.putpixel((x, 0), v)
        name = f"{mode.replace(';', '_')}_{abs(hash(tuple(map(str, values)))) % 10**6}.{save.pop('ext', 'png')}"
        img.save(folder / name, **save)
        with Image.open(folder / name) as back:
            assert back.mode == mode, f"the test file must decode as {mode}, not {back.mode}"
        return name
    return build


def array_image(arr: np.ndarray, ext: str, expect_mode: str) -> Callable[[Path], str]:
    def build(folder: Path) -> str:
        name = f"{expect_mode.replace(';', '_')}_{arr.dtype}_{abs(hash(arr.tobytes())) % 10**6}.{ext}"
        Image.fromarray(arr).save(folder / name)
        with Image.open(folder / name) as back:
            assert back.mode == expect_mode, back.mode
        return name
    return build


def first_row(values: list) -> list[tuple[float, float, object]]:
    return [(px(x, 4), px(0, 4), v) for x, v in enumerate(values)]


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(width: int, height: int, bit_depth: int, colour_type: int, raw_rows: bytes) -> bytes:
    """A PNG written by hand (Pillow cannot write 16-bit colour)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(raw_rows)) + png_chunk(b"IEND", b""))


def rgb16_png(folder: Path) -> str:
    rows = b""
    for _ in range(4):
        rows += b"\x00" + np.array([65535, 0, 0, 0, 65535, 0, 32896, 32896, 32896, 0, 0, 65535],
                                   dtype=">u2").tobytes()
    (folder / "rgb16.png").write_bytes(png_bytes(4, 4, 16, 2, rows))
    return "rgb16.png"


def palette_png(transparency: bytes | int | None, ext: str = "png") -> Callable[[Path], str]:
    def build(folder: Path) -> str:
        img = Image.new("P", (4, 4), 2)
        img.putpalette([255, 0, 0, 255, 0, 0, 0, 0, 255])
        img.putpixel((0, 0), 0)
        img.putpixel((1, 0), 1)
        name = f"p_{'none' if transparency is None else len(str(transparency))}.{ext}"
        extra = {} if transparency is None else {"transparency": transparency}
        img.save(folder / name, **extra)
        return name
    return build


def quadrants_jpeg(orientation: int) -> Callable[[Path], str]:
    """A 64x32 photo (red | green over blue | white) tagged with an EXIF orientation."""
    def build(folder: Path) -> str:
        img = Image.new("RGB", (64, 32), RED)
        img.paste(GREEN, (32, 0, 64, 16))
        img.paste(BLUE, (0, 16, 32, 32))
        img.paste(WHITE, (32, 16, 64, 32))
        exif = Image.Exif()
        exif[0x0112] = orientation
        name = f"orient{orientation}.jpg"
        img.save(folder / name, exif=exif, quality=95)
        return name
    return build


def frames(fmt: str, **save) -> Callable[[Path], str]:
    def build(folder: Path) -> str:
        first, *rest = [Image.new("RGB", (4, 4), c) for c in (RED, GREEN, BLUE)]
        name = f"animated.{fmt}"
        first.save(folder / name, save_all=True, append_images=rest, **save)
        with Image.open(folder / name) as back:
            assert getattr(back, "n_frames", 1) == 3, "the test file must hold 3 frames"
        return name
    return build


def pgm16(maxval: int, values: list[int]) -> Callable[[Path], str]:
    def build(folder: Path) -> str:
        data = np.array([values] * 4, dtype=">u2")
        name = f"grey{maxval}.pgm"
        (folder / name).write_bytes(f"P5\n4 4\n{maxval}\n".encode() + data.tobytes())
        return name
    return build


def upright(orientation: int) -> Case:
    """Where each quadrant of the stored photo ends up once the orientation is applied."""
    # displayed top-left, top-right, bottom-left colour and the upright size
    shown = {2: (GREEN, RED, WHITE, (64, 32)), 3: (WHITE, BLUE, GREEN, (64, 32)),
             4: (BLUE, WHITE, RED, (64, 32)), 5: (RED, BLUE, GREEN, (32, 64)),
             6: (BLUE, RED, WHITE, (32, 64)), 7: (WHITE, GREEN, BLUE, (32, 64)),
             8: (GREEN, WHITE, RED, (32, 64))}[orientation]
    tl, tr, bl, size = shown
    return Case(f"exif_orientation_{orientation}", quadrants_jpeg(orientation),
                [(0.2, 0.2, tl), (0.8, 0.2, tr), (0.2, 0.8, bl)], size, tol=12)


GREY_16 = [0, 25700, 65535, 1000]       # 25700 = 100 * 257: shown as 100, not clipped to 255
CASES = [
    Case("mode_1", row_image("1", [0, 1, 0, 1]), first_row([0, 255, 0, 255]), (4, 4)),
    Case("mode_L", row_image("L", [77, 200, 0, 255]), first_row([77, 200, 0, 255]), (4, 4)),
    Case("mode_LA_on_white", row_image("LA", [(0, 0), (0, 255), (0, 128), (100, 255)]),
         first_row([255, 0, 127, 100]), (4, 4)),
    Case("mode_P", palette_png(None), first_row([RED, RED, BLUE, BLUE]), (4, 4)),
    Case("mode_P_tRNS_index", palette_png(0), first_row([WHITE, RED, BLUE, BLUE]), (4, 4)),
    Case("mode_P_gif_transparency", palette_png(0, "gif"), first_row([WHITE, RED, BLUE, BLUE]), (4, 4)),
    Case("mode_P_palette_alpha", palette_png(b"\x00\x80\xff"),
         first_row([WHITE, (255, 127, 127), BLUE, BLUE]), (4, 4)),
    Case("mode_RGBA_on_white",
         row_image("RGBA", [(255, 0, 0, 0), (255, 0, 0, 255), (0, 0, 255, 128), (10, 20, 30, 255)]),
         first_row([WHITE, RED, (127, 127, 255), (10, 20, 30)]), (4, 4)),
    Case("mode_RGB", row_image("RGB", [(10, 20, 30), RED, GREEN, BLUE]),
         first_row([(10, 20, 30), RED, GREEN, BLUE]), (4, 4)),
    Case("mode_CMYK_jpeg_adobe", row_image("CMYK", [(0, 255, 255, 0)], size=16, ext="jpg"),
         [(0.5, 0.5, RED)], (16, 16), tol=6),
    Case("mode_CMYK_tiff", row_image("CMYK", [(0, 255, 0, 0), (0, 0, 0, 255), (0, 0, 0, 0), (255, 0, 0, 0)],
                                     ext="tif"),
         first_row([(255, 0, 255), BLACK, WHITE, (0, 255, 255)]), (4, 4)),
    Case("mode_YCbCr_tiff", row_image("YCbCr", [(76, 85, 255), (128, 128, 128)], ext="tif"),
         first_row([RED, (128, 128, 128)]), (4, 4), tol=3),
    Case("mode_LAB_tiff", row_image("LAB", [(128, 128, 128), (136, 208, 195)], ext="tif"),
         first_row([(119, 119, 119), (250, 3, 11)]), (4, 4), tol=3),
    Case("mode_I16_png", array_image(np.array([GREY_16] * 4, np.uint16), "png", "I;16"),
         first_row([0, 100, 255, 4]), (4, 4)),
    Case("mode_I16_tif", array_image(np.array([GREY_16] * 4, np.uint16), "tif", "I;16"),
         first_row([0, 100, 255, 4]), (4, 4)),
    Case("mode_I16B_tif", array_image(np.array([GREY_16] * 4, ">u2"), "tif", "I;16B"),
         first_row([0, 100, 255, 4]), (4, 4)),
    Case("mode_I16_png_tRNS", row_image("I;16", [0, 25700, 65535], transparency=0),
         first_row([255, 100, 255]), (4, 4)),
    Case("mode_I_16bit_values", array_image(np.array([[0, 25700, 65535, 1000]] * 4, np.int32), "tif", "I"),
         first_row([0, 100, 255, 4]), (4, 4)),
    Case("mode_I_wide_range", array_image(np.array([[-100, 0, 100000, 50000]] * 4, np.int32), "tif", "I"),
         first_row([0, 0, 255, 128]), (4, 4)),
    Case("pgm_16bit_as_I", pgm16(65535, [0, 32896, 65535, 257]), first_row([0, 128, 255, 1]), (4, 4)),
    Case("pgm_12bit_as_I", pgm16(4095, [0, 2048, 4095, 0]), first_row([0, 128, 255, 0]), (4, 4)),
    Case("mode_F_unit_range", array_image(np.array([[0.0, 0.5, 1.0, 0.25]] * 4, np.float32), "tif", "F"),
         first_row([0, 128, 255, 64]), (4, 4)),
    Case("mode_F_any_range", array_image(np.array([[-1.0, 0.0, 3.0, 1.0]] * 4, np.float32), "tif", "F"),
         first_row([0, 64, 255, 128]), (4, 4)),
    Case("mode_F_nan", array_image(np.array([[np.nan, 0.0, 1.0, 0.5]] * 4, np.float32), "tif", "F"),
         first_row([0, 0, 255, 128]), (4, 4)),
    Case("png_16bit_rgb", rgb16_png, first_row([RED, GREEN, (128, 128, 128), BLUE]), (4, 4)),
    *[upright(o) for o in range(2, 9)],
    Case("gif_animated_first_frame", frames("gif", duration=100, loop=0), [(0.5, 0.5, RED)], (4, 4)),
    Case("apng_first_frame", frames("png", duration=100), [(0.5, 0.5, RED)], (4, 4)),
    Case("webp_animated_first_frame", frames("webp", lossless=True, duration=100),
         [(0.5, 0.5, RED)], (4, 4)),
    Case("tiff_multipage_first_page", frames("tif"), [(0.5, 0.5, RED)], (4, 4)),
]
IDS = [c.name for c in CASES]


def is_grey(case: Case) -> bool:
    return all(isinstance(v, int) or len(set(v)) == 1 for _, _, v in case.probes)


def close(got, want, tol: int) -> bool:
    want = (want,) * len(got) if isinstance(want, int) else want
    return len(got) == len(want) and all(abs(int(g) - int(w)) <= tol for g, w in zip(got, want))


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("modes")
    return root, {c.name: c.build(root) for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_features_see_what_a_viewer_shows(case, folder):
    root, names = folder
    ref = names[case.name]
    size = max(case.size)
    mode = "L" if is_grey(case) else "RGB"
    assert image_mode([ref], str(root), None, "auto") == mode
    X, (c, h, w) = image_block([ref], str(root), None, size=size, mode=mode, progress=NULL_PROGRESS)
    pixels = np.rint(X.reshape(c, h, w) * 255).astype(int)
    for fx, fy, want in case.probes:
        got = tuple(pixels[:, int(fy * h), int(fx * w)])
        assert close(got, want, case.tol), f"{case.name} at ({fx:.2f}, {fy:.2f}): features {got}, viewer {want}"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_app_shows_what_a_viewer_shows(case, folder, qtbot):
    from activelab.app.sample_view import SampleView
    from tests.app.fake_engine import Sample

    root, names = folder
    view = SampleView()
    qtbot.addWidget(view)
    # What Project.image hands the main window: load_image at full size.
    view.set_sample(Sample(0, "s0", {}, {}, names[case.name], {}), load_image(names[case.name], str(root)))
    shown = view.image_view.shown_image()
    assert (shown.width(), shown.height()) == case.size
    for fx, fy, want in case.probes:
        col = shown.pixelColor(int(fx * shown.width()), int(fy * shown.height()))
        got = (col.red(), col.green(), col.blue())
        assert close(got, want, case.tol), f"{case.name} at ({fx:.2f}, {fy:.2f}): app {got}, viewer {want}"


@pytest.mark.parametrize("mode, value, want", [
    ("HSV", (0, 255, 255), RED), ("HSV", (85, 255, 255), GREEN), ("RGBX", (1, 2, 3, 0), (1, 2, 3)),
    ("La", (50, 128), (177,) * 3), ("RGBa", (128, 0, 0, 128), (255, 127, 127)),
    ("PA", None, (255, 127, 127)), ("I;16L", 65535, (255,) * 3), ("I;16N", 25700, (100,) * 3),
])
def test_in_memory_modes_shown_like_files(mode, value, want, qtbot):
    """Modes no common file format stores (HSV, premultiplied alpha...) still convert."""
    from activelab.app.sample_view import pil_to_qimage

    if mode == "PA":
        img = Image.new("PA", (2, 2), (0, 128))
        img.putpalette([255, 0, 0])
    else:
        img = Image.new(mode, (2, 2), value)
    out = to_8bit(img)
    assert out.mode in ("L", "RGB")
    assert close(out.convert("RGB").getpixel((0, 0)), want, 2)
    q = pil_to_qimage(img).pixelColor(0, 0)
    assert close((q.red(), q.green(), q.blue()), want, 2)


def test_decoding_leaves_pillow_and_warning_state_alone(folder):
    """No global flag is changed as a side effect (truncated loading, bomb limit, filters)."""
    root, names = folder
    before = (ImageFile.LOAD_TRUNCATED_IMAGES, Image.MAX_IMAGE_PIXELS, list(warnings.filters))
    for name in names.values():
        load_image(name, str(root), size=8)
    assert (ImageFile.LOAD_TRUNCATED_IMAGES, Image.MAX_IMAGE_PIXELS, list(warnings.filters)) == before


@pytest.mark.parametrize("arr, want", [
    (np.array([[0, 25700, 65535, 1000]], np.uint16), [0, 100, 255, 4]),       # 16-bit data, scaled
    (np.array([[0, 77, 255, 3]], np.int64), [0, 77, 255, 3]),                 # 8-bit data in int64
    (np.array([[0.0, 0.5, 1.0, 0.25]], np.float64), [0, 128, 255, 64]),       # floats in 0..1
    (np.array([[-1.0, 0.0, 3.0, np.nan]], np.float32), [0, 64, 255, 0]),      # any range: min..max
    (np.array([[False, True, True, False]]), [0, 255, 255, 0]),
    (np.array([[[255, 0, 0, 0], [255, 0, 0, 255], [0, 0, 255, 128], [0, 0, 0, 255]]], np.uint8),
     [WHITE, RED, (127, 127, 255), BLACK]),                                   # RGBA on white
], ids=["uint16", "int64_8bit", "float_unit", "float_range_nan", "bool", "rgba_uint8"])
def test_npz_arrays_shown_and_featurised_alike(arr, want, qtbot):
    """Images imported from a .npz archive follow the same rules (arrays have no mode)."""
    from activelab.app.sample_view import pil_to_qimage

    stack = np.stack([arr, arr])
    img = load_image("@array:1", None, stack)
    q = pil_to_qimage(img)
    mode = "L" if all(isinstance(w, int) for w in want) else "RGB"
    X, (c, h, w) = image_block(["@array:0", "@array:1"], None, stack, size=4, mode=mode,
                               progress=NULL_PROGRESS)
    feats = np.rint(X[1].reshape(c, h, w) * 255).astype(int)
    for x, expected in enumerate(want):
        col = q.pixelColor(x, 0)
        assert close((col.red(), col.green(), col.blue()), expected, 1), (x, expected)
        assert close(tuple(feats[:, 0, x]), expected, 1), (x, expected)
