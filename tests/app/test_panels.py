"""The side panels with plain data: what a user sees change when the data changes."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph.functions as fn
import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QPointF, Qt  # noqa: E402

from activelab.app.panels.confidence_histogram import ConfidenceHistogram  # noqa: E402
from activelab.app.panels.learning_curve_view import LearningCurveView  # noqa: E402
from activelab.app.panels.pool_map_view import PoolMapView  # noqa: E402
from activelab.app.panels.progress_panel import ProgressPanel  # noqa: E402
from activelab.app.panels.settings_panel import SettingsPanel  # noqa: E402
from activelab.core.querying.registry import StrategyRegistry  # noqa: E402
from activelab.core.loop.settings import Settings  # noqa: E402
from activelab.core.querying.strategy_api import Param, Strategy  # noqa: E402


@dataclass(frozen=True)
class FakePoint:
    version: int
    n_labels: int
    cv_accuracy: float | None
    cv_macro_f1: float | None
    audit_accuracy: float | None = None
    audit_n: int = 0
    time: float = 0.0
    train_seconds: float = 0.1
    per_task: dict = field(default_factory=dict)


def _registry() -> StrategyRegistry:
    reg = StrategyRegistry()
    noop = lambda ctx, **kw: np.zeros(len(ctx.candidates))  # noqa: E731
    reg.register(Strategy("entropy", "Highest entropy.", noop))
    reg.register(Strategy(
        "toy", "A toy with every parameter type.", noop,
        params=(
            Param("beta", float, 1.0, "weight", minimum=0.0, maximum=10.0),
            Param("k", int, 5, "neighbours", minimum=1, maximum=50),
            Param("metric", str, "cosine", "distance", choices=("cosine", "euclidean")),
            Param("normalize", bool, True, "scale first"),
        ),
    ))
    return reg


# --------------------------------------------------------------------------- settings
def test_settings_panel_builds_typed_editors_and_emits_only_changes(qtbot):
    panel = SettingsPanel(strategies=_registry(), models=["logistic_regression", "random_forest"])
    qtbot.addWidget(panel)
    # entropy explicitly: this fake registry holds entropy and toy, not necessarily the default.
    panel.set_settings(Settings(strategy="entropy"), tasks=["a"])
    assert panel.strategy_combo.currentData() == "entropy"
    assert not panel.params_box.isVisibleTo(panel)  # entropy has no parameters

    with qtbot.waitSignal(panel.settings_changed) as sig:
        panel.strategy_combo.setCurrentIndex(panel.strategy_combo.findData("toy"))
    assert sig.args[0] == {"strategy": "toy", "strategy_params": {
        "beta": 1.0, "k": 5, "metric": "cosine", "normalize": True}}
    from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox
    assert isinstance(panel.param_editor("beta"), QDoubleSpinBox)
    assert isinstance(panel.param_editor("k"), QSpinBox)
    assert panel.param_editor("k").maximum() == 50
    assert isinstance(panel.param_editor("metric"), QComboBox)
    assert isinstance(panel.param_editor("normalize"), QCheckBox)

    with qtbot.waitSignal(panel.settings_changed) as sig:
        panel.param_editor("metric").setCurrentIndex(1)
    assert sig.args[0]["strategy_params"]["metric"] == "euclidean"

    with qtbot.waitSignal(panel.settings_changed) as sig:
        panel.batch_spin.setValue(25)
    assert sig.args[0] == {"batch_size": 25}
    with qtbot.waitSignal(panel.settings_changed) as sig:
        panel.audit_spin.setValue(20)
    assert sig.args[0] == {"audit_rate": pytest.approx(0.2)}
    with qtbot.waitSignal(panel.settings_changed) as sig:
        panel.blind_check.click()
    assert sig.args[0] == {"blind_mode": True}
    with qtbot.waitSignal(panel.retrain_requested):
        qtbot.mouseClick(panel.retrain_button, Qt.MouseButton.LeftButton)


def test_settings_panel_shows_settings_without_emitting(qtbot):
    panel = SettingsPanel(strategies=_registry(), models=["logistic_regression", "random_forest"])
    qtbot.addWidget(panel)
    emitted = []
    panel.settings_changed.connect(emitted.append)
    s = Settings(strategy="toy", strategy_params={"k": 9}, model="random_forest",
                     batch_size=30, retrain_every=7, audit_rate=0.25, blind_mode=True,
                     aggregate="weighted", task_weights={"b": 3.0})
    panel.set_settings(s, tasks=["a", "b"])
    assert emitted == []
    d = panel.settings_dict()
    assert d["strategy"] == "toy" and d["strategy_params"]["k"] == 9
    assert d["model"] == "random_forest" and d["batch_size"] == 30 and d["retrain_every"] == 7
    assert d["audit_rate"] == pytest.approx(0.25) and d["blind_mode"] is True
    assert d["aggregate"] == "weighted" and d["task_weights"] == {"a": 1.0, "b": 3.0}
    assert panel.multi_box.isVisibleTo(panel)


def test_settings_panel_uses_the_real_registry(qtbot):
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    names = [panel.strategy_combo.itemData(i) for i in range(panel.strategy_combo.count())]
    assert {"entropy", "margin", "random"} <= set(names)


# --------------------------------------------------------------------------- progress
def test_progress_panel_counts_and_bars(qtbot):
    panel = ProgressPanel()
    qtbot.addWidget(panel)
    panel.set_data(100, {"topic": 12, "tone": 5},
                   {"topic": {"sport": 7, "politics": 5}, "tone": {"pos": 3, "neg": 2}}, 12)
    assert "12" in panel.summary.text() and "100" in panel.summary.text()
    assert panel.bar_heights() == {"sport": 7, "politics": 5}
    assert panel._bars_per_task["tone"].value() == 5
    assert panel._task_row.isVisibleTo(panel)
    panel.task_combo.setCurrentText("tone")
    assert panel.bar_heights() == {"pos": 3, "neg": 2}
    # A new label updates the counts and keeps the chosen task.
    panel.set_data(100, {"topic": 13, "tone": 6},
                   {"topic": {"sport": 8, "politics": 5}, "tone": {"pos": 4, "neg": 2}}, 13)
    assert panel.shown_task() == "tone" and panel.bar_heights() == {"pos": 4, "neg": 2}


# --------------------------------------------------------------------------- curve
def test_learning_curve_solid_cv_and_dashed_audit(qtbot):
    view = LearningCurveView()
    qtbot.addWidget(view)
    assert view.empty_hint.isVisibleTo(view)
    view.set_points([FakePoint(1, 10, 0.6, 0.5), FakePoint(2, 20, 0.7, 0.6, 0.65, 4)])
    x, y = view.series("cv_accuracy")
    assert list(x) == [10, 20] and list(y) == pytest.approx([0.6, 0.7])
    x, y = view.series("audit_accuracy")
    assert list(x) == [20] and list(y) == pytest.approx([0.65])
    view.add_point(FakePoint(3, 30, 0.8, 0.7, 0.75, 6))
    assert list(view.series("cv_macro_f1")[1]) == pytest.approx([0.5, 0.6, 0.7])
    assert not view.empty_hint.isVisibleTo(view)
    assert "v3" in view.latest.text() and "30" in view.latest.text()
    cv_pen = view.curves["cv_accuracy"].opts["pen"]
    audit_pen = view.curves["audit_accuracy"].opts["pen"]
    assert cv_pen.style() == Qt.PenStyle.SolidLine
    assert audit_pen.style() == Qt.PenStyle.DashLine
    # The curve items are created once and reused.
    before = dict(view.curves)
    view.add_point(FakePoint(4, 40, 0.82, 0.72))
    assert view.curves == before


def test_learning_curve_per_task(qtbot):
    view = LearningCurveView()
    qtbot.addWidget(view)
    per = {"a": {"cv_accuracy": 0.9, "cv_macro_f1": 0.8}, "b": {"cv_accuracy": 0.4, "cv_macro_f1": 0.3}}
    view.set_points([FakePoint(1, 10, 0.65, 0.55, per_task=per)])
    assert view._task_row.isVisibleTo(view)
    view.task_combo.setCurrentText("b")
    assert list(view.series("cv_accuracy")[1]) == pytest.approx([0.4])


# --------------------------------------------------------------------------- pool map
def test_pool_map_colours_by_prediction_and_click_opens_sample(qtbot):
    view = PoolMapView()
    qtbot.addWidget(view)
    view.resize(500, 400)
    view.show()
    qtbot.waitExposed(view)
    xy = np.array([[0, 0], [10, 0], [0, 10], [10, 10]], dtype=float)
    labels = np.array(["cat", "dog", "cat", None], dtype=object)
    view.set_projection(xy)
    view.set_predictions({"animal": (labels, np.array([0.9, 0.8, 0.7, np.nan]))},
                         classes={"animal": ["cat", "dog"]})
    assert list(view.class_of_points()) == [0, 1, 0, -1]
    colours = {c.name(): len(fn.ndarray_from_qpolygonf(poly)) for c, poly in view.points._groups}
    assert sorted(colours.values()) == [1, 1, 2]     # cat x2, dog x1, no prediction x1
    assert "cat" in view.legend.text() and "no prediction yet" in view.legend.text()
    view.set_labeled(np.array([1]))
    view.set_queue(np.array([2, 3]))
    assert len(view.labeled_points.data) == 1 and len(view.queue_points.data) == 2

    # Click the point of sample 1 on screen.
    vb = view.plot.getPlotItem().getViewBox()
    scene_pos = vb.mapViewToScene(QPointF(10, 0))
    widget_pos = view.plot.mapFromScene(scene_pos)
    with qtbot.waitSignal(view.sample_requested) as sig:
        qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton, pos=widget_pos)
    assert sig.args == [1]


def test_pool_map_handles_60k_points(qtbot):
    view = PoolMapView()
    qtbot.addWidget(view)
    rng = np.random.default_rng(0)
    n = 60_000
    view.set_projection(rng.normal(size=(n, 2)))
    labels = np.array(["a", "b", "c"], dtype=object)[rng.integers(0, 3, n)]
    view.set_predictions({"t": (labels, rng.random(n))})
    assert sum(len(fn.ndarray_from_qpolygonf(p)) for _c, p in view.points._groups) == n
    assert set(np.unique(view.class_of_points())) == {0, 1, 2}


# --------------------------------------------------------------------------- histogram
def test_confidence_histogram_counts_unlabeled_pool(qtbot):
    view = ConfidenceHistogram()
    qtbot.addWidget(view)
    conf = np.array([0.02, 0.12, 0.97, 0.99, 0.51])
    view.set_predictions({"t": (np.array(list("abcde"), dtype=object), conf)},
                         labeled=np.array([4]))
    counts = view.counts()
    assert counts.sum() == 4
    assert counts[0] == 1 and counts[2] == 1 and counts[-1] == 2
    assert "4 unlabeled" in view.summary.text()


def test_pool_map_of_a_sample_marks_only_the_rows_it_has(qtbot):
    """A sampled map (a Dask project's): points carry their pool positions; labelled, queued
    and current rows outside the sample are left out, not drawn at another row's point."""
    view = PoolMapView()
    qtbot.addWidget(view)
    view.set_projection(np.array([[0, 0], [1, 0], [0, 1], [1, 1]], float),
                        positions=np.array([5, 17, 40, 99]))
    view.set_caption("A uniform sample of 4 of 100 rows")
    view.set_labeled(np.array([17, 2, 50]))
    view.set_queue(np.array([99, 3, 40]))
    view.set_current(40)
    assert view.labeled_points.data["x"].tolist() == [1.0]
    assert sorted(zip(view.queue_points.data["x"], view.queue_points.data["y"])) == [(0, 1), (1, 1)]
    assert (view.current_point.data["x"][0], view.current_point.data["y"][0]) == (0, 1)
    view.set_current(3)                                  # not in the sample: no marker
    assert len(view.current_point.data) == 0
    assert view.point_positions().tolist() == [5, 17, 40, 99]
    assert "sample of 4 of 100" in view.caption.text()
    view.set_projection(np.zeros((3, 2)))                # the whole pool again
    assert view.point_positions().tolist() == [0, 1, 2]
