"""In the app, a sample whose image file has become unshowable since import (replaced by a
FIFO, a device, a bomb, a truncated copy...) shows the reason in the image's place; the
window does not crash or block, the sample can still be labeled, and the next sample's
image is shown again."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt

from activelab.app.main_window import MainWindow
from activelab.core.project.project import Project
from tests.fidelity.test_images_refused import BAD

APP_CASES = [b for b in BAD if b[0] in {
    "fifo", "dev_zero", "folder", "empty", "truncated_jpeg", "text_as_jpg", "bomb_30000x30000",
}]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("app_images")
    for cls, colour in (("cats", (200, 30, 30)), ("dogs", (30, 30, 200))):
        (root / "photos" / cls).mkdir(parents=True)
        for i in range(4):
            Image.new("RGB", (12, 12), colour).save(root / "photos" / cls / f"{i}.png")
    Project.create(root / "proj", data=root / "photos").close()
    return root


@pytest.mark.parametrize("case, name, make, fragment", APP_CASES, ids=[c[0] for c in APP_CASES])
def test_unshowable_image_gives_message_in_sample_area(case, name, make, fragment, template,
                                                       tmp_path, qtbot):
    shutil.copytree(template, tmp_path / "t")
    project = Project.open(tmp_path / "t" / "proj")
    refs = [project.sample(i).image_ref for i in range(project.n_samples)]
    broken = next(i for i, r in enumerate(refs) if r.endswith("dogs/1.png"))
    good = next(i for i, r in enumerate(refs) if r.endswith("cats/2.png"))
    target = Path(project.image_root()) / refs[broken]
    target.unlink()
    make(target)

    win = MainWindow(project)
    qtbot.addWidget(win)
    win.resize(1000, 700)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    win.start()
    view = win.sample_view

    win.controller.show_sample(broken)
    assert win.controller.current.idx == broken
    assert view.image_error.isVisible() and not view.image_view.isVisible()
    text = view.image_error.text()
    assert text.startswith("This image cannot be shown.") and "dogs/1.png" in text and fragment in text, text

    qtbot.keyClick(win, Qt.Key.Key_1)  # the expert can still label it (from the file name, say)
    qtbot.waitUntil(lambda: broken in next(iter(project.labels().values()), {}), timeout=5000)

    win.controller.show_sample(good)
    assert view.image_view.isVisible() and not view.image_error.isVisible()
    shown = view.image_view.shown_image()
    assert (shown.width(), shown.height()) == (12, 12) and shown.pixelColor(6, 6).red() == 200
