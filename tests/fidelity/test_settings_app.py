"""The app's settings panel goes through Project.update_settings: a refused value shows the
banner with the reason, and nothing is stored."""
from __future__ import annotations

import shutil

import pytest

pytest.importorskip("PySide6")

from activelab.app.demo import open_or_create_demo  # noqa: E402
from activelab.app.main_window import MainWindow  # noqa: E402
from activelab.core.project.project import Project  # noqa: E402


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("template") / "digits"
    open_or_create_demo(folder).close()
    return folder


@pytest.fixture
def window(qtbot, demo_template, tmp_path, monkeypatch):
    monkeypatch.setenv("ACTIVELAB_RETRAIN_IN_PROCESS", "0")
    shutil.copytree(demo_template, tmp_path / "digits")
    project = Project.open(tmp_path / "digits")
    win = MainWindow(project)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    project.close()


@pytest.mark.parametrize("changes,message", [
    ({"strategy": "density_weighted", "strategy_params": {"k": 0}},
     "Strategy 'density_weighted': parameter 'k' must be an integer >= 1; got 0."),
    ({"model_params": {"C": -2}},
     "The 'C' parameter of LogisticRegression must be a float in the range (0.0, inf]."),
    ({"batch_size": 0}, "Setting 'batch_size' must be an integer >= 1; got 0."),
])
def test_a_refused_setting_from_the_panel_shows_the_banner_and_stores_nothing(
        window, changes, message):
    before = window.project.store.get_setting("settings")
    window.settings_panel.settings_changed.emit(changes)
    assert window.banner.isVisible()
    assert message in window.banner.text.text()
    assert window.project.store.get_setting("settings") == before
