"""A PostgreSQL server that answers but will not take this program: what it said, in words.

A server that is running can still refuse a new connection: all its connection slots are
taken ("too many clients already", SQLSTATE 53300, also per role or per database), it is
starting up or shutting down (57P03, 57P01), or the database does not accept connections
(55000). None of these is "unreachable", and each asks for something else from the user, so
each gets its own paragraph here. psycopg reports a refused *connection* without a SQLSTATE
(the text comes from libpq), so the server's own words are matched.

Every connection activelab opens names itself to the server (``application_name``:
``activelab ROLE pid PID``), so ``pg_stat_activity`` shows which program holds which
connection, and the "too many clients" paragraph can say who is connected when it can ask.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterable

__all__ = ["application_name", "connected_summary", "refusal_of", "refusal_paragraph",
           "set_role"]

_ROLE = ["activelab"]

# (kind, words of the server's message), most specific first
_REFUSALS = (
    ("too_many_clients", ("too many clients already", "remaining connection slots are reserved",
                          "too many connections for role", "too many connections for database")),
    ("starting", ("the database system is starting up", "the database system is in recovery",
                  "not yet accepting connections")),
    ("shutting_down", ("the database system is shutting down",
                       "terminating connection due to administrator command")),
    ("not_accepting", ("is not currently accepting connections",
                       "does not allow connections")),
)


def set_role(role: str) -> None:
    """Name what this process is (``app``, a command such as ``label``, ``train``) in the
    ``application_name`` of the connections it opens from now on."""
    _ROLE[0] = " ".join(str(role).split())[:30] or "activelab"


def application_name() -> str:
    """``activelab ROLE pid PID`` (at most 63 characters, PostgreSQL's limit)."""
    return f"activelab {_ROLE[0]} pid {os.getpid()}"[:63]


def refusal_of(detail: str) -> str | None:
    """The kind of refusal in the server's message ``detail`` (``too_many_clients``,
    ``starting``, ``shutting_down``, ``not_accepting``), or None when the server simply did
    not answer (or refused the login, which ``open_failure`` names)."""
    low = (detail or "").lower()
    for kind, words in _REFUSALS:
        if any(w in low for w in words):
            return kind
    return None


def server_words(detail: str) -> str:
    """The server's own words in a driver message: what follows ``FATAL:`` (else all)."""
    return detail.rsplit("FATAL:", 1)[-1].strip() or detail


def connected_summary(conns: Iterable[Any] = (), connect: Callable[[], Any] | None = None
                      ) -> str:
    """Who is connected, from ``pg_stat_activity``: "N of max_connections M slots in use;
    by program: ..." -- asked on one of ``conns`` (open ``PgConnection``s of this process)
    or, failing that, on a new connection from ``connect()`` (which a full server usually
    refuses). "" when it cannot be had."""
    sql = ("SELECT coalesce(nullif(application_name, ''), usename, '(unnamed)'), count(*), "
           "current_setting('max_connections')::int FROM pg_stat_activity "
           "WHERE backend_type = 'client backend' GROUP BY 1 ORDER BY 2 DESC, 1")
    rows = None
    for conn in conns:
        try:
            rows = conn.execute(sql).fetchall()
            break
        except Exception:   # this connection is gone too: try the next way
            continue
    if rows is None and connect is not None:
        try:
            raw = connect()
        except Exception:   # the full server refuses this one too: say so
            return ""
        try:
            rows = raw.execute(sql.replace("?", "%s")).fetchall()
        except Exception:
            rows = None
        finally:
            raw.close()
    if not rows:
        return ""
    total, slots = sum(r[1] for r in rows), rows[0][2]
    top = ", ".join(f"{name} ({n})" for name, n, _ in rows[:6])
    more = f", and {len(rows) - 6} more programs" if len(rows) > 6 else ""
    return f"{total} of its {slots} connection slots are in use, by: {top}{more}"


def refusal_paragraph(kind: str, detail: str, where: str, *, what: str = "label",
                      saved: bool = False, opening: str | None = None, who: str = "") -> str:
    """The paragraph for a refusal of ``kind`` by the server ``where`` (URL without
    password); ``detail``: the server's words. ``opening``: the sentence start when a project
    could not be opened (nothing was read or written), else it is about ``what`` and whether
    it was ``saved``. ``who``: ``connected_summary()`` (may be "")."""
    head = (f"{opening}: " if opening else
            f"Server refused — {what} {'WAS' if saved else 'NOT'} saved. ")
    said = server_words(detail)
    kept = "everything saved before is kept on the server"
    if kind == "too_many_clients":
        counted = f" {who[0].upper()}{who[1:]}." if who else ""
        body = (f"the PostgreSQL server {where} is running but has no free connection slot "
                f"for this program ({said}).{counted} Close activelab windows and commands "
                "you no longer need (a window holds at most 2 connections, a command 1) or "
                "other programs using that server, or ask its administrator to raise "
                f"max_connections; then try again. {kept[0].upper()}{kept[1:]}.")
    elif kind == "starting":
        body = (f"the PostgreSQL server {where} is still starting up or recovering and does "
                f"not take connections yet ({said}). Wait a moment and try again; {kept}.")
    elif kind == "shutting_down":
        body = (f"the PostgreSQL server {where} is shutting down or was stopped by its "
                f"administrator ({said}). Try again once it is running again; {kept}.")
    else:
        body = (f"the PostgreSQL server {where} is running but its database does not accept "
                f"connections now ({said}). Ask its administrator (the database may be "
                f"closed for maintenance), then try again; {kept}.")
    if opening:
        return head + body
    return head + body[0].upper() + body[1:]
