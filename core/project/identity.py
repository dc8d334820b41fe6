"""Who this computer labels as when nobody said: ``login@hostname``, chosen once per machine.

Two people whose login is the same (``root`` in two containers, ``user`` on two laptops) must
not become one annotator: their undo would take back each other's labels and agreement
would compare a person with themselves. So the default name carries the machine:

* ``machine_identity()``: ``<login>@<short host name>``, written the first time to
  ``identity.json`` in this machine's activelab settings folder (``$XDG_CONFIG_HOME/activelab``,
  else ``~/.config/activelab``; ``%APPDATA%\\activelab`` on Windows: the folder the app keeps
  its own settings in) and read from there afterwards, so a later change of host name does not
  split one person in two. Edit the file (or use ``--annotator``, ``ACTIVELAB_ANNOTATOR``, the
  app's File > Annotator name…, all of which win over it) to choose another name.
* ``default_annotator(project)``: this machine's name, except on a project made before names
  carried the machine. There the project's ``annotator`` setting (the creator's bare login)
  already names earlier labels; the first machine whose login is that name to open the project
  claims it (store setting ``annotator_machine``) and keeps labeling as it, so its undo and
  its agreement still see its earlier labels. Every other machine gets ``login@host``.
"""
from __future__ import annotations

import getpass
import json
import os
import re
import socket
import sqlite3
import sys
from pathlib import Path
from typing import Any

from activelab.core.errors import ActiveLabError

__all__ = ["IDENTITY_FILE", "OWNER_KEY", "config_dir", "default_annotator", "login_name",
           "machine_identity"]

IDENTITY_FILE = "identity.json"
OWNER_KEY = "annotator_machine"
"""Store setting: the machine identity that labels as the project's bare ``annotator`` name."""


def config_dir() -> Path:
    """This machine's activelab settings folder (not created here)."""
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "activelab"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "activelab"


def login_name() -> str:
    """The login name ("user" when the system has none for this process)."""
    try:
        return getpass.getuser() or "user"
    except (KeyError, OSError):
        return "user"


def _host() -> str:
    """The host name up to its first dot, letters, digits, '-' and '_' only ("host" if empty)."""
    try:
        name = socket.gethostname()
    except OSError:
        name = ""
    return re.sub(r"[^A-Za-z0-9_-]", "", name.split(".")[0])[:40] or "host"


def machine_identity(folder: Path | None = None) -> str:
    """This machine's default annotator name (see the module doc); ``folder``: the settings
    folder (default ``config_dir()``). Never raises: a file that cannot be read or written
    gives the freshly made ``login@host`` (the same on every call while the host keeps its
    name)."""
    path = (folder or config_dir()) / IDENTITY_FILE
    try:
        stored = json.loads(path.read_text(encoding="utf-8")).get("annotator")
        if isinstance(stored, str) and stored.strip() and stored.strip().isprintable():
            return stored.strip()
    except (OSError, ValueError, AttributeError):
        pass
    name = f"{login_name()}@{_host()}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"annotator": name}) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass        # not kept: the same name is made again next time
    return name


def default_annotator(project: Any, me: str | None = None) -> str:
    """The name ``project`` (a Project) labels under when no name was given: ``me`` (default
    ``machine_identity()``), or on a project whose earlier labels carry the bare login
    ``project.settings.annotator`` the machine that claimed that name (see the module doc)."""
    me = me or machine_identity()
    name = project.settings.annotator
    if name == me or name != me.rsplit("@", 1)[0]:
        return me
    if name not in project.store.state().actors():
        return me                      # nobody labeled under the bare name: nothing to keep
    store = project.store
    owner = store.get_setting(OWNER_KEY, None)
    if owner is None:
        if project.read_only:
            return name                # viewing only: nothing is recorded under it
        try:
            store.set_setting(OWNER_KEY, me)
            owner = store.get_setting(OWNER_KEY, None)
        except (ActiveLabError, sqlite3.Error, OSError):
            return me
    return name if owner == me else me
