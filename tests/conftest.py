"""Shared test set-up: Qt offscreen, the shared data folder, small helpers."""
from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if not os.environ.get("ACTIVELAB_OFFLINE_PROOF"):
    # The offline proof (tests/fidelity/test_offline.py) leaves it unset on purpose.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
# New projects get MiniLM text features when the embeddings extra is installed (the
# label-efficiency benchmark's choice). Most tests build small text projects and assert
# TF-IDF behaviour, so they pin TF-IDF the way an installation can; the default itself is
# tested with the variable removed (tests/core/test_measured_records.py).
os.environ.setdefault("ACTIVELAB_TEXT_FEATURES", "tfidf")

# No test (nor a process a test starts: the real app, the CLI) may write into the user's own
# activelab settings (the recent-projects list in ~/.config/activelab): the whole session,
# child processes included, keeps its configuration in a temporary folder.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="activelab-tests-config-")
atexit.register(shutil.rmtree, os.environ["XDG_CONFIG_HOME"], ignore_errors=True)

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ACTIVELAB_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_path(*parts: str) -> Path:
    """Path inside ../shared/data, or skip the test with the reason when it is absent."""
    p = SHARED_DATA.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared data not found at {p} (set ACTIVELAB_SHARED_DATA)")
    return p


@pytest.fixture
def shared_data():
    return shared_path


@pytest.fixture(scope="session")
def wheel(tmp_path_factory) -> Path:
    """activelab built as a wheel from this checkout (no dependencies, no network)."""
    import subprocess
    import sys

    import shutil

    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy without build/: setuptools reuses build/lib, so a module moved or
    # deleted since the last build would otherwise still be in the wheel.
    src = tmp_path_factory.mktemp("wheel-src") / "activelab"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", ".pytest_cache"))
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "-q", "-w", str(out), str(src)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return next(out.glob("activelab-*.whl"))


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server for the session (tests/pg_server.py); skips with the reason
    when none can be started on this machine."""
    yield from _started_pg_server()


def _started_pg_server():
    """A PostgreSQL server started for a fixture (tests/pg_server.py), stopped after the yield;
    skips with the reason when none can be started on this machine."""
    from tests.pg_server import start_server

    server, why = start_server()
    if server is None:
        pytest.skip(why)
    yield server
    server.stop()


@pytest.fixture
def pg_own_server():
    """A server of the test's own, to stop and start again (a server that goes away)."""
    yield from _started_pg_server()


@pytest.fixture
def pg_url(pg_server, request):
    """A fresh database on the session's server for one test: its URL."""
    import re
    import uuid

    import psycopg

    name = "t_" + re.sub(r"\W+", "_", request.node.name.lower())[:40] + "_" + uuid.uuid4().hex[:6]
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_server.url.rsplit("/", 1)[0] + "/" + name


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Each store test runs on both backends: "sqlite" and "postgresql" (a real server)."""
    if request.param == "postgresql":
        request.getfixturevalue("pg_server")   # skips with the reason when there is none
    return request.param


@pytest.fixture
def store_url(backend, request):
    """None (project.sqlite) or a fresh PostgreSQL database: a project test runs on both."""
    return request.getfixturevalue("pg_url") if backend == "postgresql" else None


@pytest.fixture
def make_store(backend, tmp_path, request):
    """make_store(create=True) -> a new (or reopened) LabelStore on this test's backend;
    the SQLite one is ``tmp_path/project.sqlite``, the PostgreSQL one a schema of a fresh
    database (the same one on each call)."""
    from activelab.core.store.store import LabelStore

    made = []
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None

    def make(create: bool = True, **kw):
        if backend == "sqlite":
            s = LabelStore(tmp_path / "project.sqlite", create=create, **kw)
        else:
            from activelab.core.store.pg_store import PgLabelStore

            s = PgLabelStore(url, "activelab_test", tmp_path, create=create, **kw)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()
