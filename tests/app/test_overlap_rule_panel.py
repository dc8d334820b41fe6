"""The settings panel's overlap rule: a share, or every k-th pick (one at a time)."""
from __future__ import annotations

from activelab.app.panels.team_settings import EVERY, SHARE
from activelab.core.loop.settings import Settings


def test_the_panel_switches_between_a_share_and_every_kth_pick(qtbot):
    from activelab.app.panels.settings_panel import SettingsPanel

    panel = SettingsPanel(models=["logistic_regression"])
    qtbot.addWidget(panel)
    panel.show()
    box = panel.team_box
    emitted = []
    panel.settings_changed.connect(emitted.append)
    current = Settings(overlap_every=5, overlap_annotators=3)
    panel.set_settings(current)
    assert emitted == [] and box.rule() == EVERY and box.every_spin.value() == 5
    assert box.every_spin.isVisible() and not box.overlap_spin.isVisible()
    assert box.every_spin.text() == "every 5"
    box.every_spin.setValue(4)
    assert emitted[-1] == {"overlap_every": 4}
    box.rule_combo.setCurrentIndex(box.rule_combo.findData(SHARE))   # every k-th goes off
    assert emitted[-1] == {"overlap": 0.0, "overlap_every": 0}
    assert box.overlap_spin.isVisible() and not box.every_spin.isVisible()
    box.overlap_spin.setValue(20)
    assert emitted[-1] == {"overlap": 0.2}
    for change in emitted:               # every change the panel sends is one a project takes
        current = current.updated(**change)
    assert (current.overlap, current.overlap_every) == (0.2, 0)
    box.rule_combo.setCurrentIndex(box.rule_combo.findData(EVERY))   # back: the share goes off
    assert emitted[-1] == {"overlap": 0.0, "overlap_every": 4}
    current = current.updated(**emitted[-1])
    assert (current.overlap, current.overlap_every) == (0.0, 4)
    assert panel.settings_dict()["overlap_every"] == 4 and panel.settings_dict()["overlap"] == 0.0
    box.every_spin.setValue(0)
    assert box.every_spin.text() == "off"
