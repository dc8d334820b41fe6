"""CLI hygiene: impossible counts are argument errors; typed labels are matched after stripping
whitespace and a Windows carriage return; a closed pipe ends the command quietly; progress bars
stay out of non-terminals and never leave an error message on their line."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from activelab.core.cli.main import main
from activelab.core.project.project import Project

ROOT = Path(__file__).resolve().parents[2]


def _csv(tmp_path: Path, n: int = 40) -> Path:
    words = {"pos": "good great fine nice", "neg": "bad awful poor sad"}
    rows = ["id,text,label,tags"]
    for i in range(n):
        c = "pos" if i % 2 else "neg"
        rows.append(f"r{i},{words[c]} {i},{c},{'x|y' if i % 3 else 'y'}")
    p = tmp_path / "d.csv"
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("hygiene")
    Project.create(tmp / "p", data=_csv(tmp), text_columns=["text"],
                   tasks=["s=label", "t=tags"], multilabel=["t"]).close()
    return tmp / "p"


@pytest.fixture
def project_dir(template, tmp_path) -> Path:
    import shutil

    shutil.copytree(template, tmp_path / "p")
    return tmp_path / "p"


def _cli(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "activelab.core.cli.main", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, **kw)


# ----------------------------------------------------------------- count arguments
BAD_COUNTS = [
    (["query", "P", "-n", "0"], "argument -n: n must be an integer >= 1; got '0'"),
    (["query", "P", "-n", "-5"], "argument -n: n must be an integer >= 1; got '-5'"),
    (["query", "P", "-n", "two"], "argument -n: n must be an integer >= 1; got 'two'"),
    (["simulate", "--data", "D", "--label-column", "label", "--budget", "0"],
     "argument --budget: --budget must be an integer >= 1; got '0'"),
    (["simulate", "--data", "D", "--label-column", "label", "--batch", "-1"],
     "argument --batch: --batch must be an integer >= 1; got '-1'"),
    (["simulate", "--data", "D", "--label-column", "label", "--repeats", "0"],
     "argument --repeats: --repeats must be an integer >= 1; got '0'"),
    (["simulate", "--data", "D", "--label-column", "label", "--initial", "0"],
     "argument --initial: --initial must be an integer >= 1; got '0'"),
    (["simulate", "--data", "D", "--label-column", "label", "--test-size", "0"],
     "--test-size must be a number between 0 and 1 (exclusive); got '0'"),
    (["simulate", "--data", "D", "--label-column", "label", "--test-size", "1"],
     "--test-size must be a number between 0 and 1 (exclusive); got '1'"),
    (["simulate", "--data", "D", "--label-column", "label", "--test-size", "nan"],
     "--test-size must be a number between 0 and 1 (exclusive); got 'nan'"),
    (["simulate", "--data", "D", "--label-column", "label", "--seed", "-1"],
     "argument --seed: --seed must be an integer >= 0; got '-1'"),
    (["label", "P", "r1", "pos", "--seconds", "-2"],
     "argument --seconds: --seconds must be a number >= 0; got '-2'"),
]


@pytest.mark.parametrize("argv,message", BAD_COUNTS, ids=[" ".join(a) for a, _ in BAD_COUNTS])
def test_an_impossible_count_is_an_argument_error(project_dir, tmp_path, capsys, argv, message):
    argv = [str(project_dir) if a == "P" else str(_csv(tmp_path)) if a == "D" else a
            for a in argv]
    before = Project.open(project_dir).store.last_seq()
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert Project.open(project_dir).store.last_seq() == before, "nothing was labeled"


def test_query_n_0_exits_2_as_a_process(project_dir):
    r = _cli("query", str(project_dir), "-n", "0")
    assert r.returncode == 2
    assert r.stderr.strip().endswith("error: argument -n: n must be an integer >= 1; got '0'")
    assert r.stdout == ""


# ----------------------------------------------------------------- typed labels
TYPED = [
    (["r1", "pos "], "s", "pos"),
    (["r1", "pos\r"], "s", "pos"),
    (["r1", " neg\t"], "s", "neg"),
    (["r1", "pos\r\n"], "s", "pos"),
    (["r1\r", "pos"], "s", "pos"),                       # an id typed last in a Windows script
    (["r2", "x |y\r", "--task", "t"], "t", ["x", "y"]),
    (["r2", " y", "--task", "t\r"], "t", ["y"]),
]


@pytest.mark.parametrize("args,task,value", TYPED, ids=[repr(a) for a, _, _ in TYPED])
def test_typed_labels_are_matched_after_stripping(project_dir, capsys, args, task, value):
    argv = ["label", str(project_dir), *args]
    if "--task" not in args:
        argv += ["--task", "s"]
    assert main(argv) == 0, capsys.readouterr().err
    p = Project.open(project_dir)
    sid = args[0].strip()
    assert p.store.state().labels[task][sid] == value


@pytest.mark.parametrize("command", ["skip", "flag"])
def test_skip_and_flag_match_an_id_typed_with_a_carriage_return(project_dir, capsys, command):
    assert main([command, str(project_dir), "r3\r"]) == 0, capsys.readouterr().err
    state = Project.open(project_dir).store.state()
    assert "r3" in (state.skipped if command == "skip" else state.flagged)


def test_a_label_that_is_not_a_class_after_stripping_is_still_refused(project_dir, capsys):
    assert main(["label", str(project_dir), "r1", "po s", "--task", "s"]) == 1
    assert "'po s' is not a class of task 's'" in capsys.readouterr().err
    assert Project.open(project_dir).store.state().labels.get("s", {}) == {}


def test_label_help_says_labels_are_stripped(capsys):
    with pytest.raises(SystemExit):
        main(["label", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "stripped of surrounding whitespace and carriage returns" in out


# ----------------------------------------------------------------- closed pipes
CLOSED_PIPE = [["strategies"], ["models"], ["status", "P"], ["query", "P", "-n", "30"],
               ["--help"], ["status", "P", "--json"]]


@pytest.mark.parametrize("argv", CLOSED_PIPE, ids=[" ".join(a) for a in CLOSED_PIPE])
def test_output_into_a_closed_pipe_exits_quietly(project_dir, argv):
    """Like '| head -0': the reader is gone before the command writes anything."""
    argv = [str(project_dir) if a == "P" else a for a in argv]
    proc = subprocess.Popen([sys.executable, "-m", "activelab.core.cli.main", *argv], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=300)
    assert err == ""
    assert code in (0, 141)


def test_head_1_of_a_long_listing_gets_the_first_line_and_no_error(project_dir):
    r = subprocess.run(["bash", "-c", f"{sys.executable} -m activelab.core.cli.main query {project_dir} -n 30 "
                        "| head -1; exit ${PIPESTATUS[0]}"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode in (0, 141) and r.stderr == ""
    assert r.stdout == "(cold start: typical and diverse pick (no task has two classes labeled yet))\n"


# ----------------------------------------------------------------- progress bars
def test_no_progress_bar_in_a_non_terminal_stderr_and_the_error_starts_it(tmp_path):
    r = _cli("new", str(tmp_path / "p"), "--data", str(_csv(tmp_path)), "--text-column", "text",
             "--task", "s=nosuch")
    assert r.returncode == 1
    assert r.stderr.startswith("error: Task column 'nosuch' is not in")
    assert "%|" not in r.stderr and "\r" not in r.stderr


def test_a_successful_new_writes_no_progress_into_a_log_file(tmp_path):
    log = tmp_path / "log.txt"
    with open(log, "w") as fh:
        r = subprocess.run([sys.executable, "-m", "activelab.core.cli.main", "new", str(tmp_path / "p"),
                            "--data", str(_csv(tmp_path)), "--text-column", "text",
                            "--task", "s=label"], cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=fh, text=True, timeout=300)
    assert r.returncode == 0
    assert log.read_text() == ""


def _run_in_pty(code: str) -> str:
    """Run ``python -c code`` with stderr on a 100-column pseudo-terminal; its stderr text."""
    pty = pytest.importorskip("pty")
    import fcntl
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


def _lines_on_screen(stream: str) -> list[str]:
    """What a terminal shows line by line: a carriage return restarts the line."""
    out = []
    for line in stream.replace("\r\n", "\n").split("\n"):
        shown = ""
        for part in line.split("\r"):
            shown = part + shown[len(part):]
        out.append(shown.rstrip())
    return out


@pytest.mark.parametrize("how", ["error raised in the block", "message printed under the bar",
                                 "warning under the bar"])
def test_in_a_terminal_an_error_never_follows_the_bar_on_its_line(how):
    body = {
        "error raised in the block": "raise ActiveLabError('boom')",
        "message printed under the bar": "print('error: boom', file=sys.stderr)",
        "warning under the bar": "warnings.warn('error: boom')",
    }[how]
    code = (
        "import sys, time, warnings\n"
        "from activelab.core.cli.support import progress_bar\n"
        "from activelab.core.errors import ActiveLabError\n"
        "try:\n"
        "    with progress_bar('working') as p:\n"
        "        p.update(0.5, 'half way'); time.sleep(0.05)\n"
        f"        {body}\n"
        "        p.update(0.7, 'more')\n"
        "except ActiveLabError as exc:\n"
        "    print(f'error: {exc}', file=sys.stderr)\n"
    )
    stream = _run_in_pty(code)
    assert "working:  50%" in stream, "the bar is drawn on a terminal"
    shown = [line for line in _lines_on_screen(stream) if "boom" in line]
    assert len(shown) == 1
    assert shown[0].lstrip().startswith(("error: boom", "<string>")), shown[0]
    assert "working" not in shown[0] and "%|" not in shown[0]
