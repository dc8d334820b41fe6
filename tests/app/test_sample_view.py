"""The sample view draws each modality; the image zooms and fits; Tab moves between tasks."""
from __future__ import annotations

from PIL import Image
from PySide6.QtCore import Qt

from activelab.app.label_panel import LabelPanel
from activelab.app.sample_view import SampleView
from activelab.core.data.spec import TaskSpec
from tests.app.fake_engine import Sample


def make(texts=None, image_ref=None, tabular=None):
    return Sample(0, "s0", {}, texts or {}, image_ref, tabular or {})


def test_image_fits_then_zooms_with_keys(qtbot):
    view = SampleView()
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    view.set_sample(make(image_ref="a.png"), Image.new("L", (28, 28), 128))
    fitted = view.image_view.zoom()
    assert fitted > 10, "a 28x28 image is scaled up to fill the view"
    view.image_view.zoom_by(1.25)
    assert view.image_view.zoom() > fitted
    view.image_view.fit()
    assert abs(view.image_view.zoom() - fitted) < 1e-6
    assert not view.text_view.isVisible() and not view.table_view.isVisible()


def test_text_and_table_side_by_side(qtbot):
    view = SampleView()
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    view.set_sample(make(texts={"review": "Great <b>phone</b>\nsecond line"}, tabular={"price": 9.5, "brand": "x"}))
    assert view.text_view.isVisible() and view.table_view.isVisible()
    assert not view.image_view.isVisible()
    assert "Great <b>phone</b>" in view.text_view.toPlainText(), "text is shown literally, not as HTML"
    assert view.table_view.rowCount() == 2
    assert view.table_view.item(0, 0).text() == "price" and view.table_view.item(0, 1).text() == "9.5"


def test_tab_moves_between_tasks_and_keys_follow(qtbot):
    panel = LabelPanel()
    qtbot.addWidget(panel)
    panel.set_tasks([TaskSpec("a", ("x", "y")), TaskSpec("b", ("p", "q", "r"))])
    panel.show()
    panel.activateWindow()
    qtbot.waitUntil(panel.isActiveWindow)
    got = []
    panel.submitted.connect(got.append)
    qtbot.keyClick(panel, Qt.Key.Key_Tab)
    assert panel.active == 1
    qtbot.keyClick(panel, Qt.Key.Key_3)           # b = r; moves on to the task still unlabeled
    assert panel.active == 0
    qtbot.keyClick(panel, Qt.Key.Key_Tab)
    qtbot.keyClick(panel, Qt.Key.Key_Tab)          # wraps around to a
    assert panel.active == 0
    qtbot.keyClick(panel, Qt.Key.Key_2)           # a = y
    qtbot.keyClick(panel, Qt.Key.Key_Return)
    assert got == [{"a": "y", "b": "r"}]
