"""The project store on PostgreSQL: the same ``LabelStore`` interface, tables and schema
versions as ``project.sqlite``, kept in one PostgreSQL *schema per project*.

A team project is a local folder (the pool file, the feature cache, the model) holding
``store.json``, a small pointer: ``{"url": "postgresql://user@host:port/db", "schema":
"activelab_NAME"}``. Its events, queue, settings, curve and sample ids live in that schema of
that database, so several projects share one database without colliding (each has its own
tables, found through ``search_path``). Writes are serialised per project by a transaction
advisory lock (see ``activelab.core.store.pg_sql``), so seqs commit in order and processes on
several machines label one project at once without losing or double-counting an event.

SQLite-only concerns (WAL checkpoints, read-only files, a full local disk, quarantine of
damaged pages) do not apply; the server is the durable copy and its backups are the server's.
A server that cannot be reached raises ``StoreWriteError`` with cause ``unreachable`` on a
write ("store unreachable -- label NOT saved"), and the next call reconnects.
"""
from __future__ import annotations

import json
import os
import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlsplit, urlunsplit

from activelab.core.errors import ProjectError, StoreWriteError
from activelab.core.store.events import event_columns
from activelab.core.store.failures import retry_advice
from activelab.core.store.pg_refusals import application_name, connected_summary, refusal_paragraph
from activelab.core.store.pg_sql import PgConnection, StoreUnreachable
from activelab.core.store.schema import NEEDED_TABLES, SCHEMA, SCHEMA_VERSION, migrate, schema_version
from activelab.core.store.store import LabelStore

__all__ = ["POINTER_NAME", "PgLabelStore", "is_store_url", "read_pointer", "schema_for",
           "write_pointer"]

from activelab.core.store.backends import POINTER_NAME

CONNECT_TIMEOUT = 5
"""Seconds to wait for the server when (re)connecting."""
LOCK_TIMEOUT = "30s"
"""How long a write waits for another writer of the same project (as SQLite's busy timeout)."""


def is_store_url(text: str | None) -> bool:
    """True for a PostgreSQL connection URL (``postgresql://`` or ``postgres://``)."""
    return bool(text) and str(text).split("://", 1)[0].lower() in ("postgresql", "postgres")


def safe_url(url: str) -> str:
    """``url`` without its password (for messages)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host_port = parts.netloc.rsplit("@", 1)[-1]   # not .port: it raises on a bad port
    return urlunsplit(parts._replace(netloc=f"{parts.username}@{host_port}"))


def password_left_out(url: str) -> str:
    """A sentence for a command suggestion printed with ``safe_url(url)``: that the password
    of ``url`` is left out and where to give it ("" when ``url`` has none)."""
    if urlsplit(url).password is None:
        return ""
    return (" The password is left out of that command on purpose: give it in the URL "
            "(USER:PASSWORD@HOST), or put it in ~/.pgpass or the PGPASSWORD variable.")


def url_problem(url: str) -> str | None:
    """What is wrong with a PostgreSQL ``url`` before connecting (None when it looks usable):
    not ``postgresql://``, a port that is not a number from 1 to 65535, no
    database."""
    if not is_store_url(url):
        return "it is not a PostgreSQL URL"
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        host_port = parts.netloc.rsplit("@", 1)[-1]
        return f"its port ({host_port.rsplit(':', 1)[-1]!r}) is not a number from 1 to 65535"
    if not parts.path.strip("/"):
        return "it names no database (the part after the last '/')"
    return None


def check_url(url: str, flag: str = "--store") -> None:
    """ProjectError (one paragraph) when ``url`` is not a usable PostgreSQL URL."""
    problem = url_problem(url)
    if problem:
        raise ProjectError(
            f"{flag} {safe_url(url)!r} cannot be used: {problem}. Give one like "
            "postgresql://USER@HOST:5432/DATABASE (a password as USER:PASSWORD@, or in "
            "~/.pgpass); nothing was created.")


def open_failure(detail: str, where: str, what: str, pointer: Path | None) -> str:
    """The paragraph for a store that could not be opened: the login refused, the database
    missing, or the server not answering (``detail``: the driver's first line)."""
    low = detail.lower()
    see = f" (and the URL in {pointer})" if pointer else ""
    if ("password authentication failed" in low or "no password supplied" in low
            or ("role" in low and "does not exist" in low)):
        return (f"{what}: the PostgreSQL server {where} refuses the login ({detail}). Check "
                f"the user name and password in the URL{see} or in ~/.pgpass.")
    if "database" in low and "does not exist" in low:
        return (f"{what}: the PostgreSQL server {where} answers but has no such database "
                f"({detail}). Check the database name in the URL{see}, or ask its "
                "administrator to create it (createdb NAME).")
    return (f"{what}: its PostgreSQL server {where} is unreachable ({detail}). Check the "
            f"network, the host and port, and that the server is running{see}.")


def schema_for(name: str) -> str:
    """The PostgreSQL schema of a project named ``name``: ``activelab_`` + its name in lower
    case letters, digits and underscores (at most 63 characters, PostgreSQL's limit)."""
    slug = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_") or "project"
    return ("activelab_" + slug)[:63]


def read_pointer(folder: Path) -> dict[str, str] | None:
    """The ``store.json`` pointer of a team project folder (None when there is none).
    ProjectError when it exists but cannot be read."""
    path = Path(folder) / POINTER_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        url, schema = str(data["url"]), str(data["schema"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ProjectError(
            f"{path} (the pointer to this team project's PostgreSQL store) cannot be read "
            f"({exc}). Attach the folder again: 'activelab attach URL {Path(folder)}'.") from exc
    return {"url": url, "schema": schema}


def write_pointer(folder: Path, url: str, schema: str) -> None:
    """Write ``store.json`` (the store's URL and schema) into ``folder``, readable by its
    owner only (mode 0600: the URL may hold a password). Raises OSError when it cannot."""
    path = Path(folder) / POINTER_NAME
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)   # an existing file keeps its old mode through O_CREAT
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps({"url": url, "schema": schema}, indent=1) + "\n")


def unreachable_error(exc: BaseException, url: str, what: str, who: str = "") -> StoreWriteError:
    """The write error for a server that does not answer, or that refuses the connection
    (``exc.refusal``: its own paragraph, with ``who`` is connected), cause ``unreachable``."""
    refusal = getattr(exc, "refusal", None)
    if refusal is not None:
        return StoreWriteError(refusal_paragraph(refusal, exc.detail, safe_url(url), what=what,
                                                 who=who), cause="unreachable")
    retry = retry_advice(what)
    detail = getattr(exc, "detail", "") or str(exc)
    return StoreWriteError(
        f"Store unreachable — {what} NOT saved. The PostgreSQL server {safe_url(url)} holding "
        f"this project does not answer ({detail}). Check the network and that the server is "
        f"running, then {retry}; everything saved before is kept on the server.",
        cause="unreachable")


class PgLabelStore(LabelStore):
    """``LabelStore`` on PostgreSQL (see the module doc). ``url``: a ``postgresql://`` URL;
    ``schema``: the project's schema (``schema_for(name)``); ``project_dir``: the local
    folder (messages and the pool file). ``create``: make the schema and tables; ProjectError
    when the schema already holds a project.

    Raises ProjectError when the server cannot be reached at open, the schema holds no
    project, or the project was written by a newer activelab.
    """

    dialect = "postgresql"
    curve_key = "point"

    def __init__(self, url: str, schema: str, project_dir: str | Path, *,
                 create: bool = False, busy_timeout: float | None = None,
                 checkpoint_delay: float | None = None, name: str | None = None) -> None:
        self.url, self.schema = url, schema
        self.project_dir = Path(project_dir)
        self.path = self.project_dir / POINTER_NAME
        self._init_state(busy_timeout, None)   # no checkpoints: the server is durable
        self._conns: dict[str, PgConnection] = {}   # "main" and "side" (see _conn)
        self._conns_lock = threading.Lock()
        self._reads = _Reads(self)
        try:
            self._open_pg(create)
        except StoreUnreachable as exc:
            who = self._who(exc)
            self.close()
            if exc.refusal is not None:
                raise ProjectError(refusal_paragraph(
                    exc.refusal, exc.detail, exc.where, who=who, opening=(
                        f"The team project {name or self.project_dir.name} was not created "
                        "(nothing was written)" if create else
                        f"The team project {self.project_dir} cannot be opened"))) from exc
            if create:
                raise ProjectError(open_failure(
                    exc.detail, exc.where, f"The team project {name or self.project_dir.name} "
                    "was not created (nothing was written)", None)) from exc
            raise ProjectError(open_failure(
                exc.detail, exc.where, f"The team project {self.project_dir} cannot be opened",
                self.path) + " Then open it again; everything saved before is kept on the "
                "server.") from exc

    # -- connections -----------------------------------------------------------------------
    # At most two server connections per store, whatever the number of threads (the app's
    # workers, pollers and jobs come and go): the *main* one carries every write transaction
    # (behind ``self._lock``) and the reads made while no write holds it; the *side* one,
    # opened only when a thread reads while another writes, serves those reads. A
    # one-threaded command therefore uses one connection. Both close with ``close()``.
    def _raw_connect(self):
        import psycopg

        raw = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                              application_name=application_name())
        raw.execute("SELECT set_config('search_path', %s, false), "
                    "set_config('lock_timeout', %s, false)",
                    (f'"{self.schema}"', f"{int(self.busy_timeout * 1000)}ms"))
        return raw

    def _shared(self, which: str) -> PgConnection:
        """The main or side connection (opened on first use)."""
        conn = self._conns.get(which)
        if conn is None:
            with self._conns_lock:
                conn = self._conns.get(which)
                if conn is None:
                    conn = PgConnection(self._raw_connect, safe_url(self.url))
                    self._conns[which] = conn
        return conn

    def _conn(self):   # type: ignore[override]
        """The connection for this thread's next statements: the main one inside this
        thread's write transaction, else a reader that runs each statement on the main
        connection when no write holds it and on the side connection when one does (a read
        never waits for another process's writer)."""
        if getattr(self._local, "writing", False):
            return self._shared("main")
        return self._reads

    def _who(self, exc: BaseException) -> str:
        """Who holds the server's connections (for a "too many clients" refusal), else ""."""
        if getattr(exc, "refusal", None) != "too_many_clients":
            return ""
        import psycopg

        return connected_summary(
            [c for c in list(self._conns.values()) if c.is_open],
            lambda: psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT,
                                    application_name=application_name()))

    @property
    def connections_open(self) -> int:
        """How many server connections this store holds now (0, 1 or 2)."""
        return sum(1 for c in list(self._conns.values()) if c.is_open)

    def _open_pg(self, create: bool) -> None:
        conn = self._shared("main")
        exists = conn.execute("SELECT 1 FROM information_schema.schemata WHERE schema_name=?",
                              (self.schema,)).fetchone() is not None
        if create:
            if exists and self._tables(conn):
                raise ProjectError(
                    f"The database {safe_url(self.url)} already holds a project in schema "
                    f"'{self.schema}'. Give the new project another folder name, or attach to "
                    f"that one: 'activelab attach {safe_url(self.url)} FOLDER --project "
                    f"{self.schema.removeprefix('activelab_')}'.{password_left_out(self.url)}")
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')
            conn.executescript(SCHEMA)
            with self.writing("import") as c:
                c.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?) "
                          "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                          (str(SCHEMA_VERSION),))
                c.execute("INSERT INTO meta(key, value) VALUES ('created', ?) "
                          "ON CONFLICT(key) DO NOTHING", (str(time.time()),))
        elif not exists:
            raise ProjectError(
                f"The database {safe_url(self.url)} has no activelab project '{self.schema}' "
                f"(the store of {self.project_dir}). Check the URL and the project name; "
                "'activelab new FOLDER --data FILE --store URL' creates one.")
        self._check()
        migrate(conn)
        self._event_cols = event_columns(conn)

    def _tables(self, conn: PgConnection) -> set[str]:
        return {r[0] for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema=?",
            (self.schema,))}

    def _check(self) -> None:
        conn = self._conn()
        tables = self._tables(conn)
        if not NEEDED_TABLES <= tables:
            raise ProjectError(
                f"The schema '{self.schema}' of {safe_url(self.url)} is not an activelab "
                f"project store (missing tables: {sorted(NEEDED_TABLES - tables)}).")
        version = schema_version(conn)
        if version > SCHEMA_VERSION:
            raise ProjectError(
                f"The project store '{self.schema}' on {safe_url(self.url)} was written by a "
                f"newer activelab (store schema {version}; this version reads up to "
                f"{SCHEMA_VERSION}). Upgrade activelab to open it; the project has not been "
                "changed.")
        if version < 1:
            raise ProjectError(f"The project store '{self.schema}' has no schema version.")

    @property
    def display_url(self) -> str:
        """The server's URL without a password (for messages and commands to type)."""
        return safe_url(self.url)

    def _writable_again(self) -> bool:
        return False

    def integrity_check(self) -> str:
        """The server keeps its own pages consistent: "ok" when the tables answer."""
        self._check()
        return "ok"

    def checkpoint(self, mode: str = "TRUNCATE") -> bool:
        """Nothing to copy: every commit is on the server when it returns."""
        return True

    def close(self) -> None:
        """Close the server connections this store opened (a later call opens them again)."""
        with self._conns_lock:
            conns, self._conns = list(self._conns.values()), {}
        for conn in conns:
            try:
                conn.close()
            except Exception:   # closing a broken connection: nothing left to keep
                pass
        self._local = threading.local()

    def drop(self) -> None:
        """Remove the project's schema and every row in it (a failed create cleans up)."""
        self._conn().execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        self.close()

    # -- writing ---------------------------------------------------------------------------
    @contextmanager
    def writing(self, what: str) -> Iterator[PgConnection]:   # type: ignore[override]
        """One write transaction, serialised with every other writer of this project
        (advisory lock). A lost server raises ``StoreWriteError`` (cause ``unreachable``)
        naming ``what`` was not saved; the next write reconnects."""
        from activelab.core.store.connection import rollback_quietly
        from activelab.core.store.failures import is_storage_error, write_error

        with self._lock:
            self._local.writing = True
            conn = None
            try:
                conn = self._shared("main")
                conn.execute("BEGIN IMMEDIATE")
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn is not None:
                    rollback_quietly(conn)   # also a BEGIN whose lock wait timed out
                if isinstance(exc, StoreUnreachable):
                    raise unreachable_error(exc, self.url, what, self._who(exc)) from exc
                if is_storage_error(exc):
                    raise write_error(exc, self.project_dir, what,
                                      busy_timeout=self.busy_timeout) from exc
                raise
            finally:
                self._local.writing = False


class _Reads:
    """What ``PgLabelStore._conn()`` gives a thread outside a write: each statement runs on
    the main connection when no write transaction holds it (taken without waiting), else on
    the side connection. Used like a connection: ``execute``, ``executemany``."""

    dialect = "postgresql"
    in_transaction = False

    def __init__(self, store: PgLabelStore) -> None:
        self._store = store

    def _run(self, method: str, *args):
        store = self._store
        try:
            if store._lock.acquire(blocking=False):
                try:
                    return getattr(store._shared("main"), method)(*args)
                finally:
                    store._lock.release()
            return getattr(store._shared("side"), method)(*args)
        except StoreUnreachable as exc:
            if exc.refusal is not None and not exc.who:
                exc.who = store._who(exc)   # asked on the connection still open, if any
            raise

    def execute(self, sql: str, params=None):
        return self._run("execute", sql, params)

    def executemany(self, sql: str, seq):
        return self._run("executemany", sql, seq)

    def executescript(self, script: str) -> None:
        self._run("executescript", script)

    def close(self) -> None:
        """Nothing of its own to close (the store's ``close`` closes its connections)."""
