"""What the labeling window says is true (issue 11): blind mode hides every model hint, "why
this sample" is current, the curve says why it has no cross-validation yet, provenance of
fallback picks and relabels, and the history marks a replaced label."""
from __future__ import annotations

import re

import numpy as np
import pytest
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QListWidget, QWidget

from activelab.app.main_window import MainWindow
from activelab.app.panels.learning_curve_view import LearningCurveView
from activelab.app.why_this_sample import WhyContext, why_text
from activelab.app.worker import TaskRunner
from activelab.core.data.spec import TaskSpec
from activelab.core.project.pick_provenance import FALLBACK_RANDOM
from activelab.core.project.project import Project
from activelab.core.records import CurvePoint, QueueItem
from tests.app.fake_engine import FakeProject
from tests.core.helpers import write_text_csv

CLASSES = ("Apparel", "Footwear", "Accessories")
_TAG = re.compile(r"<[^>]+>")


def _window(qtbot, project) -> MainWindow:
    win = MainWindow(project, runner=TaskRunner(use_processes=False))
    qtbot.addWidget(win)
    win.show()
    win.start()
    return win


def _visible_texts(win: MainWindow) -> list[tuple[QWidget, str]]:
    """Every text a user can see in the window: labels, buttons, line edits, list items."""
    out = []
    for w in win.findChildren(QWidget):
        if not w.isVisibleTo(win):
            continue
        if isinstance(w, (QLabel, QAbstractButton, QLineEdit)):
            out.append((w, _TAG.sub("", w.text()).replace("&nbsp;", " ")))
        elif isinstance(w, QListWidget):
            out.extend((w, w.item(i).text()) for i in range(w.count()))
    return out


def model_hints(win: MainWindow) -> list[str]:
    """Everything on screen that reveals the model's guess for the sample shown: its predicted
    class or confidence in any text other than the class buttons and the panels that list all
    classes alike (progress counts, history of given labels), a button marked as suggested,
    the map coloured by prediction, or the pick's uncertainty score."""
    cur = win.controller.current
    pred = cur.item.predictions["category"]
    conf = f"{pred.confidence:.0%}"
    neutral = [win.progress_panel, win.history_view, win.settings_panel]
    class_buttons = {b for row in win.label_panel.rows for b in row.buttons.values()}
    hints = []
    for w, text in _visible_texts(win):
        if w in class_buttons:
            if w.property("suggested"):
                hints.append(f"suggested button {text!r}")
            continue
        if any(n.isAncestorOf(w) for n in neutral):
            continue
        if pred.label in text or conf in text or "suggest" in text.lower():
            hints.append(f"{type(w).__name__} {w.objectName()!r}: {text!r}")
    if (win.pool_map.class_of_points() >= 0).any():
        hints.append("pool map coloured by predicted class")
    if re.search(r"score -?\d", win.label_panel.why.text()):
        hints.append(f"why line with the score: {win.label_panel.why.text()!r}")
    return hints


def test_blind_mode_hides_every_model_hint_and_says_it_is_on(qtbot, tmp_path):
    project = FakeProject(tmp_path / "fake", n=40, tasks=(TaskSpec("category", CLASSES),))
    win = _window(qtbot, project)
    try:
        qtbot.waitUntil(lambda: len(win.pool_map._xy) == 40, timeout=10000)
        with qtbot.waitSignal(win.controller.model_updated, timeout=10000):
            win.controller.request_retrain()
        win.label_panel.pick("category", "Apparel")    # the next sample is from the new queue
        qtbot.waitUntil(lambda: bool(win.controller.current.item.predictions), timeout=5000)
        win._show_predictions()
        qtbot.waitUntil(lambda: (win.pool_map.class_of_points() >= 0).any(), timeout=5000)
        assert not win.blind.badge.isVisible()
        seen = model_hints(win)   # the walker finds the hints while blind mode is off
        assert any("suggested button" in h for h in seen) and any("pool map" in h for h in seen)
        assert any("model suggests" in h for h in seen) and any("score" in h for h in seen)

        win.blind_action.trigger()                      # View > Blind mode (Ctrl+B)
        assert model_hints(win) == []
        assert win.blind.badge.isVisible() and "Blind mode" in win.blind.badge.text()
        assert project.settings.blind_mode is True      # remembered with the project
        win.label_panel.pick("category", "Footwear")    # still blind on the next sample
        assert model_hints(win) == []
        win._show_predictions()                         # a new model's colours stay hidden
        assert model_hints(win) == []

        win.blind_action.trigger()
        assert not win.blind.badge.isVisible() and model_hints(win)
    finally:
        win.runner.shutdown()


def test_blind_mode_is_on_again_when_the_project_is_reopened(qtbot, tmp_path):
    project = FakeProject(tmp_path / "fake", n=20, tasks=(TaskSpec("category", CLASSES),))
    project.update_settings(blind_mode=True)
    win = _window(qtbot, project)
    try:
        assert win.blind_action.isChecked() and win.blind.badge.isVisible()
        assert win.label_panel.blind and win.pool_map._blind
    finally:
        win.runner.shutdown()


def _item(strategy: str, reason: str, score: float = 0.42, pct: float | None = 97.5) -> QueueItem:
    return QueueItem(3, "s3", strategy, score, 2, pct, False, {}, 1, reason)


def test_why_this_sample_drops_stale_cold_start_text_once_two_classes_are_labeled():
    cold = _item("cold_start:typiclust", "cold start: typical and diverse pick (no task has two "
                 "classes labeled yet)")
    before = why_text(cold, "queue", WhyContext(100, 1, {"category": {"Apparel": 1}}))
    assert "no task has two classes labeled yet" in before
    after = why_text(cold, "queue", WhyContext(100, 2, {"category": {"Apparel": 1, "Footwear": 1}}))
    assert "yet" not in after and "That is over now" in after
    seek = _item("zero_shot:unseen_class", "zero-shot: the likeliest 'Footwear' for category (no "
                 "sample labeled 'Footwear' yet)", pct=None)
    now = why_text(seek, "queue", WhyContext(100, 3, {"category": {"Footwear": 2}}))
    assert "2 are now" in now and "labeled 'Footwear' yet" not in now
    assert "Footwear" not in why_text(seek, "queue", WhyContext(100, 3, {}, blind=True))


def test_why_this_sample_percentile_is_of_the_unlabeled_pool():
    text = why_text(_item("margin", "chosen by margin"), "queue", WhyContext(1000, 250, {}))
    assert "97.5% of the unlabeled samples (750 unlabeled now)" in text
    assert "1,000" not in text and "in the pool" not in text


def test_queue_percentiles_are_over_the_unlabeled_candidates(tmp_path):
    """The top pick of a queue scores at or above every unlabeled sample (100%), even though
    labeled samples may have scored higher: they are not candidates."""
    data = write_text_csv(tmp_path / "d.csv", n=60)
    p = Project.create(tmp_path / "p", data=data, text_columns=["text"], tasks=["topic=topic"],
                       id_column="id")
    try:
        truth = {r.id: r.fields["topic"] for r in (p.sample(i) for i in range(12))}
        for sid, topic in truth.items():
            p.label_sample(sid, {"topic": topic})
        p.retrain()
        items = [q for q in p.query() if not q.audit and q.percentile is not None]
        assert items and items[0].rank == 1 and items[0].percentile == pytest.approx(100.0)
        n_unlabeled = 60 - 12
        ranks = sorted(q.percentile for q in items)
        # percentiles step by 1/48 of the unlabeled pool (not 1/60 of the whole pool)
        steps = np.diff(sorted(set(ranks)))
        assert all(abs(s * n_unlabeled / 100 - round(s * n_unlabeled / 100)) < 1e-6 for s in steps)
    finally:
        p.close()


def _point(version, n, cv=None, audit=None, audit_n=0):
    return CurvePoint(version, n, 0.0, cv, cv, audit, audit_n, 0.1, {})


def test_curve_says_what_each_task_lacks_before_cross_validation(qtbot):
    view = LearningCurveView()
    qtbot.addWidget(view)
    view.show()
    view.set_cv_readiness(["category: 1 label, needs at least 4 labels (3 more); a second class"])
    assert view.no_cv_hint.isVisible() and not view.plot.isVisible()
    assert "category: 1 label, needs at least 4 labels (3 more)" in view.no_cv_hint.text()
    view.set_points([_point(1, 1, audit=0.0, audit_n=1)])      # a one-pick audit at 0
    assert not view.plot.isVisible() and "1 pick" in view.latest.text()
    assert "1 picks" not in view.latest.text() and "1 labels" not in view.latest.text()
    view.set_cv_readiness([])
    assert "Enough labels for cross-validation" in view.no_cv_hint.text()
    view.add_point(_point(2, 8, cv=1.0, audit=0.0, audit_n=2))
    assert view.plot.isVisible() and not view.no_cv_hint.isVisible()
    assert view.series("audit_accuracy")[0].size == 0, "a two-pick audit accuracy is not drawn"
    assert "2 picks" in view.latest.text()
    low, high = view.plot.getPlotItem().getViewBox().viewRange()[1]
    assert high >= 1.04 and low <= -0.03, "a point at 1.0 or 0 is drawn whole"


def test_main_window_curve_panel_shows_what_is_missing_from_the_first_label(qtbot, tmp_path):
    project = FakeProject(tmp_path / "fake", n=30, tasks=(TaskSpec("category", CLASSES),))
    win = _window(qtbot, project)
    try:
        win.label_panel.pick("category", "Apparel")
        qtbot.waitUntil(lambda: "1 label," in win.curve_view.no_cv_hint.text(), timeout=5000)
        assert win.curve_view.no_cv_hint.isVisible()
        assert "a second class (only 'Apparel' so far)" in win.curve_view.no_cv_hint.text()
    finally:
        win.runner.shutdown()


@pytest.fixture
def text_project(tmp_path):
    data = write_text_csv(tmp_path / "d.csv", n=40)
    p = Project.create(tmp_path / "p", data=data, text_columns=["text"], tasks=["topic=topic"],
                       id_column="id")
    yield p
    p.close()


def test_fallback_picks_and_relabels_from_history_record_provenance(qtbot, text_project):
    p = text_project
    win = _window(qtbot, p)
    try:
        c = win.controller
        qtbot.waitUntil(lambda: c.current is not None, timeout=10000)
        c._queue.clear()                      # the queue is being prepared: a fallback pick
        c._advance(after=c.current)
        assert c.current.source == "fallback"
        assert FALLBACK_RANDOM in win.label_panel.why.text()
        fallback_id = c.current.sample.id
        c.submit({"topic": c.current.sample.fields["topic"]})
        first = next(e for e in p.history(limit=20) if e.sample_id == fallback_id)
        assert first.strategy == FALLBACK_RANDOM
        # relabel it from the history: the original pick's provenance is kept
        win._refresh_panels()
        win._on_history_sample_id_requested(fallback_id)
        assert c.current.sample.id == fallback_id and c.current.source == "history"
        other = next(x for x in ("sport", "tech", "food") if x != first.value)
        c.submit({"topic": other})
        relabel = p.history(limit=1)[0]
        assert (relabel.value, relabel.strategy) == (other, FALLBACK_RANDOM)
        win.history_dock.show()
        win.history_dock.raise_()
        win._refresh_panels()
        lines = [win.history_view.list.item(i).text() for i in range(win.history_view.list.count())]
        replaced = [ln for ln in lines if fallback_id in ln and "(replaced)" in ln]
        assert len(replaced) == 1 and first.value in replaced[0]
    finally:
        win.runner.shutdown()
