"""The Qt binding must not leak references to None/True (PySide6 6.12.0 on Python 3.11 does, and
the app then aborts with 'Fatal Python error: none_dealloc' in a long labeling session)."""
from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QCheckBox, QLabel


class _Emitter(QObject):
    toggled = Signal(bool)


def test_many_qt_calls_do_not_drain_refcounts(qtbot):
    label, box, em = QLabel(), QCheckBox(), _Emitter()
    qtbot.addWidget(label)
    qtbot.addWidget(box)
    em.toggled.connect(lambda _b: None)
    none0, true0 = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(20000):
        label.setText("x")
        box.setChecked(True)
        label.setVisible(False)
        em.toggled.emit(True)
    assert sys.getrefcount(None) - none0 > -1000
    assert sys.getrefcount(True) - true0 > -1000
