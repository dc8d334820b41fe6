"""A settings change that makes the prepared queue stale brings a fresh queue, never an empty
one: the project empties its stored queue (``Settings.invalidates_queue``) and the app asks for
a retrain at once (before, changing the task weights or the seed emptied the queue and asked
for nothing)."""
from __future__ import annotations

import pytest

from activelab.app.main_window import MainWindow
from activelab.app.worker import TaskRunner
from activelab.core.loop.settings import Settings
from activelab.core.project.project import Project
from tests.app.fake_engine import FakeProject
from tests.core.helpers import write_text_csv

NEW_VALUES = {
    "model": "knn",
    "model_params": {"C": 2.0},
    "strategy": "entropy",     # any strategy but the default (margin since issue 10's table)
    "strategy_params": {"base": "margin"},     # with strategy "cluster" (set first)
    "aggregate": "max",
    "task_weights": {"topic": 2.0},
    "audit_rate": 0.3,
    "batch_size": 7,
    "seed": 3,
    "zero_shot": False,
    "class_descriptions": {"topic": {"sport": "a text about a sport or a match"}},
}


def test_every_queue_setting_is_listed_here():
    assert set(NEW_VALUES) == set(Settings.QUEUE_SETTINGS)


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("settings-queue")
    p = Project.create(tmp / "p", data=write_text_csv(tmp / "d.csv", n=40), text_columns=["text"],
                       tasks=["topic=topic"])
    for sid, topic in zip(p.ids, ["sport", "tech", "food"] * 3):
        p.label(sid, topic)
    p.update_settings(retrain_every=1000)
    p.retrain()
    p.close()
    return p.path


def _window(qtbot, project):
    win = MainWindow(project, runner=TaskRunner(use_processes=False))
    qtbot.addWidget(win)
    win.show()
    win.start()
    qtbot.waitUntil(lambda: win.controller.ready and not win.runner.is_running("retrain"),
                    timeout=60000)
    return win


@pytest.mark.parametrize("key", list(NEW_VALUES))
def test_a_queue_setting_changed_in_the_app_brings_a_fresh_queue(qtbot, template, tmp_path, key):
    import shutil

    shutil.copytree(template, tmp_path / "p")
    project = Project.open(tmp_path / "p")
    if key == "strategy_params":
        project.update_settings(strategy="cluster")
    if key == "model_params":
        project.update_settings(model="logistic_regression")
    win = _window(qtbot, project)
    installs, errors = [], []
    win.controller.model_installed.connect(lambda: installs.append(project.queue()))
    win.controller.error_occurred.connect(errors.append)
    win.settings_panel.settings_changed.emit({key: NEW_VALUES[key]})
    assert not win.banner.isVisible(), win.banner.text.text()
    assert getattr(project.settings, key) == NEW_VALUES[key]
    qtbot.waitUntil(lambda: bool(installs or errors), timeout=60000)   # a retrain was asked for
    assert errors == []
    qtbot.waitUntil(lambda: not win.runner.is_running("retrain"), timeout=60000)
    assert project.queue(), f"after changing {key} the stored queue is fresh, not empty"
    assert win.controller.queue(), "and the app shows it"
    win.close()
    project.close()


def test_the_fake_engine_empties_its_queue_like_the_project(tmp_path):
    fake = FakeProject(tmp_path / "fake", n=20)
    assert fake.queue()
    fake.update_settings(task_weights={"digit": 2.0})
    assert fake.queue() == []
