"""What is exported reads back as exactly what was there: ids, labels, label sets and
source values, whatever characters they hold; source columns are never overwritten."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activelab.core.export.labels import export_labels
from activelab.core.data.export_columns import parse_multilabel_cell
from activelab.core.data.spec import TaskSpec
from tests.fidelity.export_fakes import FakeProject, RowsFakeProject, csv_records, read_rows

FORMATS = ("csv", "parquet", "jsonl", "json")
QUIRKY = [
    "0020", "1.10", "+5", "12345678901234567890", "007e3", "NA", "None", "null", "nan",
    "N/A", "  padded  ", "a,b", 'say "hi"', "two\nlines", "cr\r\nlf", "tab\there",
    "ünïcødé ☃ 日本", "=1+1", "'quoted'", "#hash", "semi;colon", "\\back\\slash",
    "nel\x85line", "ls\u2028ps\u2029end", "nul\x00byte", "bom\ufeffmid",
]


@pytest.fixture(scope="module")
def quirky(tmp_path_factory):
    """Ids, a text column and single-label classes all made of the quirky strings."""
    folder = tmp_path_factory.mktemp("rt")
    n = len(QUIRKY)
    frame = pd.DataFrame({
        "id": list(range(100, 100 + n)),       # a source column named id, not the ids
        "text": QUIRKY,
        "note": [None if i % 3 == 0 else "" if i % 3 == 1 else "x" for i in range(n)],
    })
    task = TaskSpec("y", tuple(QUIRKY))
    proj = FakeProject(frame, QUIRKY, [task], {"y": {sid: QUIRKY[-1 - i] for i, sid in enumerate(QUIRKY)}})
    return {fmt: export_labels(proj, folder / f"out.{fmt}") for fmt in FORMATS}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("i", range(len(QUIRKY)), ids=[repr(v)[1:-1][:14] for v in QUIRKY])
def test_quirky_id_text_and_label_come_back(quirky, fmt, i):
    row = read_rows(quirky[fmt], fmt)[i]
    assert row["activelab__id"] == QUIRKY[i]
    assert row["text"] == QUIRKY[i]
    assert row["activelab__y__label"] == QUIRKY[-1 - i]


@pytest.mark.parametrize("fmt", FORMATS)
def test_source_id_column_is_not_overwritten(quirky, fmt):
    got = [r["id"] for r in read_rows(quirky[fmt], fmt)]
    want = list(range(100, 100 + len(QUIRKY)))
    assert got == ([str(v) for v in want] if fmt == "csv" else want)


def test_csv_tells_empty_text_from_missing_in_the_bytes(tmp_path, quirky):
    """A missing value is an empty cell, an empty text a quoted "" (pandas reads both as ""
    with keep_default_na=False; the bytes keep them apart); csv.reader agrees with pandas."""
    proj = FakeProject(pd.DataFrame({"note": [None, ""]}), ["a", "b"],
                       [TaskSpec("y", ("p",))], {"y": {"a": "p", "b": "p"}})
    lines = export_labels(proj, tmp_path / "o.csv").read_bytes().split(b"\n")
    assert lines[1].startswith(b'"a",,"p",') and lines[2].startswith(b'"b","","p",')
    records = csv_records(quirky["csv"])
    assert [r[records[0].index("activelab__id")] for r in records[1:]] == QUIRKY


# ----------------------------------------------------------------- source columns kept apart
def test_namespaced_source_columns_replaced_others_kept(tmp_path):
    frame = pd.DataFrame({
        "label": ["keep-1", "keep-2"],
        "activelab__y__label": ["old", "old"],      # from an earlier export: current value wins
        "activelab__note": ["n1", "n2"],            # ours by name, but not one written now
    })
    proj = FakeProject(frame, ["a", "b"], [TaskSpec("y", ("p", "q"))], {"y": {"a": "p", "b": "q"}})
    t = pq.read_table(export_labels(proj, tmp_path / "o.parquet"))
    assert t.column_names[:4] == ["activelab__id", "label", "activelab__note", "activelab__y__label"]
    assert t.column("label").to_pylist() == ["keep-1", "keep-2"]
    assert t.column("activelab__y__label").to_pylist() == ["p", "q"]
    assert t.column_names.count("activelab__y__label") == 1


def test_image_column_kept_and_absolute_paths_added(tmp_path):
    frame = pd.DataFrame({"img": ["a/1.png", "/abs/2.png", "@array:2", None]})
    proj = FakeProject(frame, ["i0", "i1", "i2", "i3"], [TaskSpec("y", ("p", "q"))],
                       {"y": {s: "p" for s in ("i0", "i1", "i2", "i3")}},
                       image_column="img", image_root="/data/imgs")
    t = pq.read_table(export_labels(proj, tmp_path / "o.parquet"))
    assert t.column("img").to_pylist() == ["a/1.png", "/abs/2.png", "@array:2", None]
    assert t.column("activelab__image_path").to_pylist() == [
        "/data/imgs/a/1.png", "/abs/2.png", None, None]
    assert t.column_names.index("activelab__image_path") == 2


# ----------------------------------------------------------------- only the rows exported
def test_export_of_k_labeled_rows_reads_only_those(tmp_path):
    n = 5000
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(n)], "v": np.arange(n)})
    ids = [f"s{i}" for i in range(n)]
    labels = {"y": {"s17": "p", "s4000": "q", "s3": "p"}}
    lazy = RowsFakeProject(frame, ids, [TaskSpec("y", ("p", "q"))], labels)
    eager = FakeProject(frame, ids, [TaskSpec("y", ("p", "q"))], labels)
    a = pq.read_table(export_labels(lazy, tmp_path / "a.parquet"))
    b = pq.read_table(export_labels(eager, tmp_path / "b.parquet"))
    assert lazy.frame_calls == [[3, 17, 4000]]           # only the labeled rows, in order
    assert a.equals(b) and a.column("v").to_pylist() == [3, 17, 4000]


# ----------------------------------------------------------------- property: any values
_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_classes = ("0", "1", "NA", "a,b", 'q"', " sp")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.lists(
    st.tuples(_text, _text, st.one_of(st.none(), st.sampled_from(_classes)),
              st.one_of(st.none(), st.lists(st.sampled_from(("r", "s", "t u")), unique=True,
                                            max_size=3))),
    min_size=1, max_size=8, unique_by=lambda r: r[0]),
    fmt=st.sampled_from(FORMATS))
def test_any_ids_texts_labels_and_sets_round_trip(tmp_path, data, fmt):
    ids = [r[0] for r in data]
    frame = pd.DataFrame({"text": [r[1] for r in data]})
    single = {sid: lab for sid, _, lab, _ in data if lab is not None}
    multi = {sid: s for sid, _, _, s in data if s is not None}
    tasks = [TaskSpec("one", _classes), TaskSpec("many", ("r", "s", "t u"), multilabel=True)]
    proj = FakeProject(frame, ids, tasks, {"one": single, "many": multi})
    out = export_labels(proj, tmp_path / f"prop.{fmt}", include_unlabeled=True)
    rows = read_rows(out, fmt)
    assert [r["activelab__id"] for r in rows] == ids
    for r, (sid, text, lab, labs) in zip(rows, data):
        many = r["activelab__many__label"]
        if fmt == "csv":
            assert r["text"] == text        # CSV: an empty cell reads as ""
            assert (r["activelab__one__label"] or None) == lab
            assert parse_multilabel_cell(many) == labs
        else:
            assert r["text"] == text and r["activelab__one__label"] == lab and many == labs
