"""The label panel's keys, in one table: what each does, in words a user reads.

``LabelPanel`` binds one window-wide ``QShortcut`` per key sequence of each ``KeyBinding`` in
``PANEL_KEYS`` (object name ``key_<name>``, the description as its What's This text), so a
hotkey overview can list the real bindings from ``PANEL_KEYS`` or from the panel's
``shortcuts`` (name -> its QShortcuts). The main window's menu actions (Ctrl+E, Ctrl+R,
Ctrl+B, …) carry their own shortcuts and texts.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CLASS_KEYS", "KeyBinding", "PANEL_KEYS", "binding"]

CLASS_KEYS = "1234567890"
"""The keys that pick the 1st … 10th class shown in the active task."""


@dataclass(frozen=True)
class KeyBinding:
    """One action of the label panel.

    ``name``: its id (the panel's slot and the shortcuts' ``key_<name>`` object name);
    ``keys``: the key sequences bound, as ``QKeySequence`` text (portable form);
    ``shown``: how the keys are written on screen; ``description``: what the action does.
    """

    name: str
    keys: tuple[str, ...]
    shown: str
    description: str


PANEL_KEYS: tuple[KeyBinding, ...] = (
    KeyBinding("class", tuple(CLASS_KEYS), "1–9, 0",
               "Pick the class shown with that number in the active task "
               "(toggles it in a multi-label task)"),
    KeyBinding("accept", ("A",), "A",
               "Accept the model's suggestion for every task not picked yet, and submit "
               "(not offered on audit picks, in blind mode or without a model)"),
    KeyBinding("submit", ("Return", "Enter"), "Enter",
               "Submit the labels picked; on an untouched sample with a suggestion, accept it"),
    KeyBinding("next_task", ("Tab",), "Tab", "Next task"),
    # A keyboard sends Shift+Tab as Backtab with Shift held: "Shift+Tab" matches it (and a
    # plain "Backtab" binding does not).
    KeyBinding("previous_task", ("Shift+Tab",), "Shift+Tab", "Previous task"),
    KeyBinding("skip", ("Space",), "Space", "Skip this sample"),
    KeyBinding("flag", ("F",), "F", "Flag this sample for a second look"),
    KeyBinding("undo", ("Ctrl+Z",), "Ctrl+Z", "Undo the last label, skip or flag"),
    KeyBinding("redo", ("Ctrl+Shift+Z",), "Ctrl+Shift+Z", "Redo what was undone"),
    KeyBinding("filter", ("/",), "/",
               "Filter the classes of the active task (tasks with more than nine classes)"),
)


def binding(name: str) -> KeyBinding:
    """The entry of ``PANEL_KEYS`` called ``name`` (KeyError when there is none)."""
    for b in PANEL_KEYS:
        if b.name == name:
            return b
    raise KeyError(f"no label panel key called {name!r}")
