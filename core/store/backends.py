"""Which store a project folder uses: ``project.sqlite`` in the folder (the embedded default)
or, when the folder holds a ``store.json`` pointer, a PostgreSQL schema (a team project;
``activelab.core.store.pg_store``). Everything that opens a project's store goes through
``open_store``; psycopg is imported only for a team project.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from activelab.core.errors import ProjectError
from activelab.core.store.store import STORE_NAME, LabelStore

__all__ = ["POINTER_NAME", "has_store", "new_store", "open_store"]

POINTER_NAME = "store.json"


def has_store(folder: str | Path) -> bool:
    """True when ``folder`` holds a project store or a pointer to one."""
    folder = Path(folder)
    return (folder / STORE_NAME).is_file() or (folder / POINTER_NAME).is_file()


def _pg() -> Any:
    try:
        from activelab.core.store import pg_store
    except ImportError as exc:
        raise ProjectError(
            f"This is a team project on PostgreSQL, and psycopg is not installed ({exc}). "
            "Install it with: pip install 'activelab[team]'.") from exc
    return pg_store


def open_store(folder: str | Path, **kw: Any) -> LabelStore:
    """The store of the project in ``folder`` (``LabelStore`` keywords pass through).
    Raises ProjectError when it cannot be opened (naming the cause)."""
    folder = Path(folder)
    if (folder / POINTER_NAME).is_file():
        pg = _pg()
        ptr = pg.read_pointer(folder)
        return pg.PgLabelStore(ptr["url"], ptr["schema"], folder, **kw)
    return LabelStore(folder / STORE_NAME, **kw)


def new_store(folder: Path, name: str, url: str | None) -> LabelStore:
    """A new, empty store for a project being made in ``folder`` (final name ``name``):
    ``project.sqlite`` there, or with ``url`` the PostgreSQL schema ``schema_for(name)`` of
    that database, with ``store.json`` pointing to it written into ``folder``."""
    if not url:
        return LabelStore(folder / STORE_NAME, create=True)
    pg = _pg()
    if not pg.is_store_url(url):
        raise ProjectError(
            f"--store {url!r} is not a PostgreSQL URL. Give one like "
            "postgresql://USER@HOST:5432/DATABASE, or leave --store out for a local project.")
    pg.check_url(url)
    schema = pg.schema_for(name)
    store = pg.PgLabelStore(url, schema, folder, create=True, name=name)
    pg.write_pointer(folder, url, schema)
    return store
