"""Issue 12: two people with the same login on two machines are two annotators.

What a user notices: with no --annotator, ``root`` on machine A and ``root`` on machine B
record different names (root@hosta, root@hostb), undo only their own labels and show up as
two annotators in agreement; the name is chosen once per machine (a renamed host keeps it);
--annotator / ACTIVELAB_ANNOTATOR / the app's name still win; and a project labeled before
this change by the bare login keeps those labels its user's (the first machine to open it)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from activelab.core.cli.main import main
from activelab.core.project import identity
from activelab.core.project.annotators import ENV_VAR
from activelab.core.project.project import Project
from tests.core.helpers import text_project


class Machine:
    """One computer: its host name and its own settings folder; ``root`` logs in on it."""

    def __init__(self, monkeypatch, tmp_path: Path, host: str, login: str = "root") -> None:
        self.mp, self.home, self.host, self.login = monkeypatch, tmp_path / f"home-{host}", host, login

    def use(self) -> "Machine":
        self.mp.setenv("XDG_CONFIG_HOME", str(self.home))
        self.mp.setattr(identity.socket, "gethostname", lambda: self.host)
        self.mp.setattr(identity.getpass, "getuser", lambda: self.login)
        return self

    def open(self, folder: Path) -> Project:
        """The project as a process on this machine opens it (it works out its name then)."""
        self.use()
        p = Project.open(folder)
        p.annotator     # noqa: B018 -- a process keeps the name of the machine it runs on
        return p


@pytest.fixture
def folder(tmp_path, monkeypatch, store_url):
    monkeypatch.delenv(ENV_VAR, raising=False)
    return text_project(tmp_path, store_url, n=40)


def test_same_login_on_two_machines_is_two_annotators(folder, tmp_path, monkeypatch):
    a_machine = Machine(monkeypatch, tmp_path, "hostA.example.org")
    b_machine = Machine(monkeypatch, tmp_path, "hostB")
    a = a_machine.open(folder)
    b = b_machine.open(folder)
    assert (a.annotator, b.annotator) == ("root@hostA", "root@hostB")
    x, y = a.ids[0], a.ids[1]
    a.label(x, "sport")
    b.label(y, "tech")
    b.label(x, "food")                         # a second opinion on x
    st = a.label_state()
    assert st.labelers(x) == {"root@hostA", "root@hostB"}
    assert a.undo().sample_id == x             # A's own label, although B labeled last
    assert b.label_state().labels_by_annotator("topic", x) == {"root@hostB": "food"}
    assert b.label_state().labels["topic"][y] == "tech"
    a.close(), b.close()
    # chosen once: the machine keeps its name when the host is renamed
    assert json.loads((a_machine.home / "activelab" / identity.IDENTITY_FILE).read_text()) == \
        {"annotator": "root@hostA"}
    monkeypatch.setattr(identity.socket, "gethostname", lambda: "renamed")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(a_machine.home))
    p = Project.open(folder)
    assert p.annotator == "root@hostA"
    p.close()


def test_explicit_names_still_win_and_the_cli_records_the_machine(folder, tmp_path, monkeypatch,
                                                                  capsys):
    m = Machine(monkeypatch, tmp_path, "lab-pc-7").use()
    p = Project.open(folder)
    assert p.annotator == "root@lab-pc-7"
    p.set_annotator("carol", source="app")
    assert p.annotator == "carol"
    monkeypatch.setenv(ENV_VAR, "bob")
    assert p.annotator == "bob"
    p.set_annotator("alice")
    assert p.annotator == "alice"
    sid = p.ids[2]
    p.close()
    monkeypatch.delenv(ENV_VAR)
    assert main(["label", str(folder), sid, "sport"]) == 0
    p = m.open(folder)
    assert [e.annotator for e in p.history()] == ["root@lab-pc-7"]
    p.close()


def test_a_project_labeled_by_the_bare_login_stays_its_users(folder, tmp_path, monkeypatch):
    """Before names carried the machine, events recorded the login (the project's
    ``annotator`` setting). The first machine with that login to open the project keeps
    labeling (and undoing) under it; another machine with the same login is told apart."""
    p = Project.open(folder)
    p.update_settings(annotator="root")         # what an older project holds
    old = p.ids[5]
    p.label(old, "tech", annotator="root")      # what an older version recorded
    p.close()
    a = Machine(monkeypatch, tmp_path, "hostA").open(folder)
    assert a.annotator == "root"
    b = Machine(monkeypatch, tmp_path, "hostB").open(folder)
    assert b.annotator == "root@hostB"
    assert b.undo() is None, "B cannot take back A's earlier label"
    assert a.undo().sample_id == old, "A's undo still reaches its label from before"
    a.close(), b.close()
    again = Machine(monkeypatch, tmp_path, "hostA").open(folder)
    assert again.annotator == "root", "the claim is remembered in the project"
    again.close()


def test_an_unwritable_settings_folder_still_gives_a_name(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker))
    monkeypatch.setattr(identity.socket, "gethostname", lambda: "box")
    monkeypatch.setattr(identity.getpass, "getuser", lambda: "ann")
    assert identity.machine_identity() == "ann@box"
    assert identity.machine_identity() == "ann@box"
