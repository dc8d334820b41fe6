"""The wizard's "Store" choice, against the real test PostgreSQL server: a team project is
created on the server; bad URLs get the CLI's one-paragraph messages (checked in a background
job, never on the UI thread), without the password; the default stays this computer."""
from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QWizard  # noqa: E402

from activelab.app.wizard import NewProjectWizard  # noqa: E402
from activelab.app.wizard_store import LOCAL, TEAM  # noqa: E402
from tests.app.test_wizard import _next, _wait_preview, _write_csv  # noqa: E402


def _to_create_page(qtbot, tmp_path: Path) -> NewProjectWizard:
    data = _write_csv(tmp_path / "news.csv")
    wiz = NewProjectWizard(projects_dir=str(tmp_path / "projects"))
    qtbot.addWidget(wiz)
    wiz.show()
    _wait_preview(qtbot, wiz, str(data))
    _next(wiz)
    wiz.tasks_page.editor.table.cellWidget(0, 0).setText("topic")
    wiz.tasks_page.editor.table.cellWidget(0, 1).setCurrentText("topic")
    _next(wiz)
    _next(wiz)
    assert wiz.currentPage() is wiz.create_page
    return wiz


def _check(qtbot, wiz: NewProjectWizard, url: str) -> str:
    """Type ``url``; the check's outcome shown under it once the background job answered."""
    box = wiz.create_page.store_box
    box.url_edit.setText(url)
    assert "Checking" in box.status.text() and not box.ready()
    qtbot.waitUntil(lambda: "Checking" not in box.status.text(), timeout=20000)
    return box.status.text()


def test_a_team_project_is_created_on_the_server_and_bad_urls_say_why(
        qtbot, tmp_path, pg_server, pg_url, monkeypatch):
    import activelab.core.store.pg_probe as pg_probe
    from activelab.core.project.project import Project

    threads: list[threading.Thread] = []
    real = pg_probe.probe_team_store

    def probe(*args, **kw):
        threads.append(threading.current_thread())
        return real(*args, **kw)

    monkeypatch.setattr(pg_probe, "probe_team_store", probe)
    wiz = _to_create_page(qtbot, tmp_path)
    box = wiz.create_page.store_box
    finish = wiz.button(QWizard.WizardButton.FinishButton)
    assert box.combo.currentData() == LOCAL and not box.url_edit.isVisible()
    assert finish.isEnabled()
    box.combo.setCurrentIndex(box.combo.findData(TEAM))
    assert box.url_edit.isVisible() and not finish.isEnabled(), "a team project needs a URL"

    base = pg_server.url.rsplit("/", 1)[0]             # postgresql://postgres@127.0.0.1:PORT
    host = base.split("@", 1)[1]
    with socket.socket() as s:                         # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        silent = s.getsockname()[1]
    for url, says in [
        ("postgresql://ann:s3cret@db.lab:notaport/labels", "port ('notaport') is not a number"),
        (f"{base}/no_such_db", "has no such database"),
        (f"postgresql://nobody_here:s3cret@{host}/postgres", "refuses the login"),
        (f"postgresql://ann:s3cret@127.0.0.1:{silent}/labels", "is unreachable"),
        ("mysql://ann@db.lab/labels", "is not a PostgreSQL URL"),
    ]:
        text = _check(qtbot, wiz, url)
        assert says in text, text
        assert "s3cret" not in text and "Traceback" not in text
        assert not finish.isEnabled()
    assert threads and all(t is not threading.main_thread() for t in threads), \
        "the server is asked in a background job"

    # (the test server trusts local logins: any password is accepted)
    with_password = pg_url.replace("postgresql://postgres@", "postgresql://postgres:s3cret@")
    text = _check(qtbot, wiz, with_password)
    assert "The server answers" in text and "password in the URL will be saved" in text
    assert "s3cret" not in text
    text = _check(qtbot, wiz, pg_url)
    assert "The server answers (PostgreSQL" in text and "activelab_news" in text
    assert "password" not in text
    assert box.ready() and finish.isEnabled()
    with qtbot.waitSignal(wiz.project_created, timeout=90000) as sig:
        finish.click()
    folder = Path(sig.args[0])
    assert (folder / "store.json").exists() and not (folder / "project.sqlite").exists()
    project = Project.open(folder)
    try:
        assert project.store.dialect == "postgresql" and project.n_samples == 24
        project.label("s0", "sport")
        assert project.labeled_count() == 1
    finally:
        project.close()

    # A second wizard for the same folder name: the server already holds that project.
    (tmp_path / "again").mkdir()
    again = _to_create_page(qtbot, tmp_path / "again")
    again.create_page.folder_edit.setText(str(tmp_path / "elsewhere" / "news"))
    again.create_page.store_box.combo.setCurrentIndex(1)
    text = _check(qtbot, again, pg_url)
    assert "already holds a project in schema 'activelab_news'" in text
    assert not again.button(QWizard.WizardButton.FinishButton).isEnabled()
    again.create_page.folder_edit.setText(str(tmp_path / "elsewhere" / "news2"))
    qtbot.waitUntil(lambda: again.create_page.store_box.ready(), timeout=20000)
    assert "activelab_news2" in again.create_page.store_box.status.text()
