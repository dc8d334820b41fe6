"""The "Why this sample" line under the label buttons: current, correct, and blind when asked.

``why_text(item, source, ctx)`` explains the sample on screen from its queue item (or how it was
opened when it is not a queue item). It is judged against the project as it is *now*
(``WhyContext``), not as it was when the queue was made:

- a cold-start pick shown after some task has two classes labeled (the queue was made before)
  says it was picked at the cold start and that this is over, instead of "no task has two
  classes labeled yet";
- a zero-shot pick for a class nobody had labeled says so when that class has been labeled since;
- the percentile is of the pick's score among the candidates it was chosen from, which are the
  unlabeled samples (``activelab.core.querying.runner.percentile_in_pool``), and the line names
  that population and its current size, not the whole pool;
- in blind mode nothing that reveals the model's guess is shown: no score (an uncertainty score
  is a function of the class probabilities) and no class name from a zero-shot reason.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from html import escape
from typing import Mapping

from activelab.core.project.pick_provenance import FALLBACK_RANDOM
from activelab.core.records import QueueItem

COLD_PREFIX = "cold_start:"
ZERO_SHOT = "zero_shot:unseen_class"
_ZERO_SHOT_REASON = re.compile(r"the likeliest '(?P<cls>.*)' for (?P<task>.+?) \(no sample labeled")

SOURCE_TEXT = {
    "history": "Opened from the history: labeling it again replaces its label (the original "
               "pick's provenance is kept).",
    "undo": "Shown again after undo: label it again, or press Space to skip.",
    "map": "Opened from the pool map.",
    "resume": "Where you left off last time.",
    "fallback": f"A random unlabeled sample ({FALLBACK_RANDOM}) while the model prepares the "
                "next queue.",
}


@dataclass(frozen=True)
class WhyContext:
    """The project now: samples in the pool, samples labeled, labels per class per task
    (``LabelingEngine.class_counts()``), and whether blind mode is on."""

    n_pool: int
    n_labeled: int
    class_counts: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    blind: bool = False

    @property
    def n_unlabeled(self) -> int:
        return max(0, self.n_pool - self.n_labeled)

    def cold_start_over(self) -> bool:
        """Some task has two classes labeled: a model can be trained, the cold start is over
        (the condition ``activelab.core.loop.cycle.make_queue`` uses to leave it)."""
        return any(sum(1 for n in per.values() if n > 0) >= 2 for per in self.class_counts.values())


def why_text(item: QueueItem | None, source: str, ctx: WhyContext) -> str:
    """The "Why this sample" line (rich text) for a queue item, or for a sample shown
    otherwise (``source``: history, undo, map, resume, fallback)."""
    if item is None:
        return SOURCE_TEXT.get(source, "")
    if item.audit:
        return ("<b>Why this sample:</b> a uniformly random audit pick: it measures the model's "
                "accuracy without the strategy's bias, so the model's suggestion is hidden.")
    if item.strategy.startswith(COLD_PREFIX):
        return _cold_start_text(item, ctx)
    parts = [f"<b>Why this sample:</b> {escape(item.strategy)}"]
    if not ctx.blind and not math.isnan(item.score):
        parts.append(f"score {item.score:.3g}")
    if item.rank:
        parts.append(f"rank {item.rank}")
    if item.percentile is not None and item.strategy != ZERO_SHOT:
        parts.append(_percentile_text(item.percentile, ctx))
    line = " · ".join(parts)
    reason = _reason(item, ctx)
    return line + (f" — {escape(reason)}" if reason else "")


def _percentile_text(pct: float, ctx: WhyContext) -> str:
    """The pick's score against the unlabeled samples it was chosen from."""
    return (f"scores at or above {pct:.1f}% of the unlabeled samples "
            f"({ctx.n_unlabeled:,} unlabeled now)")


def _cold_start_text(item: QueueItem, ctx: WhyContext) -> str:
    kind = "typical and diverse" if item.strategy != COLD_PREFIX + "random" else "random"
    head = f"<b>Why this sample:</b> {escape(item.strategy)}"
    if item.rank:
        head += f" · rank {item.rank}"
    if ctx.cold_start_over():
        return (f"{head} — picked at the cold start ({kind}), before any task had two classes "
                "labeled. That is over now: the queue after the next retrain is chosen by the "
                "project's strategy.")
    return (f"{head} — cold start: a {kind} pick, because no task has two classes labeled yet "
            "(a model needs two).")


def _reason(item: QueueItem, ctx: WhyContext) -> str:
    """The item's reason, corrected for what changed since and for blind mode."""
    reason = item.reason or ""
    if item.strategy != ZERO_SHOT:
        return reason
    m = _ZERO_SHOT_REASON.search(reason)
    if m is None:
        return "" if ctx.blind else reason
    cls, task = m.group("cls"), m.group("task")
    labeled = int(ctx.class_counts.get(task, {}).get(cls, 0))
    if ctx.blind:   # the class named is the model's guess for this sample
        reason = (f"zero-shot: a likely example, for {task}, of a class nobody had labeled when "
                  "the queue was made")
        return reason + ("; it has been labeled since" if labeled else "")
    if labeled:
        return (f"zero-shot: picked as the likeliest '{cls}' for {task} when no sample was "
                f"labeled '{cls}'; {labeled} {'is' if labeled == 1 else 'are'} now")
    return reason
