from __future__ import annotations

import sqlite3

import pytest

from activelab.core.errors import ProjectError
from activelab.core.store.store import SCHEMA_VERSION, LabelStore


@pytest.fixture
def store(tmp_path):
    s = LabelStore(tmp_path / "project.sqlite", create=True)
    s.add_samples([(i, f"s{i}", {"x": i}) for i in range(5)])
    return s


def test_labels_fold_with_relabel_undo_redo(store):
    store.append_group([{"kind": "label", "sample_id": "s1", "task": "t", "value": "a"}])
    store.append_group([{"kind": "label", "sample_id": "s1", "task": "t", "value": "b"}])
    assert store.state().labels["t"]["s1"] == "b"
    undo_target = store.state().undo_stack[-1]
    store.append_group([{"kind": "undo", "target_seq": undo_target}])
    assert store.state().labels["t"]["s1"] == "a"          # the earlier label is back
    store.append_group([{"kind": "redo", "target_seq": store.state().redo_stack[-1]}])
    assert store.state().labels["t"]["s1"] == "b"
    # nothing was deleted: every action is an event
    assert [e.kind for e in store.events()] == ["label", "label", "undo", "redo"]


def test_new_action_clears_redo(store):
    store.append_group([{"kind": "label", "sample_id": "s1", "task": "t", "value": "a"}])
    store.append_group([{"kind": "undo", "target_seq": store.state().undo_stack[-1]}])
    assert store.state().redo_stack
    store.append_group([{"kind": "label", "sample_id": "s2", "task": "t", "value": "a"}])
    assert store.state().redo_stack == []


def test_group_is_one_action_for_several_tasks(store):
    store.append_group([
        {"kind": "label", "sample_id": "s3", "task": "a", "value": "x"},
        {"kind": "label", "sample_id": "s3", "task": "b", "value": ["p", "q"]},
    ])
    st = store.state()
    assert st.labels["a"]["s3"] == "x" and st.labels["b"]["s3"] == ["p", "q"]
    store.append_group([{"kind": "undo", "target_seq": st.undo_stack[-1]}])
    st = store.state()
    assert "s3" not in st.labels.get("a", {}) and "s3" not in st.labels.get("b", {})


def test_skip_and_flag(store):
    store.append_group([{"kind": "skip", "sample_id": "s4"}])
    store.append_group([{"kind": "flag", "sample_id": "s0"}])
    st = store.state()
    assert st.skipped == {"s4"} and st.flagged == {"s0"}


def test_not_a_database_is_a_clear_error(tmp_path):
    p = tmp_path / "project.sqlite"
    p.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(ProjectError, match="is not an SQLite database .*not an activelab project store"):
        LabelStore(p)


def test_newer_schema_is_refused_and_left_unchanged(tmp_path, store):
    path = store.path
    store.close()
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(ProjectError, match="newer activelab"):
        LabelStore(path)
    assert path.read_bytes() == before


def test_missing_tables_is_a_clear_error(tmp_path):
    p = tmp_path / "project.sqlite"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE other(x)")
    con.commit()
    con.close()
    with pytest.raises(ProjectError, match="not an activelab project store"):
        LabelStore(p)
