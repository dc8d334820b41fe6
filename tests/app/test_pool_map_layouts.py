"""The pool map: a sample opened from it shows the model's suggestion; the Layout selector offers
UMAP beside PCA, computed in the background and cached (activelab.app.map_layouts)."""
from __future__ import annotations

import importlib.util
import shutil

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QSettings, Qt

from activelab.app import map_layouts
from activelab.core.features import umap_map
from activelab.core.project.project import Project
from tests.core.helpers import write_text_csv
from tests.app.windows import open_window as shown_window


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A text project with six labels (two per class) and nothing else."""
    tmp = tmp_path_factory.mktemp("map")
    p = Project.create(tmp / "topics", data=write_text_csv(tmp / "d.csv", n=90),
                       text_columns=["text"], tasks=["topic=topic"])
    for i in range(6):
        p.label(p.ids[i], p.sample(i).fields["topic"])
    p.close()
    return tmp / "topics"


@pytest.fixture
def project(template, tmp_path):
    shutil.copytree(template, tmp_path / "topics")
    qs = QSettings("activelab", "activelab")
    qs.remove(map_layouts.LAYOUT_KEY)
    qs.sync()
    p = Project.open(tmp_path / "topics")
    yield p
    p.close()


def open_window(qtbot, project):
    win = shown_window(qtbot, project)
    qtbot.waitUntil(lambda: len(win.pool_map._xy) == project.n_samples, timeout=30000)
    return win


def click_point(qtbot, view, idx: int) -> None:
    """A left click on the map where pool sample ``idx`` is drawn."""
    vb = view.plot.getPlotItem().getViewBox()
    scene = vb.mapViewToScene(QPointF(*map(float, view._xy[idx])))
    qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton, pos=view.plot.mapFromScene(scene))


def test_a_sample_opened_from_the_map_shows_its_suggestion(qtbot, project):
    project.retrain()                   # a model in memory: the map is coloured, suggestions exist
    win = open_window(qtbot, project)
    view, cur = win.pool_map, win.controller.current
    xy = view._xy
    far = int(np.argmax(((xy - xy[cur.idx]) ** 2).sum(1)))   # well away from the current sample
    click_point(qtbot, view, far)
    shown = win.controller.current
    assert shown.source == "map" and shown.idx != cur.idx, "the click opened another sample"
    assert shown.item is None, "not a queue item: the suggestion comes from the model in memory"
    expected = project.suggestion(shown.idx)["topic"]
    text = win.label_panel.rows[0].suggestion.text()
    assert text.startswith(f"model suggests <b>{expected.label}</b>"), text
    assert f"{expected.confidence:.0%}" in text
    assert win.label_panel.rows[0].buttons[expected.label].property("suggested")
    win.blind_action.setChecked(True)
    assert win.label_panel.rows[0].suggestion.text() == "", "blind mode hides it"
    win.close()


def test_without_umap_learn_the_selector_says_how_to_get_it(qtbot, project, monkeypatch):
    monkeypatch.setattr(map_layouts, "umap_missing", lambda: umap_map.INSTALL_HINT)
    win = open_window(qtbot, project)
    view = win.pool_map
    view.layout_combo.setCurrentIndex(1)
    view.layout_combo.activated.emit(1)
    assert view.layout() == "pca", "back on PCA"
    assert "pip install 'activelab[map]'" in view.layout_note.text() and view.layout_note.isVisible()
    assert not win.runner.is_running("umap")
    win.close()


@pytest.mark.skipif(importlib.util.find_spec("umap") is None,
                    reason="umap-learn is not installed (pip install 'activelab[map]')")
@pytest.mark.slow
def test_umap_is_computed_in_the_background_cached_and_remembered(qtbot, project):
    win = open_window(qtbot, project)
    view = win.pool_map
    pca = view._xy.copy()
    view.layout_combo.setCurrentIndex(1)
    view.layout_combo.activated.emit(1)
    assert win.runner.is_running("umap")
    assert view.layout_note.text().startswith("Computing UMAP…")
    # The expert labels on while it runs: the UI thread is free.
    first = win.controller.current.sample.id
    qtbot.keyClick(win, Qt.Key.Key_1)
    assert win.controller.current.sample.id != first and project.labeled_count() == 7
    qtbot.waitUntil(lambda: not win.runner.is_running("umap"), timeout=600000)
    assert view.layout_note.text() == "", view.layout_note.text()
    umap_xy = view._xy.copy()
    assert umap_xy.shape == pca.shape and not np.allclose(umap_xy, pca)
    assert list((project.path / "cache").glob("projection-umap-*.npy")), "cached with the features"
    win.close()

    again = open_window(qtbot, project)    # remembered on this machine, read from the cache
    assert again.pool_map.layout() == "umap"
    qtbot.waitUntil(lambda: np.array_equal(again.pool_map._xy, umap_xy), timeout=20000)
    again.pool_map.layout_combo.setCurrentIndex(0)
    again.pool_map.layout_combo.activated.emit(0)
    np.testing.assert_array_equal(again.pool_map._xy, pca)
    again.close()
