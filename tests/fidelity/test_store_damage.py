"""Damaged data never crashes: a damaged store row is skipped and reported by its position,
`activelab check` lists it (exit 1) and `--repair` moves it into the quarantine table; damaged
derived data under cache/ is rebuilt."""
from __future__ import annotations

import json
import shutil
import sqlite3

import numpy as np
import pytest

from activelab.core.cli.main import main
from activelab.core.features.build import load_cached_features
from activelab.core.project.project import Project
from activelab.core.project.check import quarantined
from tests.fidelity.store_helpers import cli, labels_of, make_project


def _sql(proj_path, sql: str, *args) -> int:
    con = sqlite3.connect(proj_path / "project.sqlite")
    try:
        cur = con.execute(sql, args)
        con.commit()
        return cur.lastrowid
    finally:
        con.close()


def _event(proj_path, kind="label", sample_id="s000", task="topic", value='"sport"',
           predicted=None) -> int:
    return _sql(proj_path, "INSERT INTO events(grp, time, kind, sample_id, task, value, predicted) "
                "VALUES (0, 0, ?, ?, ?, ?, ?)", kind, sample_id, task, value, predicted)


def _fix_group(proj_path, seq: int) -> int:
    _sql(proj_path, "UPDATE events SET grp=seq WHERE seq=?", seq)
    return seq


# Each kind: damage the store, the position `check` must print, the reason fragment.
ROW_KINDS = {
    "event-value-not-json": (lambda p: _fix_group(p, _event(p, sample_id="s030", value='{"spo')),
                             "events seq {k}", "value is not valid JSON"),
    "event-predicted-not-json": (lambda p: _fix_group(p, _event(p, sample_id="s030", predicted="[1,")),
                                 "events seq {k}", "predicted is not valid JSON"),
    "label-unknown-id": (lambda p: _fix_group(p, _event(p, sample_id="zz-not-here")),
                         "events seq {k}", "label for an unknown sample id 'zz-not-here'"),
    "label-unknown-task": (lambda p: _fix_group(p, _event(p, sample_id="s030", task="colour")),
                           "events seq {k}", "label for an unknown task 'colour'"),
    "label-unknown-class": (lambda p: _fix_group(p, _event(p, sample_id="s030", value='"music"')),
                            "events seq {k}", "label 'music' is not a class of task 'topic'"),
    "label-not-text": (lambda p: _fix_group(p, _event(p, sample_id="s030", value="3")),
                       "events seq {k}", "label 3 is not a class of task 'topic'"),
    "skip-unknown-id": (lambda p: _fix_group(p, _event(p, kind="skip", sample_id="nope", task=None,
                                                       value=None)),
                        "events seq {k}", "skip for an unknown sample id 'nope'"),
    "setting-wrong-type": (lambda p: _sql(p, "UPDATE settings SET value='5' WHERE key='settings'"),
                           "settings key 'settings'", "the value is int, expected dict"),
    "setting-not-json": (lambda p: _sql(p, "UPDATE settings SET value='{oops' WHERE key='feature_config'"),
                         "settings key 'feature_config'", "the value is not valid JSON"),
    "setting-bad-field": (lambda p: _sql(p, "UPDATE settings SET value=? WHERE key='settings'",
                                         json.dumps({"batch_size": "ten"})),
                          "settings key 'settings'", "cannot be read"),
    "curve-per-task-not-json": (lambda p: _sql(p, "UPDATE curve SET per_task='{' WHERE version=1"),
                                "curve point 1", "per_task is not valid JSON"),
    "queue-predictions-not-json": (lambda p: _sql(p, "UPDATE queue SET predictions='[' WHERE position=0"),
                                   "queue position 0", "predictions is not valid JSON"),
}


@pytest.mark.parametrize("kind", list(ROW_KINDS))
def test_damaged_row_is_skipped_listed_and_quarantined(tmp_path, capsys, kind):
    proj = make_project(tmp_path)
    proj.query(3)                                    # a curve point and a queue
    proj.close()
    before = labels_of(proj.path)
    damage, where, reason = ROW_KINDS[kind]
    key = damage(proj.path)
    where = where.format(k=key)

    opened = Project.open(proj.path)                 # never crashes; the row is skipped
    assert dict(opened.store.state().labels.get("topic", {})) == before
    opened.labels(), opened.curve(), opened.queue(), opened.history()
    assert any(str(r).startswith(f"{where}: ") and reason in str(r) for r in opened.damaged_rows())
    opened.close()

    if not kind.startswith("queue"):                 # (status does not read the queue)
        assert main(["status", str(proj.path)]) == 0
        err = capsys.readouterr().err
        assert "warning: skipped 1 damaged row(s)" in err and where in err

    assert main(["check", str(proj.path)]) == 1
    out = capsys.readouterr().out
    assert f"  {where}: " in out and reason in out and "--repair" in out

    assert main(["check", str(proj.path), "--repair"]) == 0
    out = capsys.readouterr().out
    assert "Moved 1 damaged row(s)" in out and "nothing was deleted" in out
    assert main(["check", str(proj.path)]) == 0
    q = quarantined(proj.path)
    assert [(r["source"], r["key"]) for r in q] == [tuple(where.split(" ", 1))]
    assert reason in q[0]["reason"] and q[0]["row"]            # the original row is kept
    assert labels_of(proj.path) == before


def test_damaged_queue_row_is_skipped_by_query(tmp_path, capsys):
    proj = make_project(tmp_path)
    shown = [it.id for it in proj.query(3)]
    proj.close()
    ROW_KINDS["queue-predictions-not-json"][0](proj.path)
    assert main(["query", str(proj.path), "-n", "2"]) == 0
    out, err = capsys.readouterr()
    assert [ln.split("\t")[0] for ln in out.splitlines()] == shown[1:]   # the rest of the queue
    assert "warning: skipped 1 damaged row(s)" in err and "queue position 0" in err


def test_missing_spec_is_reported_and_not_repairable(tmp_path):
    proj = make_project(tmp_path)
    proj.close()
    _sql(proj.path, "DELETE FROM settings WHERE key='spec'")
    status = cli("status", proj.path)
    assert status.returncode == 1 and "has no spec (settings key 'spec'" in status.stderr
    assert "Traceback" not in status.stderr
    for args in (("check", proj.path), ("check", proj.path, "--repair")):
        out = cli(*args)
        assert out.returncode == 1
        assert "settings key 'spec': missing" in out.stdout and "cannot be repaired here" in out.stdout


def test_damaged_sample_row_is_reported_not_quarantined(tmp_path):
    """A project made before the pool file existed keeps its rows as JSON in the store."""
    proj = make_project(tmp_path)
    rows = proj.frame().to_dict("records")
    proj.close()
    (proj.path / "pool.parquet").unlink()
    _sql(proj.path, "DELETE FROM settings WHERE key='pool'")
    con = sqlite3.connect(proj.path / "project.sqlite")
    with con:
        con.executemany("UPDATE samples SET data=? WHERE idx=?",
                        [(json.dumps(r), i) for i, r in enumerate(rows)])
    con.close()
    _sql(proj.path, "UPDATE samples SET data='{broken' WHERE idx=5")
    opened = Project.open(proj.path)
    assert opened.sample(5).fields == {}
    opened.close()
    out = cli("check", proj.path, "--repair")
    assert out.returncode == 1 and "samples idx 5: data is not valid JSON" in out.stdout
    assert "cannot be repaired here" in out.stdout


@pytest.mark.parametrize("damage", ["truncated", "missing", "fewer_rows"])
def test_damaged_pool_file_is_reported_by_check(tmp_path, damage):
    import pyarrow.parquet as pq

    proj = make_project(tmp_path)
    proj.close()
    pool = proj.path / "pool.parquet"
    if damage == "truncated":
        pool.write_bytes(pool.read_bytes()[: pool.stat().st_size // 2])
    elif damage == "missing":
        pool.unlink()
    else:
        pq.write_table(pq.read_table(pool).slice(0, 10), pool)
    out = cli("check", proj.path)
    assert out.returncode == 1 and "pool.parquet" in out.stdout, out.stdout + out.stderr
    assert "cannot be repaired here" in out.stdout and "Traceback" not in out.stderr


def test_clean_project_checks_clean(tmp_path):
    proj = make_project(tmp_path)
    proj.close()
    out = cli("check", proj.path)
    assert out.returncode == 0 and "integrity ok; no damaged rows." in out.stdout


# ----------------------------------------------------------------------------- derived cache
def _feature_folder(proj: Project):
    return next((proj.path / "cache").glob("features-*"))


def _truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


CACHE_KINDS = {
    "meta-not-json": lambda f: (f / "meta.json").write_text("{not json"),
    "meta-missing-key": lambda f: (f / "meta.json").write_text(
        json.dumps({k: v for k, v in json.loads((f / "meta.json").read_text()).items() if k != "dense"})),
    "matrix-truncated": lambda f: [_truncate(p) for p in f.glob("*.np*")],
    "matrix-missing": lambda f: [p.unlink() for p in f.glob("*.np*")],
    "matrix-wrong-rows": lambda f: [np.save(p, np.zeros((7, 3), np.float32)) for p in f.glob("*.npy")]
    or [p.write_bytes(b"PK\x03\x04 not a zip") for p in f.glob("*.npz")],
    "folder-is-a-file": lambda f: (shutil.rmtree(f), f.write_text("junk")),
    "cache-is-a-file": lambda f: (shutil.rmtree(f.parent), f.parent.write_text("junk")),
}


@pytest.mark.parametrize("kind", list(CACHE_KINDS))
def test_damaged_feature_cache_is_rebuilt(tmp_path, kind):
    proj = make_project(tmp_path)
    want = np.asarray(proj.features.dense).copy()
    fp = proj.features.fingerprint
    folder = _feature_folder(proj)
    proj.close()
    CACHE_KINDS[kind](folder)
    assert load_cached_features(proj.path / "cache", fp, n_samples=40) is None   # no exception
    again = Project.open(proj.path)
    assert np.allclose(np.asarray(again.features.dense), want)
    assert load_cached_features(proj.path / "cache", fp, n_samples=40) is not None   # replaced
    again.close()
    q = cli("query", proj.path, "-n", "2")
    assert q.returncode == 0, q.stderr


PROJECTION_KINDS = {
    "garbage": lambda p: p.write_bytes(b"\x93NUMPY garbage"),
    "truncated": _truncate,
    "wrong-shape": lambda p: np.save(p, np.zeros((40, 3), np.float32)),
    "wrong-rows": lambda p: np.save(p, np.zeros((12, 2), np.float32)),
    "not-finite": lambda p: np.save(p, np.full((40, 2), np.nan, np.float32)),
    "pickled-object": lambda p: np.save(p, np.array([{"x": 1}] * 40, dtype=object), allow_pickle=True),
    "a-folder": lambda p: (p.unlink(), p.mkdir()),
}


@pytest.mark.parametrize("kind", list(PROJECTION_KINDS))
def test_damaged_projection_cache_is_recomputed(tmp_path, kind):
    proj = make_project(tmp_path)
    want = proj.pool_projection().copy()
    proj.close()
    cache = next((proj.path / "cache").glob("projection-*.npy"))
    PROJECTION_KINDS[kind](cache)
    again = Project.open(proj.path)
    got = again.pool_projection()
    assert got.shape == (40, 2) and np.allclose(got, want)
    again.close()
    assert np.allclose(np.load(cache, allow_pickle=False), want)   # the bad cache was replaced
