"""``activelab agreement``: how far the annotators agree, and what is left to review.

Prints per task Krippendorff's alpha and Cohen's kappa per annotator pair (with n), then the
review queue: each sample whose annotators' latest labels differ and that no reviewer has
decided since, with every annotator's label. A decision is given with
``activelab label PROJECT SAMPLE CLASS --task T --review``.
"""
from __future__ import annotations

import argparse
import json
from typing import Any

from activelab.core.cli.support import positive_int


def add_parser(subparsers: Any) -> None:
    """Register the ``agreement`` sub-command on an argparse sub-parsers object."""
    p = subparsers.add_parser(
        "agreement", help="agreement between annotators and the review queue",
        description="Per task: Krippendorff's alpha (nominal) over all annotators and Cohen's "
                    "kappa for each pair of annotators on the samples both labeled (their latest "
                    "labels), then the samples whose annotators disagree and that no reviewer "
                    "has decided yet. Decide one with: activelab label PROJECT SAMPLE CLASS "
                    "--task TASK --review.")
    p.add_argument("project")
    p.add_argument("--limit", type=positive_int("--limit"), default=50,
                   help="how many disagreements to list (default 50)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_agreement)


def _value(v: Any) -> str:
    return "[" + ", ".join(map(str, v)) + "]" if isinstance(v, list) else str(v)


def cmd_agreement(a: argparse.Namespace) -> int:
    from activelab.core.cli.context import open_project as _project
    from activelab.core.team.report import team_report

    proj = _project(a.project)
    report = team_report(proj)
    if a.json:
        print(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return 0
    for line in report.lines(indent=""):
        print(line)
    if not report.queue:
        print("No disagreement waiting for review." if report.is_team else
              "Nothing to review: a review queue needs two annotators labeling the same samples.")
        return 0
    print("To review (oldest first):")
    for it in report.queue[:a.limit]:
        labels = "; ".join(f"{who or '(no name)'}: {_value(v)}" for who, v in it.labels.items())
        print(f"  {it.sample_id}  {it.task}  {labels}")
    if len(report.queue) > a.limit:
        print(f"  … and {len(report.queue) - a.limit} more (--limit N)")
    return 0
