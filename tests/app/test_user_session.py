"""Issue 4's "Done when", as one user session on the real engine and the bundled digits demo:
label 50 by keyboard while the model retrains, watch the curve and the map fill in, undo,
change a label from the history, export, close, reopen and find everything as it was left."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from PySide6.QtCore import Qt

from activelab.app.demo import open_or_create_demo
from activelab.app.main_window import MainWindow
from activelab.core.project.project import Project

CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture(scope="module")
def truth() -> np.ndarray:
    from sklearn.datasets import load_digits

    return load_digits().target       # the true digit of demo sample idx


def open_window(qtbot, project) -> MainWindow:
    win = MainWindow(project)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    win.start()
    return win


def press_digit(qtbot, win, digit: int) -> None:
    qtbot.keyClick(win, getattr(Qt.Key, f"Key_{digit}"))


def idle(qtbot, win) -> None:
    qtbot.waitUntil(lambda: not win.runner.is_running("retrain"), timeout=30000)


@pytest.mark.slow
def test_demo_session_label_undo_relabel_export_reopen(qtbot, tmp_path, truth):
    project = open_or_create_demo(tmp_path / "demo")
    win = open_window(qtbot, project)
    assert win.windowTitle().startswith("activelab")
    assert "label" in win.sample_view.hidden_columns, "the true digit is not shown to the expert"

    # --- 50 labels by keyboard; the model retrains in the background meanwhile -----------
    points: list = []
    win.controller.model_updated.connect(points.append)
    shown: list[str] = []
    for i in range(50):
        cur = win.controller.current
        shown.append(cur.sample.id)
        if cur.item is not None and cur.item.audit:   # the model is being checked: no anchor
            assert all(r.suggestion.text() == "" for r in win.label_panel.rows)
        press_digit(qtbot, win, int(truth[cur.idx]))
        assert win.controller.current.sample.id != cur.sample.id, "the next sample at once"
        if i == 24:   # halfway, the expert looks up: a retrain has added a curve point
            qtbot.waitUntil(lambda: len(points) >= 1, timeout=30000)
            during = len(points)
    assert len(set(shown)) == 50 and project.labeled_count() == 50
    labels = project.labels()["digit"]
    assert all(labels[project.index_of(s)] == str(truth[project.index_of(s)]) for s in shown)
    idle(qtbot, win)
    assert len(points) > during, "labeling on after a retrain brings further curve points"
    x, y = win.curve_view.series("cv_accuracy")
    assert x.size == len(project.curve()) >= 2 and x.max() >= 45
    qtbot.waitUntil(lambda: len(win.pool_map._xy) == project.n_samples, timeout=30000)
    assert (win.pool_map.class_of_points() >= 0).all(), "the map is coloured by predictions"
    qtbot.waitUntil(lambda: sum(win.progress_panel.bar_heights().values()) == 50)

    # --- undo shows the last labeled sample again ------------------------------------------
    qtbot.keyClick(win, Qt.Key.Key_Z, CTRL)
    assert win.controller.current.sample.id == shown[-1]
    assert project.labeled_count() == 49

    # --- change a label from the history: a new event, the old one kept ---------------------
    win.history_dock.raise_()
    qtbot.waitUntil(lambda: win.history_view.list.count() >= 10)
    target = shown[-5]
    row = next(i for i in range(win.history_view.list.count())
               if win.history_view.list.item(i).text().split()[1] == target)
    item = win.history_view.list.item(row)
    rect = win.history_view.list.visualItemRect(item)
    qtbot.mouseClick(win.history_view.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert win.controller.current.sample.id == target
    t_idx = project.index_of(target)
    new_value = (int(truth[t_idx]) + 1) % 10
    press_digit(qtbot, win, new_value)
    assert project.labels()["digit"][t_idx] == str(new_value)
    old_and_new = [e.value for e in project.history(limit=200) if e.sample_id == target and e.kind == "label"]
    assert old_and_new == [str(new_value), str(truth[t_idx])]
    assert win.controller.current.sample.id == shown[-1], "back to the undone sample"
    qtbot.waitUntil(lambda: f"{target}  →  {new_value}" in win.history_view.list.item(0).text())

    # --- export through the dialog: the file holds every label --------------------------------
    win.export_action.trigger()
    dialog = win.export_dialog
    out = tmp_path / "labels.csv"
    dialog.set_destination(str(out))
    with qtbot.waitSignal(dialog.export_finished, timeout=30000):
        dialog.start_export()
    dialog.close()
    df = pd.read_csv(out, dtype={"activelab__id": str, "activelab__digit__label": str})
    now = project.labels()["digit"]
    assert len(df) == len(now) == 49
    assert dict(zip(df["activelab__id"], df["activelab__digit__label"])) == {
        project.ids[i]: v for i, v in now.items()}

    # --- close and reopen: labels, the sample on screen, the queue and the curve --------------
    idle(qtbot, win)
    left = dict(current=win.controller.current.sample.id, labels=project.labels(),
                queue=[q.id for q in win.controller.queue()], curve=project.curve())
    path = project.path
    win.close()
    project.close()

    again = Project.open(path)
    win2 = open_window(qtbot, again)
    assert win2.controller.current.sample.id == left["current"]
    assert again.labels() == left["labels"]
    assert [q.id for q in win2.controller.queue()] == left["queue"]
    assert win2.curve_view.series("cv_accuracy")[0].size == len(left["curve"])
    assert again.curve()[:len(left["curve"])] == left["curve"]
    # The model is rebuilt in the background (the map is coloured again); the queue stays.
    qtbot.waitUntil(lambda: again.model_state() is not None and not win2.runner.is_running("retrain"),
                    timeout=30000)
    qtbot.waitUntil(lambda: (win2.pool_map.class_of_points() >= 0).all()
                    and len(win2.pool_map._xy) == again.n_samples, timeout=30000)
    assert [q.id for q in win2.controller.queue()] == left["queue"]
    win2.close()
    again.close()
