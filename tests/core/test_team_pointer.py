"""The team project pointer (store.json) and the commands suggested for a team project:
the password a URL may hold stays private and is never printed."""
from __future__ import annotations

import json
import stat

from activelab.core.store.pg_store import password_left_out, write_pointer


def test_store_json_is_readable_by_its_owner_only(tmp_path):
    url = "postgresql://ann:s3cret@db.example:5432/lab"
    (tmp_path / "store.json").write_text("{}")
    (tmp_path / "store.json").chmod(0o644)               # an older pointer, world-readable
    write_pointer(tmp_path, url, "activelab_w1")
    mode = stat.S_IMODE((tmp_path / "store.json").stat().st_mode)
    assert mode == 0o600
    assert json.loads((tmp_path / "store.json").read_text())["url"] == url


def test_suggested_attach_says_the_password_is_left_out_and_where_to_give_it():
    note = password_left_out("postgresql://ann:s3cret@db.example/lab")
    assert "password is left out" in note and "s3cret" not in note
    assert "PGPASSWORD" in note and ".pgpass" in note
    assert password_left_out("postgresql://ann@db.example/lab") == ""
