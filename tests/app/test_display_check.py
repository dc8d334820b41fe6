"""Starting the app without a usable display: one line naming the cause and the way out
(the command line, or QT_QPA_PLATFORM=offscreen), exit code 2; never Qt's abort (exit 134)
with its misleading "xcb-cursor0 is needed" message."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from activelab.app.display_check import APT_PACKAGES, display_problem

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X displays are Linux's")

START_APP = "from activelab.app.launcher import main; raise SystemExit(main([]))"


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(extra)
    return env


def _start(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    code = f"from activelab.app.launcher import main; raise SystemExit(main({list(args)!r}))"
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)


def _free_display() -> int:
    n = 4000 + os.getpid() % 3000
    while os.path.exists(f"/tmp/.X11-unix/X{n}"):
        n += 1
    return n


def test_no_display_says_so_in_one_line_and_exits_2():
    r = _start(_env())
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "no display found" in lines[0] and "QT_QPA_PLATFORM=offscreen" in lines[0]
    assert "activelab --help" in lines[0] and "xcb-cursor" not in lines[0]
    # The demo and a project folder are refused the same way, before anything is created.
    r = _start(_env(), "demo")
    assert r.returncode == 2 and "no display found" in r.stderr


def test_a_display_nobody_answers_is_named():
    n = _free_display()
    r = _start(_env(DISPLAY=f":{n}"))
    assert r.returncode == 2
    assert f"DISPLAY=:{n} but no X server answers there" in r.stderr


def test_missing_x_libraries_are_named_with_the_install_line(tmp_path):
    """An X server answers, but Qt's xcb plugin could not load: the missing libraries are
    named (as ldd finds them) with the apt-get line, instead of Qt's abort."""
    n = _free_display()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(f"\0/tmp/.X11-unix/X{n}")          # abstract socket: no file is made
    server.listen(1)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "ldd").write_text("#!/bin/sh\necho '\tlibxcb-cursor.so.0 => not found'\n"
                              "echo '\tlibc.so.6 => /lib/libc.so.6 (0x0)'\n")
    (fake / "ldd").chmod(0o755)
    try:
        r = _start(_env(DISPLAY=f":{n}", PATH=f"{fake}{os.pathsep}{os.environ['PATH']}"))
    finally:
        server.close()
    assert r.returncode == 2
    assert "not installed (libxcb-cursor.so.0)" in r.stderr
    assert f"sudo apt-get install -y {APT_PACKAGES}" in r.stderr


@pytest.mark.parametrize("platform", ["offscreen", "minimal", "vnc", "offscreen:fontengine=freetype"])
def test_platforms_without_a_display_are_never_refused(platform):
    assert display_problem({"QT_QPA_PLATFORM": platform}, "linux") is None


def test_other_systems_are_not_second_guessed():
    assert display_problem({}, "darwin") is None and display_problem({}, "win32") is None
    assert "WAYLAND_DISPLAY is not set" in display_problem({"QT_QPA_PLATFORM": "wayland"}, "linux")
