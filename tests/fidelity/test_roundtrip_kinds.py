"""Other members of the issue's kinds, tried as a new user would: the file a spreadsheet, R,
pandas, a JSON writer or a photo folder produces -> ``new`` -> ``query`` -> ``label`` ->
``export`` (CSV, Parquet, JSON Lines) -> ``new`` from each export -> ``export`` again. At every
step the ids and labels are those of the project, and each kind's own right value holds
(decimal commas read as numbers, row names not features, types kept, ...)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from activelab.core.project.project import Project
from tests.fidelity.cli_helpers import FORMATS, export_all, export_rows, exported_labels, ok

GOOD = ["lovely nice good day", "great good nice film", "superb lovely great show"]
BAD = ["bad sad poor day", "awful bad sad film", "terrible poor awful show"]
N = 8


def text(i: int) -> str:
    return (GOOD if i % 2 == 0 else BAD)[i % 3] + f" {i}"


def polarity(i: int) -> str:
    return "pos" if i % 2 == 0 else "neg"


# ----------------------------------------------------------------------------- the user's files
def excel_cp1252(d: Path) -> Path:
    """Excel (German locale) 'CSV': cp1252 without BOM, semicolons, CRLF, decimal commas with
    thousands dots, a quoted text holding the delimiter."""
    rows = ["id;Bezeichnung;Preis;label"] + [
        f'{i:03d};"{text(i)}; café";{i + 1}.234,{i}5;{polarity(i)}' for i in range(N)]
    p = d / "excel.csv"
    p.write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    return p


def sep_line(d: Path, sep: str = ";") -> Path:
    """Excel / LibreOffice with the 'sep=' first line."""
    rows = [f"sep={sep}", sep.join(["id", "text", "label"])] + [
        sep.join([f"{i:02d}", text(i) + ", with a comma", polarity(i)]) for i in range(N)]
    p = d / "sep.csv"
    p.write_text("\r\n".join(rows) + "\r\n", encoding="utf-8")
    return p


def google_sheets(d: Path) -> Path:
    """Google Sheets: CRLF, no final line break, quoted thousands ("1,234.50"), TRUE/FALSE."""
    rows = ["id,text,amount,flag,label"] + [
        f'G-{i},"{text(i)}, ok","{i + 1},{i}34.50",{"TRUE" if i % 3 else "FALSE"},{polarity(i)}'
        for i in range(N)]
    p = d / "sheets.csv"
    p.write_bytes("\r\n".join(rows).encode())
    return p


def r_write_csv(d: Path) -> Path:
    """R's write.csv: a row-names column with an empty header, every text quoted, NA unquoted
    for a missing number."""
    rows = ['"","id","text","score","label"'] + [
        f'"{i + 1}","{i:04d}","{text(i)}",{"NA" if i == 3 else i / 2},"{polarity(i)}"'
        for i in range(N)]
    p = d / "r.csv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return p


def pandas_csv(d: Path, with_id: bool = True) -> Path:
    """pandas' to_csv with its index (header ',id,...')."""
    frame = pd.DataFrame({"id": [f"{i:03d}" for i in range(N)], "text": [text(i) for i in range(N)],
                          "x": np.arange(N) * 1.5, "label": [polarity(i) for i in range(N)]})
    p = d / "pandas.csv"
    (frame if with_id else frame.drop(columns="id")).to_csv(p)
    return p


def tsv_quotes(d: Path) -> Path:
    """A TSV whose texts hold quotes (not CSV quoting): 5" screen, "quoted" words."""
    rows = ["id\ttext\tlabel"] + [f'{i}\t"{text(i)}" she said, 5" screen\t{polarity(i)}'
                                  for i in range(N)]
    p = d / "quotes.tsv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return p


def jsonl_nested(d: Path) -> Path:
    """JSON Lines with nested objects, nulls, a missing key and keys of mixed types."""
    p = d / "nested.jsonl"
    with open(p, "w", encoding="utf-8") as f:
        for i in range(N):
            rec = {"id": i if i % 2 else str(i), "text": text(i),
                   "meta": {"src": "web", "n": i} if i % 3 else None, "score": i if i % 2 else f"{i}x",
                   "tags": ["a", "b"] if i % 2 else [], "label": None if i == 4 else polarity(i)}
            if i == 5:
                del rec["meta"]
            f.write(json.dumps(rec) + "\n")
    return p


def parquet_typed(d: Path) -> Path:
    """Parquet with nullable ints, time-zone timestamps, list<string> and dictionary columns."""
    t = pa.table({
        "id": pa.array(range(100, 100 + N), pa.int64()),
        "text": pa.array([text(i) for i in range(N)]),
        "count": pa.array([None if i % 4 == 0 else i for i in range(N)], pa.int32()),
        "when": pa.array([pd.Timestamp("2024-03-31 01:30", tz="Europe/Berlin") + pd.Timedelta(hours=i)
                          for i in range(N)], pa.timestamp("us", tz="Europe/Berlin")),
        "kw": pa.array([["x", "y"] if i % 2 else None if i == 4 else [] for i in range(N)],
                       pa.list_(pa.string())),
        "cat": pa.array(["red" if i % 3 else "blue" for i in range(N)]).dictionary_encode(),
        "label": pa.array([polarity(i) for i in range(N)]).dictionary_encode(),
    })
    p = d / "typed.parquet"
    pq.write_table(t, p)
    return p


def pandas_parquet_index(d: Path) -> Path:
    """pandas' to_parquet of a frame indexed by sample names (the index is the id)."""
    frame = pd.DataFrame({"text": [text(i) for i in range(N)],
                          "k": pd.array([None if i == 2 else i for i in range(N)], dtype="Int64"),
                          "label": pd.Categorical([polarity(i) for i in range(N)])},
                         index=pd.Index([f"s{i}" for i in range(N)], name="sample"))
    p = d / "indexed.parquet"
    frame.to_parquet(p)
    return p


def image_folder(d: Path) -> Path:
    """Class folders with nested sub-folders, spaces and accents in every name."""
    from PIL import Image

    root = d / "photos"
    for cls in ("chat noir", "chien ü"):
        for sub in ("", "2024 été", "a/b c"):
            folder = root / cls / sub
            folder.mkdir(parents=True, exist_ok=True)
            for k in range(2):
                Image.new("RGB", (8, 8), (k * 90, 40, 200 if cls == "chat noir" else 10)).save(
                    folder / f"ïmg {k} (copy).png")
    return root


def tiny(d: Path) -> Path:
    p = d / "tiny.csv"
    p.write_text("id,text\n0001,just one row here\n", encoding="utf-8")
    return p


NUMERIC_IDS = ["0020", "1.10", "1.1", "+7", "7", "1e3", "12345678901234567890", "-0", "00",
               "0x1F"]


def numeric_ids(d: Path) -> Path:
    rows = ["id,text,label"] + [f"{s},{text(i)},{i % 2}" for i, s in enumerate(NUMERIC_IDS)]
    p = d / "numeric_ids.csv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return p


JSON_IDS = [7, 1.5, 12345678901234567890, 0, -3, 2.0, 10 ** 30, 8]


def numeric_ids_jsonl(d: Path) -> Path:
    p = d / "numeric_ids.jsonl"
    p.write_text("".join(json.dumps({"id": v, "text": text(i), "label": i % 2}) + "\n"
                         for i, v in enumerate(JSON_IDS)), encoding="utf-8")
    return p


# ----------------------------------------------------------------------------- the loop
@dataclass
class Kind:
    make: Callable[[Path], Path]
    new_args: list[str]
    labels: dict[str, str]                     # sample id -> label given with 'activelab label'
    task: str = "y"
    said: list[str] = field(default_factory=list)      # fragments of what 'new' prints
    check: Callable[[Path, dict[str, Path]], None] | None = None   # (project, exports)


def _check_excel(p: Path, exports: dict[str, Path]) -> None:
    proj = Project.open(p)
    try:
        assert proj.spec.feature_columns == ("Preis",)
        assert proj.frame()["Preis"][0] == "1.234,05"                  # kept as written
        assert proj.sample(0).texts["Bezeichnung"].endswith("; café")   # cp1252 decoded
    finally:
        proj.close()


def _check_sheets(p: Path, exports: dict[str, Path]) -> None:
    proj = Project.open(p)
    try:
        assert "amount" in proj.spec.feature_columns
    finally:
        proj.close()
    assert export_rows(exports["jsonl"])[0]["amount"] == "1,034.50"


def _check_typed(p: Path, exports: dict[str, Path]) -> None:
    t = pq.read_table(exports["parquet"])
    assert str(t.schema.field("when").type) == "timestamp[us, tz=Europe/Berlin]"
    assert t.schema.field("count").type == pa.int32() and t.column("count").null_count == 2
    assert str(t.schema.field("kw").type) == "list<element: string>"
    assert t.column("kw").to_pylist()[:2] == [[], ["x", "y"]]
    assert t.column("cat").type == pa.string() and t.column("id").type == pa.int64()
    row = export_rows(exports["jsonl"])[1]
    assert row["when"] == "2024-03-31T03:30:00+02:00" and row["id"] == 101 and row["count"] == 1


def _check_nested(p: Path, exports: dict[str, Path]) -> None:
    row = export_rows(exports["jsonl"])[1]
    assert row["activelab__id"] == "1" and row["tags"] == ["a", "b"]


def _check_images(p: Path, exports: dict[str, Path]) -> None:
    rows = export_rows(exports["csv"])
    assert "chat noir/2024 été/ïmg 0 (copy).png" in [r["image"] for r in rows]
    assert all(Path(r["activelab__image_path"]).is_file() for r in rows)


KINDS = {
    "excel_cp1252_semicolon_decimal_thousands": Kind(
        excel_cp1252, ["--task", "y=label", "--import-labels", "--text-column", "Bezeichnung"],
        {"003": "pos"}, said=["semicolon-separated", "cp1252", "read as numbers (decimal comma) "
                              "for the model: Preis"], check=_check_excel),
    "sep_line_semicolon": Kind(lambda d: sep_line(d, ";"), ["--task", "y=label", "--import-labels"],
                               {"03": "pos"}, said=["from the 'sep=' line"]),
    "sep_line_pipe": Kind(lambda d: sep_line(d, "|"), ["--task", "y=label", "--import-labels"],
                          {"03": "pos"}, said=["pipe-separated"]),
    "google_sheets": Kind(google_sheets, ["--task", "y=label", "--import-labels"], {"G-5": "pos"},
                          said=["8 samples from 8 data rows read"], check=_check_sheets),
    "r_write_csv_row_names_na": Kind(
        r_write_csv, ["--task", "y=label", "--import-labels"], {"0005": "pos"},
        said=["column 'Unnamed: 0' is a row index (1..8): not used as a feature",
              "feature column 'score': 1 value(s) written as a missing marker (NA; first in row 4)"]),
    "pandas_to_csv_index": Kind(pandas_csv, ["--task", "y=label", "--import-labels"], {"003": "pos"},
                                said=["column 'Unnamed: 0' is a row index (0..7): not used as a feature"]),
    "pandas_to_csv_index_is_id": Kind(
        lambda d: pandas_csv(d, with_id=False), ["--task", "y=label", "--import-labels"], {"3": "pos"},
        said=["id column: 'Unnamed: 0' (a row index (0..7)"]),
    "tsv_quotes_inside_fields": Kind(tsv_quotes, ["--task", "y=label", "--import-labels"], {"3": "pos"},
                                     said=["quotes are part of the text"]),
    "jsonl_nested_nulls_mixed": Kind(jsonl_nested, ["--task", "y=label", "--import-labels",
                                                    "--text-column", "text"], {"4": "pos"},
                                     said=["7 labels imported"], check=_check_nested),
    "parquet_nullable_tz_list_dictionary": Kind(parquet_typed, ["--task", "y=label", "--import-labels"],
                                                {"103": "pos"}, check=_check_typed),
    "pandas_parquet_named_index": Kind(
        pandas_parquet_index, ["--task", "y=label", "--import-labels"], {"s3": "pos"},
        said=["id column: 'sample' (the index pandas saved in the file"]),
    "image_folder_nested_unicode_spaces": Kind(
        image_folder, ["--import-labels"], {"chat noir/2024 été/ïmg 0 (copy).png": "chien ü"},
        task="label", said=["folder of 12 images"], check=_check_images),
    "tiny_one_row": Kind(tiny, ["--task", "y:pos,neg", "--text-column", "text"], {"0001": "pos"},
                         said=["1 samples from 1 data rows read"]),
    "numeric_looking_ids_csv": Kind(numeric_ids, ["--task", "y=label", "--import-labels"],
                                    {"1.10": "1", "+7": "0", "12345678901234567890": "0"}),
    "numeric_ids_jsonl_mixed_int_float_big": Kind(
        numeric_ids_jsonl, ["--task", "y=label", "--import-labels"],
        {"12345678901234567890": "1", "1.5": "0", "7": "0"}),
}


@pytest.mark.parametrize("name", list(KINDS))
def test_new_query_label_export_new_export(tmp_path, capsys, name):
    kind = KINDS[name]
    data = kind.make(tmp_path)
    p = tmp_path / "p"
    said = ok(capsys, "new", p, "--data", data, *kind.new_args)
    for fragment in kind.said:
        assert fragment in said
    ok(capsys, "query", p, "-n", "3")
    for sid, label in kind.labels.items():
        assert f"Saved: {sid} -> {kind.task} = {label}" in ok(capsys, "label", p, sid, label)
    proj = Project.open(p)
    try:
        labels = {kind.task: dict(proj.store.state().labels[kind.task])}
        labeled = [i for i in proj.ids if i in labels[kind.task]]
    finally:
        proj.close()
    tasks = {kind.task: False}
    exports = export_all(capsys, p, tmp_path / "first")
    for fmt, path in exports.items():
        assert [r["activelab__id"] for r in export_rows(path)] == labeled, fmt
        assert exported_labels(path, tasks) == labels, fmt
        again = tmp_path / f"again-{fmt}"
        said = ok(capsys, "new", again, "--data", path)
        assert "an activelab export" in said
        q = Project.open(again)
        try:
            assert q.ids == labeled and {kind.task: q.store.state().labels[kind.task]} == labels, fmt
            for c in q.spec.feature_columns:      # the ids and labels are never features
                assert not (q.frame()[c].astype(str).tolist() == labeled), (fmt, c)
        finally:
            q.close()
        second = export_all(capsys, again, tmp_path / f"second-{fmt}")[fmt]
        assert exported_labels(second, tasks) == labels, fmt
        assert [{k: v for k, v in r.items() if "__time" not in k} for r in export_rows(second)] \
            == [{k: v for k, v in r.items() if "__time" not in k} for r in export_rows(path)], fmt
    if kind.check:
        kind.check(p, exports)
