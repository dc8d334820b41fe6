"""What ``activelab status`` says about the road ahead (kept for the CLI's imports): the
computation lives in ``activelab.core.loop.outlook`` so the project (and through it the app)
can give the same answer."""
from __future__ import annotations

from activelab.core.loop.outlook import outlook, outlook_lines, without_stop_sets

__all__ = ["outlook", "outlook_lines", "without_stop_sets"]
