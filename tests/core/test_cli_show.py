"""`activelab show` and `query --show`: a sample as the app presents it, in a terminal, so
labeling from the shell needs no look into the source file."""
from __future__ import annotations

import json

import pytest

from activelab.core.cli.main import main

LONG = ("The committee met on Tuesday to discuss the proposed budget for the coming year, "
        "which includes new funding for schools, roads and the regional hospital.\n"
        "A second paragraph follows after a line break.")


def run(capsys, *args):
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _text_csv(path, n=24):
    rows = ["id,text,topic"]
    for i in range(n):
        topic = "sport" if i % 2 else "politics"
        body = LONG if i == 3 else f"short text number {i} about {topic}"
        rows.append(f's{i},"{body}",{topic}')
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def text_proj(tmp_path, capsys):
    data = _text_csv(tmp_path / "news.csv")
    code, _out, err = run(capsys, "new", tmp_path / "p", "--data", data, "--text-column", "text",
                          "--task", "topic=topic")
    assert code == 0, err
    return tmp_path / "p"


def test_text_is_wrapped_to_the_terminal_and_labels_follow(text_proj, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "50")
    code, out, err = run(capsys, "show", text_proj, "s3")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("Sample s3")
    assert all(len(line) <= 50 for line in lines if line.startswith("    ") and "," not in line[:4])
    body = [line.strip() for line in lines[lines.index("  text 'text':") + 1:]
            if line.startswith("    ")]
    words = " ".join(body)
    assert "regional hospital." in words and "A second paragraph" in words
    assert max(len(line) for line in lines[2:6]) <= 50
    # The label column (the task's own column) is not shown, as in the app.
    assert "sport" not in "\n".join(lines[:lines.index("  not labeled yet; classes:")])
    assert "topic: politics, sport" in out
    run(capsys, "label", text_proj, "s3", "sport", "--annotator", "ana")
    run(capsys, "flag", text_proj, "s3")
    code, out, _ = run(capsys, "show", text_proj, "s3")
    assert "label topic = sport  (ana," in out and "\n  flagged" in out
    assert "not labeled yet" not in out


def test_tabular_row_as_name_value_lines(tmp_path, capsys):
    rows = ["age,income,city,label"] + [f"{20 + i},{1000 * i},{'Oslo' if i % 2 else 'Bergen'},"
                                        f"{'hi' if i % 3 else 'lo'}" for i in range(30)]
    (tmp_path / "t.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, _o, err = run(capsys, "new", tmp_path / "p", "--data", tmp_path / "t.csv",
                        "--feature-columns", "age,income,city", "--task", "y=label")
    assert code == 0, err
    code, out, err = run(capsys, "show", tmp_path / "p", "4")
    assert code == 0, err
    assert "  features:\n    age     24\n    income  4000\n    city    Bergen\n" in out


def test_image_path_size_and_mode_and_multimodal(tmp_path, capsys):
    from PIL import Image

    (tmp_path / "img").mkdir()
    rows = ["file,caption,kind"]
    for i in range(12):
        Image.new("RGB" if i % 2 else "L", (40 + i, 30), 90).save(tmp_path / "img" / f"{i}.png")
        rows.append(f"img/{i}.png,a picture of thing {i},{'a' if i % 2 else 'b'}")
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    code, _o, err = run(capsys, "new", tmp_path / "p", "--data", tmp_path / "m.csv",
                        "--image-column", "file", "--text-column", "caption", "--task", "k=kind",
                        "--image-features", "pixels")
    assert code == 0, err
    code, out, err = run(capsys, "show", tmp_path / "p", "3")
    assert code == 0, err
    assert f"  image 'file': {tmp_path / 'img' / '3.png'}  (43x30 pixels, RGB)" in out
    assert "  text 'caption':\n    a picture of thing 3\n" in out
    code, out, _ = run(capsys, "show", tmp_path / "p", "2")
    assert "(42x30 pixels, L)" in out
    (tmp_path / "img" / "5.png").write_bytes(b"not an image")     # damaged after import
    code, out, err = run(capsys, "show", tmp_path / "p", "5")
    assert code == 0 and "cannot be shown:" in out and "5.png" in out


def test_query_show_prints_each_queued_sample_with_its_suggestion(text_proj, capsys):
    for i in range(8):
        run(capsys, "label", text_proj, f"s{i}", "sport" if i % 2 else "politics")
    code, out, err = run(capsys, "query", text_proj, "-n", "3", "--show")
    assert code == 0, err
    shown = [line for line in out.splitlines() if line.startswith("Sample ")]
    assert len(shown) == 3
    assert out.count("  suggestion: topic = ") == sum(
        1 for line in out.splitlines() if "\t" in line and "topic=" in line)
    assert out.count("  text 'text':") == 3
    first = out.splitlines()[0].split("\t")[0]
    code, out, _ = run(capsys, "show", text_proj, first)      # from the saved queue
    assert "  suggestion: topic = " in out
    code, out, _ = run(capsys, "query", text_proj, "-n", "2", "--show", "--json")
    items = json.loads(out)
    assert all(it["shown"][0] == f"Sample {it['id']}  (row {int(it['id'][1:]) + 1} of 24)"
               for it in items)


def test_blind_mode_shows_no_suggestion(text_proj, capsys):
    for i in range(8):
        run(capsys, "label", text_proj, f"s{i}", "sport" if i % 2 else "politics")
    run(capsys, "set", text_proj, "blind_mode=true")
    code, out, _ = run(capsys, "query", text_proj, "-n", "2", "--show")
    assert code == 0
    assert "suggestion: hidden (blind mode is on)" in out and "suggestion: topic" not in out


def test_blind_mode_hides_the_guess_in_query_text_and_json(text_proj, capsys):
    """``query`` without ``--show`` (text and ``--json``) shows no prediction in blind mode,
    says once that suggestions are hidden, and shows them again when blind mode is off."""
    for i in range(8):
        run(capsys, "label", text_proj, f"s{i}", "sport" if i % 2 else "politics")
    code, out, _ = run(capsys, "query", text_proj, "-n", "3")
    assert code == 0 and "topic=" in out                  # the model's guess, blind mode off
    run(capsys, "set", text_proj, "blind_mode=true")
    code, out, err = run(capsys, "query", text_proj, "-n", "3")
    assert code == 0
    assert "topic=" not in out and "sport (" not in out and "politics (" not in out
    assert out.count("suggestions are hidden (blind mode is on)") == 1
    assert len([line for line in out.splitlines() if line.startswith("s")]) == 3
    code, out, err = run(capsys, "query", text_proj, "-n", "3", "--json")
    items = json.loads(out)
    assert code == 0 and len(items) == 3
    for it in items:
        assert not any(k.endswith(("_prediction", "_confidence")) for k in it)
        assert not it.get("predictions")
    assert err.count("suggestions are hidden (blind mode is on)") == 1
    run(capsys, "set", text_proj, "blind_mode=false")
    code, out, _ = run(capsys, "query", text_proj, "-n", "3", "--json")
    assert all("topic_prediction" in it for it in json.loads(out))


def test_unknown_id_and_missing_project_are_one_paragraph(text_proj, tmp_path, capsys):
    code, out, err = run(capsys, "show", text_proj, "nope")
    assert code == 1 and out == ""
    assert err.startswith("error: No sample with id 'nope'") and "Traceback" not in err
    code, out, err = run(capsys, "show", tmp_path / "absent", "s1")
    assert code == 1 and "is not a project folder" in err and "Traceback" not in err
