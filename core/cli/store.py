"""``activelab backup`` and ``activelab check``: copying a project safely, finding damage."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from activelab.core.store.failures import human_bytes


def add_parser(subparsers: Any) -> None:
    """Register the ``backup`` and ``check`` sub-commands on an argparse sub-parsers object."""
    b = subparsers.add_parser(
        "backup", help="copy a project safely, also while the app has it open",
        description=(
            "Copy PROJECT to DEST with SQLite's online backup: every saved label is in the "
            "copy, even while the app is labeling. DEST is a new project folder (the store, "
            "the pool files and images.npy are copied; cache/ is derived and rebuilt when the "
            "copy is opened), or a file ending in .sqlite for the store alone. The copy appears "
            "complete or not at all."),
    )
    b.add_argument("project", help="the project folder to copy")
    b.add_argument("dest", help="a new folder, or a new .sqlite file")
    b.set_defaults(func=cmd_backup)

    c = subparsers.add_parser(
        "check", help="list damaged rows of a project's store (--repair quarantines them)",
        description=(
            "Run SQLite's integrity check and list every row the project cannot use (an event "
            "whose value is not JSON, a label for an unknown sample, task or class, a setting "
            "of the wrong type, a missing spec) by table and position. Exit status 0 when "
            "clean, 1 when something is listed. --repair moves the damaged rows into the "
            "store's quarantine table: copied there with the reason, then removed from the live "
            "tables, in one transaction; nothing is deleted."),
    )
    c.add_argument("project", help="the project folder (or its project.sqlite)")
    c.add_argument("--repair", action="store_true",
                   help="move damaged rows into the quarantine table")
    c.set_defaults(func=cmd_check)


def cmd_backup(a: argparse.Namespace) -> int:
    from activelab.core.store.backup import backup_project

    r = backup_project(a.project, a.dest)
    parts = []
    for name, size in r.files:
        extra = (f"{r.events} events, {r.labeled} samples labeled, integrity {r.integrity}, "
                 if name == "project.sqlite" else "")
        parts.append(f"{name} ({extra}{human_bytes(size)})")
    kind = "a project folder" if r.dest.is_dir() else "the store alone"
    print(f"Backed up {r.source} to {r.dest} ({kind}): {', '.join(parts)}.")
    for s in r.skipped:
        print(f"Not copied: {s}.")
    return 0


def cmd_check(a: argparse.Namespace) -> int:
    from activelab.core.project.check import check_project, repair_project

    r = repair_project(a.project) if a.repair else check_project(a.project)
    where = r.project
    if r.repaired:
        print(f"Moved {len(r.repaired)} damaged row(s) of {where} into its quarantine table "
              "(each copied there with the reason, then removed from the live table, in one "
              "transaction; nothing was deleted):")
        for row in r.repaired:
            print(f"  {row}")
    if r.integrity != "ok":
        print(f"{where}: SQLite's integrity check FAILED: {r.integrity}. The store is "
              "corrupted; restore it from a backup.")
    if not r.problems:
        if r.integrity == "ok":
            print(f"{where}: integrity ok; no damaged rows.")
        return 0 if r.integrity == "ok" else 1
    print(f"{where}: integrity {r.integrity}; {len(r.problems)} damaged row(s) "
          "(skipped when the project reads its store):")
    for row in r.problems:
        fix = "" if row.repairable else "  [cannot be repaired here: restore from a backup]"
        print(f"  {row}{fix}")
    if any(row.repairable for row in r.problems):
        print(f"Run 'activelab check {a.project} --repair' to move them into the quarantine "
              "table (nothing is deleted).")
    return 1


def warn_damaged(projects: list[Any]) -> None:
    """After a command: say on stderr which damaged store rows were skipped, if any."""
    for proj in projects:
        try:
            rows = proj.damaged_rows()
        except AttributeError:
            continue
        if rows:
            shown = "; ".join(str(r) for r in rows[:5])
            more = f"; and {len(rows) - 5} more" if len(rows) > 5 else ""
            print(f"warning: skipped {len(rows)} damaged row(s) of {proj.path}/project.sqlite: "
                  f"{shown}{more}. Run 'activelab check {proj.path}' for the list and --repair "
                  "to quarantine them.", file=sys.stderr)
