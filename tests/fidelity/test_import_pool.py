"""The project's pool keeps the imported table with its exact types (pool.parquet), the
create summary says rows read = samples created, and projects made before the pool file
still open."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from activelab.core.errors import DataError, ProjectError
from activelab.core.store.pool import POOL_FILE, Pool, write_pool
from activelab.core.project.project import Project
from activelab.core.data.spec import DatasetSpec, FeatureConfig, TaskSpec
from activelab.core.store.store import STORE_NAME, LabelStore
from tests.fidelity.import_helpers import create, frame_table, text_table

TEXTS = [f"{w} sample {i}" for i, w in enumerate(["calm quiet gentle", "loud rapid sharp"] * 3)]


def _typed_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "text": TEXTS,
        "label": ["a", "b", "a", "b", "a", "b"],
        "count": pd.array([1, None, 3, 4, None, 6], dtype="Int64"),
        "big": pd.array([2**62, 1, 2, 3, 4, 5], dtype="int64"),
        "ok": pd.array([True, False, None, True, False, True], dtype="boolean"),
        "flag": [True, False, True, True, False, False],
        "when": pd.to_datetime(["2024-01-01T10:00:00Z", None, "2024-03-01T00:00:00Z",
                                "2024-04-01T00:00:00Z", "2024-05-01T00:00:00Z",
                                "2024-06-01T00:00:00Z"], utc=True),
        "tags": [["x", "y"], [], None, ["z"], ["x"], ["y"]],
        "kind": pd.Categorical(["s", "m", "s", "l", "m", None]),
        "ratio": [0.5, np.nan, 1.25, 2.0, -1.0, 3.5],
        "code": pd.Series(["0020", "0x1F", "+7", "1.10", None, "NA"], dtype=object),
    })


TYPE_CASES = {
    # column -> check on the pool's frame column
    "nullable_int": ("count", lambda s: str(s.dtype) == "Int64" and s.isna().tolist() == [False, True, False, False, True, False]),
    "int64_exact": ("big", lambda s: s.dtype == "int64" and int(s.iloc[0]) == 2**62),
    "nullable_bool": ("ok", lambda s: str(s.dtype) == "boolean" and s.isna().sum() == 1),
    "bool": ("flag", lambda s: s.dtype == bool and s.tolist()[:2] == [True, False]),
    "timestamp_tz": ("when", lambda s: str(s.dtype).startswith("datetime64") and str(s.dt.tz) == "UTC"
                     and s.iloc[0] == pd.Timestamp("2024-01-01T10:00:00Z")),
    "list": ("tags", lambda s: [None if v is None else list(v) for v in s] == [["x", "y"], [], None, ["z"], ["x"], ["y"]]),
    "categorical_as_text": ("kind", lambda s: s.tolist() == ["s", "m", "s", "l", "m", None]),
    "float_with_missing": ("ratio", lambda s: s.dtype == "float64" and np.isnan(s.iloc[1])),
    "text_as_written": ("code", lambda s: s.dtype == object and s.tolist() == ["0020", "0x1F", "+7", "1.10", None, "NA"]),
}


@pytest.fixture(scope="module")
def typed_project(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("typed")
    proj = create(tmp, frame_table(_typed_frame()), tasks=["t=label"], text_columns=["text"],
                  feature_columns=["count", "ok", "ratio"])
    yield proj
    proj.close()


@pytest.mark.parametrize("column, check", list(TYPE_CASES.values()), ids=list(TYPE_CASES))
def test_source_types_survive_in_the_pool(typed_project, column, check):
    frame = typed_project.frame()
    assert list(frame.columns) == list(_typed_frame().columns)     # names and order kept
    assert check(frame[column])


def test_pool_row_gives_one_sample_with_its_values(typed_project):
    row = typed_project.sample(3).fields
    assert row["code"] == "1.10" and row["count"] == 4 and row["tags"] == ["z"]
    assert row["when"] == dt.datetime(2024, 4, 1, tzinfo=dt.timezone.utc)
    assert typed_project.sample(1).fields["count"] is None


def test_store_keeps_no_row_copies(typed_project):
    conn = typed_project.store._conn()
    assert {r[0] for r in conn.execute("SELECT data FROM samples")} == {"{}"}
    assert (typed_project.path / POOL_FILE).is_file()


@pytest.mark.parametrize("names", [
    [" spaced ", "a.b", "ünïcode", "label"],
    ["1", "2", "3", "label"],
    ["text", "Text", "TEXT ", "label"],
], ids=["spaces_dots_unicode", "numeric_names", "case_variants"])
def test_column_names_are_kept_exactly(tmp_path, names):
    frame = pd.DataFrame({n: pd.Series([f"v{i}" for i in range(4)], dtype=object) for n in names[:-1]})
    frame[names[0]] = pd.Series(TEXTS[:4], dtype=object)
    frame["label"] = pd.Series(["a", "b", "a", "b"], dtype=object)
    proj = create(tmp_path, frame_table(frame, fmt="csv"), tasks=["t=label"], text_columns=[names[0]])
    assert list(proj.frame().columns) == names
    assert list(proj.sample(0).fields) == names


MIXED_CASES = {
    "numbers_and_text": ([1, "a", 2.5, None, True, "b"], ["1", "a", "2.5", None, "true", "b"]),
    "objects_with_different_keys": ([{"a": 1}, {"b": 2}, None, {"a": 1, "b": 2}, {}, {"c": [1]}],
                                    ['{"a": 1}', '{"b": 2}', None, '{"a": 1, "b": 2}', "{}", '{"c": [1]}']),
    "lists_of_mixed_types": ([[1, "x"], [2], None, [], ["y"], [3.5]],
                             ['[1, "x"]', "[2]", None, "[]", '["y"]', "[3.5]"]),
    "integers_beyond_64_bits": ([12345678901234567890, 1, 2, None, 3, 4],
                                ["12345678901234567890", "1", "2", None, "3", "4"]),
}


@pytest.mark.parametrize("values, stored", list(MIXED_CASES.values()), ids=list(MIXED_CASES))
def test_mixed_type_json_columns_are_kept_as_text_and_said(tmp_path, values, stored):
    frame = pd.DataFrame({"text": TEXTS, "label": list("ababab"),
                          "extra": pd.Series(values, dtype=object)})
    proj = create(tmp_path, frame_table(frame, source="mixed.jsonl", fmt="jsonl"), tasks=["t=label"],
                  text_columns=["text"], feature_columns=[])
    assert proj.frame()["extra"].tolist() == stored
    assert any(d.startswith("column 'extra': values of different types") and "kept as text" in d
               for d in proj.decisions)


def test_pool_reads_across_row_groups(tmp_path):
    frame = pd.DataFrame({"id": pd.Series([f"{i:05d}" for i in range(25)], dtype=object),
                          "x": pd.array(list(range(25)), dtype="Int64")})
    write_pool(frame, tmp_path, row_group_rows=7)
    pool = Pool.open(tmp_path)
    assert len(pool) == 25 and pool.columns == ["id", "x"]
    assert [pool.row(i)["id"] for i in (0, 6, 7, 13, 14, 24)] == ["00000", "00006", "00007", "00013", "00014", "00024"]
    assert pool.frame(columns=["x"], rows=[24, 0, 7])["x"].tolist() == [24, 0, 7]
    with pytest.raises(ProjectError, match="Sample #25 is not in the project"):
        pool.row(25)


def test_repeated_column_names_are_refused(tmp_path):
    frame = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(DataError, match="Column name 'a' appears more than once"):
        write_pool(frame, tmp_path)


def test_missing_pool_file_is_a_clear_error(tmp_path):
    rows = "".join(f"s{i},{t},{'ab'[i % 2]}\n" for i, t in enumerate(TEXTS))
    create(tmp_path, text_table("id,text,label\n" + rows)).close()
    (tmp_path / "p" / POOL_FILE).unlink()
    proj = Project.open(tmp_path / "p")
    with pytest.raises(ProjectError, match="samples file .*pool.parquet is missing"):
        proj.sample(0)
    proj.label("s1", "a")          # labels still work: they live in the store
    assert proj.labeled_count() == 1


def _old_project(folder) -> None:
    """A project as the previous version wrote it: rows as JSON in the store, no pool file."""
    folder.mkdir()
    store = LabelStore(folder / STORE_NAME, create=True)
    rows = [{"id": i, "text": t, "label": "ab"[i % 2], "size": 1.5 * i} for i, t in enumerate(TEXTS)]
    store.add_samples((i, str(r["id"]), r) for i, r in enumerate(rows))
    spec = DatasetSpec(id_column="id", text_columns=("text",), feature_columns=("size",),
                       tasks=(TaskSpec("t", ("a", "b"), column="label"),))
    store.set_setting("spec", spec.to_dict())
    store.set_setting("feature_config", FeatureConfig().to_dict())
    store.set_setting("settings", {})
    store.set_setting("source", {"data": "old.csv", "format": "csv", "image_root": None})
    store.close()


def test_old_projects_without_pool_file_still_work(tmp_path):
    _old_project(tmp_path / "old")
    proj = Project.open(tmp_path / "old")
    assert proj.ids == ["0", "1", "2", "3", "4", "5"]
    assert proj.sample(2).texts == {"text": TEXTS[2]} and proj.sample(2).tabular == {"size": 3.0}
    assert list(proj.frame().columns) == ["id", "text", "label", "size"]
    assert proj.features.n_samples == 6
    proj.label("3", "b")
    assert proj.labels()["t"] == {3: "b"}
    assert proj.rows_read is None


# ----------------------------------------------------------------------------- create summary

def test_rows_read_must_equal_samples_created(tmp_path):
    table = text_table("id,text,label\n" + "".join(f"s{i},{t},{'ab'[i % 2]}\n" for i, t in enumerate(TEXTS)))
    table.rows_read = 7              # the reader saw a row more than the table holds
    with pytest.raises(DataError, match="7 data rows were read but 6 samples would be created"):
        create(tmp_path, table)
    assert not (tmp_path / "p").exists()
    assert not [p for p in tmp_path.iterdir() if ".creating-" in p.name]


def test_cli_summary_says_rows_read_and_samples(tmp_path, capsys):
    from activelab.core.cli.main import main

    path = tmp_path / "d.csv"
    path.write_text("id,text,label\n" + "".join(f"s{i},{t},{'ab'[i % 2]}\n" for i, t in enumerate(TEXTS)))
    assert main(["new", str(tmp_path / "p"), "--data", str(path)]) == 0
    out = capsys.readouterr().out
    assert "with 6 samples from 6 data rows read" in out
    assert Project.open(tmp_path / "p").rows_read == 6
