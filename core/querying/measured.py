"""Each built-in strategy's measured record on the shared data sets, as shipped data.

``benchmarks/label_efficiency.py --write-records`` runs every registered strategy against
random on the six shared sets (eight tasks) and writes ``strategy_records.json`` into the
``activelab.resources`` package; nothing here is typed by hand. ``activelab strategies`` and
the app's strategy pickers show ``record_text(name)`` so nobody picks a loser blind, and the
default strategy of a new project is the one the file names (a test holds them equal).

A strategy is above / below random on a task when the paired 95% interval of its area under
the learning curve (macro-F1) relative to random's lies wholly above / below 1.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

RECORDS_FILE = "strategy_records.json"
#: Text features of new projects when none are chosen, for a whole installation (tfidf|minilm).
TEXT_FEATURES_ENV = "ACTIVELAB_TEXT_FEATURES"


def records_path() -> Path:
    """Where the records file lives in the installed package (activelab.resources)."""
    return Path(str(resources.files("activelab.resources").joinpath(RECORDS_FILE)))


@lru_cache(maxsize=1)
def load_records() -> dict[str, Any]:
    """The shipped records ({} when the file is missing or unreadable: nothing is shown)."""
    try:
        text = resources.files("activelab.resources").joinpath(RECORDS_FILE).read_text("utf-8")
        data = json.loads(text)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def measured_text_features() -> str:
    """The text features whose record applies to a new project: the records' chosen default
    text features when they can be used here (MiniLM needs the embeddings extra), else tfidf."""
    chosen = str(load_records().get("default_text_features", "tfidf"))
    if chosen == "minilm":
        from activelab.core.features.text_embeddings import minilm_available

        if not minilm_available():
            return "tfidf"
    return chosen


def default_text_features() -> str:
    """Text features a new project (and ``simulate``) gets when none are chosen:
    ``ACTIVELAB_TEXT_FEATURES`` when set to tfidf or minilm, else ``measured_text_features``
    (the benchmark's choice, MiniLM only where the embeddings extra is installed)."""
    chosen = os.environ.get(TEXT_FEATURES_ENV, "").strip().lower()
    return chosen if chosen in ("tfidf", "minilm") else measured_text_features()


def record_text(name: str, text_features: str | None = None) -> str | None:
    """One line for strategy ``name``, e.g. "measured: above random on 5/8 tasks, never below
    beyond noise (AULC 1.04x random's; worst 0.99x)" (below = the task's 95% interval of the
    paired AULC ratio lies under 1; a worst ratio under 1 inside the noise is not "below"), or None when it was not measured."""
    data = load_records()
    entry = data.get("strategies", {}).get(name)
    if not entry:
        return None
    feats = text_features or measured_text_features()
    rec = entry.get(feats) or next(iter(entry.values()))
    below = (f"below on {rec['below']} ({', '.join(rec.get('below_tasks', []))})"
             if rec["below"] else "never below beyond noise")
    return (f"measured: above random on {rec['above']}/{rec['tasks']} tasks, {below} "
            f"(AULC {rec['aulc_ratio_gmean']:.3f}x random's; worst "
            f"{rec['aulc_ratio_worst']:.3f}x)")


def measured_default_strategy() -> str | None:
    """The strategy the benchmark chose as the default (None without a records file)."""
    value = load_records().get("default_strategy")
    return str(value) if value else None


def described_with_record(name: str, description: str) -> str:
    """A strategy's description followed by its measured record (the strategy pickers'
    tooltip and hint), or the description alone when it was not measured."""
    record = record_text(name)
    return f"{description}\n{record[0].upper()}{record[1:]}." if record else description
