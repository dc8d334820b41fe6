"""The curve panel's outlook: audit estimate, savings, stopping rule and forecast, as a user
reads them under the learning curve."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

pytest.importorskip("pytestqt")

from activelab.app.main_window import MainWindow  # noqa: E402
from activelab.app.panels.learning_curve_view import LearningCurveView  # noqa: E402
from activelab.app.worker import TaskRunner  # noqa: E402
from activelab.core.cli.main import main  # noqa: E402
from activelab.core.project.project import Project  # noqa: E402
from tests.app.fake_engine import FakeProject  # noqa: E402
from tests.core.helpers import noisy_truth, write_text_csv  # noqa: E402


@dataclass(frozen=True)
class _Point:
    version: int
    n_labels: int
    cv_accuracy: float | None
    cv_macro_f1: float | None
    audit_accuracy: float | None = None
    audit_n: int = 0
    time: float = 0.0
    train_seconds: float = 0.1
    per_task: dict = field(default_factory=dict)


def _labeled_project(tmp_path, rounds: int = 14) -> Project:
    """A text project labeled in rounds of 5 with half of the picks audit picks."""
    data = write_text_csv(tmp_path / "news.csv", n=240)
    truth = noisy_truth(data)
    path = tmp_path / "p"
    assert main(["new", str(path), "--data", str(data), "--id-column", "id",
                 "--text-column", "text", "--task", "topic=topic"]) == 0
    assert main(["set", str(path), "audit_rate=0.5"]) == 0
    proj = Project.open(path)
    for _ in range(rounds):
        for it in proj.query(5):
            proj.label_sample(it.id, {"topic": truth[it.id]}, item=it)
        proj.retrain()
    return proj


def test_curve_panel_shows_audit_savings_stopping_and_forecast(qtbot, tmp_path):
    proj = _labeled_project(tmp_path)
    try:
        outlook = proj.outlook()
        view = LearningCurveView()
        qtbot.addWidget(view)
        view.resize(420, 700)
        view.show()
        view.set_points(proj.curve())
        view.set_outlook(outlook)
        text = view.outlook.text()
        rec = outlook["savings"]["tasks"]["topic"]
        cur, m = rec["current"], rec["matched"]
        assert (f"Audit: accuracy {cur['accuracy']:.3f} (95% CI {cur['low']:.3f}–"
                f"{cur['high']:.3f}), {cur['n']} held-out audit picks") in text
        assert (f"Savings: at {m['labels']} labels the strategy's picks {m['active']:.3f} vs "
                f"random {m['random']:.3f}") in text
        assert "Random only: ≈" in text or "Savings: the random-only curve" in text
        stop = outlook["stopping"]["message"].split("; audit accuracy")[0]
        assert f"Stopping: {stop}" in text and "audit accuracy" not in text  # not twice
        assert f"Forecast: {outlook['forecast']['message']}" in text
        # The full sentences of `activelab status` are the tooltips.
        assert view.outlook.savings.toolTip() == "\n".join(outlook["savings"]["messages"])
        for row in (view.outlook.savings, view.outlook.stopping, view.outlook.forecast):
            assert row.isVisible() and row.width() > 200      # readable, not squeezed
        # The audit estimate is also drawn: an error bar spanning its interval.
        assert view.estimate_bars()["audit"] == pytest.approx((cur["low"], cur["high"]))
        if "random_at_current" in rec:
            r = rec["random_at_current"]
            assert view.estimate_bars()["random"] == pytest.approx((r["low"], r["high"]))
        assert view.plot.isVisible() and not view.no_cv_hint.isVisible()
    finally:
        proj.close()


def test_a_fired_stopping_rule_and_a_forecast_read_as_sentences(qtbot):
    view = LearningCurveView()
    qtbot.addWidget(view)
    view.show()
    view.set_points([_Point(i, 10 * i, 0.6 + 0.05 * i, 0.5) for i in range(1, 6)])
    stop = "the model has stopped improving (kappa 0.995, 0.998, 1.000 over the last 3 checks)"
    view.set_outlook({
        "stopping": {"stop": True, "message": stop},
        "forecast": {"message": "about 120 more labels to reach 0.870 (80% interval 60–300)"},
        "savings": {"messages": ["audit estimate: not enough audit picks yet (n=3, need >= 10)"],
                    "tasks": {}}})
    assert view.outlook.text().splitlines() == [
        f"Stopping: {stop}",
        "Forecast: about 120 more labels to reach 0.870 (80% interval 60–300)",
        "Audit: not enough audit picks yet (n=3, need >= 10)"]
    assert "#00704A" in view.outlook.stopping.text()          # a fired rule stands out
    assert view.estimate_bars() == {"audit": None, "random": None}   # no estimate: no bar


def test_before_cross_validation_the_panel_says_why_instead_of_plotting(qtbot):
    view = LearningCurveView()
    qtbot.addWidget(view)
    view.show()
    view.set_points([_Point(1, 3, None, None)])
    view.set_outlook({"cv": "no cross-validated accuracy yet on 3 labels: it needs at least 4"})
    assert view.no_cv_hint.isVisible() and not view.plot.isVisible()
    assert "No cross-validated accuracy yet on 3 labels" in view.no_cv_hint.text()
    view.add_point(_Point(2, 8, 0.7, 0.6))
    view.set_outlook({})
    assert view.plot.isVisible() and not view.no_cv_hint.isVisible()


def test_main_window_refreshes_the_outlook_after_each_retrain(qtbot, tmp_path):
    project = FakeProject(tmp_path / "fake", n=60)
    win = MainWindow(project, runner=TaskRunner(use_processes=False))
    qtbot.addWidget(win)
    win.show()
    win.start()
    try:
        assert win.curve_view.outlook.text() == ""         # nothing trained, nothing to say
        with qtbot.waitSignal(win.controller.model_updated, timeout=5000):
            win.controller.request_retrain()
        qtbot.waitUntil(lambda: "Audit:" in win.curve_view.outlook.text(), timeout=5000)
        text = win.curve_view.outlook.text()
        assert "Audit: not enough audit picks yet (n=0, need >= 10)" in text
        assert "Forecast: needs 4 retrains with a cross-validated accuracy (1 so far)" \
            in text
    finally:
        win.runner.shutdown()
