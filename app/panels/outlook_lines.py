"""The outlook under the learning curve: the audit estimate and what active learning saved,
whether the model has stopped improving, and how many more labels the forecast expects.

Public API (GUI thread; the plain dict of ``activelab.core.loop.outlook.outlook``):

    OutlookLines.set_outlook(outlook: dict) -> None
    OutlookLines.text() -> str        # everything shown, as plain text (one line per row)

The panel is narrow, so each row is a compact form of the structured records (numbers first,
"CI" for the 95% interval); the full sentences of ``activelab status`` are the rows' tooltips.
Rows with nothing to say are hidden; a fired stopping rule is shown in green.
"""
from __future__ import annotations

import re
from html import escape
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

STOPPED_COLOR = "#00704A"
_AUDIT_TAIL = re.compile(r"; audit accuracy [^)]*")


def _row(name: str) -> QLabel:
    label = QLabel("")
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    label.setVisible(False)
    return label


def _signed(x: float) -> str:
    return f"{x:+.3f}".replace("-", "−")


def savings_rows(record: dict[str, Any] | None, messages: list[str]) -> list[tuple[str, str]]:
    """(lead, compact text) rows for one task's savings record; the record's own sentences
    (``messages``) when it has no estimate yet (they say why)."""
    cur = (record or {}).get("current")
    if not cur:
        return [(lead, rest) for lead, rest in (_lead(m) for m in messages)]
    rows = [("Audit", f"accuracy {cur['accuracy']:.3f} (95% CI {cur['low']:.3f}–{cur['high']:.3f}),"
                      f" {cur['n']} held-out audit picks")]
    m = record.get("matched")
    if m:
        verdict = ("ahead of random" if m["low"] > 0 else "behind random" if m["high"] < 0
                   else "not distinguishable")
        rows.append(("Savings", f"at {m['labels']} labels the strategy's picks {m['active']:.3f}"
                                f" vs random {m['random']:.3f}: {_signed(m['diff'])} (95% CI "
                                f"{_signed(m['low'])} to {_signed(m['high'])}), {verdict}"))
    r = record.get("random_at_current")
    if r:
        rows.append(("Random only", f"≈{r['accuracy']:.3f} at {r['labels']} labels (95% CI "
                                    f"{r['low']:.3f}–{r['high']:.3f}, extrapolated); this model "
                                    f"{_signed(r['diff'])} ({_signed(r['diff_low'])} to "
                                    f"{_signed(r['diff_high'])})"))
    if not (m and r):
        rows.extend(("Savings", note) for note in record.get("notes") or [])
    return rows


def _lead(message: str) -> tuple[str, str]:
    """("Audit" | "Savings", rest) for one of ``savings_lines``' sentences."""
    task = ""
    if message.startswith("["):
        task, _, message = message.partition("] ")
        task += "] "
    for prefix, lead in (("audit estimate: ", "Audit"), ("savings: ", "Savings")):
        if message.startswith(prefix):
            return lead, task + message[len(prefix):]
    return "Savings", task + message


class OutlookLines(QWidget):
    """Rows of the outlook; rows with nothing to say are hidden."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("outlook")
        self.savings = _row("outlook_savings")
        self.stopping = _row("outlook_stopping")
        self.forecast = _row("outlook_forecast")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 4, 0, 0)
        lay.setSpacing(3)
        # The two short answers first (has it stopped, how far to go), then the estimates.
        for w in (self.stopping, self.forecast, self.savings):
            lay.addWidget(w)
        lay.addStretch(1)
        self._plain: list[str] = []

    def set_outlook(self, outlook: dict) -> None:
        o = outlook or {}
        plain: list[str] = []
        sav = o.get("savings") or {}
        tasks = sav.get("tasks") or {}
        record = next(iter(tasks.values())) if len(tasks) == 1 else None
        rows = savings_rows(record, [m for m in sav.get("messages", [])
                                     if not m.startswith("note: ")])
        rows += [("Note", n) for n in sav.get("notes", [])]
        self._set(self.savings, "<br>".join(f"<b>{lead}:</b> {escape(text)}" for lead, text in rows),
                  "\n".join(sav.get("messages", [])))
        stop = o.get("stopping")
        if stop:
            msg = _AUDIT_TAIL.sub("", stop["message"])   # the audit estimate has its own row
            if stop.get("stop"):
                html = (f'<b style="color:{STOPPED_COLOR}">Stopping:</b> '
                        f'<span style="color:{STOPPED_COLOR}">{escape(msg)}</span>')
            else:
                html = f"<b>Stopping:</b> {escape(msg)}"
            plain.append(f"Stopping: {msg}")
            self._set(self.stopping, html, stop["message"])
        else:
            self._set(self.stopping, "")
        fc = o.get("forecast")
        msg = fc["message"] if fc else o.get("forecast_wait")
        if msg and msg.startswith("the forecast "):   # under the lead "Forecast:" already
            msg = msg[len("the forecast "):]
        if msg:
            plain.append(f"Forecast: {msg}")
            tip = ("of the cross-validated accuracy (inverse power law; bootstrap interval "
                   "widened to the coverage measured on development curves)")
            self._set(self.forecast, f"<b>Forecast:</b> {escape(msg)}", f"Forecast {tip}: {msg}")
        else:
            self._set(self.forecast, "")
        plain.extend(f"{lead}: {text}" for lead, text in rows)   # in the order shown
        self._plain = plain

    def text(self) -> str:
        """Everything shown, as plain text, one row a line."""
        return "\n".join(self._plain)

    @staticmethod
    def _set(label: QLabel, html: str, tip: str = "") -> None:
        label.setText(html)
        label.setToolTip(tip)
        label.setVisible(bool(html))
