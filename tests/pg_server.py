"""A real, throw-away PostgreSQL server for the tests (and the store benchmark).

Uses the server binaries of the machine (Debian: /usr/lib/postgresql/N/bin; or ``initdb`` on
PATH; or ``ACTIVELAB_PG_BIN``). PostgreSQL refuses to run as root, so as root the server runs
as the ``postgres`` system user (``runuser``), with its data in a temporary folder it owns.
It listens on 127.0.0.1 on a free port, trusts local connections, and is stopped (and its
folder removed) by ``stop()``. ``start_server()`` returns None with the reason when no server
can be started here; the tests then skip with that reason.
"""
from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def _bin_dir() -> Path | None:
    given = os.environ.get("ACTIVELAB_PG_BIN")
    if given:
        return Path(given)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
    return Path(dirs[-1]) if dirs else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """One running server: ``url`` (database ``postgres``, user ``postgres``), ``stop()``,
    ``restart()`` (same port and data: a server that went away and came back)."""

    def __init__(self, bindir: Path, fsync: bool = False, max_connections: int = 100) -> None:
        self.bindir = bindir
        self.max_connections = max_connections
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres"
            pwd.getpwnam(self.user)   # KeyError when there is no such user
        self.tmp = Path(tempfile.mkdtemp(prefix="activelab-pg-"))
        self.data = self.tmp / "data"
        self.port = _free_port()
        self.fsync = fsync
        if self.user:
            pw = pwd.getpwnam(self.user)
            os.chown(self.tmp, pw.pw_uid, pw.pw_gid)
        self._run([str(bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                   "--no-sync", "-E", "UTF8", "--locale=C"])
        self.start()

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _cmd(self, args: list[str]) -> list[str]:
        return ["runuser", "-u", self.user, "--", *args] if self.user else args

    def _run(self, args: list[str]) -> None:
        out = subprocess.run(self._cmd(args), capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:1])} failed: {out.stderr.strip()[-400:]}")

    def start(self) -> None:
        opts = (f"-h 127.0.0.1 -p {self.port} -k {self.tmp} -c max_connections={self.max_connections} "
                f"-c superuser_reserved_connections={min(3, self.max_connections - 1)} "
                f"-c fsync={'on' if self.fsync else 'off'} -c full_page_writes=off")
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l",
                   str(self.tmp / "log"), "-o", opts, "-w", "-t", "60", "start"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the PostgreSQL server did not start listening")

    def stop_server(self) -> None:
        """Stop the server (fast shutdown: clients are disconnected); ``start()`` again."""
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                   "stop"])

    def stop(self) -> None:
        """Stop the server and remove its folder (again: nothing happens)."""
        if not self.tmp.exists():
            return
        try:
            self.stop_server()
        except (RuntimeError, subprocess.SubprocessError):
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)


def start_server(fsync: bool = False, max_connections: int = 100
                 ) -> tuple[PgServer | None, str]:
    """(a running server, "") or (None, why no server could be started here);
    ``max_connections``: the server's connection slots (PostgreSQL's default is 100)."""
    bindir = _bin_dir()
    if bindir is None or not (bindir / "initdb").exists():
        return None, ("no PostgreSQL server binaries (initdb) found; install the 'postgresql' "
                      "package or set ACTIVELAB_PG_BIN")
    import importlib.util

    if importlib.util.find_spec("psycopg") is None:
        return None, "psycopg is not installed (pip install 'activelab[team]')"
    try:
        server = PgServer(bindir, fsync=fsync, max_connections=max_connections)
        atexit.register(server.stop)   # also when a run ends without its fixtures' teardown
        return server, ""
    except KeyError:
        return None, "running as root and there is no 'postgres' user to run the server as"
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        return None, f"the PostgreSQL server could not be started: {exc}"
