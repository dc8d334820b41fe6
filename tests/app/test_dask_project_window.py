"""The app on a Dask-engine project (issue 13): its queue is scored on the cluster, shown and
labelled like any other."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import Qt

from activelab.core.project.project import Project
from tests.app.windows import open_window

pytest.importorskip("distributed")


@pytest.fixture
def dask_project(tmp_path, monkeypatch):
    from activelab.core.scale import cluster
    from activelab.core.scale.create import create_dask_project

    monkeypatch.setenv("ACTIVELAB_DASK_PROCESSES", "0")     # workers as threads, as CI needs
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3_000, 3))
    frame = pd.DataFrame(x, columns=["u", "v", "w"])
    y = np.where(x[:, 0] > 0, "yes", "no").astype(object)
    y[40:] = None
    frame["answer"] = y
    (tmp_path / "pool").mkdir()
    for p in range(3):
        frame.iloc[p * 1000:(p + 1) * 1000].to_parquet(tmp_path / "pool" / f"{p}.parquet")
    path, _ = create_dask_project(tmp_path / "p", data=tmp_path / "pool",
                                  tasks=["answer=answer"], import_labels=True,
                                  strategy="least_confidence")
    proj = Project.open(path)
    yield proj
    proj.close()
    cluster.close_local_clusters()


def test_window_labels_from_the_queue_the_cluster_scored(qtbot, dask_project):
    win = open_window(qtbot, dask_project)
    qtbot.waitUntil(lambda: dask_project.model_version >= 1, timeout=60_000)
    qtbot.waitUntil(lambda: not win.runner.is_running("retrain"), timeout=60_000)
    qtbot.keyClick(win, Qt.Key.Key_1)          # the fallback sample on screen first
    current = win.controller.current
    assert "Dask engine, 3 partitions" in current.item.reason
    assert "Dask engine, 3 partitions" in win.label_panel.why.text()      # what the user reads
    assert f"Model v{dask_project.model_version}" in win.status_line.text()
    shown = current.sample.id
    qtbot.keyClick(win, Qt.Key.Key_2)
    assert dask_project.labeled_count() == 42
    assert win.controller.current.sample.id != shown
    win.close()
