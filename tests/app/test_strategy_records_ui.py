"""The settings panel's strategy picker shows each built-in's measured record (issue 10), so a
data scientist does not pick a loser blind."""
from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from activelab.app.panels.settings_panel import SettingsPanel  # noqa: E402
from activelab.core.loop.settings import Settings  # noqa: E402
from activelab.core.querying.measured import load_records, record_text  # noqa: E402


def test_the_strategy_picker_shows_the_measured_record(qtbot):
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    panel.set_settings(Settings(), tasks=["a"])
    measured = load_records()["strategies"]
    tips = {panel.strategy_combo.itemData(i): panel.strategy_combo.itemData(i, 3) or ""
            for i in range(panel.strategy_combo.count())}
    for name in measured:
        if name in tips:
            assert record_text(name)[1:] in tips[name], name
    default = Settings().strategy
    assert panel.strategy_combo.currentData() == default
    assert "easured: above random on" in panel.strategy_help.text()
    assert ("never below" in panel.strategy_help.text()) == (
        next(iter(measured[default].values()))["below"] == 0)
