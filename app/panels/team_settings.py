"""The settings panel's "Several annotators" box: overlap share, annotators per overlap
sample, and how long a sample handed to an annotator is kept from the others.

    TeamSettingsBox(emit)                 # emit(changes: dict): only the changed keys
    TeamSettingsBox.set_settings(settings) # show a project's values (emits nothing)
    TeamSettingsBox.values() -> dict       # what the editors show now, as Settings fields
"""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QGroupBox, QSpinBox, QWidget


class TeamSettingsBox(QGroupBox):
    """Editors for ``overlap``, ``overlap_annotators`` and ``lease_minutes``."""

    def __init__(self, emit: Callable[[dict[str, Any]], None], parent: QWidget | None = None) -> None:
        super().__init__("Several annotators", parent)
        self.setObjectName("team_settings")
        self._emit, self._updating = emit, False
        self.overlap_spin = QDoubleSpinBox()
        self.overlap_spin.setRange(0, 100)
        self.overlap_spin.setDecimals(0)
        self.overlap_spin.setSuffix(" %")
        self.overlap_spin.setKeyboardTracking(False)
        self.overlap_spin.setToolTip("Share of samples labeled by several annotators, each blind "
                                     "to the others' labels until they gave their own (0 = off).")
        self.annotators_spin = QSpinBox()
        self.annotators_spin.setRange(2, 100)
        self.annotators_spin.setKeyboardTracking(False)
        self.annotators_spin.setToolTip("How many annotators label each overlap sample.")
        self.lease_spin = QDoubleSpinBox()
        self.lease_spin.setRange(1, 24 * 60)
        self.lease_spin.setDecimals(0)
        self.lease_spin.setSuffix(" min")
        self.lease_spin.setKeyboardTracking(False)
        self.lease_spin.setToolTip("A sample shown to one annotator is not handed to another "
                                   "for this long, unless it is labeled, skipped or the window "
                                   "closes first.")
        f = QFormLayout(self)
        f.addRow("Overlap", self.overlap_spin)
        f.addRow("Annotators each", self.annotators_spin)
        f.addRow("Keep a sample for", self.lease_spin)
        self.overlap_spin.valueChanged.connect(lambda v: self._changed({"overlap": v / 100.0}))
        self.annotators_spin.valueChanged.connect(
            lambda v: self._changed({"overlap_annotators": int(v)}))
        self.lease_spin.valueChanged.connect(lambda v: self._changed({"lease_minutes": float(v)}))

    def _changed(self, changes: dict[str, Any]) -> None:
        if not self._updating:
            self._emit(changes)

    def set_settings(self, settings: Any) -> None:
        """Show ``settings``' values; emits nothing."""
        self._updating = True
        try:
            self.overlap_spin.setValue(round(float(settings.overlap) * 100))
            self.annotators_spin.setValue(int(settings.overlap_annotators))
            self.lease_spin.setValue(max(1.0, round(float(settings.lease_minutes))))
        finally:
            self._updating = False

    def values(self) -> dict[str, Any]:
        return {"overlap": self.overlap_spin.value() / 100.0,
                "overlap_annotators": self.annotators_spin.value(),
                "lease_minutes": self.lease_spin.value()}
