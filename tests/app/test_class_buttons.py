"""Every class button is readable at every window size: its full name and its key fit inside
the button, and the button is wholly visible in the window; a task with many classes filters,
and the keys move to the classes that match."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionButton

from activelab.app.main_window import MainWindow
from activelab.app.worker import TaskRunner
from activelab.core.data.spec import TaskSpec
from tests.app.fake_engine import FakeProject

CATALOGUE = (
    TaskSpec("category", ("Accessories", "Apparel", "Footwear", "Free Items", "Personal Care",
                          "Sporting Goods")),
    TaskSpec("gender", ("Boys", "Girls", "Men", "Unisex", "Women")),
    TaskSpec("usage", ("Casual", "Ethnic", "Formal", "NA", "Smart Casual", "Sports", "Travel")),
)


def open_window(qtbot, project, width, height):
    win = MainWindow(project, runner=TaskRunner(use_processes=False))
    qtbot.addWidget(win)
    win.resize(width, height)
    win.show()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    win.start()
    QApplication.processEvents()
    return win


def content_width(button) -> int:
    """The width the button's style leaves for its text (borders and padding taken off)."""
    opt = QStyleOptionButton()
    button.initStyleOption(opt)
    return button.style().subElementRect(QStyle.SubElement.SE_PushButtonContents, opt, button).width()


def unreadable(win) -> list[str]:
    """Every shown class button whose text does not fit, or that is not wholly in the window."""
    bad = []
    window_rect = win.rect()
    for row in win.label_panel.rows:
        for cls, b in row.buttons.items():
            if not b.isVisibleTo(win):
                continue
            text = b.text()
            need = b.fontMetrics().horizontalAdvance(text)
            if need > content_width(b):
                bad.append(f"{row.task.name}/{text!r}: needs {need} px, has {content_width(b)}")
            rect = QRect(b.mapTo(win, b.rect().topLeft()), b.size())
            if not window_rect.contains(rect):
                bad.append(f"{row.task.name}/{text!r}: {rect} outside the window {window_rect}")
            if b.visibleRegion().boundingRect() != b.rect():
                bad.append(f"{row.task.name}/{text!r}: partly hidden ({b.visibleRegion().boundingRect()})")
    return bad


def settled(qtbot, win) -> None:
    """The layout settles (within a second) with every button readable."""
    try:
        qtbot.waitUntil(lambda: unreadable(win) == [], timeout=1000)
    except AssertionError:
        pass
    assert unreadable(win) == []


@pytest.mark.parametrize("size", [(1024, 768), (1280, 800), (1920, 1080)])
def test_three_tasks_long_names_every_button_readable(qtbot, tmp_path, size):
    win = open_window(qtbot, FakeProject(tmp_path / "cat", n=20, tasks=CATALOGUE), *size)
    qtbot.waitUntil(lambda: win.label_panel.rows[0].buttons["Apparel"].height() > 0)
    assert win.size().width() == size[0]
    assert unreadable(win) == []
    # The keys are on the buttons: 1-6 for category, in order.
    texts = [b.text() for b in win.label_panel.rows[0].buttons.values()]
    assert texts[4] == "Personal Care   [5]" and texts[5] == "Sporting Goods   [6]"
    win.runner.shutdown()


def test_narrow_panel_wraps_onto_more_rows_and_back(qtbot, tmp_path):
    win = open_window(qtbot, FakeProject(tmp_path / "cat", n=20, tasks=CATALOGUE), 1920, 1080)
    buttons = win.label_panel.rows[2].class_buttons
    wide_rows = len(buttons.rows())
    win.resize(1024, 768)
    qtbot.waitUntil(lambda: len(buttons.rows()) > wide_rows)
    settled(qtbot, win)
    win.resize(1920, 1080)
    qtbot.waitUntil(lambda: len(buttons.rows()) == wide_rows)
    settled(qtbot, win)
    win.runner.shutdown()


def test_many_classes_filter_and_keys_follow(qtbot, tmp_path):
    classes = ("Bags", "Belts", "Bottomwear", "Cufflinks", "Dress", "Eyewear", "Flip Flops",
               "Fragrance", "Headwear", "Jewellery", "Lips", "Nails", "Sandal", "Shoes",
               "Skin Care", "Socks", "Sports Equipment", "Topwear", "Wallets", "Watches")
    tasks = (TaskSpec("sub", classes), TaskSpec("usage", ("Casual", "Formal")))
    project = FakeProject(tmp_path / "many", n=20, tasks=tasks)
    win = open_window(qtbot, project, 1024, 768)
    row, plain = win.label_panel.rows
    assert row.filter.isVisible() and not plain.filter.isVisible(), "the filter is for > 9 classes"
    assert row.buttons["Jewellery"].text() == "Jewellery   [0]"
    assert row.buttons["Watches"].text() == "Watches", "beyond ten keys: click, or filter"
    assert unreadable(win) == []
    first = win.controller.current.idx
    qtbot.keyClick(win, Qt.Key.Key_Slash)            # / focuses the active task's filter
    assert row.filter.hasFocus()
    qtbot.keyClicks(row.filter, "wa")
    assert row.visible_classes() == ["Wallets", "Watches"]
    assert row.buttons["Watches"].text() == "Watches   [2]", "keys re-map to the classes shown"
    assert not row.buttons["Bags"].isVisible()
    assert unreadable(win) == []
    qtbot.keyClick(row.filter, Qt.Key.Key_Escape)    # back to the keys, the filter stays
    assert not row.filter.hasFocus() and row.filter.text() == "wa"
    qtbot.keyClick(win, Qt.Key.Key_2)
    assert row.selected == ["Watches"] and win.label_panel.active == 1
    qtbot.keyClick(win, Qt.Key.Key_1)                # usage = Casual; both tasks: Enter submits
    qtbot.keyClick(win, Qt.Key.Key_Return)
    assert project.labels()["sub"][first] == "Watches"
    assert row.filter.text() == "" and row.buttons["Watches"].text() == "Watches", "next sample: unfiltered"
    win.runner.shutdown()


def test_filter_enter_picks_the_only_match(qtbot, tmp_path):
    classes = tuple(f"Long class name number {i}" for i in range(12)) + ("Sporting Goods",)
    project = FakeProject(tmp_path / "one", n=20, tasks=(TaskSpec("kind", classes),))
    win = open_window(qtbot, project, 1280, 800)
    row = win.label_panel.rows[0]
    first = win.controller.current.idx
    qtbot.keyClick(win, Qt.Key.Key_Slash)
    qtbot.keyClicks(row.filter, "sport")
    assert row.buttons["Sporting Goods"].text() == "Sporting Goods   [1]"
    qtbot.keyClick(row.filter, Qt.Key.Key_Return)    # one task: picking it submits
    assert project.labels()["kind"][first] == "Sporting Goods"
    assert not row.filter.hasFocus(), "after the pick the keys work again"
    win.runner.shutdown()
