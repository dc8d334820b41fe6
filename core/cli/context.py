"""What the ``activelab`` commands share: opening a project as this command's annotator (and
closing every project it opened), the options of how a table is read, and ids and labels as
typed in a shell."""
from __future__ import annotations

import argparse
import sqlite3
from typing import Any

_OPENED: list[Any] = []   # projects opened by this command: closed (checkpointed) at the end
_ANNOTATOR: list[str | None] = [None]   # this command's --annotator (None: not given)


def set_annotator(name: str | None) -> None:
    """This command's ``--annotator`` (None: not given), applied to every project it opens."""
    _ANNOTATOR[0] = name


def open_project(path: str):
    """The project at ``path``, opened as this command's annotator; closed at the end of the
    command. Raises ActiveLabError (one paragraph) when it cannot be opened."""
    from activelab.core.project.project import Project

    proj = Project.open(path)
    try:
        proj.set_annotator(_ANNOTATOR[0])
    except BaseException:
        proj.close()
        raise   # --annotator > $ACTIVELAB_ANNOTATOR > this machine's login@host
    _OPENED.append(proj)   # damaged rows (settings included) are warned about at the end
    return proj


def csv_list(s: str | None) -> list[str] | None:
    return None if s is None else [x.strip() for x in s.split(",") if x.strip()]


def read_options(a: argparse.Namespace) -> dict[str, Any]:
    """--delimiter, --decimal, --na-values and --header as keywords for
    ``activelab.core.data.read.read_table``."""
    out: dict[str, Any] = {}
    if getattr(a, "delimiter", None) is not None:
        out["delimiter"] = a.delimiter
    if getattr(a, "decimal", None) is not None:
        out["decimal"] = a.decimal
    if getattr(a, "na_values", None):
        out["na_values"] = tuple(csv_list(a.na_values) or ())
    if getattr(a, "header", None) is not None:
        out["header"] = a.header
    return out


def add_annotator_argument(p: argparse.ArgumentParser, what: str = "who labels") -> None:
    """``--annotator NAME``: overrides $ACTIVELAB_ANNOTATOR, then this machine's name."""
    p.add_argument("--annotator", metavar="NAME",
                   help=f"{what}; default: $ACTIVELAB_ANNOTATOR, else this computer's "
                        "name, login@host")


def add_read_arguments(p: argparse.ArgumentParser) -> None:
    """The options of how a text table is read, shared by 'new' and 'simulate'."""
    p.add_argument("--delimiter", help="field delimiter of a text table: , ; | or tab "
                   "(default: detected whatever the file extension)")
    p.add_argument("--decimal", choices=[".", ","], help="decimal mark of numbers in the file "
                   "(default: ',' when a semicolon file writes numbers like 0,5, else '.')")
    p.add_argument("--na-values", metavar="A,B,C", help="comma-separated cell values to read as "
                   "missing besides empty cells, e.g. NA,null (default: only empty cells; 'NA', "
                   "'None', 'null', 'nan' are ordinary values)")
    p.add_argument("--header", action=argparse.BooleanOptionalAction, default=None,
                   help="the first row of a text table names the columns (--no-header: it is "
                   "data; default: detected)")


def typed_id(proj, raw: str) -> str:
    """The sample id as typed, or stripped of surrounding whitespace / a Windows ``\\r`` when
    only the stripped form is an id (ids are matched verbatim first: they are never changed)."""
    from activelab.core.errors import LabelError

    try:
        proj.index_of(raw)
        return raw
    except LabelError:
        return raw.strip() if raw.strip() != raw else raw


def typed_label(proj, task: str | None, raw: str) -> str:
    """The label as typed, stripped of surrounding whitespace and ``\\r`` (class names never
    have any: imported and added classes are stripped); multi-label parts each stripped."""
    t = proj._task(task)
    if t.multilabel:
        return t.separator.join(part.strip() for part in raw.split(t.separator))
    return raw.strip()


def finish_projects() -> None:
    """Warn about damaged rows the command skipped; close (checkpoint) what it opened."""
    from activelab.core.cli.store import warn_damaged

    opened, _OPENED[:] = list(_OPENED), []
    warn_damaged(opened)
    for proj in opened:
        try:
            proj.close()
        except (sqlite3.Error, OSError):   # the WAL keeps the data; the next open recovers it
            pass
