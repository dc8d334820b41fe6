"""How a label's class was entered (``LabelEvent.input``): saved, exported, read back from an
export, refused when unknown; a schema-2 project opens unchanged and is migrated in place."""
from __future__ import annotations

import csv
import sqlite3

import pandas as pd
import pytest

from activelab.core.errors import LabelError
from activelab.core.export.labels import export_labels
from activelab.core.project.project import Project
from activelab.core.store.events import event_columns
from activelab.core.store.schema import SCHEMA_VERSION, schema_version


def make(tmp_path, name="p"):
    data = tmp_path / f"{name}.csv"
    with data.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "text", "topic", "tone"])
        for i in range(12):
            w.writerow([f"s{i}", f"text number {i}", "ab"[i % 2], "xyz"[i % 3]])
    return Project.create(tmp_path / name, data=data, id_column="id", text_columns=["text"],
                          tasks=["topic=topic", "tone=tone"], import_labels=False)


def test_inputs_are_saved_per_task_and_exported(tmp_path):
    proj = make(tmp_path)
    events = proj.label_sample("s0", {"topic": "a", "tone": "y"},
                               inputs={"topic": "accepted", "tone": "typed"})
    assert {e.task: e.input for e in events} == {"topic": "accepted", "tone": "typed"}
    proj.label_sample("s1", {"topic": "b", "tone": "x"})          # not said: not known
    proj.label("s2", "a", task="topic", input="cli")
    rows = pd.read_csv(export_labels(proj, tmp_path / "out.csv"), dtype=str, keep_default_na=False)
    got = dict(zip(rows["activelab__id"], rows["activelab__topic__input"]))
    assert got == {"s0": "accepted", "s1": "", "s2": "cli"}
    assert dict(zip(rows["activelab__id"], rows["activelab__tone__input"]))["s0"] == "typed"
    with pytest.raises(LabelError, match="Unknown label input 'guessed'"):
        proj.label_sample("s3", {"topic": "a"}, inputs={"topic": "guessed"})
    assert 3 not in proj.labels()["topic"], "a refused label saves nothing"
    # a project made from the export keeps how each label was entered
    again = Project.create(tmp_path / "again", data=tmp_path / "out.csv")
    prov = again.store.state().provenance
    assert prov[("topic", "s0")].input == "accepted" and prov[("topic", "s1")].input is None
    assert prov[("tone", "s0")].input == "typed"
    again.close()
    proj.close()


def _downgrade_to_v2(path) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("ALTER TABLE events DROP COLUMN input")
    con.execute("UPDATE meta SET value='2' WHERE key='schema_version'")
    con.close()


def test_schema_2_project_opens_unchanged_and_is_migrated(tmp_path):
    proj = make(tmp_path)
    proj.label_sample("s0", {"topic": "a", "tone": "y"})
    proj.undo()
    proj.label_sample("s1", {"topic": "b", "tone": "z"})
    before = (proj.labels(), [(e.seq, e.kind, e.task, e.value) for e in proj.history(limit=50)])
    proj.close()
    store = tmp_path / "p" / "project.sqlite"
    _downgrade_to_v2(store)
    # read as it is (what a read-only open does): the old layout gives no input
    con = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True)
    assert schema_version(con) == 2
    rows = con.execute(f"SELECT {event_columns(con)} FROM events").fetchall()
    assert rows and all(len(r) == 18 and r[17] is None for r in rows)
    con.close()
    proj = Project.open(tmp_path / "p")
    assert (proj.labels(), [(e.seq, e.kind, e.task, e.value) for e in proj.history(limit=50)]) == before
    assert all(e.input is None for e in proj.history(limit=50))
    proj.label_sample("s2", {"topic": "a", "tone": "x"}, inputs={"topic": "accepted", "tone": "clicked"})
    assert [e.input for e in proj.history(limit=2)] == ["clicked", "accepted"]
    proj.close()
    con = sqlite3.connect(store)
    assert schema_version(con) == SCHEMA_VERSION == 4   # (4: claims, for several annotators)
    con.close()
