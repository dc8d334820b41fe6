"""The app on a Dask-engine project (issue 13): its queue is scored on the cluster, shown and
labelled like any other."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import QPointF, Qt

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


def test_window_shows_the_pools_confidence_counts_and_a_sampled_map(qtbot, dask_project,
                                                                    monkeypatch):
    """The retrain job's pass on the cluster fills both panels: bars adding up to every
    unlabelled row of the pool, and a map of a sample that says so, with the labelled rows
    and the queue on it; clicking a sampled point opens that pool row."""
    from activelab.core.scale import sample_map

    monkeypatch.setattr(sample_map, "MAP_SAMPLE", 600)     # below the 3,000 rows: a sample
    win = open_window(qtbot, dask_project)
    assert "appears when that is done" in win.pool_map.hint.text()
    qtbot.waitUntil(lambda: win.histogram.counts().sum() > 0, timeout=60_000)
    qtbot.waitUntil(lambda: not win.runner.is_running("retrain"), timeout=60_000)
    counts = win.histogram.counts()
    assert counts.sum() == 3_000 - 40                        # every unlabelled row, once
    summary = win.histogram.summary.text()
    assert "2,960 unlabeled rows" in summary and "predicted: " in summary
    assert "whole pool on the cluster" in summary and "the 40 rows labelled then" in summary
    assert f"for model v{dask_project.model_version};" in summary      # as the status line says
    assert counts[-4:].sum() > counts[:10].sum()             # a sure model: bars on the right

    view = win.pool_map
    assert "sample of 600 of 3,000 rows" in view.caption.text() and view.caption.isVisible()
    assert win.map_dock.windowTitle() == "Pool map (sample)"
    positions = view.point_positions()
    labelled = sorted(dask_project.labels()["answer"])
    assert np.isin(labelled, positions).all()
    assert len(view.labeled_points.data) == 40               # every labelled row is drawn
    queued = [q.idx for q in win.controller.queue()]
    assert queued and np.isin(queued, positions).all()      # the queue is on the map, ringed
    qtbot.waitUntil(lambda: len(view.queue_points.data) >= len(queued), timeout=5_000)
    assert set(np.unique(view.class_of_points())) == {0, 1}   # coloured by "no" and "yes"
    assert len(positions) < 3_000 and not view.layout_combo.isEnabled()

    # Click a point standing alone: the window opens that pool row (not the point's number).
    win.map_dock.raise_()
    qtbot.waitUntil(view.isVisible)
    vb = view.plot.getPlotItem().getViewBox()
    px = np.asarray([[vb.mapViewToScene(QPointF(float(a), float(b))).x(),
                      vb.mapViewToScene(QPointF(float(a), float(b))).y()] for a, b in view._xy])
    gaps = np.sort(np.linalg.norm(px[:, None] - px[None], axis=2), axis=1)[:, 1]
    alone = int(np.argmax(np.where(np.isin(positions, labelled), 0, gaps)))
    assert gaps[alone] > 10 and positions[alone] != alone
    at = view.plot.mapFromScene(QPointF(*px[alone]))
    with qtbot.waitSignal(view.sample_requested) as sig:
        qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert sig.args == [int(positions[alone])]
    qtbot.waitUntil(lambda: win.controller.current.idx == positions[alone])
    win.close()


def test_suspect_labels_are_found_and_opened_on_a_dask_project(qtbot, dask_project):
    """The "Suspect labels" dock searches a Dask project's labelled rows in the background:
    two labels made wrong lead the list, and opening one shows that pool row for review."""
    from activelab.app.panels.suspects_panel import SUSPECTS

    labels = dask_project.labels()["answer"]
    x = np.random.default_rng(0).normal(size=(3_000, 3))        # the fixture's pool
    far = sorted(labels, key=lambda i: -abs(x[i, 0]))[:2]      # far from the class boundary
    wrong = {}
    for idx in far:
        sid = dask_project.ids[idx]
        wrong[sid] = "no" if labels[idx] == "yes" else "yes"
        dask_project.label(sid, wrong[sid], annotator="mallory")
    win = open_window(qtbot, dask_project)
    qtbot.waitUntil(lambda: win.controller.ready, timeout=60_000)
    review = win.suspect_review
    panel = review.panel
    review.find()
    assert win.runner.is_running(SUSPECTS)                      # not on this thread
    qtbot.waitUntil(lambda: not win.runner.is_running(SUSPECTS), timeout=120_000)
    assert panel.table.rowCount() > 0, panel.status.text()
    listed = [panel.table.item(r, 1).text() for r in range(panel.table.rowCount())]
    assert set(listed[:2]) == set(wrong), listed
    assert "among 40 checked" in panel.status.text()
    panel.open_row(0)
    cur = win.controller.current
    assert cur.sample.id == listed[0] and cur.source == "review"
    assert cur.idx == dask_project.index_of(listed[0])
    assert "review:suspect" in win.label_panel.why.text()
    qtbot.waitUntil(lambda: not win.runner.is_running("retrain"), timeout=60_000)
    win.close()
