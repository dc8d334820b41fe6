"""The settings panel's editor for several annotators (in its "Labeling" box): the overlap
rule -- a share of the samples, or every k-th pick -- and how many annotators label each
overlap sample, on one row (the panel must fit a 1024x768 screen; the lease,
``lease_minutes``, is set with ``activelab set``). The two rules exclude each other: switching
the rule turns the other one off in the same change.

    TeamSettingsBox(emit)                 # emit(changes: dict): only the changed keys
    TeamSettingsBox.set_settings(settings) # show a project's values (emits nothing)
    TeamSettingsBox.values() -> dict       # what the editors show now, as Settings fields
"""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtWidgets import (
    QComboBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QSpinBox, QWidget,
)

SHARE, EVERY = "share", "every"
"""The rule choices (``rule_combo`` item data)."""


class TeamSettingsBox(QWidget):
    """Editors for ``overlap`` or ``overlap_every`` (one rule at a time) and
    ``overlap_annotators``."""

    def __init__(self, emit: Callable[[dict[str, Any]], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("team_settings")
        self._emit, self._updating = emit, False
        self.overlap_spin = QDoubleSpinBox()
        self.overlap_spin.setRange(0, 100)
        self.overlap_spin.setDecimals(0)
        self.overlap_spin.setSuffix(" %")
        self.overlap_spin.setKeyboardTracking(False)
        self.overlap_spin.setToolTip("Share of samples labeled by several annotators, each blind "
                                     "to the others' labels until they gave their own (0 = off).")
        self.rule_combo = QComboBox()
        self.rule_combo.addItem("Share", SHARE)
        self.rule_combo.addItem("Every k-th", EVERY)
        self.rule_combo.setToolTip("Which samples go to several annotators: a share of them "
                                   "(chosen by the sample), or every k-th sample labeled "
                                   "project-wide (the k-th, 2k-th, ...).")
        self.every_spin = QSpinBox()
        self.every_spin.setRange(0, 1_000_000)
        self.every_spin.setSpecialValueText("off")
        self.every_spin.setPrefix("every ")
        self.every_spin.setKeyboardTracking(False)
        self.every_spin.setToolTip("Every k-th sample labeled (counted across all annotators) "
                                   "is labeled by several, each blind to the others' labels "
                                   "until they gave their own (off = 0).")
        self.every_spin.hide()
        self.annotators_spin = QSpinBox()
        self.annotators_spin.setRange(2, 100)
        self.annotators_spin.setKeyboardTracking(False)
        self.annotators_spin.setToolTip("How many annotators label each overlap sample.")
        self.annotators_spin.setSuffix(" each")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.rule_combo)
        row.addWidget(self.overlap_spin, 1)
        row.addWidget(self.every_spin, 1)
        row.addWidget(QLabel("×"))
        row.addWidget(self.annotators_spin, 1)
        f = QFormLayout(self)
        f.setContentsMargins(0, 0, 0, 0)
        f.addRow("Overlap", row)
        self.overlap_spin.valueChanged.connect(lambda v: self._changed({"overlap": v / 100.0}))
        self.every_spin.valueChanged.connect(lambda v: self._changed({"overlap_every": int(v)}))
        self.rule_combo.currentIndexChanged.connect(self._on_rule_combo_changed)
        self.annotators_spin.valueChanged.connect(
            lambda v: self._changed({"overlap_annotators": int(v)}))

    def rule(self) -> str:
        """The rule shown: ``SHARE`` or ``EVERY``."""
        return self.rule_combo.currentData()

    def _show_rule(self, rule: str) -> None:
        self.rule_combo.setCurrentIndex(self.rule_combo.findData(rule))
        self.overlap_spin.setVisible(rule == SHARE)
        self.every_spin.setVisible(rule == EVERY)

    def _on_rule_combo_changed(self, _index: int) -> None:
        """Switch the rule: the shown one takes its editor's value, the other goes off."""
        self._show_rule(self.rule())
        self._changed(self._rule_values())

    def _rule_values(self) -> dict[str, Any]:
        every = self.rule() == EVERY
        return {"overlap": 0.0 if every else self.overlap_spin.value() / 100.0,
                "overlap_every": self.every_spin.value() if every else 0}

    def _changed(self, changes: dict[str, Any]) -> None:
        if not self._updating:
            self._emit(changes)

    def set_settings(self, settings: Any) -> None:
        """Show ``settings``' values; emits nothing."""
        self._updating = True
        try:
            self.overlap_spin.setValue(round(float(settings.overlap) * 100))
            self.every_spin.setValue(int(settings.overlap_every))
            self.annotators_spin.setValue(int(settings.overlap_annotators))
            if settings.overlap_every > 0 or settings.overlap > 0:   # (both off: as chosen)
                self._show_rule(EVERY if settings.overlap_every > 0 else SHARE)
        finally:
            self._updating = False

    def values(self) -> dict[str, Any]:
        return {**self._rule_values(), "overlap_annotators": self.annotators_spin.value()}
