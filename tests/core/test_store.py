from __future__ import annotations

import sqlite3

import pytest

from activelab.core.errors import ProjectError
from activelab.core.store.store import SCHEMA_VERSION, LabelStore


@pytest.fixture
def store(make_store):
    """A store with five samples, on each backend (SQLite and PostgreSQL)."""
    s = make_store(create=True)
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


def test_newer_schema_is_refused_and_left_unchanged(store, make_store, backend):
    with store.writing("setting") as con:
        con.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    store.close()
    before = store.path.read_bytes() if backend == "sqlite" else None
    with pytest.raises(ProjectError, match="newer activelab"):
        make_store(create=False)
    if backend == "sqlite":
        assert store.path.read_bytes() == before
    else:
        with store.writing("setting") as con:   # reconnects; the version is as it was
            assert con.execute("SELECT value FROM meta WHERE key='schema_version'"
                               ).fetchone()[0] == str(SCHEMA_VERSION + 1)


def test_settings_curve_queue_and_reopen(store, make_store):
    """Settings (replaced in place), curve points (versions assigned by the store), the
    prepared queue and the sample ids come back the same after the store is reopened."""
    store.set_setting("k", {"a": 1})
    store.set_setting("k", {"a": 2, "pct": "50%"})
    v1 = store.add_curve_point({"time": 1.5, "n_labels": 3, "train_seconds": 0.25,
                                "per_task": {"t": {"acc": 0.5}}}, event_seq=3)
    assert store.add_curve_point({"time": 2.0, "n_labels": 3, "train_seconds": 0.1},
                                 event_seq=3) is None       # same labels, same model
    v2 = store.add_curve_point({"time": 2.0, "n_labels": 4, "train_seconds": 0.1}, event_seq=4)
    store.save_queue([{"id": "s2", "score": 0.9, "predictions": {"t": "a"}},
                      {"id": "s4", "audit": True}], event_seq=4)
    store.close()
    again = make_store(create=False)
    assert again.get_setting("k") == {"a": 2, "pct": "50%"}
    assert (v1, v2) == (1, 2) and again.model_version() == 2
    assert [p["n_labels"] for p in again.curve()] == [3, 4]
    assert again.curve()[0]["per_task"] == {"t": {"acc": 0.5}}
    items, seq = again.load_queue()
    assert [i["id"] for i in items] == ["s2", "s4"] and seq == 4 and items[1]["audit"]
    assert again.queue_entry("s2")["predictions"] == {"t": "a"}
    assert again.sample_ids() == [f"s{i}" for i in range(5)]
    assert again.sample_data(3) == {"x": 3}


def test_missing_tables_is_a_clear_error(tmp_path):
    p = tmp_path / "project.sqlite"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE other(x)")
    con.commit()
    con.close()
    with pytest.raises(ProjectError, match="not an activelab project store"):
        LabelStore(p)


def test_ids_written_part_by_part_keep_their_positions(store):
    """A pool read in parts writes each part's ids at its start: both backends keep every
    position (a part written at start 2 does not land at 0)."""
    from activelab.core.store.samples import SampleIds, add_sample_ids

    add_sample_ids(store, ["a", "b"], start=5)     # after the fixture's five samples
    add_sample_ids(store, ["c", "d"], start=7)
    ids = SampleIds(store)
    assert list(ids) == ["s0", "s1", "s2", "s3", "s4", "a", "b", "c", "d"]
    assert ids.index["c"] == 7
