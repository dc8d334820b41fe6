"""Issue 5 in the app: a product-catalogue project labeled for three tasks at once with the
multimodal multi-task network, trained in the background; its suggestions (all three tasks)
and its shared-space embeddings (the pool map) show up in the window."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import Qt

pytest.importorskip("torch")

from activelab.app.main_window import MainWindow  # noqa: E402
from activelab.core.project.project import Project  # noqa: E402

TASKS = (("category", "masterCategory"), ("gender", "gender"), ("usage", "usage"))


@pytest.mark.slow
def test_three_tasks_with_the_multimodal_model(qtbot, tmp_path, shared_data):
    meta_path = shared_data("fashion_products", "metadata.csv")
    meta = pd.read_csv(meta_path).dropna(subset=[c for _, c in TASKS]).head(120)
    meta["image"] = [str(meta_path.parent / v) for v in meta["image"]]
    meta.to_csv(tmp_path / "products.csv", index=False)
    project = Project.create(
        tmp_path / "products", data=tmp_path / "products.csv", image_column="image",
        text_columns=["productDisplayName"], feature_columns=[],
        tasks=[f"{t}={c}" for t, c in TASKS], model="multimodal",
        model_params={"max_epochs": 8}, strategy="entropy",
        settings={"retrain_every": 5, "audit_rate": 0.0},
    )
    truth = {str(r.id): r for r in meta.itertuples()}
    win = MainWindow(project)
    qtbot.addWidget(win)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    win.start()
    qtbot.waitUntil(lambda: win.controller.ready, timeout=30000)

    def label_shown_by_keyboard():
        row = truth[win.controller.current.sample.id]
        for task, column in TASKS:
            k = project.spec.task(task).classes.index(getattr(row, column)) + 1
            qtbot.keyClick(win, getattr(Qt.Key, f"Key_{k % 10}"))
        qtbot.keyClick(win, Qt.Key.Key_Return)

    with qtbot.waitSignal(win.controller.model_updated, timeout=180000) as blocker:
        for _ in range(10):
            before = project.labeled_count()
            label_shown_by_keyboard()
            assert project.labeled_count() == before + 1     # one submission, three tasks
    point = blocker.args[0]
    assert point.model == "multimodal" and set(point.per_task) == {t for t, _ in TASKS}
    labels = project.labels()
    assert all(len(labels[t]) >= 10 for t, _ in TASKS)
    # the refreshed queue carries the network's suggestion for every task
    qtbot.waitUntil(lambda: any(set(q.predictions) == {t for t, _ in TASKS}
                                for q in win.controller.queue()), timeout=60000)
    for _ in range(3):          # the next samples come from the refreshed queue
        if win.controller.current.item is not None and win.controller.current.item.predictions:
            break
        label_shown_by_keyboard()
    assert set(win.controller.current.item.predictions) == {t for t, _ in TASKS}
    qtbot.waitUntil(lambda: sum("model suggests" in r.suggestion.text()
                                for r in win.label_panel.rows) == 3, timeout=10000)
    # the pool map shows the model's shared-space embeddings of every product
    state = project.model_state()
    assert state is not None and state.embeddings is not None
    xy = project.pool_projection()
    assert xy.shape == (len(meta), 2) and np.isfinite(xy).all()
    win.close()
