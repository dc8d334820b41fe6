"""Blind mode: while it is on, nothing on screen reveals the model's guess for the sample.

``BlindMode(window)`` owns the switch for a ``MainWindow``: ``apply(on)`` hides (or shows again)

- the suggestion of every task row and its dashed "suggested" button (``LabelPanel.set_blind``);
- the pool map's colouring by predicted class, labeled points included (``PoolMapView.set_blind``);
- the score and any class named by a zero-shot reason in "Why this sample"
  (``activelab.app.why_this_sample``);

and shows a badge in the status bar, "Blind mode — model hints hidden", while it is on. The
confidence histogram shows the pool's distribution only (no marker for the sample on screen),
so it stays. The state is the project setting ``blind_mode`` (saved per project by the window;
a read-only project toggles it for the session only).
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel

from activelab.app.why_this_sample import WhyContext

BADGE_TEXT = "Blind mode — model hints hidden (Ctrl+B)"
BADGE_STYLE = ("QLabel#blindBadge { background: #4b2a6f; color: #ffffff; font-weight: 600; "
               "padding: 2px 10px; border-radius: 8px; }")


class BlindMode(QObject):
    """Applies blind mode to every widget of ``window`` that could show a model hint."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.on = False
        self.badge = QLabel(BADGE_TEXT)
        self.badge.setObjectName("blindBadge")
        self.badge.setStyleSheet(BADGE_STYLE)
        self.badge.setToolTip("The model's suggestions, the pool map's colours by prediction and "
                              "the pick's score are hidden, so they cannot anchor your label. "
                              "View > Blind mode (Ctrl+B) shows them again.")
        window.statusBar().addPermanentWidget(self.badge)
        self.apply(bool(window.project.settings.blind_mode))

    def apply(self, on: bool) -> None:
        """Hide (``on``) or show again every model hint; the sample on screen is redrawn."""
        changed = bool(on) != self.on
        self.on = bool(on)
        w = self.window
        w.label_panel.set_blind(self.on)
        w.pool_map.set_blind(self.on)
        self.badge.setVisible(self.on)
        cur = w.controller.current
        if changed and cur is not None:
            w._on_controller_current_changed(cur)   # the "why" line without (or with) its score

    def why_context(self) -> WhyContext:
        """What "Why this sample" is judged against: the project now, and this switch."""
        p = self.window.project
        return WhyContext(p.n_samples, p.labeled_count(), p.class_counts(), self.on)
