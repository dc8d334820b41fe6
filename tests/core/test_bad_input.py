"""Bad input at import gives a DataError that names the file, row or column (import cases)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from activelab.core.errors import DataError
from activelab.core.data.images import load_image
from activelab.core.data.read import imported_labels, infer_spec, read_table, validate_table


def _raises(fn, *args, **kwargs) -> str:
    with pytest.raises(DataError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_missing_file(tmp_path):
    msg = _raises(read_table, tmp_path / "nope.csv")
    assert "nope.csv" in msg and "does not exist" in msg


def test_missing_folder(tmp_path):
    msg = _raises(read_table, tmp_path / "no_such_dir" / "images")
    assert "no_such_dir" in msg and "does not exist" in msg


def test_empty_file(tmp_path):
    p = tmp_path / "empty.csv"
    p.write_text("")
    msg = _raises(read_table, p)
    assert "empty.csv" in msg and "empty" in msg


def test_header_only_file(tmp_path):
    p = tmp_path / "head.csv"
    p.write_text("text,label\n")
    msg = _raises(read_table, p)
    assert "head.csv" in msg and "no data rows" in msg and "text, label" in msg


def test_row_with_too_many_fields_names_the_line(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("a,b,label\n1,2,x\n3,4,y\n5,6,x,extra\n7,8,y\n")
    msg = _raises(read_table, p)
    assert "bad.csv" in msg and "line 4" in msg
    assert "4 fields" in msg and "has 3" in msg


def test_invalid_json_line(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text('{"text": "a", "label": "x"}\n{"text": "b", "label": \n')
    msg = _raises(read_table, p)
    assert "d.jsonl" in msg and "line 2" in msg


def test_unreadable_parquet(tmp_path):
    p = tmp_path / "d.parquet"
    p.write_bytes(b"PAR1 this is not really parquet")
    msg = _raises(read_table, p)
    assert "d.parquet" in msg and "Parquet" in msg


def test_binary_garbage_file(tmp_path):
    p = tmp_path / "blob.csv"
    p.write_bytes(bytes(range(256)) * 20)
    msg = _raises(read_table, p)
    assert "blob.csv" in msg and "binary" in msg


def test_duplicate_id(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("sid,text,label\nA,hello world here,x\nB,good day to you,y\nA,another long message,x\n")
    table = read_table(p)
    # named as soon as the id column is known, before any other check of the table
    msg = _raises(infer_spec, table, id_column="sid")
    assert "'A'" in msg and "rows 1, 3" in msg and "--id-column" in msg


def test_missing_image(tmp_path):
    (tmp_path / "images").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "images" / "ok.jpg")
    p = tmp_path / "meta.csv"
    p.write_text("image,label\nimages/ok.jpg,a\nimages/gone.jpg,b\n")
    table = read_table(p)
    spec, _ = infer_spec(table)
    msg = _raises(validate_table, table, spec)
    assert "gone.jpg" in msg and "row 2" in msg and "do not exist" in msg
    msg = _raises(load_image, "images/gone.jpg", table.image_root)
    assert "gone.jpg" in msg


def test_unreadable_image(tmp_path):
    (tmp_path / "images").mkdir()
    Image.new("RGB", (4, 4)).save(tmp_path / "images" / "ok.jpg")
    (tmp_path / "images" / "bad.jpg").write_bytes(b"this is not a jpeg at all" * 10)
    p = tmp_path / "meta.csv"
    p.write_text("image,label\nimages/ok.jpg,a\nimages/bad.jpg,b\n")
    table = read_table(p)
    spec, _ = infer_spec(table)
    msg = _raises(validate_table, table, spec)
    assert "bad.jpg" in msg and "row 2" in msg and "cannot be read" in msg
    msg = _raises(load_image, "images/bad.jpg", table.image_root)
    assert "bad.jpg" in msg and "cannot be decoded" in msg


def test_label_outside_class_list(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("text,label\nhello there friend,a\ngood morning to you,b\nsee you later then,c\n")
    table = read_table(p)
    spec, _ = infer_spec(table, tasks=["label:a,b"])
    msg = _raises(imported_labels, table, spec)
    assert "Row 3" in msg and "'label'" in msg and "'c'" in msg and "a, b" in msg


@pytest.mark.parametrize("kwargs,name", [
    ({"tasks": ["label=nosuch"]}, "nosuch"),
    ({"text_columns": ["body"]}, "body"),
    ({"id_column": "key"}, "key"),
    ({"feature_columns": ["wat"]}, "wat"),
    ({"image_column": "img"}, "img"),
])
def test_unknown_column(tmp_path, kwargs, name):
    p = tmp_path / "d.csv"
    p.write_text("text,label\nhello there friend,a\ngood morning to you,b\n")
    msg = _raises(infer_spec, read_table(p), **kwargs)
    assert f"'{name}'" in msg and "Available columns: text, label" in msg


def test_unknown_image_column_at_read(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("text,label\nhello there friend,a\ngood morning to you,b\n")
    msg = _raises(read_table, p, image_column="photo")
    assert "'photo'" in msg and "text, label" in msg


def test_no_task_and_no_label_column(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("text,kind\nhello there friend,a\ngood morning to you,b\n")
    msg = _raises(infer_spec, read_table(p))
    assert "--task NAME:a,b,c" in msg and "--task NAME=COLUMN" in msg


def test_multilabel_names_unknown_task(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("text,label\nhello there friend,a\ngood morning to you,b\n")
    msg = _raises(infer_spec, read_table(p), multilabel=["tags"])
    assert "'tags'" in msg and "label" in msg


def test_empty_text_column(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("note,label\n,a\n,b\n")
    table = read_table(p)
    spec, _ = infer_spec(table, text_columns=["note"])
    msg = _raises(validate_table, table, spec)
    assert "'note'" in msg and "empty in every row" in msg


def test_npz_without_x(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, images=np.zeros((2, 3, 3)))
    msg = _raises(read_table, p)
    assert "d.npz" in msg and "images" in msg and "X" in msg


def test_npz_label_length_mismatch(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, X=np.zeros((4, 3, 3)), y=np.zeros(3))
    msg = _raises(read_table, p)
    assert "d.npz" in msg and "4 rows" in msg


def test_image_folder_without_images(tmp_path):
    (tmp_path / "empty_dir").mkdir()
    (tmp_path / "empty_dir" / "readme.txt").write_text("hi")
    msg = _raises(read_table, tmp_path / "empty_dir")
    assert "empty_dir" in msg and "no image files" in msg


def test_wrong_explicit_encoding(tmp_path):
    p = tmp_path / "d.csv"
    p.write_bytes("text,label\ncaf\xe9,a\n".encode("latin-1"))
    msg = _raises(read_table, p, encoding="utf-8")
    assert "d.csv" in msg and "utf-8" in msg
