"""Quit time: from Ctrl+Q (or QApplication.quit) while a retrain runs in the training process
to the end of the app's process, and which of its processes are still running afterwards.

Each trial starts the real app (``run_gui`` on a copy of a project, offscreen) in a fresh
process, waits until a retrain is running in the training process, triggers the Quit action
(``--how action``, what Ctrl+Q does) or ``QApplication.quit()`` (``--how app-quit``), and times
until the process has ended. Then it looks at every descendant the app had just before the
quit: any still running 1 s after the app ended is left over (an orphan).

The previous code (``--before REF``, default the branch's base) runs in the same invocation, from
``git archive REF`` with ``activelab`` pointed at its folders, so the table compares both under
the same machine load; runs alternate before/after.

    python benchmarks/quit_time.py [--before e8cbb04] [--runs 5] [--how action|app-quit|both]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = {"core": "core", "app": "app", "strategies": "strategies", "resources": "resources"}


# ----------------------------------------------------------------------------- /proc helpers
def _stat(pid: int) -> tuple[str, int] | None:
    """(state letter, parent pid) of a process, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1])


def descendants(pid: int) -> list[int]:
    """Every live (not zombie) descendant of ``pid``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None and st[0] != "Z":
                children.setdefault(st[1], []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def alive(pid: int) -> bool:
    st = _stat(pid)
    return st is not None and st[0] != "Z"


# ----------------------------------------------------------------------------- the app (child)
def drive(project: str, how: str) -> int:
    """Run the app on ``project``; quit it while a retrain runs in the training process."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QTimer

    from activelab.app.main import make_app, run_gui

    app = make_app(["activelab"])
    state = {"asked": 0.0}

    def tick() -> None:
        win = getattr(getattr(app, "_activelab_shell", None), "window", None)
        if win is None or not win.controller.ready:
            return
        runner = win.runner
        if not state["asked"]:
            if runner.is_running("retrain") or getattr(runner.training_process, "pid", None) is None:
                return   # the cold-start retrain, or the training process still starting
            win.controller.request_retrain()
            state["asked"] = time.perf_counter()
            return
        if time.perf_counter() - state["asked"] < 1.0:
            return       # let the child get into the fit
        if not runner.is_running("retrain"):
            state["asked"] = 0.0   # finished already: ask again
            return
        timer.stop()
        print(json.dumps({"quit_at": time.time(), "descendants": descendants(os.getpid())}), flush=True)
        if how == "action":
            win.quit_action.trigger()
        else:
            app.quit()

    timer = QTimer()
    timer.timeout.connect(tick)
    timer.start(50)
    code = run_gui([project])
    print(json.dumps({"exec_returned_at": time.time()}), flush=True)
    return int(code)


# ----------------------------------------------------------------------------- the bench (parent)
def make_project(workdir: Path) -> Path:
    """The digits demo with 30 labels and a slow model, so a retrain lasts a few seconds."""
    from sklearn.datasets import load_digits

    from activelab.app.demo import open_or_create_demo

    folder = workdir / "template"
    if not (folder / "project.sqlite").exists():
        project = open_or_create_demo(folder)
        truth = load_digits().target
        for idx in range(30):
            project.label_sample(project.ids[idx], {"digit": str(truth[idx])})
        project.update_settings(model="random_forest", model_params={"n_estimators": 1500})
        project.close()
    return folder


def source_tree(ref: str, workdir: Path) -> Path:
    """``ref``'s code as an importable ``activelab`` package (its folders mapped as installed)."""
    base = workdir / f"src-{ref}"
    if not base.exists():
        base.mkdir(parents=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
        pkg = base / "site" / "activelab"
        shutil.copytree(base / "activelab", pkg)
        for name, folder in FOLDERS.items():
            (pkg / name).symlink_to(base / folder, target_is_directory=True)
    return base / "site"


def trial(code_path: Path | None, project: Path, how: str, workdir: Path) -> dict:
    run = workdir / "run"
    if run.exists():
        shutil.rmtree(run)
    shutil.copytree(project, run)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    if code_path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(code_path), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--drive", str(run), "--how", how],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=workdir)
    quit_at, kids = None, []
    watchdog = threading.Timer(300, proc.kill)   # a trial that never reaches the quit
    watchdog.start()
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("{") and "quit_at" in line:
            msg = json.loads(line)
            quit_at, kids = msg["quit_at"], msg["descendants"]
            break
    while proc.poll() is None:
        time.sleep(0.002)
    ended = time.time()
    watchdog.cancel()
    proc.stdout.read()
    time.sleep(1.0)
    left = [pid for pid in kids if alive(pid)]
    for pid in left:     # do not leave them to the next trial
        try:
            os.kill(pid, 9)
        except OSError:
            pass
    return {"quit_s": None if quit_at is None else ended - quit_at, "children": len(kids),
            "left": len(left), "code": proc.returncode}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="e8cbb04", help="git ref of the previous code ('' to skip)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--how", choices=("action", "app-quit", "both"), default="both")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--drive", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.drive:
        return drive(args.drive, args.how)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="activelab-quit-"))
    project = make_project(workdir)
    codes: list[tuple[str, Path | None]] = [("after (this tree)", None)]
    if args.before:
        codes.insert(0, (f"before ({args.before})", source_tree(args.before, workdir)))
    hows = ("action", "app-quit") if args.how == "both" else (args.how,)
    results: dict[tuple[str, str], list[dict]] = {}
    for _ in range(args.runs):
        for how in hows:
            for name, path in codes:
                results.setdefault((name, how), []).append(trial(path, project, how, workdir))
    print(f"\nQuit while a retrain runs in the training process ({args.runs} runs each, "
          f"load {os.getloadavg()[0]:.1f})")
    print(f"{'code':<22} {'quit by':<9} {'median s':>9} {'max s':>7} {'children':>9} {'left 1 s after':>15} exit codes")
    medians = {}
    for (name, how), rows in results.items():
        times = [r["quit_s"] for r in rows if r["quit_s"] is not None]
        med = statistics.median(times) if times else float("nan")
        medians[(name, how)] = med
        print(f"{name:<22} {how:<9} {med:>9.2f} {max(times, default=float('nan')):>7.2f} "
              f"{statistics.median(r['children'] for r in rows):>9.0f} "
              f"{sum(r['left'] for r in rows):>15} {sorted({r['code'] for r in rows})}")
    if args.before:
        for how in hows:
            b, a = medians[(codes[0][0], how)], medians[(codes[1][0], how)]
            print(f"{how}: after/before = {a / b:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
