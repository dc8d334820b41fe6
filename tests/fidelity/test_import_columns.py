"""Column roles: row-index columns, image-folder ids, numbers only for tabular features,
and the leakage guard (in ``new`` and in the wizard)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from activelab.core.data.roles import infer_spec
from activelab.core.data.values import numeric_column
from activelab.core.data.read import read_table
from tests.fidelity.import_helpers import (
    case_path, create, frame_table, reader_keeps_text, text_table,
)

WORDS = ["calm quiet gentle slow still", "loud rapid sharp wild fast"]


def _rows(n: int, fmt) -> str:
    return "".join(fmt(i) for i in range(n))


# ----------------------------------------------------------------------------- row index

INDEX_CASES = {
    # header, cell of row i, id expected when there is no id column
    "pandas_unnamed_0": ("Unnamed: 0", lambda i: str(i), "0"),
    "empty_header_r_rownames": ("", lambda i: f"car {chr(65 + i)}", "car A"),
    "rownames_1_to_n": ("rownames", lambda i: str(i + 1), "1"),
    "plain_0_to_n_minus_1": ("n", lambda i: str(i), "0"),
    "plain_1_to_n": ("row", lambda i: str(i + 1), "1"),
    "index_named_with_gaps": ("index", lambda i: str(3 * i + 2), "2"),
}


@pytest.mark.parametrize("header, cell, first_id", list(INDEX_CASES.values()), ids=list(INDEX_CASES))
def test_row_index_is_the_id_when_there_is_no_id_column(header, cell, first_id):
    body = _rows(8, lambda i: f'"{cell(i)}",{i % 3},{WORDS[i % 2]} {i},{"ab"[i % 2]}\n')
    table = text_table(f'"{header}",size,text,label\n' + body)
    spec, decisions = infer_spec(table)
    assert spec.id_column == header
    assert header not in spec.feature_columns and spec.feature_columns == ("size",)
    assert any(d.startswith(f"id column: '{header}'") and "no id column, so it is the id" in d
               for d in decisions)


@pytest.mark.parametrize("header, cell, _first", list(INDEX_CASES.values()), ids=list(INDEX_CASES))
def test_row_index_is_dropped_from_features_when_there_is_an_id(header, cell, _first):
    body = _rows(8, lambda i: f's{i},"{cell(i)}",{i % 3},{WORDS[i % 2]} {i},{"ab"[i % 2]}\n')
    table = text_table(f'id,"{header}",size,text,label\n' + body)
    spec, decisions = infer_spec(table)
    assert spec.id_column == "id"
    assert spec.feature_columns == ("size",)
    assert any(d.startswith(f"column '{header}' is ") and d.endswith("not used as a feature")
               for d in decisions)


def test_a_sorted_feature_is_not_a_row_index():
    # 20..27 increases by one but does not start at 0 or 1: a real feature (age), kept.
    body = _rows(8, lambda i: f"s{i},{20 + i},{WORDS[i % 2]} {i},{'ab'[i % 2]}\n")
    spec, _ = infer_spec(text_table("id,age,text,label\n" + body))
    assert spec.feature_columns == ("age",)


def test_row_index_given_as_feature_is_warned():
    body = _rows(8, lambda i: f"s{i},{i},{i % 3},{WORDS[i % 2]} {i},{'ab'[i % 2]}\n")
    spec, decisions = infer_spec(text_table("id,Unnamed: 0,size,text,label\n" + body),
                                 feature_columns=["Unnamed: 0", "size"])
    assert spec.feature_columns == ("Unnamed: 0", "size")
    assert any(d.startswith("warning: feature column 'Unnamed: 0' looks like a row index") for d in decisions)


@pytest.mark.skipif(not reader_keeps_text(), reason="the installed reader still parses CSV cells (h1-read not merged)")
def test_pandas_to_csv_with_index_round_trip(tmp_path):
    frame = pd.DataFrame({"text": [f"{WORDS[i % 2]} {i}" for i in range(6)], "label": list("ababab")})
    path = tmp_path / "with_index.csv"
    frame.to_csv(path)               # writes the index as a first column without a name
    table = read_table(path)
    spec, decisions = infer_spec(table)
    assert spec.id_column in ("Unnamed: 0", "", "col0")
    assert spec.feature_columns == ()


# ----------------------------------------------------------------------------- image folders

def test_image_folder_samples_are_identified_by_relative_path(tmp_path):
    for cls in ("cats", "dogs"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (8, 8), (40 * i, 100, 10)).save(tmp_path / "imgs" / cls / f"{i:03d}.png")
    table = read_table(tmp_path / "imgs")
    proj = create(tmp_path, table, tasks=["animal=label"], import_labels=True)
    assert proj.ids == [f"{c}/{i:03d}.png" for c in ("cats", "dogs") for i in range(3)]
    assert any("path relative to the folder" in d for d in proj.decisions)
    assert proj.label("dogs/001.png", "dogs").sample_id == "dogs/001.png"
    assert proj.sample(proj.index_of("cats/002.png")).image_ref == "cats/002.png"


# ----------------------------------------------------------------------------- numbers

NUMBER_CASES = {
    # written values, decimal mark, parsed values (None: not numeric -> categorical)
    "decimal_comma": (["0,5", "1", "-2,25", None], ",", [0.5, 1.0, -2.25, np.nan]),
    "decimal_point": (["0.5", "1e3", "+2", ".5"], ".", [0.5, 1000.0, 2.0, 0.5]),
    "comma_when_point_expected": (["0,5", "1"], ".", None),
    "hex_is_text": (["0x1F", "12"], ".", None),
    "padded_numbers": ([" 1 ", "2", "03"], ".", [1.0, 2.0, 3.0]),
    "words": (["low", "high", "1"], ".", None),
    "only_nan_words": (["nan", "NaN", None], ".", None),
}


@pytest.mark.parametrize("written, decimal, parsed", list(NUMBER_CASES.values()), ids=list(NUMBER_CASES))
def test_numbers_only_when_every_value_is_one(written, decimal, parsed):
    col = numeric_column(pd.Series(written, dtype=object), decimal)
    if parsed is None:
        assert col is None
    else:
        np.testing.assert_array_equal(col.values, np.array(parsed, dtype=float))


@pytest.mark.parametrize("bad", ["inf", "-inf", "NaN", "nan", "Infinity"])
def test_nonfinite_feature_values_are_missing_with_a_note(tmp_path, bad):
    sizes = ["1.5", "2", bad, "3", "2.5", "1", bad, "2"]
    body = "".join(f"s{i},{sizes[i]},{WORDS[i % 2]} {i},{'ab'[i % 2]}\n" for i in range(8))
    proj = create(tmp_path, text_table("id,size,text,label\n" + body), feature_columns=["size"],
                  text_columns=["text"])
    note = [d for d in proj.decisions if d.startswith("feature column 'size'")]
    assert note == [f"feature column 'size': 2 value(s) written as inf, -inf or NaN (first in row 3, "
                    f"'{bad}') are treated as missing"]
    assert np.isfinite(np.asarray(proj.features.model_X.toarray()
                                  if hasattr(proj.features.model_X, "toarray") else proj.features.model_X)).all()
    assert proj.frame()["size"].tolist()[2] == bad        # the data is kept as written


def test_decimal_comma_features_are_numeric(tmp_path):
    body = "".join(f"s{i};{i},5;{WORDS[i % 2]} {i};{'ab'[i % 2]}\n" for i in range(8))
    table = text_table("id;size;text;label\n" + body, decimal=",", delimiter=";")
    proj = create(tmp_path, table, feature_columns=["size"], text_columns=["text"])
    assert any(d.startswith("feature columns: 1 (1 numeric, 0 categorical)") for d in proj.decisions)
    assert any(d.startswith("read as numbers (decimal comma) for the model: size") for d in proj.decisions)
    block = np.asarray(proj.features.blocks["tabular"])
    assert block.shape == (8, 1)          # one standardized column, not 8 one-hot ones
    assert np.allclose(np.diff(block[:, 0]), block[1, 0] - block[0, 0])
    assert proj.frame()["size"].tolist()[:2] == ["0,5", "1,5"]


def test_excel_semicolon_case_file_reads_decimal_comma_scores(tmp_path):
    path = case_path("excel_semicolon_bom.csv")
    table = text_table(path.read_text(encoding="utf-8-sig"), source=str(path), decimal=",", delimiter=";")
    proj = create(tmp_path, table, tasks=["s=label"])
    assert proj.spec.feature_columns == ("score",) and proj.spec.text_columns == ("text",)
    assert any(d.startswith("feature columns: 1 (1 numeric, 0 categorical)") for d in proj.decisions)
    assert proj.frame()["score"].tolist()[:2] == ["0,5", "1,5"]
    assert proj.sample(0).texts["text"].endswith("second line; with semicolon")
    assert not [d for d in proj.decisions if d.startswith("warning:")]


def test_very_wide_table_gives_no_fragmentation_warning(tmp_path):
    rng = np.random.default_rng(0)
    n, width = 30, 400
    cols = {f"f{j}": pd.Series([f"{v:.3f}" for v in rng.normal(size=n)], dtype=object) for j in range(width)}
    cols["label"] = pd.Series(["ab"[i % 2] for i in range(n)], dtype=object)
    table = frame_table(pd.DataFrame(cols), source="wide.csv", fmt="csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.PerformanceWarning)
        proj = create(tmp_path, table, tasks=["t=label"])
        assert proj.features.blocks["tabular"].shape == (n, width)
        assert proj.frame().shape == (n, width + 1)


# ----------------------------------------------------------------------------- leakage guard

def _leak_table(extra: dict[str, list[str]], n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    labels = [["spam", "ham", "eggs"][i % 3] for i in range(n)]
    cols = {
        "id": [f"s{i}" for i in range(n)],
        "text": [f"{WORDS[i % 2]} {rng.integers(1000)}" for i in range(n)],
        "noise": [f"{v:.2f}" for v in rng.normal(size=n)],
        "label": labels,
    }
    cols.update({k: v(labels, rng) for k, v in extra.items()})
    return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in cols.items()})


LEAK_CASES = {
    "code_of_the_label": ({"label_code": lambda y, r: [str({"spam": 7, "ham": 3, "eggs": 5}[v]) for v in y]}, "label_code"),
    "translated_label": ({"etiquette": lambda y, r: [{"spam": "pourriel", "ham": "jambon", "eggs": "oeufs"}[v] for v in y]}, "etiquette"),
    "score_above_threshold": ({"score": lambda y, r: [f"{ {'spam': 0, 'ham': 10, 'eggs': 20}[v] + r.uniform(0, 5):.3f}" for v in y]}, "score"),
    "label_with_one_typo": ({"copy": lambda y, r: [v if i != 5 else "ham" for i, v in enumerate(y)]}, "copy"),
}


@pytest.mark.parametrize("extra, column", list(LEAK_CASES.values()), ids=list(LEAK_CASES))
def test_a_feature_that_determines_the_labels_is_warned(tmp_path, extra, column):
    table = frame_table(_leak_table(extra), source="leak.csv", fmt="csv")
    proj = create(tmp_path, table, tasks=["kind=label"], import_labels=True, text_columns=["text"])
    warnings_ = [d for d in proj.decisions if d.startswith("warning:")]
    assert len(warnings_) == 1
    assert f"feature column '{column}' nearly determines the labels of task 'kind'" in warnings_[0]


NO_LEAK_CASES = {
    "unique_id_like": {"code": lambda y, r: [f"c{r.integers(10**9)}" for _ in y]},
    "unique_numbers": {"serial": lambda y, r: [str(v) for v in r.permutation(len(y)) * 7 + 1000]},
    "weakly_related": {"hint": lambda y, r: [v if r.random() < 0.6 else "?" for v in y]},
}


@pytest.mark.parametrize("extra", list(NO_LEAK_CASES.values()), ids=list(NO_LEAK_CASES))
def test_id_like_or_weak_columns_are_not_warned(extra):
    table = frame_table(_leak_table(extra), source="ok.csv", fmt="csv")
    _, decisions = infer_spec(table, tasks=["kind=label"], text_columns=["text"])
    assert not [d for d in decisions if "nearly determines" in d]


def test_cli_new_prints_the_leak_warning(tmp_path, capsys):
    from activelab.core.cli.main import main

    frame = _leak_table(LEAK_CASES["code_of_the_label"][0])
    frame.to_csv(tmp_path / "leak.csv", index=False)
    code = main(["new", str(tmp_path / "p"), "--data", str(tmp_path / "leak.csv"), "--task",
                 "kind=label", "--text-column", "text"])
    out = capsys.readouterr().out
    assert code == 0
    assert "  - warning: feature column 'label_code' nearly determines the labels of task 'kind'" in out


def test_a_class_with_a_single_row_does_not_turn_the_guard_off(tmp_path, capsys):
    """A 'subCategory' that gives the 'masterCategory' away, in a table where one class
    ('Free Items') has a single row: the guard checks the other classes and warns."""
    from activelab.core.cli.main import main

    frame = _leak_table({"sub": lambda y, r: [{"spam": "s1", "ham": "h1", "eggs": "e1"}[v] for v in y]})
    frame.loc[len(frame)] = ["s_free", "spam 1", "0.10", "Free Items", "f1"]
    assert (frame["label"] == "Free Items").sum() == 1
    frame.to_csv(tmp_path / "leak.csv", index=False)
    code = main(["new", str(tmp_path / "p"), "--data", str(tmp_path / "leak.csv"), "--task",
                 "kind=label", "--text-column", "text", "--import-labels"])
    out = capsys.readouterr().out
    assert code == 0
    assert "  - warning: feature column 'sub' nearly determines the labels of task 'kind'" in out
