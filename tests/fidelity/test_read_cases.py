"""The handed fidelity cases that concern reading (../shared/cases/fidelity) read to the right
frame, both from the shared folder (skipped when absent) and from an equivalent built here; and
'activelab new' / 'activelab simulate' take --delimiter, --decimal and --na-values."""
from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

import pandas as pd
import pytest

from activelab.core.cli import main as cli
from activelab.core.errors import DataError
from activelab.core.data.read import read_table

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(os.environ.get(
    "ACTIVELAB_SHARED_CASES",
    Path(os.environ.get("ACTIVELAB_SHARED_DATA", ROOT.parent / "shared" / "data")).parent / "cases" / "fidelity",
))
GOOD, BAD = ["lovely nice good", "great good nice"], ["bad sad poor", "awful bad sad"]


def _shared(name: str) -> Path:
    p = CASES / name
    if not p.exists():
        pytest.skip(f"handed case not found at {p} (set ACTIVELAB_SHARED_CASES)")
    return p


def _excel_semicolon_bom(tmp_path: Path) -> Path:
    rows = []
    for i in range(6):
        text = (f'"{GOOD[i % 2]}\r\nsecond line; with semicolon"' if i % 3 == 0 else BAD[i % 2])
        rows.append(f"e{i};{text};{i},5;{'pos' if i % 2 == 0 else 'neg'}")
    p = tmp_path / "excel_semicolon_bom.csv"
    p.write_bytes(b"\xef\xbb\xbf" + ("id;text;score;label\r\n" + "\r\n".join(rows) + "\r\n").encode())
    return p


def _check_excel(table, n: int) -> None:
    assert list(table.frame.columns) == ["id", "text", "score", "label"]  # BOM dropped
    assert table.rows_read == n == len(table.frame)
    assert table.frame["text"][0].endswith("\r\nsecond line; with semicolon")
    assert table.frame["score"][:2].tolist() == ["0,5", "1,5"] and table.decimal == ","
    assert "semicolon-separated" in table.decisions[0] and "BOM dropped" in table.decisions[0]


def test_excel_semicolon_bom_shared():
    _check_excel(read_table(_shared("excel_semicolon_bom.csv")), 24)


def test_excel_semicolon_bom_inline(tmp_path):
    _check_excel(read_table(_excel_semicolon_bom(tmp_path)), 6)


def _check_trailing(table, n: int) -> None:
    assert list(table.frame.columns) == ["id", "text", "label"]
    assert table.rows_read == n
    assert {v.strip() for v in table.frame["label"]} == {"pos", "neg"}
    assert " pos" in set(table.frame["label"])  # as written; h2's import strips class values
    assert "3 columns with no name and no values dropped (columns 4, 5, 6)" in table.decisions[1]


def test_header_trailing_empty_shared():
    _check_trailing(read_table(_shared("header_trailing_empty.csv")), 24)


def test_header_trailing_empty_inline(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("id,text,label,,,\n" + "".join(
        f"w{i},{(GOOD + BAD)[i % 4]},{[' pos', 'neg ', 'pos', ' neg '][i % 4]},,,\n" for i in range(8)))
    _check_trailing(read_table(p), 8)


def test_unterminated_quote_shared():
    with pytest.raises(DataError, match=r"unterminated_quote.csv, line 7: the quoted field that opens"):
        read_table(_shared("unterminated_quote.csv"))


def test_unterminated_quote_inline(tmp_path):
    p = tmp_path / "u.csv"
    p.write_text("id,text,label\n" + "".join(
        f'{i},"hello {i},a\n' if i == 3 else f'{i},"hello {i}",b\n' for i in range(8)))
    with pytest.raises(DataError, match=r"u.csv, line 5: the quoted field that opens"):
        read_table(p)


VALUE_CASES = {  # file, column, values that must be read exactly as written, rows
    "ids_zero_padded.csv": ("id", ["0000", "0001", "0010", "0020"], 40),
    "classes_none.csv": ("label", ["None", "Positive", "Negative"], 30),
    "classes_na.csv": ("region", ["NA", "EU", "APAC"], 30),
    "text_null_like.csv": ("text", ["null", "NA", "nan", "N/A"], 20),
}


@pytest.mark.parametrize("name", list(VALUE_CASES))
def test_values_as_written_shared(name):
    column, values, n = VALUE_CASES[name]
    table = read_table(_shared(name))
    assert table.rows_read == n and table.frame[column].notna().all()
    assert set(values) <= set(table.frame[column])
    if name == "ids_zero_padded.csv":
        assert set(table.frame["label"].dropna()) == {"0", "1"}  # some rows are unlabeled


@pytest.mark.parametrize("name", list(VALUE_CASES))
def test_values_as_written_inline(tmp_path, name):
    column, values, _ = VALUE_CASES[name]
    others = [c for c in ("id", "text", "label") if c != column] if column != "region" else ["id", "text"]
    header = ([column] + others) if column == "id" else (others + [column])
    p = tmp_path / name
    lines = [",".join(header)]
    for i, v in enumerate(values * 2):
        cells = {"id": f"x{i}", "text": f"some words {i}", "label": "ab"[i % 2], column: v}
        lines.append(",".join(cells[h] for h in header))
    p.write_text("\r\n".join(lines) + "\r\n")
    table = read_table(p)
    assert table.frame[column].tolist() == values * 2
    missing = read_table(p, na_values=values[:1]).frame[column]
    assert missing.isna().sum() == 2  # only what the user names is missing


# --------------------------------------------------------------------------- the CLI
def _new(tmp_path, capsys, *args):
    code = cli.main(["new", str(tmp_path / "proj"), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_new_with_read_options(tmp_path, capsys):
    p = tmp_path / "d.txt"
    p.write_text("id|text|score|label\n" + "".join(
        f"0{i}|{(GOOD + BAD)[i % 4]} words here|{i},5|{'NA' if i == 5 else 'ab'[i % 2]}\n" for i in range(8)))
    code, out, err = _new(tmp_path, capsys, "--data", str(p), "--delimiter", "|", "--decimal", ",",
                          "--na-values", "NA", "--task", "t=label", "--text-column", "text",
                          "--import-labels")
    assert code == 0, err
    assert "delimiter pipe (given)" in out and "decimal mark ',' (given)" in out
    assert "cells equal to 'NA' read as missing (--na-values): 'label' (1)" in out
    assert "with 8 samples" in out and "7 samples with imported labels" in out


def test_cli_new_refuses_unclosed_quote(tmp_path, capsys):
    p = tmp_path / "u.csv"
    p.write_text('id,text\n1,"a"\n2,"open\n3,"b"\n')
    code, out, err = _new(tmp_path, capsys, "--data", str(p), "--task", "t:a,b", "--text-column", "text")
    assert code == 1 and "u.csv, line 3: the quoted field that opens" in err
    assert "Traceback" not in err and not (tmp_path / "proj").exists()


def test_cli_new_bad_delimiter_is_one_paragraph(tmp_path, capsys):
    p = tmp_path / "d.csv"
    p.write_text("a,b\n1,2\n")
    code, out, err = _new(tmp_path, capsys, "--data", str(p), "--delimiter", "ab")
    assert code == 1 and "'ab' is not a delimiter" in err and "Traceback" not in err


def test_cli_wide_file_no_fragmentation_warning(tmp_path, capsys):
    p = tmp_path / "wide.csv"
    n = 2100
    p.write_text(",".join(f"c{i}" for i in range(n)) + ",label\n" + "".join(
        ",".join(str((i + 1) * (r + 1)) for i in range(n)) + f",{'ab'[r % 2]}\n" for r in range(6)))
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.PerformanceWarning)
        code, out, err = _new(tmp_path, capsys, "--data", str(p))
    assert code == 0, err
    assert "PerformanceWarning" not in err and "fragmented" not in err


def test_simulate_parser_takes_read_options(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("id;text;label\n" + "".join(
        f"{i:04d};{(GOOD + BAD)[i % 4]} words;{'NA' if i == 0 else 'pn'[i % 4 // 2]}\n" for i in range(12)))
    parser = argparse.ArgumentParser()
    from activelab.core.cli import simulate as cli_simulate

    cli_simulate.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["simulate", "--data", str(p), "--label-column", "label",
                              "--text-column", "text", "--delimiter", ";", "--na-values", "NA",
                              "--encoding", "utf-8"])
    assert (args.delimiter, args.na_values, args.decimal) == (";", "NA", None)
    X, _, y, decisions = cli_simulate.load_labeled(args, None)
    assert len(y) == 11 and "NA" not in set(y)
    assert any("delimiter semicolon (given)" in d for d in decisions)
