"""Checking a team server before a project is made or joined there (the app's wizard and its
"Join a team project" dialog run this in a background job, never on the UI thread).

``probe_team_store(url, name)`` says, in one paragraph, what ``activelab new --store URL`` /
``activelab attach`` would say about ``url``: a malformed URL (a port that is not a number, no
database), a refused login, a missing database, a server that does not answer, or (to create)
a project of that name already there / (to join) no such project. It writes nothing, and no
message carries the URL's password.
"""
from __future__ import annotations

from dataclasses import dataclass

from activelab.core.errors import ProjectError

__all__ = ["StoreProbe", "probe_team_store"]


@dataclass(frozen=True)
class StoreProbe:
    """A server that answered: ``where`` (its URL without password), ``schema`` (the project's
    schema there), ``exists`` (whether that schema already holds a project), ``server`` (its
    version, e.g. "15.4"), ``message`` (one sentence for the user)."""

    where: str
    schema: str
    exists: bool
    server: str
    message: str


def probe_team_store(url: str, name: str, *, join: bool = False, progress=None) -> StoreProbe:
    """Connect to the PostgreSQL database at ``url`` and look for the project ``name``.

    ``join=False`` (a new project): ProjectError when that project already exists there.
    ``join=True`` (attach a folder): ProjectError when it does not. Also ProjectError (one
    paragraph, the same as the CLI's) for a URL that is not PostgreSQL's or is malformed, a
    refused login, a missing database, a server that does not answer within
    ``CONNECT_TIMEOUT`` seconds. ``progress``: the worker's progress object (checked once
    before connecting; may be None). Read-only: nothing is created."""
    from activelab.core.store.pg_sql import PgConnection, StoreUnreachable
    from activelab.core.store.pg_store import (
        CONNECT_TIMEOUT, check_url, is_store_url, open_failure, password_left_out, safe_url,
        schema_for,
    )

    url = (url or "").strip()
    if not is_store_url(url):
        raise ProjectError(
            f"The team server URL {safe_url(url)!r} is not a PostgreSQL URL. Give one like "
            "postgresql://USER@HOST:5432/DATABASE (a password as USER:PASSWORD@, or in "
            "~/.pgpass).")
    check_url(url, "The team server URL")
    schema, where = schema_for(name), safe_url(url)
    if progress is not None:
        progress.check()

    def connect():
        import psycopg

        return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT)

    what = (f"The team project {name} cannot be joined" if join else
            f"The team project {name} cannot be created there")
    try:
        conn = PgConnection(connect, where)
    except StoreUnreachable as exc:
        raise ProjectError(open_failure(exc.detail, exc.where, what, None)) from exc
    try:
        version = conn.raw.info.server_version
        tables = conn.execute("SELECT COUNT(*) FROM information_schema.tables WHERE "
                              "table_schema=?", (schema,)).fetchone()[0]
    except StoreUnreachable as exc:
        raise ProjectError(open_failure(exc.detail, exc.where, what, None)) from exc
    finally:
        conn.close()
    server = f"{version // 10000}.{version % 10000}"
    exists = bool(tables)
    if exists and not join:
        raise ProjectError(
            f"The database {where} already holds a project in schema '{schema}'. Give the new "
            f"project another folder name, or join that one (File > Join a team project…, or "
            f"'activelab attach {where} FOLDER --project {name}').{password_left_out(url)}")
    if join and not exists:
        raise ProjectError(
            f"The database {where} has no activelab project '{schema}'. Check the project "
            "name (it is the folder name it was created with) and the URL.")
    message = (f"The server answers (PostgreSQL {server}); " + (
        f"project '{name}' found there (schema {schema})." if join else
        f"the project will be created there in schema {schema}."))
    return StoreProbe(where, schema, exists, server, message)
