"""Each import form reads into the right table, and infer_spec guesses what a user expects."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from activelab.core.errors import DataError
from activelab.core.data.images import load_image, resolve_image
from activelab.core.data.read import imported_labels, infer_spec, read_table, sample_ids, validate_table

TEXTS = [
    "the quick brown fox jumps over the lazy dog again",
    "a completely different sentence about the weather today",
    "win a free prize now by calling this number quickly",
    "meeting moved to thursday afternoon please confirm soon",
]


def _write_images(folder, names, color=(200, 10, 10), size=(8, 6)):
    folder.mkdir(parents=True, exist_ok=True)
    for n in names:
        Image.new("RGB", size, color).save(folder / n)


def test_csv_with_header(tmp_path):
    p = tmp_path / "data.csv"
    p.write_text("id,text,label,age\n" + "".join(
        f"s{i},{t},{'ab'[i % 2]},{20 + i}\n" for i, t in enumerate(TEXTS)), encoding="utf-8")
    table = read_table(p)
    assert table.format == "csv"
    assert list(table.frame.columns) == ["id", "text", "label", "age"]
    assert table.frame.shape == (4, 4)
    spec, decisions = infer_spec(table)
    assert spec.id_column == "id"
    assert spec.text_columns == ("text",)
    assert spec.feature_columns == ("age",)
    assert spec.tasks[0].name == "label" and spec.tasks[0].classes == ("a", "b")
    assert any("id column: 'id'" in d for d in decisions)
    assert any("text columns" in d for d in decisions)
    assert sample_ids(table, spec) == ["s0", "s1", "s2", "s3"]


def test_tsv_with_header(tmp_path):
    p = tmp_path / "data.tsv"
    p.write_text("label\tmessage\n" + "".join(f"{'ab'[i % 2]}\t{t}\n" for i, t in enumerate(TEXTS)))
    table = read_table(p)
    assert table.format == "tsv"
    assert list(table.frame.columns) == ["label", "message"]
    assert len(table.frame) == 4
    assert any("with a header row" in d for d in table.decisions)


def test_tsv_without_header_gets_numbered_columns(tmp_path):
    p = tmp_path / "data.tsv"
    rows = ["ham", "spam", "ham", "ham", "spam", "ham"]
    p.write_text("".join(f"{lab}\t{TEXTS[i % 4]}\n" for i, lab in enumerate(rows)))
    table = read_table(p)
    assert list(table.frame.columns) == ["col0", "col1"]
    assert len(table.frame) == 6  # the first row is data, not a header
    assert table.frame["col0"].iloc[0] == "ham"
    assert any("without a header row" in d for d in table.decisions)
    spec, _ = infer_spec(table, tasks=["kind=col0"])
    assert spec.tasks[0].classes == ("ham", "spam")
    assert spec.text_columns == ("col1",)


def test_tsv_keeps_quotes_inside_messages(tmp_path):
    p = tmp_path / "msgs"
    p.write_text('label\ttext\nham\t"Hi" she said, "see you"\nspam\tfree "prize" now\nham\tok\n')
    table = read_table(p)
    assert len(table.frame) == 3
    assert table.frame["text"].iloc[0] == '"Hi" she said, "see you"'


def test_file_without_extension_is_sniffed(tmp_path):
    p = tmp_path / "SMSCollection"
    p.write_text("Label\tSMS\n" + "".join(f"{'ham' if i % 3 else 'spam'}\t{TEXTS[i % 4]}\n" for i in range(9)))
    table = read_table(p)
    assert table.format == "tsv"
    assert list(table.frame.columns) == ["Label", "SMS"]
    assert len(table.frame) == 9
    first = table.decisions[0]
    assert "SMSCollection" in first and "no extension" in first
    assert "tab-separated" in first and "header row" in first and "UTF-8" in first


def test_semicolon_file_without_extension(tmp_path):
    p = tmp_path / "export"
    p.write_text("name;score;group\nx;1.5;a\ny;2.5;b\nz;3.0;a\n")
    table = read_table(p)
    assert list(table.frame.columns) == ["name", "score", "group"]
    assert table.frame["score"].tolist() == ["1.5", "2.5", "3.0"]  # text as written (issue 8)
    assert any("semicolon" in d for d in table.decisions)


def test_latin1_file_reads_with_decision(tmp_path):
    p = tmp_path / "questions.csv"
    p.write_bytes("label,text\nDESC,Qu'est-ce que le caf\xe9 ?\nHUM,Who is Bj\xf6rk ?\n".encode("latin-1"))
    table = read_table(p)
    assert table.frame["text"].tolist() == ["Qu'est-ce que le café ?", "Who is Björk ?"]
    assert any("latin-1" in d.lower() and "not valid utf-8" in d.lower() for d in table.decisions)


def test_explicit_encoding_wins(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes("label,text\na,caf\xe9\nb,th\xe9\n".encode("latin-1"))
    table = read_table(p, encoding="latin-1")
    assert table.frame["text"].tolist() == ["café", "thé"]
    assert any("encoding latin-1" in d for d in table.decisions)


def test_utf8_bom_is_stripped(tmp_path):
    p = tmp_path / "bom.csv"
    p.write_bytes("\ufefflabel,x\na,1\nb,2\n".encode("utf-8"))
    table = read_table(p)
    assert list(table.frame.columns) == ["label", "x"]


def test_parquet(tmp_path):
    p = tmp_path / "d.parquet"
    pd.DataFrame({"text": TEXTS, "label": [1, 2, 1, 2], "x": [0.1, 0.2, 0.3, 0.4]}).to_parquet(p)
    table = read_table(p)
    assert table.format == "parquet"
    spec, _ = infer_spec(table)
    assert spec.tasks[0].classes == ("1", "2")
    assert spec.feature_columns == ("x",)
    labels = imported_labels(table, spec)
    assert labels[0] == (0, "label", "1")


def test_jsonl(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text("\n".join(json.dumps({"text": t, "tags": "a|b" if i % 2 else "c"}) for i, t in enumerate(TEXTS)) + "\n")
    table = read_table(p)
    assert table.format == "jsonl"
    assert table.frame.shape == (4, 2)
    spec, decisions = infer_spec(table, tasks=["tags"], multilabel=["tags"])
    assert spec.tasks[0].multilabel and spec.tasks[0].classes == ("a", "b", "c")
    assert imported_labels(table, spec)[1] == (1, "tags", ["a", "b"])
    assert any("multi-label" in d for d in decisions)


def test_jsonl_list_values_are_multilabel(tmp_path):
    p = tmp_path / "d.jsonl"
    p.write_text("\n".join(json.dumps({"text": t, "tags": ["x", "y"][: i % 2 + 1]}) for i, t in enumerate(TEXTS)))
    table = read_table(p)
    spec, _ = infer_spec(table, tasks=["tags=tags"], multilabel=["tags"])
    assert spec.tasks[0].classes == ("x", "y")
    assert imported_labels(table, spec)[:2] == [(0, "tags", ["x"]), (1, "tags", ["x", "y"])]


def test_image_folder_with_class_subfolders(tmp_path):
    _write_images(tmp_path / "imgs" / "cat", ["a.png", "b.jpg"])
    _write_images(tmp_path / "imgs" / "dog", ["c.png"])
    (tmp_path / "imgs" / "dog" / "notes.txt").write_text("not an image")
    table = read_table(tmp_path / "imgs")
    assert table.format == "image_folder"
    assert table.frame["image"].tolist() == ["cat/a.png", "cat/b.jpg", "dog/c.png"]
    assert table.frame["label"].tolist() == ["cat", "cat", "dog"]
    spec, _ = infer_spec(table)
    assert spec.image_column == "image" and spec.tasks[0].classes == ("cat", "dog")
    validate_table(table, spec)
    img = load_image(table.frame["image"][2], table.image_root, size=4)
    assert img.size == (4, 4) and img.mode == "RGB"


def test_image_folder_flat_has_no_label(tmp_path):
    _write_images(tmp_path / "flat", ["x.png", "y.png"])
    table = read_table(tmp_path / "flat")
    assert list(table.frame.columns) == ["image"]
    spec, _ = infer_spec(table, tasks=["kind:cat,dog"])
    assert spec.tasks[0].column is None


def test_metadata_table_with_relative_image_paths(tmp_path):
    _write_images(tmp_path / "images", ["1.jpg", "2.jpg", "3.jpg"])
    p = tmp_path / "meta.csv"
    p.write_text("image,title,kind\nimages/1.jpg,Red shirt for men in cotton size large,shirt\n"
                 "images/2.jpg,Blue shoes for running on roads and trails,shoe\n"
                 "images/3.jpg,Green shirt for women in linen size small,shirt\n")
    table = read_table(p)
    assert table.format == "metadata"
    assert table.image_root == str(tmp_path.resolve())
    spec, decisions = infer_spec(table, tasks=["kind"])
    assert spec.image_column == "image" and spec.text_columns == ("title",)
    assert set(spec.modalities) == {"image", "text"}
    validate_table(table, spec)
    assert resolve_image("images/2.jpg", table.image_root) == tmp_path.resolve() / "images" / "2.jpg"


def test_npz_images_become_array_refs(tmp_path):
    p = tmp_path / "d.npz"
    x = np.arange(5 * 4 * 4, dtype=np.uint8).reshape(5, 4, 4)
    np.savez(p, X_train=x, y_train=np.array([0, 1, 0, 1, 2]), X_test=x[:2])
    table = read_table(p)
    assert table.format == "npz"
    assert table.image_array.shape == (5, 4, 4)
    assert table.frame["image"].tolist()[:2] == ["@array:0", "@array:1"]
    spec, _ = infer_spec(table)
    assert spec.image_column == "image" and spec.tasks[0].classes == ("0", "1", "2")
    validate_table(table, spec)
    img = load_image("@array:1", None, table.image_array)
    assert img.mode == "L" and np.array_equal(np.asarray(img), x[1])
    assert any("X_test" in d for d in table.decisions)


def test_npz_2d_becomes_feature_columns(tmp_path):
    p = tmp_path / "f.npz"
    np.savez(p, X=np.random.default_rng(0).normal(size=(6, 3)), y=np.array(["a", "b"] * 3))
    table = read_table(p)
    assert list(table.frame.columns) == ["f0", "f1", "f2", "label"]
    spec, _ = infer_spec(table)
    assert spec.feature_columns == ("f0", "f1", "f2") and spec.image_column is None


def test_task_forms_and_number_classes(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("text,stars,topic\n" + "".join(f"{t},{float(i % 3 + 1)},{'xy'[i % 2]}\n" for i, t in enumerate(TEXTS * 3)))
    table = read_table(p)
    spec, _ = infer_spec(table, tasks=["rating=stars", "topic:x,y,z"])
    # class names exactly as written in the file ("1.0", not "1"; issue 8)
    assert spec.task("rating").classes == ("1.0", "2.0", "3.0") and spec.task("rating").column == "stars"
    assert spec.task("topic").classes == ("x", "y", "z") and spec.task("topic").column == "topic"
    assert spec.feature_columns == ()  # task columns are not features
    labels = imported_labels(table, spec)
    assert (0, "rating", "1.0") in labels and (1, "topic", "y") in labels


def test_numeric_classes_sort_numerically(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("text,label\n" + "".join(f"{TEXTS[i % 4]},{v}\n" for i, v in enumerate([10, 2, 1, 2, 10])))
    spec, _ = infer_spec(read_table(p))
    assert spec.tasks[0].classes == ("1", "2", "10")


def test_id_column_not_unique_falls_back_to_row_numbers(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("ID,text,label\n1,hello there you,a\n1,good morning all,b\n")
    table = read_table(p)
    spec, decisions = infer_spec(table, text_columns=["text"])
    assert spec.id_column is None
    assert sample_ids(table, spec) == ["0", "1"]
    assert any("repeated" in d for d in decisions)


def test_short_strings_are_categorical_and_many_distinct_codes_are_skipped(tmp_path):
    rows = [f"{i},{'red' if i % 2 else 'blue'},code{i},{i * 1.5},{'ab'[i % 2]}" for i in range(40)]
    p = tmp_path / "d.csv"
    p.write_text("id,colour,code,size,label\n" + "\n".join(rows) + "\n")
    spec, decisions = infer_spec(read_table(p))
    assert spec.feature_columns == ("colour", "size")
    assert spec.text_columns == ()
    assert any("feature columns: 2 (1 numeric, 1 categorical)" in d for d in decisions)
    assert any("'code'" in d for d in decisions)


def test_load_image_converts_mode(tmp_path):
    _write_images(tmp_path, ["a.png"])
    img = load_image("a.png", str(tmp_path), mode="L", size=3)
    assert img.mode == "L" and img.size == (3, 3)


def test_single_column_text_without_header(tmp_path):
    p = tmp_path / "notes"
    p.write_text("Hello, world, how are you today\nI am fine, thanks\nWhat about you\nGood, good, very good\n")
    table = read_table(p)
    assert list(table.frame.columns) == ["col0"]
    assert table.frame["col0"].tolist()[0] == "Hello, world, how are you today"
    assert len(table.frame) == 4
