"""Delimited text is read as written: every cell the text in the file, the layout sniffed from
the content whatever the extension, and every repair said (issue 8, "Spreadsheet CSVs work")."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from activelab.core.errors import DataError
from activelab.core.data.read import read_table

ROOT = Path(__file__).resolve().parents[2]
ROWS = [["0020", "a text, with comma", "1,5", "pos"], ["1.10", "second\nline", "+7", "neg"],
        ["12345678901234567890", "plain", "-0,25", "pos"]]


def _write(p: Path, delimiter: str, rows=ROWS, header=("id", "text", "score", "label")) -> Path:
    def cell(v: str) -> str:
        return f'"{v}"' if any(c in v for c in (delimiter, "\n", '"', ",")) else v
    lines = [delimiter.join(header)] + [delimiter.join(cell(v) for v in r) for r in rows]
    p.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8", newline="")
    return p


DELIMITER_CASES = [
    (";", ".csv"), (";", ".txt"), (";", ""), ("\t", ".csv"), ("\t", ".dat"), ("\t", ".tsv"),
    ("|", ".csv"), ("|", ".txt"), (",", ".tsv"), (",", ".dat"), (",", ""),
]


@pytest.mark.parametrize("delimiter,ext", DELIMITER_CASES,
                         ids=[f"{ {';': 'semicolon', chr(9): 'tab', '|': 'pipe', ',': 'comma'}[d]}{e or '-noext'}"
                              for d, e in DELIMITER_CASES])
def test_delimiter_sniffed_whatever_the_extension(tmp_path, delimiter, ext):
    p = _write(tmp_path / f"data{ext}", delimiter)
    table = read_table(p)
    assert list(table.frame.columns) == ["id", "text", "score", "label"]
    assert table.frame.values.tolist() == ROWS  # quoted delimiters and newlines stay in their field
    assert table.rows_read == 3
    name = {";": "semicolon", "\t": "tab", "|": "pipe", ",": "comma"}[delimiter]
    assert f"{name}-separated" in table.decisions[0]
    assert all(type(v) is str for v in table.frame.values.ravel())


@pytest.mark.parametrize("given", [";", "semicolon"])
def test_delimiter_given_wins(tmp_path, given):
    p = tmp_path / "d.csv"
    p.write_text("a;b,c\n1;2,3\n4;5,6\n")  # splits evenly on both: the .csv would pick ','
    assert list(read_table(p).frame.columns) == ["a;b", "c"]
    table = read_table(p, delimiter=given)
    assert list(table.frame.columns) == ["a", "b,c"] and table.frame["b,c"].tolist() == ["2,3", "5,6"]
    assert "delimiter semicolon (given)" in table.decisions[1]


def test_bad_delimiter_option(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="'::' is not a delimiter"):
        read_table(p, delimiter="::")


@pytest.mark.parametrize("delimiter,decimal", [(";", ","), ("\t", ","), ("|", ",")])
def test_decimal_comma_detected_and_cells_kept(tmp_path, delimiter, decimal):
    p = tmp_path / "d.txt"
    p.write_text(delimiter.join(["id", "score"]) + "\n" + "".join(
        f"{i}{delimiter}{i},{i + 5}\n" for i in range(5)))
    table = read_table(p)
    assert table.decimal == decimal
    assert table.frame["score"].tolist() == [f"{i},{i + 5}" for i in range(5)]
    assert "decimal mark ',' (column 'score' holds numbers written like '0,5')" in table.decisions[1]


def test_thousands_commas_in_a_tsv_are_not_a_decimal_mark(tmp_path):
    p = tmp_path / "d.tsv"
    p.write_text("id\tpopulation\na\t1,500\nb\t12,000\nc\t3\n")
    table = read_table(p)
    assert table.decimal == "." and table.frame["population"].tolist() == ["1,500", "12,000", "3"]


def test_decimal_given(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text('id,x\na,"1,5"\nb,"2,5"\n')
    table = read_table(p, decimal=",")
    assert table.decimal == "," and table.frame["x"].tolist() == ["1,5", "2,5"]
    assert "decimal mark ',' (given)" in table.decisions[1]
    assert read_table(p).decimal == "."
    with pytest.raises(DataError, match="Decimal mark ';'"):
        read_table(p, decimal=";")


def test_header_with_trailing_empty_cells(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("id,text,label,,,\nw0,great good,pos,,,\nw1,bad sad, neg ,,,\nw2,nice,pos ,,,\n")
    table = read_table(p)
    assert list(table.frame.columns) == ["id", "text", "label"]
    assert table.frame["label"].tolist() == ["pos", " neg ", "pos "]  # spaces kept as written
    assert "3 columns with no name and no values dropped (columns 4, 5, 6)" in table.decisions[1]


def test_column_with_empty_header_but_values_gets_a_name(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text(",text,label\n0,good,pos\n1,bad,neg\n")  # pandas' to_csv with its index
    table = read_table(p)
    assert list(table.frame.columns) == ["Unnamed: 0", "text", "label"]
    assert table.frame["Unnamed: 0"].tolist() == ["0", "1"]
    assert "named 'Unnamed: 0'" in table.decisions[1]


def test_duplicate_column_names_made_unique_and_said(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("x,x,x_2,x,label\n1,2,3,4,a\n5,6,7,8,b\n")
    table = read_table(p)
    assert list(table.frame.columns) == ["x", "x_3", "x_2", "x_4", "label"]
    assert table.frame["x_4"].tolist() == ["4", "8"]
    assert "repeated column names made unique: 'x' -> 'x_3', 'x' -> 'x_4'" in table.decisions[1]


def test_header_names_with_spaces_are_trimmed_and_said(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("id, text ,label\n 7 , a b ,pos \n")
    table = read_table(p)
    assert list(table.frame.columns) == ["id", "text", "label"]
    assert table.frame.values.tolist() == [[" 7 ", " a b ", "pos "]]
    assert "spaces around column names removed: ' text '" in table.decisions[1]


def test_r_row_names_header_one_short(tmp_path):
    p = tmp_path / "r.tsv"
    p.write_text('"x"\t"y"\n"1"\t0.5\t"a"\n"2"\t1.5\t"b"\n')  # R's write.table
    table = read_table(p)
    assert list(table.frame.columns) == ["Unnamed: 0", "x", "y"]
    assert table.frame.values.tolist() == [["1", "0.5", "a"], ["2", "1.5", "b"]]
    assert "one name fewer than every row" in table.decisions[1]


UNCLOSED = {
    "unterminated then quoted rows": ('id,text,label\n0,"a",x\n1,"b",y\n2,"never closed,x\n3,"c",y\n4,"d",x\n', 4, "line 5"),
    "unterminated to end of file": ('id,text\n1,x\n2,"never closed\n3,y\n', 3, "the end of the file"),
    "semicolon file": ('id;text\n1;"ok"\n2;"open;x\n3;"c"\n', 3, "line 4"),
    "after a legit multi-line field": ('id,text\n1,"two\nlines"\n2,"open,x\n3,"c"\n', 4, "line 5"),
}


@pytest.mark.parametrize("case", list(UNCLOSED), ids=list(UNCLOSED))
def test_unclosed_quote_refused_with_the_line_where_it_opens(tmp_path, case):
    text, line, ran = UNCLOSED[case]
    p = tmp_path / "q.csv"
    p.write_text(text)
    with pytest.raises(DataError) as info:
        read_table(p)
    msg = str(info.value)
    assert f"q.csv, line {line}: the quoted field that opens on this line" in msg
    assert f"ran on to {ran}" in msg


def test_text_after_a_closing_quote_is_refused_not_rewritten(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text('id,text\n1,"Hi" she said\n2,x\n')
    with pytest.raises(DataError, match=r"line 2: a quoted field is followed by other text"):
        read_table(p)


def test_legit_quoted_newlines_import_one_sample_per_record(tmp_path):
    p = tmp_path / "q.csv"
    p.write_bytes(b'id,text\r\n1,"first\r\nsecond ""quoted"" line"\r\n2,"x\ny\nz"\r\n3,plain\r\n')
    table = read_table(p)
    assert table.rows_read == 3
    assert table.frame["text"].tolist() == ['first\r\nsecond "quoted" line', "x\ny\nz", "plain"]


def test_tsv_quotes_inside_messages_are_text(tmp_path):
    p = tmp_path / "msgs"
    p.write_text('label\ttext\nham\t"Hi" she said\nspam\tfree "prize"\nham\t"quoted"\n')
    table = read_table(p)
    assert table.frame["text"].tolist() == ['"Hi" she said', 'free "prize"', '"quoted"']
    assert "quotes are part of the text" in table.decisions[1]


def test_row_of_empty_cells_is_skipped_and_said(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a;b;c\n1;2;3\n;;\n\n4;5;6\n")
    table = read_table(p)
    assert table.frame.values.tolist() == [["1", "2", "3"], ["4", "5", "6"]]
    assert table.rows_read == 2
    assert "1 row with every cell empty or blank skipped (line 3)" in table.decisions[1]


def test_short_rows_padded_and_extra_empty_fields_ignored(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b,c\n1,2\n3,4,5,,\n6,7,8\n")
    table = read_table(p)
    assert table.frame.values.tolist() == [["1", "2", None], ["3", "4", "5"], ["6", "7", "8"]]
    assert "1 row has fewer than 3 fields" in table.decisions[1]
    assert "1 row ends in extra empty fields" in table.decisions[1]


def test_extra_nonempty_field_still_refused(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("a,b,label\n1,2,x\n3,4,y\n5,6,x,extra\n")
    with pytest.raises(DataError, match=r"bad.csv, line 4: this row has 4 fields but the header has 3"):
        read_table(p)


@pytest.mark.parametrize("size", [200_000, 1_000_000])
def test_long_field(tmp_path, size):
    p = tmp_path / "long.csv"
    long = "word " * (size // 5)
    p.write_text(f'id,text\n1,"{long}"\n2,short\n')
    table = read_table(p)
    assert table.frame["text"].tolist() == [long, "short"]


def test_wide_file_reads_without_performance_warning(tmp_path):
    p = tmp_path / "wide.csv"
    n = 2500
    p.write_text(",".join(f"c{i}" for i in range(n)) + "\n"
                 + "\n".join(",".join(str(i * r) for i in range(n)) for r in range(3)) + "\n")
    code = ("import warnings; import pandas;"
            "warnings.simplefilter('error', pandas.errors.PerformanceWarning);"
            "from activelab.core.data.read import read_table;"
            f"t = read_table({str(p)!r}); print(t.frame.shape, t.rows_read)")
    out = subprocess.run([sys.executable, "-c", code],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"(3, {n}) 3" and out.stderr == ""


NA_LIKE = ["None", "NA", "null", "nan", "N/A", "NaN", "NULL", "#N/A", "-"]


@pytest.mark.parametrize("value", NA_LIKE)
def test_na_like_strings_are_values(tmp_path, value):
    p = tmp_path / "d.csv"
    p.write_text(f"id,text,label\n{value},{value},{value}\nx,,y\n")
    table = read_table(p)
    assert table.frame.values.tolist() == [[value] * 3, ["x", None, "y"]]
    assert "kept as text" in table.decisions[1] and "--na-values" in table.decisions[1]


def test_na_values_honoured_exactly(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("id,label\nNA,NA\n n/a,n/a\nnull,\n")
    table = read_table(p, na_values=["NA", "n/a"])
    assert table.frame.values.tolist() == [[None, None], [" n/a", None], ["null", None]]
    assert table.na_values == ("NA", "n/a")
    assert "cells equal to 'NA', 'n/a' read as missing (--na-values): 'id' (1), 'label' (2)" in table.decisions[1]


@pytest.mark.parametrize("value", ["0020", "1.10", "+7", "12345678901234567890", "1e5", "0x1F",
                                   "-0", "007.50", "٣", "1_000", " 5 "])
def test_ids_and_labels_stay_text_as_written(tmp_path, value):
    p = tmp_path / "d.csv"
    p.write_text(f'id,text,label\n"{value}",a text,"{value}"\nother,b text,x\n', encoding="utf-8")
    table = read_table(p)
    assert table.frame["id"][0] == value and table.frame["label"][0] == value
    assert table.frame["id"].dtype == object


def test_excel_sep_line_sets_the_delimiter_and_keeps_line_numbers(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("sep=;\r\nid;text\r\n1;a,b\r\n2;c\r\n")
    table = read_table(p)
    assert table.frame.to_dict("list") == {"id": ["1", "2"], "text": ["a,b", "c"]}
    assert "from the 'sep=' line Excel writes first" in table.decisions[1]
    p.write_text('sep=;\nid;text\n1;"open\n2;"b"\n')
    with pytest.raises(DataError, match="x.csv, line 3: the quoted field"):
        read_table(p)


@pytest.mark.parametrize("raw", [b"id,text\r1,a\r2,b\r", b"id,text\n1,a\n2,b", b"id,text\r\n1,a\r\n2,b\r\n"],
                         ids=["cr-only", "no-final-newline", "crlf"])
def test_line_endings(tmp_path, raw):
    p = tmp_path / "e.csv"
    p.write_bytes(raw)
    assert read_table(p).frame.to_dict("list") == {"id": ["1", "2"], "text": ["a", "b"]}


def test_blank_looking_rows_are_skipped_and_said(tmp_path):
    p = tmp_path / "b.csv"
    p.write_text("id,text\n1,a\n   \n , \n2,b\n")
    table = read_table(p)
    assert table.frame["id"].tolist() == ["1", "2"] and table.rows_read == 2
    assert "2 rows with every cell empty or blank skipped (lines 3, 4)" in table.decisions[1]


def test_file_of_empty_rows_is_refused(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text(";;;\n;;;\n")
    with pytest.raises(DataError, match="e.csv holds no data: every row is empty"):
        read_table(p)


def test_one_column_of_text_with_a_header(tmp_path):
    p = tmp_path / "notes"
    p.write_text('text\nhello there, my friend "quoted"\nanother sentence here\n')
    table = read_table(p)
    assert table.frame.to_dict("list") == {"text": ['hello there, my friend "quoted"', "another sentence here"]}
    assert "one column of text with a header row ('text')" in table.decisions[0]
