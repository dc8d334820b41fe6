"""Damaged derived data never leaves the app on "Loading the pool features…": the features are
rebuilt (the map and retraining work) or a banner names the cause with Retry; either way
showing samples and saving labels work."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PySide6.QtCore import Qt

from activelab.core.errors import DataError
from activelab.core.project.project import Project
from tests.fidelity.app_fixtures import copy_project, counts, make_template, open_window, shown_id

LOADING = "Loading the pool features"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return make_template(tmp_path_factory.mktemp("damaged-cache"))


def _features_dir(project_dir):
    return next((project_dir / "cache").glob("features-*"))


def _projection(project_dir):
    return next((project_dir / "cache").glob("projection-*.npy"))


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _replace_with_file(path):
    shutil.rmtree(path)
    path.write_text("not a folder")


def _replace_with_folder(path):
    path.unlink()
    path.mkdir()


def _meta(project_dir, **changes):
    meta = _features_dir(project_dir) / "meta.json"
    d = json.loads(meta.read_text())
    d.update(changes)
    meta.write_text(json.dumps(d))


DAMAGE = {
    "dense_truncated": lambda d: _truncate(_features_dir(d) / "dense.npy"),
    "dense_wrong_shape": lambda d: np.save(_features_dir(d) / "dense.npy", np.zeros((3, 2))),
    "model_X_garbage": lambda d: (_features_dir(d) / "model_X.npz").write_bytes(b"not a zip file"),
    "block_empty_file": lambda d: (_features_dir(d) / "block_text.npz").write_bytes(b""),
    "meta_not_json": lambda d: (_features_dir(d) / "meta.json").write_text("{"),
    "meta_wrong_count": lambda d: _meta(d, n_samples=59),
    "meta_missing_keys": lambda d: (_features_dir(d) / "meta.json").write_text("{}"),
    "meta_is_folder": lambda d: _replace_with_folder(_features_dir(d) / "meta.json"),
    "features_folder_is_file": lambda d: _replace_with_file(_features_dir(d)),
    "cache_is_file": lambda d: _replace_with_file(d / "cache"),
    "cache_missing": lambda d: shutil.rmtree(d / "cache"),
    "projection_truncated": lambda d: _truncate(_projection(d)),
    "projection_wrong_shape": lambda d: np.save(_projection(d), np.zeros((5, 2))),
    "projection_not_numbers": lambda d: _projection(d).write_text("hello"),
    "projection_is_folder": lambda d: _replace_with_folder(_projection(d)),
}


def _outcome(qtbot, win) -> str:
    """Wait for the warm-up to end either way (a signal, with a timeout): never stuck."""
    seen: list[str] = []
    win.controller.features_loaded.connect(lambda _xy: seen.append("loaded"))
    win.controller.features_failed.connect(lambda _msg: seen.append("failed"))
    qtbot.waitUntil(lambda: bool(seen), timeout=60000)
    return seen[0]


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_cache_never_leaves_the_app_loading(qtbot, template, tmp_path, monkeypatch, damage):
    monkeypatch.setenv("ACTIVELAB_RETRAIN_IN_PROCESS", "0")
    shutil.copytree(template, tmp_path / "proj")
    DAMAGE[damage](tmp_path / "proj")
    project = Project.open(tmp_path / "proj")
    win = open_window(qtbot, project, wait_ready=False)
    outcome = _outcome(qtbot, win)
    qtbot.waitUntil(lambda: not win.runner.is_running("retrain"), timeout=60000)
    assert LOADING not in win.status_line.text()
    if outcome == "loaded":
        assert win.controller.ready
        qtbot.waitUntil(lambda: len(win.pool_map._xy) == 60, timeout=10000)   # the map is drawn
    else:
        assert win.banner.isVisible()
        text = win.banner.text.text()
        assert text.startswith("The pool features could not be loaded: ") and len(text) > 120
        assert win.banner.retry_button.isVisible()
    sample = shown_id(win)
    qtbot.keyClick(win, Qt.Key.Key_1)                      # labeling works either way
    assert project.labels()["topic"][project.index_of(sample)] == "food"
    assert shown_id(win) != sample and counts(win) == "1 / 60 labeled"
    win.controller.request_retrain()
    assert LOADING not in win.status_line.text()
    win.close()
    project.close()


def test_features_that_cannot_load_say_why_and_retry(qtbot, template, tmp_path, monkeypatch):
    monkeypatch.setenv("ACTIVELAB_RETRAIN_IN_PROCESS", "0")
    project = copy_project(template, tmp_path / "proj")
    real = Project.features
    state = {"broken": True}

    def features(self):
        if state["broken"]:
            raise DataError("The image folder /data/scans is missing; reconnect the drive.")
        return real.fget(self)

    monkeypatch.setattr(Project, "features", property(features))
    win = open_window(qtbot, project, wait_ready=False)
    assert _outcome(qtbot, win) == "failed"
    assert win.banner.isVisible()
    assert "could not be loaded: The image folder /data/scans is missing" in win.banner.text.text()
    assert "could not be loaded" in win.status_line.text()
    for key in (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3):  # labeling and saving work meanwhile
        qtbot.keyClick(win, key)
    assert project.labeled_count() == 3
    win.controller.request_retrain()
    assert "No retraining" in win.status_line.text() and not win.runner.is_running("retrain")
    state["broken"] = False                                # the drive is back
    with qtbot.waitSignal(win.controller.features_loaded, timeout=60000):
        win.banner.retry_button.click()
    assert win.controller.ready and not win.banner.isVisible()
    with qtbot.waitSignal(win.controller.model_updated, timeout=60000):
        win.controller.request_retrain()
    assert len(project.curve()) >= 1
    win.close()


def test_loading_line_shows_progress_while_features_rebuild(qtbot, template, tmp_path, monkeypatch):
    """A slow rebuild is said with its elapsed time while a retrain waits for it."""
    import threading

    monkeypatch.setenv("ACTIVELAB_RETRAIN_IN_PROCESS", "0")
    project = copy_project(template, tmp_path / "proj")
    real = Project.features
    gate = threading.Event()

    def slow_features(self):
        gate.wait(20)
        return real.fget(self)

    monkeypatch.setattr(Project, "features", property(slow_features))
    win = open_window(qtbot, project, wait_ready=False)
    win.controller.request_retrain()
    qtbot.waitUntil(lambda: LOADING in win.status_line.text() and " s " in win.status_line.text(),
                    timeout=5000)
    assert "labeling works meanwhile" in win.status_line.text()
    qtbot.keyClick(win, Qt.Key.Key_1)
    assert project.labeled_count() == 1
    with qtbot.waitSignal(win.controller.features_loaded, timeout=30000):
        gate.set()
    qtbot.waitUntil(lambda: LOADING not in win.status_line.text(), timeout=5000)
    win.close()
