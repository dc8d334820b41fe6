"""The first window fits a 1024x768 screen with its frame (title bar, borders): nothing of it,
the status bar included, starts below or beside the screen."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from PySide6.QtCore import QMargins

from activelab.app.screen_fit import fitted_size

WINDOW_ON_SMALL_SCREEN = textwrap.dedent('''
    import csv, pathlib, sys, tempfile, time
    from PySide6.QtWidgets import QApplication
    app = QApplication(sys.argv)
    from activelab.app.main_window import MainWindow
    from activelab.core.project.project import Project
    tmp = pathlib.Path(tempfile.mkdtemp())
    data = tmp / "catalogue.csv"
    with data.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "title", "masterCategory", "gender", "usage"])
        for i in range(24):
            w.writerow([f"p{i}", f"product {i}", ("Apparel", "Footwear", "Accessories")[i % 3],
                        ("Men", "Women")[i % 2], ("Casual", "Formal", "Sports")[i % 3]])
    project = Project.create(tmp / "proj", data=data, id_column="id", text_columns=["title"],
                             tasks=["masterCategory=masterCategory", "gender=gender",
                                    "usage=usage"], import_labels=False)
    win = MainWindow(project)
    win.show()
    win.start()
    end = time.time() + 2
    while time.time() < end:
        app.processEvents()
    f, a = win.frameGeometry(), win.screen().availableGeometry()
    print(f.left(), f.top(), f.width(), f.height(), a.width(), a.height())
    win.close()
    project.close()
''')


def test_first_window_with_its_frame_fits_a_1024x768_screen(tmp_path):
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "small", "x": 0, "y": 0, "width": 1024,
                                               "height": 768, "logicalDpi": 96, "dpr": 1}]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}")
    out = subprocess.run([sys.executable, "-c", WINDOW_ON_SMALL_SCREEN], env=env, text=True,
                         capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    x, y, w, h, area_w, area_h = map(int, out.stdout.split()[-6:])
    assert (area_w, area_h) == (1024, 768)        # the screen asked for
    assert x >= 0 and y >= 0 and x + w <= 1024 and y + h <= 768


def test_fitted_size_leaves_room_for_the_frame():
    frame = QMargins(4, 30, 4, 4)                  # a title bar and thin borders
    assert fitted_size(1280, 800, 1024, 768, frame) == (1016, 734)
    assert fitted_size(800, 600, 1024, 768, frame) == (800, 600)     # fits: as asked
    assert fitted_size(1280, 800, 0, 0, frame) == (1280, 800)        # no screen: as asked
