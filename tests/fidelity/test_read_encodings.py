"""Encodings are detected, or the file is refused with its first non-UTF-8 line (issue 8).

Each case is one file as a user might have it; the right value is the text as it was written,
or a refusal naming the line and the --encoding option. Never mojibake with success.
"""
from __future__ import annotations

import codecs

import pytest

from activelab.core.errors import DataError
from activelab.core.data.read import read_table

TEXT = 'id,text,label\n0020,Café “naïve” – déjà vu,pos\n1.10,日本語のテキスト 東京,neg\n+7,plain words,pos\n'
TEXTS = ["Café “naïve” – déjà vu", "日本語のテキスト 東京", "plain words"]


def _table(rows: list[tuple[str, str]]) -> str:
    return "id,text,label\n" + "".join(f"{i},{t},{lab}\n" for i, (t, lab) in enumerate(rows))


UNICODE_CASES = {
    "utf-8": (TEXT.encode("utf-8"), "UTF-8"),
    "utf-8 with BOM": (codecs.BOM_UTF8 + TEXT.encode("utf-8"), "UTF-8 with BOM (BOM dropped)"),
    "utf-16 LE with BOM": (codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"), "UTF-16-LE with BOM"),
    "utf-16 BE with BOM": (codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"), "UTF-16-BE with BOM"),
    "utf-16 LE no BOM": (TEXT.encode("utf-16-le"), "UTF-16-LE (no BOM"),
    "utf-16 BE no BOM": (TEXT.encode("utf-16-be"), "UTF-16-BE (no BOM"),
    "utf-32 LE with BOM": (codecs.BOM_UTF32_LE + TEXT.encode("utf-32-le"), "UTF-32-LE with BOM"),
    "utf-32 BE with BOM": (codecs.BOM_UTF32_BE + TEXT.encode("utf-32-be"), "UTF-32-BE with BOM"),
    "utf-32 LE no BOM": (TEXT.encode("utf-32-le"), "UTF-32-LE (no BOM"),
    "utf-32 BE no BOM": (TEXT.encode("utf-32-be"), "UTF-32-BE (no BOM"),
}


@pytest.mark.parametrize("case", list(UNICODE_CASES), ids=list(UNICODE_CASES))
def test_unicode_encodings_read_exactly(tmp_path, case):
    raw, said = UNICODE_CASES[case]
    p = tmp_path / "data.csv"
    p.write_bytes(raw)
    table = read_table(p)
    assert list(table.frame.columns) == ["id", "text", "label"]  # BOM not glued to 'id'
    assert table.frame["text"].tolist() == TEXTS
    assert table.frame["id"].tolist() == ["0020", "1.10", "+7"]
    assert table.rows_read == 3
    assert f"encoding {said}" in table.decisions[0]


LEGACY_CASES = {
    "cp1252 words": (
        _table([("Café au lait “très” bon – 5 €", "pos"), ("naïve façade et déjà vu", "neg"),
                ("Smörgåsbord für alle", "pos")] * 3), "cp1252", "cp1252"),
    "latin-1 words": (
        _table([("Ærøskøbing og São Paulo", "pos"), ("Zürich ist schön", "neg"),
                ("El niño está aquí", "pos")] * 3), "latin-1", "cp1252"),
    "shift_jis Japanese": (
        _table([("これは日本語のテキストです", "pos"), ("東京は大きな都市です", "neg"),
                ("今日は天気がいいですね", "pos")] * 3), "shift_jis", "cp932"),
    "cp1251 Russian": (
        _table([("Привет как дела сегодня", "pos"), ("Москва большой город", "neg"),
                ("Это тестовый текст", "pos")] * 3), "cp1251", "cp1251"),
    "gb18030 Chinese": (
        _table([("这是一个中文文本的例子", "pos"), ("北京是中国的首都", "neg"),
                ("今天天气很好", "pos")] * 3), "gb18030", "gb18030"),
    "euc-kr Korean": (
        _table([("이것은 한국어 텍스트입니다", "pos"), ("서울은 큰 도시입니다", "neg")] * 3), "euc-kr", "cp949"),
    "cp1253 Greek": (
        _table([("Αυτό είναι ένα ελληνικό κείμενο", "pos"), ("Η Αθήνα είναι μεγάλη πόλη", "neg")] * 3),
        "cp1253", "cp1253"),
}


@pytest.mark.parametrize("case", list(LEGACY_CASES), ids=list(LEGACY_CASES))
def test_confident_legacy_encoding_is_used_and_said(tmp_path, case):
    text, codec, detected = LEGACY_CASES[case]
    p = tmp_path / "legacy.csv"
    p.write_bytes(text.encode(codec))
    table = read_table(p)
    expected = [line.split(",")[1] for line in text.splitlines()[1:]]
    assert table.frame["text"].tolist() == expected
    first = table.decisions[0]
    assert f"encoding {detected}" in first and "not valid UTF-8" in first and "line 2" in first


def test_turkish_cp1254_reads_as_cp1252_and_says_the_alternative(tmp_path):
    """Single-byte Western code pages differ in a few letters only; the choice is said with
    what the closest alternative would read, so the user can pass --encoding."""
    text = _table([("Türkçe metin için güzel bir örnek", "pos"), ("İstanbul çok büyük bir şehir", "neg")] * 3)
    p = tmp_path / "tr.csv"
    p.write_bytes(text.encode("cp1254"))
    table = read_table(p)
    assert "cp1254" in table.decisions[0] and "pass --encoding" in table.decisions[0]
    assert read_table(p, encoding="cp1254").frame["text"][1] == "İstanbul çok büyük bir şehir"


REFUSED = {
    "utf-8 mixed with latin-1": (
        "id,text\n0,café\n1,naïve\n".encode("utf-8") + "2,déjà\n".encode("latin-1"),
        "line 4", "mixes text encodings"),
    "bytes undefined in cp1252": (
        b"id,text\n1,hello there my friend\n2,some \x81\x8d text\x9d here\n3,more words here\n",
        "line 3", "cannot be decided"),
    "one stray byte 0x81": (b"id,text\n1,hello\n2,wor\x81ld\n", "line 3", "cannot be decided"),
    "random high bytes": (
        b"id,text\n" + b"".join(b"%d,%s\n" % (i, bytes((37 * i + 11 * j) % 128 + 128 for j in range(8)))
                               for i in range(10)),
        "line 2", "cannot be decided"),
}


@pytest.mark.parametrize("case", list(REFUSED), ids=list(REFUSED))
def test_undecidable_encoding_is_refused_with_the_line(tmp_path, case):
    raw, line, what = REFUSED[case]
    p = tmp_path / "bad.csv"
    p.write_bytes(raw)
    with pytest.raises(DataError) as info:
        read_table(p)
    msg = str(info.value)
    assert "bad.csv" in msg and what in msg and f"{line} has the byte(s)" in msg
    assert "--encoding" in msg


def test_binary_garbage_is_refused(tmp_path):
    p = tmp_path / "blob.csv"
    p.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(DataError, match="binary"):
        read_table(p)


def test_explicit_encoding_wins_over_detection(tmp_path):
    p = tmp_path / "t.csv"
    raw = _table([("Привет как дела сегодня", "pos"), ("Москва большой город", "neg")] * 3).encode("cp1251")
    p.write_bytes(raw)
    assert read_table(p).frame["text"][0] == "Привет как дела сегодня"
    forced = read_table(p, encoding="latin-1")  # the user said so: read as latin-1
    assert forced.frame["text"][0] == raw.splitlines()[1].split(b",")[1].decode("latin-1")
    assert "encoding latin-1 (given)" in forced.decisions[0]


def test_wrong_explicit_encoding_names_the_line(tmp_path):
    p = tmp_path / "d.csv"
    p.write_bytes("text,label\nfine,a\ncaf\xe9,b\n".encode("latin-1"))
    with pytest.raises(DataError) as info:
        read_table(p, encoding="utf-8")
    msg = str(info.value)
    assert "d.csv, line 3" in msg and "not valid utf-8" in msg and "b'\\xe9" in msg


def test_unknown_encoding_name(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(DataError, match="Unknown text encoding 'klingon'"):
        read_table(p, encoding="klingon")


def test_jsonl_in_utf16_with_bom(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_bytes('{"text": "Grüße", "id": "0020"}\n{"text": "東京", "id": "0021"}\n'.encode("utf-16"))
    table = read_table(p)
    assert table.frame["text"].tolist() == ["Grüße", "東京"]
    assert table.frame["id"].tolist() == ["0020", "0021"]
