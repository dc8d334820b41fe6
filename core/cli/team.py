"""``activelab attach URL FOLDER``: a folder on this machine for a team project on PostgreSQL
(``activelab new ... --store URL`` makes one; see ``activelab.core.project.attach``)."""
from __future__ import annotations

import argparse
from typing import Any


def add_parser(sub: Any) -> None:
    a = sub.add_parser(
        "attach", help="use a team project (PostgreSQL store) from this machine",
        description="Attach a local folder to a team project whose store is on PostgreSQL: "
                    "writes store.json (the pointer) and, when missing, rebuilds the samples "
                    "file from the source data; the feature cache is rebuilt on first use. "
                    "Then open it like any project: activelab FOLDER.")
    a.add_argument("url", help="postgresql://USER@HOST:PORT/DATABASE")
    a.add_argument("folder", help="the local project folder (made when absent)")
    a.add_argument("--project", help="the project's name in the database (default: the "
                                     "folder's name, as at 'activelab new')")
    a.add_argument("--data", help="the source data file, when it is not at the path recorded "
                                  "at creation")
    a.set_defaults(func=cmd_attach)


def cmd_attach(a: argparse.Namespace) -> int:
    from activelab.core.project.attach import attach_project
    from activelab.core.project.project import Project

    folder, done = attach_project(a.url, a.folder, project=a.project, data=a.data)
    for line in done:
        print(f"  - {line}")
    proj = Project.open(folder)
    try:
        print(f"Attached {folder}: {proj.n_samples} samples, {proj.labeled_count()} labeled "
              f"(by everyone). Next: activelab {folder}")
    finally:
        proj.close()
    return 0
