"""Where the export goes: the format is checked against the file name, and every bad or
unwritable destination is one clear message (exit 1 in the CLI), with nothing left behind —
no half-written file, no ``.tmp``, an existing file unchanged."""
from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from activelab.core.export import files as export_files
from activelab.core.cli.main import main
from activelab.core.errors import ActiveLabError
from activelab.core.export.labels import export_labels
from activelab.core.export.files import ExportError, format_for_path
from activelab.core.progress import Cancelled, Progress
from activelab.core.project.project import Project

N_ROWS = 400


@pytest.fixture(scope="module")
def project_path(tmp_path_factory):
    """A project of N_ROWS labeled samples with long texts (exports of 100 kB and more)."""
    folder = tmp_path_factory.mktemp("paths")
    def text(i: int) -> str:   # hex digests: text that does not compress away in Parquet
        return " ".join(hashlib.sha256(f"{i}-{k}".encode()).hexdigest() for k in range(6))
    rows = ["id,text,topic"] + [f"s{i:03d},{text(i)},{'ab'[i % 2]}" for i in range(N_ROWS)]
    (folder / "d.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    Project.create(folder / "p", data=folder / "d.csv", text_columns=["text"],
                   tasks=["topic=topic"], id_column="id", import_labels=True).close()
    return folder / "p"


def export_cli(capsys, project, out, *extra) -> tuple[int, str]:
    code = main(["export", str(project), "--out", str(out), *extra])
    cap = capsys.readouterr()
    assert "Traceback" not in cap.err
    return code, cap.err if code else cap.out


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# ---------------------------------------------------------------- format from the file name
@pytest.mark.parametrize("name, fmt, want", [
    ("x.csv", None, "csv"), ("X.CSV", None, "csv"), ("x.parquet", None, "parquet"),
    ("x.pq", None, "parquet"), ("x.jsonl", None, "jsonl"), ("x.ndjson", None, "jsonl"),
    ("x.json", None, "json"), ("x.v2.csv", None, "csv"),
    ("x.txt", "csv", "csv"), ("x.dat", "parquet", "parquet"), ("x", "jsonl", "jsonl"),
    ("x.json", "json", "json"),
])
def test_format_from_name(name, fmt, want):
    assert format_for_path(name, fmt) == want


@pytest.mark.parametrize("name, fmt, fragment", [
    ("x.xlsx", None, "it has the extension '.xlsx'. Supported: .csv (csv); .parquet/.pq"),
    ("x.txt", None, "it has the extension '.txt'"),
    ("labels", None, "it has no extension"),
    ("x.parquet", "csv", "The file name x.parquet says parquet (.parquet) but the format asked for is csv"),
    ("x.jsonl", "json", "says jsonl"),
    ("x.json", "jsonl", "says json"),
    ("x.csv", "xml", "Unknown export format 'xml'"),
])
def test_format_refused(name, fmt, fragment):
    with pytest.raises(ExportError, match=None) as exc:
        format_for_path(name, fmt)
    assert fragment in str(exc.value) and exc.value.cause == "format"


@pytest.mark.parametrize("name, extra, fragment", [
    ("out.xlsx", [], "Cannot tell the export format of out.xlsx"),
    ("out.txt", [], "Supported: .csv (csv)"),
    ("out.parquet", ["--format", "csv"], "says parquet"),
])
def test_cli_refuses_format_and_writes_nothing(capsys, tmp_path, project_path, name, extra, fragment):
    code, err = export_cli(capsys, project_path, tmp_path / name, *extra)
    assert code == 1 and fragment in err
    assert list(tmp_path.iterdir()) == []


def test_cli_format_given_for_unknown_extension(capsys, tmp_path, project_path):
    code, out = export_cli(capsys, project_path, tmp_path / "labels.txt", "--format", "csv")
    assert code == 0 and f"Exported {N_ROWS} rows ({N_ROWS} labeled)" in out
    assert (tmp_path / "labels.txt").read_text(encoding="utf-8").startswith('"activelab__id"')


def test_json_is_one_array_of_objects(capsys, tmp_path, project_path):
    code, out = export_cli(capsys, project_path, tmp_path / "labels.json")
    assert code == 0 and "(json)" in out
    data = json.loads((tmp_path / "labels.json").read_text(encoding="utf-8"))
    assert isinstance(data, list) and len(data) == N_ROWS
    assert data[0]["activelab__id"] == "s000" and data[0]["activelab__topic__label"] == "a"


# ---------------------------------------------------------------- bad destinations
@pytest.mark.parametrize("where, fragment", [
    ("folder", "is a folder. Give a file name for the export"),
    ("missing_parent", "does not exist, so the export out.csv cannot be written there"),
    ("parent_is_file", "is a file, not a folder"),
])
def test_cli_bad_destination(capsys, tmp_path, project_path, where, fragment):
    target = {"folder": tmp_path, "missing_parent": tmp_path / "nope" / "out.csv",
              "parent_is_file": tmp_path / "f.txt" / "out.csv"}[where]
    (tmp_path / "f.txt").write_text("keep", encoding="utf-8")
    code, err = export_cli(capsys, project_path, target)
    assert code == 1 and fragment in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_export_over_the_imported_data_file_is_refused(capsys, project_path):
    data = project_path.parent / "d.csv"
    before = data.read_bytes()
    code, err = export_cli(capsys, project_path, data)
    assert code == 1 and "is the data file this project was imported from" in err
    assert data.read_bytes() == before and leftovers(data.parent) == []


def test_read_only_existing_file_is_not_replaced(capsys, tmp_path, project_path):
    out = tmp_path / "out.csv"
    out.write_text("mine\n", encoding="utf-8")
    out.chmod(0o444)
    code, err = export_cli(capsys, project_path, out)
    assert code == 1 and "exists and is read-only — export NOT written" in err
    assert out.read_text(encoding="utf-8") == "mine\n" and leftovers(tmp_path) == []


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def read_only_dir(tmp_path, monkeypatch):
    """A folder that cannot be written, by the strongest means this machine allows: file
    permissions (not as root), else a read-only tmpfs mount (root), else an injected EROFS.
    Yields (folder, how)."""
    d = tmp_path / "ro"
    d.mkdir()
    if os.geteuid() != 0:
        d.chmod(0o555)
        yield d, "chmod"
        d.chmod(0o755)
    elif _mount("-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(d)):
        yield d, "mount"
        subprocess.run(["umount", str(d)], check=True)
    else:
        def refuse(*a, **k):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        monkeypatch.setattr(export_files.tempfile, "mkstemp", refuse)
        yield d, "injected"


def test_cli_read_only_folder(capsys, project_path, read_only_dir):
    folder, how = read_only_dir
    code, err = export_cli(capsys, project_path, folder / "out.parquet")
    assert code == 1, how
    assert "read-only" in err and "export NOT written to out.parquet" in err, (how, err)
    assert list(folder.iterdir()) == []


@pytest.fixture
def full_disk(tmp_path, monkeypatch):
    """A 32 kB file system (tmpfs, root) holding an earlier export, or where mounting is
    not permitted an ordinary folder whose writes fail with ENOSPC. Yields (folder, how)."""
    d = tmp_path / "small"
    d.mkdir()
    if os.geteuid() == 0 and _mount("-t", "tmpfs", "-o", "size=32k", "tmpfs", str(d)):
        yield d, "tmpfs"
        subprocess.run(["umount", str(d)], check=True)
    else:
        real_fsync = os.fsync

        def fsync(fd):
            if os.fstat(fd).st_size > 0 and stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real_fsync(fd)
        monkeypatch.setattr(export_files.os, "fsync", fsync)
        yield d, "injected"


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl", "json"])
def test_cli_disk_full_keeps_the_earlier_file_and_leaves_no_tmp(capsys, project_path, full_disk, fmt):
    folder, how = full_disk
    out = folder / f"labels.{fmt}"
    out.write_bytes(b"earlier export\n")
    code, err = export_cli(capsys, project_path, out)
    assert code == 1, how
    assert "Disk full — export NOT written" in err and "Free some space" in err, (how, err)
    assert out.read_bytes() == b"earlier export\n"
    assert sorted(p.name for p in folder.iterdir()) == [out.name], how


# ---------------------------------------------------------------- failures injected at each step
@pytest.mark.parametrize("code, fragment, cause", [
    (errno.ENOSPC, "Disk full — export NOT written", "disk_full"),
    (errno.EDQUOT, "Disk full — export NOT written", "disk_full"),
    (errno.EROFS, "is on a read-only file system", "read_only"),
    (errno.EACCES, "is read-only for you", "read_only"),
    (errno.EIO, "Could not write the export", "io"),
])
@pytest.mark.parametrize("step", ["write", "fsync", "replace"])
def test_write_errors_are_named_and_clean(tmp_path, project_path, monkeypatch, code, fragment, cause, step):
    out = tmp_path / "out.csv"

    def fail(*a, **k):
        raise OSError(code, os.strerror(code))
    if step == "write":
        from activelab.core.export import writers as export_writers
        monkeypatch.setitem(export_writers.WRITERS, "csv", fail)
    else:
        monkeypatch.setattr(export_files.os, step, fail)
    with pytest.raises(ExportError) as exc:
        export_labels(project_path, out)
    assert fragment in str(exc.value) and exc.value.cause == cause
    assert isinstance(exc.value, ActiveLabError)
    assert list(tmp_path.iterdir()) == []


def test_cancelled_export_leaves_nothing(tmp_path, project_path):
    out = tmp_path / "out.jsonl"
    out.write_text("earlier\n", encoding="utf-8")
    prog = Progress(lambda f, m: prog.cancel() if m.startswith("writing") else None)
    with pytest.raises(Cancelled):
        export_labels(project_path, out, progress=prog)
    assert out.read_text(encoding="utf-8") == "earlier\n" and leftovers(tmp_path) == []


def test_replaced_file_keeps_its_permissions(tmp_path, project_path):
    out = tmp_path / "out.csv"
    out.write_text("old\n", encoding="utf-8")
    out.chmod(0o640)
    export_labels(project_path, out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert out.read_text(encoding="utf-8").startswith('"activelab__id"')
    fresh = export_labels(project_path, tmp_path / "new.csv")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(fresh.stat().st_mode) == 0o666 & ~umask    # not mkstemp's 0600
