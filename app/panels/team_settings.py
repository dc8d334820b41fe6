"""The settings panel's editor for several annotators (in its "Labeling" box): the overlap
share and how many annotators label each overlap sample, on one row (the panel must fit a
1024x768 screen; the lease, ``lease_minutes``, is set with ``activelab set``).

    TeamSettingsBox(emit)                 # emit(changes: dict): only the changed keys
    TeamSettingsBox.set_settings(settings) # show a project's values (emits nothing)
    TeamSettingsBox.values() -> dict       # what the editors show now, as Settings fields
"""
from __future__ import annotations

from typing import Any, Callable

from PySide6.QtWidgets import (
    QDoubleSpinBox, QFormLayout, QHBoxLayout, QLabel, QSpinBox, QWidget,
)


class TeamSettingsBox(QWidget):
    """Editors for ``overlap`` and ``overlap_annotators``."""

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
        self.annotators_spin = QSpinBox()
        self.annotators_spin.setRange(2, 100)
        self.annotators_spin.setKeyboardTracking(False)
        self.annotators_spin.setToolTip("How many annotators label each overlap sample.")
        self.annotators_spin.setSuffix(" each")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.overlap_spin, 1)
        row.addWidget(QLabel("×"))
        row.addWidget(self.annotators_spin, 1)
        f = QFormLayout(self)
        f.setContentsMargins(0, 0, 0, 0)
        f.addRow("Overlap", row)
        self.overlap_spin.valueChanged.connect(lambda v: self._changed({"overlap": v / 100.0}))
        self.annotators_spin.valueChanged.connect(
            lambda v: self._changed({"overlap_annotators": int(v)}))

    def _changed(self, changes: dict[str, Any]) -> None:
        if not self._updating:
            self._emit(changes)

    def set_settings(self, settings: Any) -> None:
        """Show ``settings``' values; emits nothing."""
        self._updating = True
        try:
            self.overlap_spin.setValue(round(float(settings.overlap) * 100))
            self.annotators_spin.setValue(int(settings.overlap_annotators))
        finally:
            self._updating = False

    def values(self) -> dict[str, Any]:
        return {"overlap": self.overlap_spin.value() / 100.0,
                "overlap_annotators": self.annotators_spin.value()}
