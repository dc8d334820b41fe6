"""Agreement panel: how far the annotators agree, and the disagreements left to review.

``AgreementPanel`` (a plain view) shows a ``TeamReport``: per task Krippendorff's alpha and
Cohen's kappa per annotator pair with n, then the review queue (one row per sample and task,
each annotator's label). Activating a row (double-click, Enter, or "Review") emits
``review_requested(sample_id, task, labels)``.

``AgreementDock`` wires it into the main window: a dock (View menu), the report computed in
the worker (``team_report_task``: Dawid-Skene and the statistics are not UI-thread work)
whenever labels change and the dock is visible, and a review: the sample opens in the label
panel on a ``review:disagreement`` queue item, the "why" line lists every annotator's label,
the disputed task starts unselected (the others keep their current label), and the
submitted choice is recorded as the reviewer's decision.
"""
from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QScrollArea,
    QVBoxLayout, QWidget,
)

from activelab.core.errors import ActiveLabError
from activelab.core.team.agreement import shared_pairs, unshared_line
from activelab.core.team.report import TeamReport, team_report_task
from activelab.core.team.review import review_item

REFRESH_MS = 400


def _value(v: Any) -> str:
    return "[" + ", ".join(map(str, v)) + "]" if isinstance(v, list) else str(v)


def _fmt(x: float | None) -> str:
    return "undefined" if x is None else f"{x:.3f}"


def labels_text(labels: dict[str, Any]) -> str:
    """'alice: tech · bob: food' (an unnamed annotator as '(no name)')."""
    return " · ".join(f"{who or '(no name)'}: {_value(v)}" for who, v in labels.items())


class AgreementPanel(QWidget):
    """Kappa / alpha per task and the review queue (plain data in, a signal out)."""

    review_requested = Signal(str, str, dict)   # sample id, task, {annotator: label}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("agreement_panel")
        self.summary = QLabel("Measuring the agreement between annotators…")
        self.summary.setObjectName("agreement_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        # the statistics scroll inside the dock: many annotators never make the window taller
        self.summary_scroll = QScrollArea()
        self.summary_scroll.setObjectName("agreement_summary_scroll")
        self.summary_scroll.setWidgetResizable(True)
        self.summary_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.summary_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.summary_scroll.setWidget(self.summary)
        self.queue_title = QLabel("")
        self.queue_title.setObjectName("panel_title")
        self.queue = QListWidget()
        self.queue.setObjectName("review_queue")
        self.queue.setWordWrap(True)      # every annotator's label readable in a narrow dock
        self.queue.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.queue.itemActivated.connect(self._on_item_activated)
        self.queue.itemDoubleClicked.connect(self._on_item_activated)
        self.review_button = QPushButton("Review selected")
        self.review_button.setToolTip("Open the sample in the label panel; your choice is "
                                      "recorded as the reviewer's decision")
        self.review_button.clicked.connect(self._on_review_clicked)
        row = QHBoxLayout()
        row.addWidget(self.queue_title, 1)
        row.addWidget(self.review_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.summary_scroll, 1)
        lay.addLayout(row)
        lay.addWidget(self.queue, 1)
        self.report: TeamReport | None = None
        self._refresh_enabled()

    def set_report(self, report: TeamReport) -> None:
        """Show ``report`` (kept: the row selected stays selected when it is still there)."""
        self.report = report
        parts = []
        for t in report.agreement:
            if len(t.annotators) < 2:
                parts.append(f"<b>{escape(t.task)}</b>: {escape(t.note)}")
                continue
            line = (f"<b>{escape(t.task)}</b>: Krippendorff's α {_fmt(t.alpha)} "
                    f"(n={t.n_samples}, {len(t.annotators)} annotators)")
            if t.note:
                line += f" — {escape(t.note)}"
            shared, unshared = shared_pairs(t)
            pairs = "".join(f"<br>&nbsp;&nbsp;Cohen's κ {escape(p.a)} / {escape(p.b)}: "
                            f"{_fmt(p.kappa)}, n={p.n}" + (f" ({escape(p.note)})" if p.note else "")
                            for p in shared)
            if unshared:
                pairs += f"<br>&nbsp;&nbsp;{escape(unshared_line(unshared))}"
            parts.append(line + pairs)
        self.summary.setText("<br>".join(parts) or "No task.")
        selected = self._selected_key()
        self.queue.clear()
        for it in report.queue:
            w = QListWidgetItem(f"{it.sample_id}  ·  {it.task}  —  {labels_text(it.labels)}")
            w.setToolTip("Double-click or Enter: open it to decide")
            w.setData(Qt.ItemDataRole.UserRole, (it.sample_id, it.task, dict(it.labels)))
            self.queue.addItem(w)
            if (it.sample_id, it.task) == selected:
                self.queue.setCurrentItem(w)
        n = len(report.queue)
        self.queue_title.setText(
            f"To review: {n} disagreement{'' if n == 1 else 's'}" if report.is_team
            else "No review queue: one annotator so far")
        self._refresh_enabled()

    def _selected_key(self) -> tuple[str, str] | None:
        w = self.queue.currentItem()
        if w is None:
            return None
        sid, task, _ = w.data(Qt.ItemDataRole.UserRole)
        return sid, task

    def _refresh_enabled(self) -> None:
        self.review_button.setEnabled(self.queue.count() > 0)

    def _on_review_clicked(self) -> None:
        w = self.queue.currentItem() or self.queue.item(0)
        if w is not None:
            self._on_item_activated(w)

    def _on_item_activated(self, w: QListWidgetItem) -> None:
        sid, task, labels = w.data(Qt.ItemDataRole.UserRole)
        self.review_requested.emit(sid, task, labels)


class AgreementDock:
    """The Agreement panel in ``window`` (a ``MainWindow``): its dock, its refreshes (in the
    worker) and the review flow through the window's controller and label panel."""

    def __init__(self, window: Any) -> None:
        self.window = window
        self.panel = AgreementPanel()
        self.dock = window._dock("Agreement", self.panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        window.tabifyDockWidget(window.history_dock, self.dock)
        window.progress_dock.raise_()
        window.view_menu.addAction(self.dock.toggleViewAction())
        self._reviewing: tuple[str, dict[str, dict]] | None = None   # sample, task -> labels
        self._timer = QTimer(window)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        window.controller.labels_changed.connect(self._later)
        window.controller.current_changed.connect(self._on_current_changed)
        self.dock.visibilityChanged.connect(lambda shown: shown and self._later())
        self.panel.review_requested.connect(self.review)

    def _later(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    def refresh(self) -> None:
        """Compute the report in the worker (a newer request supersedes); shown when done.
        Skipped while the dock is hidden (it refreshes on being shown)."""
        if not self.dock.isVisible():
            return
        job = self.window.runner.submit("agreement", team_report_task, self.window.project)
        job.finished.connect(self.panel.set_report)
        job.failed.connect(lambda msg: self.panel.summary.setText(
            f"Agreement could not be computed: {escape(msg)}"))

    def review(self, sample_id: str, task: str, labels: dict) -> None:
        """Open ``sample_id`` for a review decision on ``task``."""
        w = self.window
        try:
            idx = w.project.index_of(sample_id)
        except (ActiveLabError, ValueError, KeyError) as exc:
            w.banner.show_message(f"Sample {sample_id} is not in this project ({exc}).")
            return
        disputed = {it.task: dict(it.labels) for it in (self.panel.report.queue
                                                        if self.panel.report else ())
                    if it.sample_id == sample_id}
        disputed.setdefault(task, dict(labels))
        self._reviewing = (sample_id, disputed)
        w.controller.show_sample(idx, "review", item=review_item(idx, sample_id,
                                                                 w.project.model_version),
                                 decides=disputed)

    def _on_current_changed(self, cur: Any) -> None:
        """After the window showed the sample: on a review, the annotators' labels of each
        disputed task in the "why" line; disputed tasks start unselected, the others keep
        their current label preselected."""
        r = self._reviewing
        if cur is None or cur.source != "review" or r is None or r[0] != cur.sample.id:
            self._reviewing = None if cur is None or cur.source != "review" else r
            return
        _sid, disputed = r
        current = {t: per[cur.idx] for t, per in self.window.project.labels().items()
                   if cur.idx in per and t not in disputed}
        lines = "; ".join(f"<b>{escape(t)}</b>: {escape(labels_text(labels))}"
                          for t, labels in disputed.items())
        why = (f"<b>Review</b> — {lines}. Your choice is recorded as the reviewer's decision "
               "(review:disagreement).")
        self.window.label_panel.set_sample(current, {}, why)
