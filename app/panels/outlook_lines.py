"""The outlook under the learning curve: the audit estimate and what active learning saved,
whether the model has stopped improving, and how many more labels the forecast expects.

Public API (GUI thread; the plain dict of ``LabelingEngine.outlook()``):

    OutlookLines.set_outlook(outlook: dict) -> None
    OutlookLines.text() -> str        # everything shown, as plain text (one line per row)

Each row is a word-wrapped label with a bold lead ("Audit", "Savings", "Stopping",
"Forecast"); a fired stopping rule is shown in green.
"""
from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

STOPPED_COLOR = "#00704A"


def _row(name: str) -> QLabel:
    label = QLabel("")
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setVisible(False)
    return label


def _lead(message: str) -> tuple[str, str]:
    """("Audit" | "Savings", rest) for a savings message."""
    for prefix, lead in (("audit estimate: ", "Audit"), ("savings: ", "Savings")):
        if message.startswith(prefix) or (message.startswith("[") and prefix in message):
            return lead, message.replace(prefix, "", 1)
    return "Savings", message


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
        lay.setSpacing(4)
        for w in (self.savings, self.stopping, self.forecast):
            lay.addWidget(w)
        self._plain: list[str] = []

    def set_outlook(self, outlook: dict) -> None:
        o = outlook or {}
        plain: list[str] = []
        rows = []
        for m in (o.get("savings") or {}).get("messages", []):
            lead, rest = _lead(m)
            rows.append(f"<b>{lead}:</b> {escape(rest)}")
            plain.append(f"{lead}: {rest}")
        self._set(self.savings, "<br>".join(rows))
        stop = o.get("stopping")
        if stop:
            msg = stop["message"]
            if stop.get("stop"):
                text = (f'<b style="color:{STOPPED_COLOR}">Stopping:</b> '
                        f'<span style="color:{STOPPED_COLOR}">{escape(msg)}</span>')
            else:
                text = f"<b>Stopping:</b> {escape(msg)}"
            plain.append(f"Stopping: {msg}")
            self._set(self.stopping, text)
        else:
            self._set(self.stopping, "")
        fc = o.get("forecast")
        msg = fc["message"] if fc else o.get("forecast_wait")
        if msg:
            lead = "Forecast (CV accuracy)" if fc else "Forecast"
            plain.append(f"{lead}: {msg}")
            self._set(self.forecast, f"<b>{lead}:</b> {escape(msg)}")
        else:
            self._set(self.forecast, "")
        self._plain = plain

    def text(self) -> str:
        """Everything shown, as plain text, one row a line."""
        return "\n".join(self._plain)

    @staticmethod
    def _set(label: QLabel, html: str) -> None:
        label.setText(html)
        label.setVisible(bool(html))
