"""File > Join a team project…: attach a folder here to a project on the real test
PostgreSQL server, in a background job; a wrong project name or URL is said in the dialog
(the CLI's words, no password); then the folder opens with the team's labels."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from activelab.app.join_dialog import JoinTeamDialog  # noqa: E402


def test_joining_a_team_project_attaches_a_folder_with_the_teams_labels(
        qtbot, tmp_path, pg_url, monkeypatch):
    import activelab.app.join_dialog as join_dialog
    from activelab.core.project.project import Project
    from tests.core.helpers import write_text_csv

    data = write_text_csv(tmp_path / "d.csv", n=20)
    first = Project.create(tmp_path / "alice" / "reviews", data=data, text_columns=["text"],
                           tasks=["topic=topic"], store_url=pg_url)
    first.set_annotator("alice")
    first.label("s003", "tech")
    first.close()

    threads: list[threading.Thread] = []
    real = join_dialog.join_project

    def join(*args, **kw):
        threads.append(threading.current_thread())
        return real(*args, **kw)

    monkeypatch.setattr(join_dialog, "join_project", join)
    dlg = JoinTeamDialog(projects_dir=str(tmp_path / "bob"))
    qtbot.addWidget(dlg)
    dlg.show()
    assert not dlg.join_button.isEnabled()
    password_url = pg_url.replace("postgresql://postgres@", "postgresql://postgres:s3cret@")
    dlg.url_edit.setText(password_url)
    dlg.name_edit.setText("review")                      # a typo in the project's name
    assert dlg.folder_edit.text() == str(tmp_path / "bob" / "review")
    assert dlg.join_button.isEnabled()
    dlg.join_button.click()
    qtbot.waitUntil(lambda: dlg.error.isVisible(), timeout=30000)
    assert "has no activelab project 'activelab_review'" in dlg.error.text()
    assert "s3cret" not in dlg.error.text() and dlg.isVisible()
    assert not (tmp_path / "bob" / "review").exists(), "nothing was written"

    dlg.name_edit.setText("reviews")
    assert dlg.folder_edit.text() == str(tmp_path / "bob" / "reviews")
    with qtbot.waitSignal(dlg.joined, timeout=60000) as sig:
        dlg.join_button.click()
    assert threads and all(t is not threading.main_thread() for t in threads)
    folder = Path(sig.args[0])
    assert folder == (tmp_path / "bob" / "reviews").resolve() and not dlg.isVisible()
    bob = Project.open(folder)
    try:
        assert bob.n_samples == 20 and bob.labels()["topic"] == {3: "tech"}
        bob.set_annotator("bob")
        bob.label("s004", "sport")
    finally:
        bob.close()
    again = Project.open(tmp_path / "alice" / "reviews")
    assert again.labeled_count() == 2
    again.close()
