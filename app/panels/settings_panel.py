"""Settings panel: strategy and its parameters, model, batch size, retrain cadence, audit rate,
blind mode, several annotators (overlap, leases: ``team_settings``) and multi-task aggregation.

Public API:

    SettingsPanel(strategies: StrategyRegistry | None = None, models: Sequence[str] | None = None)
    SettingsPanel.set_settings(settings: Settings, tasks: Sequence[str] = ()) -> None
        # show a project's settings (emits nothing)
    SettingsPanel.settings_dict() -> dict          # what the editors show now
    signal settings_changed(dict)   # only the changed keys, ready for
                                    # project.update_settings(**changes); e.g. {"strategy": "margin",
                                    # "strategy_params": {}} or {"batch_size": 20}
    signal retrain_requested()      # the "Retrain now" button

Strategy parameter editors are built from each ``activelab.core.querying.strategy_api.Param``: a combo box for
choices, a check box for bool, spin boxes for int/float (with its minimum/maximum), a line
edit otherwise. Spin boxes report when editing is done, not per keystroke.
"""
from __future__ import annotations

from typing import Any, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLabel, QLineEdit,
    QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from activelab.app.panels.team_settings import TeamSettingsBox
from activelab.core.querying.measured import described_with_record
from activelab.core.querying.strategy_api import Param

AGGREGATIONS = (("mean", "Mean over tasks"), ("max", "Max over tasks"),
                ("weighted", "Weighted mean"))


def make_param_editor(param: Param, value: Any) -> QWidget:
    """An editor widget for one typed strategy parameter, showing ``value``."""
    if param.choices is not None:
        w = QComboBox()
        for c in param.choices:
            w.addItem(str(c), c)
        i = w.findData(value)
        w.setCurrentIndex(max(0, i))
    elif param.type is bool:
        w = QCheckBox()
        w.setChecked(bool(value))
    elif param.type is int:
        w = QSpinBox()
        w.setRange(int(param.minimum) if param.minimum is not None else -1_000_000_000,
                   int(param.maximum) if param.maximum is not None else 1_000_000_000)
        w.setValue(int(value))
        w.setKeyboardTracking(False)
    elif param.type is float:
        w = QDoubleSpinBox()
        w.setDecimals(4)
        w.setRange(param.minimum if param.minimum is not None else -1e12,
                   param.maximum if param.maximum is not None else 1e12)
        w.setSingleStep(0.05 if (param.maximum or 2) <= 1 else 0.1)
        w.setValue(float(value))
        w.setKeyboardTracking(False)
    else:
        w = QLineEdit(str(value))
    if param.description:
        w.setToolTip(param.description)
    return w


def editor_value(w: QWidget) -> Any:
    if isinstance(w, QComboBox):
        return w.currentData()
    if isinstance(w, QCheckBox):
        return w.isChecked()
    if isinstance(w, (QSpinBox, QDoubleSpinBox)):
        return w.value()
    if isinstance(w, QLineEdit):
        return w.text()
    raise TypeError(type(w))


def _connect_editor(w: QWidget, slot) -> None:
    if isinstance(w, QComboBox):
        w.currentIndexChanged.connect(slot)
    elif isinstance(w, QCheckBox):
        w.toggled.connect(slot)
    elif isinstance(w, (QSpinBox, QDoubleSpinBox)):
        w.valueChanged.connect(slot)
    elif isinstance(w, QLineEdit):
        w.editingFinished.connect(slot)


class SettingsPanel(QWidget):
    """Editors for the project's Settings; emits only what the user changed."""

    settings_changed = Signal(dict)
    retrain_requested = Signal()

    def __init__(self, strategies: Any = None, models: Sequence[str] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settings_panel")
        if strategies is None:
            from activelab.core.querying.registry import registry
            strategies = registry()
        if models is None:
            from activelab.core.learning.models import model_names
            models = model_names()
        self._registry = strategies
        self._updating = False
        self._param_editors: dict[str, QWidget] = {}
        self._weight_editors: dict[str, QDoubleSpinBox] = {}
        self._strategy_params: dict[str, dict[str, Any]] = {}

        # --- query strategy
        self.strategy_combo = QComboBox()
        for s in self._registry:
            self.strategy_combo.addItem(s.name, s.name)
            self.strategy_combo.setItemData(self.strategy_combo.count() - 1,
                                            described_with_record(s.name, s.description), 3)
        self.strategy_help = QLabel()
        self.strategy_help.setObjectName("hint")
        self.strategy_help.setWordWrap(True)
        self.params_box = QWidget()
        self.params_form = QFormLayout(self.params_box)
        self.params_form.setContentsMargins(0, 0, 0, 0)
        strat_box = QGroupBox("Query strategy")
        f = QFormLayout(strat_box)
        f.addRow("Strategy", self.strategy_combo)
        f.addRow(self.strategy_help)
        f.addRow(self.params_box)
        self.audit_spin = QDoubleSpinBox()
        self.audit_spin.setRange(0, 50)
        self.audit_spin.setDecimals(0)
        self.audit_spin.setSuffix(" %")
        self.audit_spin.setKeyboardTracking(False)
        self.audit_spin.setToolTip("Share of picks drawn uniformly at random; their labels give "
                                   "an unbiased accuracy estimate (0 = off).")
        f.addRow("Audit picks", self.audit_spin)
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, 1000)
        self.batch_spin.setKeyboardTracking(False)
        self.batch_spin.setToolTip("How many samples the queue prepares ahead.")
        f.addRow("Queue size", self.batch_spin)

        # --- model
        self.model_combo = QComboBox()
        self.model_combo.addItems(list(models))
        self.retrain_spin = QSpinBox()
        self.retrain_spin.setRange(1, 10_000)
        self.retrain_spin.setSuffix(" labels")
        self.retrain_spin.setKeyboardTracking(False)
        self.retrain_spin.setToolTip("Retrain automatically after this many new labels.")
        self.retrain_button = QPushButton("Retrain now")
        self.retrain_button.setObjectName("primary")
        self.retrain_button.setToolTip("Train the model on every label so far and refresh "
                                       "the queue (runs in the background).")
        model_box = QGroupBox("Model")
        f2 = QFormLayout(model_box)
        f2.addRow("Model", self.model_combo)
        f2.addRow("Retrain every", self.retrain_spin)
        f2.addRow(self.retrain_button)

        # --- labeling
        self.blind_check = QCheckBox("Blind mode (hide the model's suggestions)")
        self.blind_check.setToolTip("Hide predictions and confidence while labeling, so they "
                                    "do not anchor your judgement.")
        self.aggregate_combo = QComboBox()
        for key, text in AGGREGATIONS:
            self.aggregate_combo.addItem(text, key)
        self.weights_box = QWidget()
        self.weights_form = QFormLayout(self.weights_box)
        self.weights_form.setContentsMargins(0, 0, 0, 0)
        self.multi_box = QGroupBox("Several tasks")
        f3 = QFormLayout(self.multi_box)
        f3.addRow("Combine scores", self.aggregate_combo)
        f3.addRow(self.weights_box)
        label_box = QGroupBox("Labeling")
        label_lay = QVBoxLayout(label_box)
        label_lay.addWidget(self.blind_check)
        self.team_box = TeamSettingsBox(self._emit)   # overlap and leases (several annotators)
        label_lay.addWidget(self.team_box)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        for box in (strat_box, model_box, label_box, self.multi_box):
            lay.addWidget(box)
        lay.addStretch(1)
        self.multi_box.setVisible(False)

        self.strategy_combo.currentIndexChanged.connect(self._on_strategy_combo_changed)
        self.model_combo.currentIndexChanged.connect(
            lambda _i: self._emit({"model": self.model_combo.currentText(), "model_params": {}}))
        self.batch_spin.valueChanged.connect(lambda v: self._emit({"batch_size": int(v)}))
        self.retrain_spin.valueChanged.connect(lambda v: self._emit({"retrain_every": int(v)}))
        self.audit_spin.valueChanged.connect(lambda v: self._emit({"audit_rate": v / 100.0}))
        self.blind_check.toggled.connect(lambda b: self._emit({"blind_mode": bool(b)}))
        self.aggregate_combo.currentIndexChanged.connect(self._on_aggregate_combo_changed)
        self.retrain_button.clicked.connect(self.retrain_requested)
        self._rebuild_params({})

    # ------------------------------------------------------------------ slots
    def set_settings(self, settings: Any, tasks: Sequence[str] = ()) -> None:
        """Show ``settings`` (a activelab.core.project.project.Settings); emits nothing."""
        self._updating = True
        try:
            i = self.strategy_combo.findData(settings.strategy)
            if i < 0:  # a strategy from a plug-in that is not installed here
                self.strategy_combo.addItem(f"{settings.strategy} (not installed)", settings.strategy)
                i = self.strategy_combo.count() - 1
            self.strategy_combo.setCurrentIndex(i)
            self._strategy_params[settings.strategy] = dict(settings.strategy_params or {})
            self._rebuild_params(settings.strategy_params or {})
            if self.model_combo.findText(settings.model) < 0:
                self.model_combo.addItem(settings.model)
            self.model_combo.setCurrentText(settings.model)
            self.batch_spin.setValue(int(settings.batch_size))
            self.retrain_spin.setValue(int(settings.retrain_every))
            self.audit_spin.setValue(round(float(settings.audit_rate) * 100))
            self.blind_check.setChecked(bool(settings.blind_mode))
            self.aggregate_combo.setCurrentIndex(max(0, self.aggregate_combo.findData(settings.aggregate)))
            self._rebuild_weights(list(tasks), dict(settings.task_weights or {}))
            self.multi_box.setVisible(len(tasks) > 1)
            self.team_box.set_settings(settings)
        finally:
            self._updating = False

    def settings_dict(self) -> dict[str, Any]:
        """The values the editors show now, as Settings field names."""
        return {
            "strategy": self.strategy_combo.currentData(),
            "strategy_params": self._current_params(),
            "model": self.model_combo.currentText(),
            "batch_size": self.batch_spin.value(),
            "retrain_every": self.retrain_spin.value(),
            "audit_rate": self.audit_spin.value() / 100.0,
            "blind_mode": self.blind_check.isChecked(),
            "aggregate": self.aggregate_combo.currentData(),
            "task_weights": {t: w.value() for t, w in self._weight_editors.items()},
            **self.team_box.values(),
        }

    def param_editor(self, name: str) -> QWidget:
        return self._param_editors[name]

    # --------------------------------------------------------------- helpers
    def _emit(self, changes: dict[str, Any]) -> None:
        if not self._updating:
            self.settings_changed.emit(changes)

    def _strategy(self):
        name = self.strategy_combo.currentData()
        return self._registry.get(name) if name in self._registry else None

    def _current_params(self) -> dict[str, Any]:
        return {n: editor_value(w) for n, w in self._param_editors.items()}

    def _rebuild_params(self, values: dict[str, Any]) -> None:
        while self.params_form.rowCount():
            self.params_form.removeRow(0)
        self._param_editors = {}
        s = self._strategy()
        self.strategy_help.setText(described_with_record(s.name, s.description)
                                   if s is not None else
                                   "This strategy's plug-in is not installed.")
        for p in (s.params if s is not None else ()):
            w = make_param_editor(p, values.get(p.name, p.default))
            _connect_editor(w, self._on_param_edited)
            label = QLabel(p.name.replace("_", " "))
            label.setToolTip(p.description)
            self.params_form.addRow(label, w)
            self._param_editors[p.name] = w
        self.params_box.setVisible(bool(self._param_editors))

    def _on_strategy_combo_changed(self, _i: int) -> None:
        if self._updating:
            return
        name = self.strategy_combo.currentData()
        self._rebuild_params(self._strategy_params.get(name, {}))
        self._emit({"strategy": name, "strategy_params": self._current_params()})

    def _on_param_edited(self, *_args: Any) -> None:
        params = self._current_params()
        self._strategy_params[self.strategy_combo.currentData()] = params
        self._emit({"strategy_params": params})

    def _rebuild_weights(self, tasks: list[str], weights: dict[str, float]) -> None:
        while self.weights_form.rowCount():
            self.weights_form.removeRow(0)
        self._weight_editors = {}
        for t in tasks:
            w = QDoubleSpinBox()
            w.setRange(0, 100)
            w.setSingleStep(0.5)
            w.setValue(float(weights.get(t, 1.0)))
            w.setKeyboardTracking(False)
            w.valueChanged.connect(self._on_weight_edited)
            self.weights_form.addRow(f"Weight of {t}", w)
            self._weight_editors[t] = w
        self.weights_box.setVisible(self.aggregate_combo.currentData() == "weighted")

    def _on_aggregate_combo_changed(self, _i: int) -> None:
        self.weights_box.setVisible(self.aggregate_combo.currentData() == "weighted")
        self._emit({"aggregate": self.aggregate_combo.currentData()})

    def _on_weight_edited(self, _v: float) -> None:
        self._emit({"task_weights": {t: w.value() for t, w in self._weight_editors.items()}})
