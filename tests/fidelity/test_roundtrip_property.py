"""Round trip, as a user does it: their file -> new -> label -> export (CSV, Parquet, JSON
Lines) -> new from the export -> export again. Ids, labels (single- and multi-label, the
empty set distinct from "not labeled") and every source column come back as written, at
every step, whatever the ids, classes and texts hold (hypothesis draws them: unicode, quotes,
separators, newlines, zero padding, number-like and NA-like strings, surrounding spaces).

Class values are taken without their surrounding spaces (documented: `` pos `` is class
``pos``), so the labels are compared stripped while the source column keeps the spaces.
In a CSV an empty text and a missing value are the same empty cell (only an empty cell is
missing), so CSV hops compare "" and None as one.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from activelab.core.export.labels import export_labels
from activelab.core.data.export_columns import class_name_problem
from activelab.core.project.project import Project

QUIRKY = [
    "0020", "0000", "1.10", "1.1", "+7", "-0", "007e3", "12345678901234567890", "None", "NA",
    "null", "nan", "N/A", "#N/A", "-", "NULL", "TRUE", "0", "1", "1.0", " padded ", "a,b",
    'say "hi"', "semi;colon", "tab\there", "pi|pe", "two\nlines", "cr\r\nlf", "ünï ☃ 日本",
    "=1+1", "[]", '["x"]', "'q'", "#hash", "\\back", "nel\x85line", "ls\u2028end", "sep=;",
    "id", "text", "label", "tags", "note", "0,5", "1.234,5", "\ufeffbom",
]
_CHARS = st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(
    list("\t\n\r,;|\"' ") + ["\x85", "\u2028"])
_TEXT = st.one_of(st.sampled_from(QUIRKY), st.text(_CHARS, max_size=12))


def _id_values(n: int):
    ids = st.one_of(st.sampled_from(QUIRKY), st.text(_CHARS, min_size=1, max_size=10),
                    st.integers(0, 10 ** 22).map(str)).filter(lambda s: s.strip() != "")
    return st.lists(ids, min_size=n, max_size=n, unique=True)


# Column names as users write them: plain, capitalised, with spaces, accents, the delimiters,
# a year, a number. An id column not named like one is given with --id-column.
NAMES = {
    "id": ["id", "ID", "Kennung (ü)"],
    "text": ["text", "Text; long, free", "2024"],
    "label": ["label", "Klasse", "1"],
    "tags": ["tags", "tags|x"],
    "note": ["note", "NA", "0"],
}


def _native_ids(n: int):
    """Ids a JSON or Parquet writer stores as numbers: integers (beyond 64 bits too) and
    floats, mixed; unique as numbers (in Parquet they share one type). A CSV writes them as
    their text."""
    number = st.one_of(st.integers(-10 ** 20, 10 ** 20), st.floats(allow_nan=False, allow_infinity=False))
    return st.lists(number, min_size=n, max_size=n, unique_by=float)


def id_text(value: Any, source_fmt: str, column: list[Any]) -> str:
    """The id activelab must give a written id: text as written; a JSON integer as its digits,
    a float as Python writes it; in Parquet the column's type decides (all integers within 64
    bits: int64, else float64)."""
    if isinstance(value, str):
        return value
    if source_fmt == "parquet" and not _int64_column(column):
        return repr(float(value))
    return str(value) if isinstance(value, int) else repr(value)


def _int64_column(column: list[Any]) -> bool:
    return all(isinstance(v, int) and -2 ** 63 <= v < 2 ** 63 for v in column)


_CLASS = st.one_of(st.sampled_from(QUIRKY), st.text(_CHARS, min_size=1, max_size=8)).map(
    str.strip).filter(bool)
_ML_CLASS = _CLASS.filter(lambda c: class_name_problem(c, "|") is None)


@st.composite
def tables(draw):
    """(rows, form, the extra labels to give) for one user file."""
    n = draw(st.integers(4, 7))          # every class (at most 3) used, and one row unlabeled
    ids = draw(st.one_of(_id_values(n), _native_ids(n)))
    texts = draw(st.lists(_TEXT, min_size=n, max_size=n))
    if not texts[0].strip():          # row 0 is labeled: an export of only empty texts
        texts[0] = "x" + texts[0]     # has nothing to learn from (refused, said)
    notes = draw(st.lists(st.one_of(st.none(), _TEXT), min_size=n, max_size=n))
    classes = draw(st.lists(_CLASS, min_size=2, max_size=3, unique=True))
    ml_classes = draw(st.lists(_ML_CLASS, min_size=1, max_size=3, unique=True))
    labels = draw(st.lists(st.one_of(st.none(), st.sampled_from(classes)), min_size=n, max_size=n))
    # every class is used once (classes come from the column) and one row stays unlabeled
    labels[:len(classes)] = classes
    labels[-1] = None
    pads = draw(st.lists(st.sampled_from(["", " ", "  "]), min_size=n, max_size=n))
    sets = draw(st.lists(st.one_of(st.none(), st.lists(st.sampled_from(ml_classes), unique=True)),
                         min_size=n, max_size=n))
    sets[0] = list(ml_classes)
    sets[-1] = None
    form = {"ml": draw(st.sampled_from(["pipe", "spaced", "json"])),
            "delimiter": draw(st.sampled_from([",", ";", "\t", "|"])),
            "newline": draw(st.sampled_from(["\r\n", "\n"])),
            "encoding": draw(st.sampled_from(["utf-8", "utf-8-sig"])),
            "names": draw(st.fixed_dictionaries({k: st.sampled_from(v) for k, v in NAMES.items()}))}
    rows = []
    for i in range(n):
        label = None if labels[i] is None else pads[i] + labels[i] + pads[-1 - i]
        rows.append({"id": ids[i], "text": texts[i], "label": label, "tags": sets[i],
                     "note": notes[i]})
    extra_label = draw(st.sampled_from(classes))
    extra_set = draw(st.lists(st.sampled_from(ml_classes), unique=True))
    return rows, form, extra_label, extra_set


# ----------------------------------------------------------------------------- writing
def _tags_text(value: list[str] | None, form: str) -> str | None:
    """A label set as a user writes it in a text cell: ``a|b`` (``a | b`` with the spaced
    form) or a JSON array; ``[]`` is the empty set, an empty cell is not labeled."""
    if value is None:
        return None
    if form == "json" or not value:
        return json.dumps(value, ensure_ascii=False)
    return (" | " if form == "spaced" else "|").join(value)


def write_user_file(folder: Path, rows: list[dict[str, Any]], fmt: str, form: dict) -> Path:
    """The user's file as a spreadsheet writes it (CSV named .csv whatever its delimiter,
    minimal quoting, CRLF or LF, with or without a UTF-8 BOM), a JSON Lines writer or pyarrow
    (Parquet, tags as list<string>)."""
    path = folder / f"data.{fmt}"
    if fmt == "csv":
        with open(path, "w", newline="", encoding=form["encoding"]) as f:
            w = csv.writer(f, delimiter=form["delimiter"], quoting=csv.QUOTE_MINIMAL,
                           lineterminator=form["newline"])
            w.writerow([form["names"][k] for k in ("id", "text", "label", "tags", "note")])
            for r in rows:
                w.writerow([r["sid"], r["text"], "" if r["label"] is None else r["label"],
                            _tags_text(r["tags"], form["ml"]) or "",
                            "" if r["note"] is None else r["note"]])
    elif fmt == "jsonl":
        with open(path, "w", encoding="utf-8") as f:
            for r in rows:
                record = {form["names"][k]: r[k] for k in ("id", "text", "label", "tags", "note")}
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        ids = [r["id"] for r in rows]
        if all(isinstance(v, str) for v in ids):
            id_array = pa.array(ids, pa.string())
        elif _int64_column(ids):
            id_array = pa.array(ids, pa.int64())
        else:
            id_array = pa.array([float(v) for v in ids], pa.float64())
        names = form["names"]
        table = pa.table({
            names["id"]: id_array,
            names["text"]: pa.array([r["text"] for r in rows], pa.string()),
            names["label"]: pa.array([r["label"] for r in rows], pa.string()),
            names["tags"]: pa.array([r["tags"] for r in rows], pa.list_(pa.string())),
            names["note"]: pa.array([r["note"] for r in rows], pa.string()),
        })
        pq.write_table(table, path)
    return path


# ----------------------------------------------------------------------------- reading back
def _blank(v: Any) -> Any:
    return None if v == "" else v


def read_export(path: Path) -> list[dict[str, Any]]:
    """An export read with plain tools: csv module, json, pyarrow (values as written)."""
    if path.suffix == ".csv":
        with open(path, newline="", encoding="utf-8") as f:
            records = list(csv.reader(f))
        return [dict(zip(records[0], r)) for r in records[1:]]
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_bytes().decode("utf-8").split("\n") if line]
    return pq.read_table(path).to_pylist()


def _label_cell(v: Any, csv_file: bool) -> Any:
    if csv_file:
        return None if v == "" else v
    return v


def _set_cell(v: Any, csv_file: bool) -> Any:
    if csv_file:
        return None if v == "" else json.loads(v)
    return v


def exported_labels(path: Path) -> tuple[list[str], dict[str, str], dict[str, list[str]]]:
    """(ids in order, single labels, label sets) of an export file."""
    rows = read_export(path)
    is_csv = path.suffix == ".csv"
    ids = [r["activelab__id"] for r in rows]
    y = {r["activelab__id"]: _label_cell(r["activelab__y__label"], is_csv) for r in rows}
    tags = {r["activelab__id"]: _set_cell(r["activelab__tags__label"], is_csv) for r in rows}
    return (ids, {k: v for k, v in y.items() if v is not None},
            {k: v for k, v in tags.items() if v is not None})


def source_values(path: Path, rows_by_id: dict[str, dict[str, Any]], source_fmt: str,
                  names: dict[str, str]) -> None:
    """Every source column of the export holds the user's value as written."""
    got = [{k: r[names[k]] for k in names} | {"activelab__id": r["activelab__id"]}
           for r in read_export(path)]
    is_csv = path.suffix == ".csv"
    for r in got:
        want = rows_by_id[r["activelab__id"]]
        if isinstance(want["id"], str):
            assert r["id"] == want["id"], ("id", r["id"], want["id"])
        else:         # a number: a float column in Parquet / JSON, its text in a CSV
            assert float(r["id"]) == float(want["id"]), ("id", r["id"], want["id"])
        for col in ("text", "label", "note"):
            w, g = want[col], r[col]
            if is_csv or source_fmt == "csv":
                w, g = _blank(w), _blank(g)
            assert g == w, (col, r["activelab__id"], g, w)
        w_tags = want["tags"]
        if source_fmt == "csv":       # the user's text of the set, as written
            w_tags = _blank(want["tags_text"])
            g_tags = _blank(r["tags"]) if is_csv else r["tags"]
        elif is_csv:                  # a list written into a CSV cell as a JSON array
            g_tags = None if r["tags"] == "" else json.loads(r["tags"])
        else:
            g_tags = r["tags"]
        assert g_tags == w_tags, ("tags", r["activelab__id"], g_tags, w_tags)


def project_labels(proj: Project) -> tuple[dict[str, str], dict[str, list[str]]]:
    st_ = proj.store.state()
    return dict(st_.labels.get("y", {})), {k: list(v) for k, v in st_.labels.get("tags", {}).items()}


# ----------------------------------------------------------------------------- the property
EXPORTS = ("csv", "parquet", "jsonl")


def check_round_trip(folder: Path, rows: list[dict[str, Any]], source_fmt: str, form: dict,
                     extra_label: str, extra_set: list[str]) -> None:
    written = [r["id"] for r in rows]
    for r in rows:
        r["tags_text"] = _tags_text(r["tags"], form["ml"])
        r["sid"] = id_text(r["id"], source_fmt, written)
    data = write_user_file(folder, rows, source_fmt, form)
    names = form["names"]
    proj = Project.create(folder / "p", data=data, tasks=[f"y={names['label']}", f"tags={names['tags']}"],
                          multilabel=["tags"], import_labels=True, text_columns=[names["text"]],
                          id_column=None if names["id"].lower() == "id" else names["id"])
    try:
        ids = [r["sid"] for r in rows]
        assert proj.ids == ids
        want_y = {r["sid"]: r["label"].strip() for r in rows if r["label"] is not None}
        want_tags = {r["sid"]: list(r["tags"]) for r in rows if r["tags"] is not None}
        assert project_labels(proj) == (want_y, want_tags)
        # label more through the API: the unlabeled last row, and the empty set
        last = ids[-1]
        proj.label_sample(last, {"y": " " + extra_label, "tags": []})
        want_y[last], want_tags[last] = extra_label, []
        if len(ids) > 1 and ids[1] not in want_tags:
            proj.label_sample(ids[1], {"tags": extra_set})
            want_tags[ids[1]] = list(extra_set)
        assert project_labels(proj) == (want_y, want_tags)
        labeled = [i for i in ids if i in want_y or i in want_tags]
        by_id = {r["sid"]: r for r in rows}
        for fmt in EXPORTS:
            out = export_labels(proj, folder / f"e1.{fmt}")
            assert exported_labels(out) == (labeled, want_y, want_tags), fmt
            source_values(out, by_id, source_fmt, form["names"])
            again = Project.create(folder / f"p_{fmt}", data=out, text_columns=[names["text"]])
            try:
                assert again.ids == labeled, fmt
                assert project_labels(again) == (want_y, want_tags), fmt
                out2 = export_labels(again, folder / f"e2.{fmt}")
            finally:
                again.close()
            assert exported_labels(out2) == (labeled, want_y, want_tags), fmt
            source_values(out2, by_id, source_fmt, form["names"])
    finally:
        proj.close()


_SETTINGS = settings(max_examples=10, deadline=None, derandomize=True,
                     suppress_health_check=[HealthCheck.function_scoped_fixture,
                                            HealthCheck.too_slow, HealthCheck.data_too_large])


_PLAIN = {k: k for k in ("id", "text", "label", "tags", "note")}
_CSV = {"ml": "pipe", "delimiter": ",", "newline": "\r\n", "encoding": "utf-8", "names": _PLAIN}

# Inputs hypothesis found failing, kept as explicit examples (each also a corpus case in
# test_roundtrip_fixes.py):
# 1. the labeled texts hold no word of two letters ('0', '5', '1.1'): the project made from
#    the export could not build text features ("empty vocabulary").
WORDLESS = ([
    {"id": "0020", "text": "0", "label": "a", "tags": ["t"], "note": None},
    {"id": "NULL", "text": "5", "label": "b", "tags": None, "note": None},
    {"id": "semi;colon", "text": "0020", "label": None, "tags": None, "note": None},
    {"id": "+7", "text": "1.1", "label": None, "tags": None, "note": None},
], _CSV, "a", [])
# 2. ids a JSON writer stores as numbers of mixed kinds: 7 became '7.0', 12345678901234567890
#    lost digits ('1.2345678901234567e+19').
MIXED_NUMBER_IDS = ([
    {"id": 7, "text": "good day", "label": "0", "tags": ["t"], "note": "NA"},
    {"id": 1.5, "text": "bad day", "label": "1", "tags": [], "note": None},
    {"id": 12345678901234567890, "text": "fine", "label": None, "tags": None, "note": "1.10"},
    {"id": -3, "text": "ok", "label": None, "tags": None, "note": None},
], _CSV, "1", ["t"])
# 3. the user's id and label columns were features of the project made from the export.
NUMBER_LIKE = ([
    {"id": "0020", "text": "calm day", "label": "0", "tags": ["1"], "note": "0020"},
    {"id": "1.10", "text": "wild day", "label": "1", "tags": ["0"], "note": "1.10"},
    {"id": "1.1", "text": "calm", "label": "1.0", "tags": None, "note": None},
    {"id": "+7", "text": "wild", "label": None, "tags": None, "note": "+7"},
], _CSV, "1.0", ["0", "1"])


# 4. a text of a lone carriage return, which a writer with "\n" line ends leaves unquoted:
#    the reader ended the row there (one row became two, or the header was lost).
LONE_CR = ([
    {"id": "0020", "text": "0020", "label": "0020", "tags": ["0020"], "note": None},
    {"id": "0000", "text": "0020", "label": "0000", "tags": None, "note": None},
    {"id": "1.10", "text": "one\rtwo", "label": None, "tags": None, "note": "a,b"},
    {"id": "-0", "text": "\r", "label": None, "tags": None, "note": "a,b"},
], {"ml": "pipe", "delimiter": ";", "newline": "\n", "encoding": "utf-8", "names": _PLAIN}, "0020", [])


@pytest.mark.parametrize("source_fmt", ["csv", "jsonl", "parquet"])
@_SETTINGS
@example(case=LONE_CR)
@example(case=WORDLESS)
@example(case=MIXED_NUMBER_IDS)
@example(case=NUMBER_LIKE)
@given(case=tables())
def test_user_file_label_export_new_export_keeps_everything(tmp_path_factory, source_fmt, case):
    rows, form, extra_label, extra_set = case
    check_round_trip(tmp_path_factory.mktemp("rt"), rows, source_fmt, form, extra_label, extra_set)
