"""Before Qt starts: is there a display the app can open a window on?

Without one, Qt aborts the process (exit 134) with a message about ``xcb-cursor0`` that sends
people hunting for a library when the real cause is that there is no display. ``display_problem``
answers without importing Qt: on Linux, no ``DISPLAY`` / ``WAYLAND_DISPLAY`` for the platform
Qt would use; with a display, an X platform plugin whose libraries are missing (found with
``ldd`` on the plugin, as Qt's own loader would fail). Platforms that need no display
(``offscreen``, ``minimal``, ``vnc``, ``eglfs``, ``linuxfb``) are never refused.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Mapping

#: Exit code of ``activelab`` (the app) when no display can be used: a usage problem, not a crash.
NO_DISPLAY_EXIT = 2
NO_DISPLAY_NEEDED = ("offscreen", "minimal", "minimalegl", "vnc", "eglfs", "linuxfb", "vkkhrdisplay")
#: The Debian/Ubuntu packages of the X libraries Qt's xcb plugin needs (README: first five minutes).
APT_PACKAGES = ("libegl1 libgl1 libfontconfig1 libglib2.0-0 libx11-6 libx11-xcb1 libxcb1 "
                "libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 "
                "libxcb-render0 libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 "
                "libxcb-xfixes0 libxcb-xkb1 libxkbcommon0 libxkbcommon-x11-0")
HINT = ("use the command line instead (activelab --help: new, query --show, label, status, "
        "export), or run with QT_QPA_PLATFORM=offscreen for a window nobody sees")


def display_problem(env: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """One line saying why no window can be opened here, or None when one can (or when it
    cannot be told: not Linux, a platform plugin of the user's choosing)."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return None
    qpa = env.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip().lower()
    if qpa in NO_DISPLAY_NEEDED:
        return None
    x11, wayland = bool(env.get("DISPLAY", "").strip()), bool(env.get("WAYLAND_DISPLAY", "").strip())
    if qpa == "wayland":
        return None if wayland else (
            "activelab: no display found (QT_QPA_PLATFORM=wayland but WAYLAND_DISPLAY is not "
            f"set); {HINT}.")
    if qpa not in ("", "xcb"):
        return None                        # another plugin: Qt says what it needs
    if not x11 and not (wayland and qpa == ""):
        return f"activelab: no display found (DISPLAY is not set); {HINT}."
    if x11 and (qpa == "xcb" or not wayland):
        if not x_server_answers(env["DISPLAY"].strip()):
            return (f"activelab: no display found (DISPLAY={env['DISPLAY'].strip()} but no X "
                    f"server answers there); {HINT}.")
        missing = missing_xcb_libraries()
        if missing:
            return ("activelab: the display cannot be used: Qt's X plugin needs libraries that are "
                    f"not installed ({', '.join(missing)}). On Debian/Ubuntu: sudo apt-get install "
                    f"-y {APT_PACKAGES}; or {HINT}.")
    return None


def x_server_answers(display: str) -> bool:
    """False only when ``display`` is a local X display (``:N``, ``unix:N``) and nothing listens
    on its socket (abstract or in /tmp/.X11-unix); remote displays are assumed to answer."""
    import re
    import socket

    m = re.fullmatch(r"(?:unix)?:(\d+)(?:\.\d+)?", display)
    if m is None:
        return True
    path = f"/tmp/.X11-unix/X{m.group(1)}"
    for address in ("\0" + path, path):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2.0)
            try:
                sock.connect(address)
                return True
            except OSError:
                continue
    return False


def missing_xcb_libraries() -> list[str]:
    """Shared libraries Qt's xcb platform plugin needs but the loader cannot find (``ldd``'s
    "not found" lines), [] when all are there or it cannot be checked (no ldd, no plugin)."""
    plugin = _xcb_plugin()
    ldd = shutil.which("ldd")
    if plugin is None or ldd is None:
        return []
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({line.split("=>")[0].strip() for line in out.splitlines() if "not found" in line})


def _xcb_plugin() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        p = Path(root) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if p.is_file():
            return p
    return None
