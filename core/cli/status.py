"""``activelab status`` and ``activelab export``."""
from __future__ import annotations

import argparse
import json

from activelab.core.cli.context import add_annotator_argument, open_project
from activelab.core.cli.support import progress_bar


def cmd_status(a: argparse.Namespace) -> int:
    from activelab.core.cli.outlook import outlook, outlook_lines, without_stop_sets

    proj = open_project(a.project)
    s = proj.status().to_dict()
    s.update(outlook(proj.curve(), getattr(a, "target", None),   # stopping, forecast, savings
                     audit_rate=proj.settings.audit_rate))
    s["latest_curve_point"] = without_stop_sets(s["latest_curve_point"])
    s["annotator"], s["annotators"] = proj.annotator, proj.annotator_counts()
    from activelab.core.project.team import blind_hidden_counts, overlap_summary

    s["overlap"] = overlap_summary(proj)
    for name, n_hidden in blind_hidden_counts(proj).items():   # left out of the class counts
        s["tasks"][name]["hidden_from_you"] = n_hidden
    from activelab.core.team.report import team_report

    team = team_report(proj)
    s["agreement"] = [t.to_dict() for t in team.agreement]
    if a.json:
        print(json.dumps(s, indent=2))
        return 0
    print(f"Project {s['project']}: {s['labeled']} of {s['samples']} samples labeled "
          f"({s['skipped']} skipped, {s['flagged']} flagged)")
    for name, t in s["tasks"].items():
        counts = ", ".join(f"{c}: {n}" for c, n in t["classes"].items())
        k = t.get("hidden_from_you", 0)
        hid = (f" ({k} labelled by others on shared samples {'is' if k == 1 else 'are'} hidden "
               "from these counts until you label them)") if k else ""
        print(f"  task {name} ({'multi' if t['multilabel'] else 'single'}-label), "
              f"{t['labeled']} labeled — {counts}{hid}")
    print(f"  model {s['model']} v{s['model_version']}, strategy {s['strategy']}")
    who = ", ".join(f"{n}: {c}" for n, c in s["annotators"].items()) or "none yet"
    print(f"  annotators (samples labeled): {who}; you are {s['annotator']}")
    if s["overlap"]["rule"] != "off":
        print(f"  overlap: {s['overlap']['rule']} ({s['overlap']['shared']} shared so far)")
    p = s["latest_curve_point"]
    if p:
        fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
        print(f"  latest curve point: {p['n_labels']} labels, CV accuracy {fmt(p['cv_accuracy'])}, "
              f"macro-F1 {fmt(p['cv_macro_f1'])}, audit accuracy {fmt(p['audit_accuracy'])} "
              f"(n={p['audit_n']}), trained in {p['train_seconds']:.2f} s")
    else:
        print("  no model trained yet")
    for line in outlook_lines(s):
        print(line)
    for line in team.lines():
        print(line)
    return 0


def cmd_export(a: argparse.Namespace) -> int:
    from activelab.core.export.labels import check_destination, format_for_path, write_export

    format_for_path(check_destination(a.out), a.format)   # refused before any progress shows
    with progress_bar("exporting") as prog:
        s = write_export(a.project, a.out, format=a.format,
                         include_unlabeled=a.include_unlabeled, progress=prog)
    print(f"Exported {s.rows} rows ({s.labeled} labeled) to {s.path} ({s.format}).")
    for line in s.agreement:   # a team project: per-annotator labels and resolutions went out
        print(f"  {line}")
    return 0


def add_parsers(sub) -> None:
    """The ``status`` and ``export`` sub-commands."""
    st = sub.add_parser("status", help="labels per task and class, model, learning curve")
    st.add_argument("project")
    st.add_argument("--json", action="store_true")
    st.add_argument("--target", type=float, default=None, metavar="SCORE",
                    help="accuracy the forecast counts the labels to (default: 0.02 above the "
                         "latest cross-validated accuracy, or half-way to 1 if closer)")
    add_annotator_argument(st, "who 'you' are in the per-annotator counts")
    st.set_defaults(func=cmd_status)

    ex = sub.add_parser(
        "export", help="export the labeled data set",
        description="One row per labeled sample: activelab__id (the id as imported), every "
        "source column unchanged, then per task activelab__<task>__label and its provenance "
        "(annotator, time, seconds, strategy, score, rank, model_version, audit), and "
        "activelab__skipped/flagged. Multi-label values are lists in Parquet and JSON; in CSV "
        "a JSON array (\"[]\" = labeled with no class; an empty cell = not labeled).")
    ex.add_argument("project")
    ex.add_argument("--out", required=True,
                    help="the file to write; its extension sets the format: .csv, "
                         ".parquet/.pq, .jsonl/.ndjson (JSON Lines), .json (one JSON array)")
    ex.add_argument("--format", choices=["csv", "parquet", "jsonl", "json"],
                    help="write this format (an extension naming another format is refused)")
    ex.add_argument("--include-unlabeled", action="store_true",
                    help="add the model's predictions for unlabeled samples")
    ex.set_defaults(func=cmd_export)
