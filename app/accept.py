"""Accepting the model's suggestion with one key, and how each task's class was entered.

``A`` (and Enter on an untouched sample) fills every task not picked yet with the model's
suggestion (the set of predicted classes for a multi-label task) and submits: one key when the
model is right, one key per wrong task plus the accept when it is not. Audit picks, blind mode
and samples without a suggestion never offer it: the key then only says why on the status line.

Each task's class is recorded with how it was entered (``LabelEvent.input``): ``accepted``
(filled by the accept), ``typed`` (a class key, or the filter box), ``clicked`` (a class
button), ``kept`` (an existing label shown again and submitted unchanged).
"""
from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from activelab.app.keys import binding
from activelab.core.records import Prediction

__all__ = ["AcceptMixin", "shown_suggestions", "AUDIT_HINT", "BLIND_HINT", "NO_MODEL_HINT",
           "QUEUED_BEFORE_MODEL_HINT"]

AUDIT_HINT = ("Audit pick: label it yourself (its suggestion is hidden so the audit measures the "
              "model without anchoring).")
BLIND_HINT = "No suggestion: blind mode is on — label it yourself (Ctrl+B shows suggestions)."
NO_MODEL_HINT = "No model yet: label it yourself; suggestions come after the first retrain."
QUEUED_BEFORE_MODEL_HINT = ("No suggestion: this sample was queued before the current model; "
                            "label it yourself — the next ones have suggestions.")
_SOURCE_HINT = {
    "history": "No suggestion for a sample opened from the history: label it yourself.",
    "map": "No suggestion for a sample opened from the map: label it yourself.",
    "fallback": "No suggestion for a random pick made while the queue is prepared: label it yourself.",
}
_OTHER_HINT = "No suggestion for this sample: label it yourself."
ACCEPT_STYLE = ("QPushButton#acceptButton { padding: 4px 10px; border: 2px dashed #d08a00; "
                "border-radius: 4px; color: #6b4800; font-weight: 600; }")


def shown_suggestions(cur: Any, model_version: int) -> tuple[dict[str, Prediction], str]:
    """What the label panel may show for the sample ``cur`` (an ``activelab.app.
    labeling_controller.Current``) while the project's model is ``model_version`` (0: none):
    (task -> Prediction, why there is none).

    An audit pick never shows its suggestion (it would anchor the answer the audit
    measures); otherwise the queue item's predictions. The reason is "" when there are some,
    and true of this sample: "no model" only while there is none; a queue item made by an
    older model (or before the first) says it was queued before the current model.
    """
    item = cur.item
    if item is not None and item.audit:
        return {}, AUDIT_HINT
    # a sample opened from the map or the history: the model in memory's guess, if any
    preds = dict(item.predictions) if item is not None else dict(cur.suggestion or {})
    if preds:
        return preds, ""
    if int(model_version) <= 0:
        return {}, NO_MODEL_HINT
    if item is not None and item.model_version < int(model_version):
        return {}, QUEUED_BEFORE_MODEL_HINT
    return {}, _SOURCE_HINT.get(cur.source, _OTHER_HINT)


class AcceptMixin:
    """The accept action and the per-task input record of ``LabelPanel``.

    Uses the panel's ``rows``, ``blind``, ``read_only``, ``_suggestions``, ``values()``,
    ``_submit_if_complete()`` and its ``hint_changed`` / ``blocked`` signals.
    """

    def _init_accept(self) -> None:
        self._inputs: dict[str, str] = {}      # task -> how its current value was entered
        self._no_suggestion = ""               # why the sample has no suggestion
        key = binding("accept").shown
        self.accept_button = QPushButton(f"✓ Accept suggestion   {key}")
        self.accept_button.setObjectName("acceptButton")
        self.accept_button.setStyleSheet(ACCEPT_STYLE)
        self.accept_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.accept_button.setToolTip(
            f"{key} (or Enter before picking anything): take the model's suggestion for every "
            "task not picked yet, and submit.")
        # As wide as its longest text, so the buttons beside it do not move as it changes.
        self.accept_button.setText(f"✓ Accept all suggestions   {key}")
        self.accept_button.ensurePolished()
        self.accept_button.setMinimumWidth(self.accept_button.sizeHint().width())
        policy = self.accept_button.sizePolicy()
        policy.setRetainSizeWhenHidden(True)   # the other buttons keep their place
        self.accept_button.setSizePolicy(policy)
        self.accept_button.clicked.connect(lambda _=False: self.accept_suggestion())

    # ----- state -------------------------------------------------------------------------
    def inputs(self) -> dict[str, str]:
        """Task -> how its current value was entered, for the tasks with a value."""
        return {t: self._inputs.get(t, "typed") for t in self.values()}

    def suggestion(self, task: str) -> Any:
        """The suggestion shown for ``task`` (a class, or a list for a multi-label task);
        None when none is shown (blind mode, audit pick, no model)."""
        if self.blind:
            return None
        return self._suggestions.get(task, (None, None))[0]

    def _untouched(self) -> list[Any]:
        return [r for r in self.rows if r.task.name not in self._inputs]

    def no_accept_reason(self) -> str:
        """Why the accept key does nothing now ("" when it fills or submits)."""
        if self.blind:
            return BLIND_HINT
        untouched = self._untouched()
        if untouched and all(self.suggestion(r.task.name) is None for r in untouched):
            return self._no_suggestion or _OTHER_HINT
        return ""

    def accept_offered(self) -> bool:
        """True when the accept key would fill at least one task with a suggestion."""
        return (not self.read_only and not self.blind
                and any(self.suggestion(r.task.name) is not None for r in self._untouched()))

    # ----- actions -----------------------------------------------------------------------
    def accept_suggestion(self) -> None:
        """Fill every untouched task with its suggestion, then submit (or say what is
        missing). Only a status hint when no suggestion can be accepted."""
        if self.read_only:
            self.blocked.emit()
            return
        reason = self.no_accept_reason()
        if reason:
            self.hint_changed.emit(reason)
            return
        for row in self._untouched():
            label = self.suggestion(row.task.name)
            if label is None:
                continue
            row.set_selected([str(x) for x in label] if row.task.multilabel else [str(label)])
            self._inputs[row.task.name] = "accepted"
        self._submit_if_complete()

    def _on_enter(self) -> None:
        """Enter: accept on an untouched sample with a suggestion, else submit."""
        if not self.read_only and len(self._untouched()) == len(self.rows) and self.accept_offered():
            self.accept_suggestion()
        else:
            self._submit_if_complete()

    def _note_input(self, task: str, how: str) -> None:
        self._inputs[task] = how
        self._refresh_accept()

    def _reset_inputs(self, existing: dict[str, Any], no_suggestion: str) -> None:
        """A new sample: its existing labels count as ``kept``; nothing else is touched."""
        self._inputs = {t: "kept" for t in existing if any(r.task.name == t for r in self.rows)}
        self._no_suggestion = no_suggestion

    def set_no_suggestion_reason(self, reason: str) -> None:
        """Why the shown sample has no suggestion, said again after a model is installed
        while it is on screen (the sample and its suggestions stay)."""
        self._no_suggestion = reason

    def _refresh_accept(self) -> None:
        """Show the accept button when it would accept something, saying what it takes."""
        offered = self.accept_offered()
        self.accept_button.setVisible(offered)
        if offered:
            untouched = len(self._untouched())
            what = ("suggestion" if len(self.rows) == 1 else "all suggestions"
                    if untouched == len(self.rows) else "the rest")
            self.accept_button.setText(f"✓ Accept {what}   {binding('accept').shown}")
