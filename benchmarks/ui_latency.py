"""UI latency of the labeling window on the Fashion-MNIST pool (60,000 images), offscreen.

Measures, with a retrain running in the background:
  1. launch -> usable window: from process start to the first sample painted;
  2. label key press -> next sample painted (p50 / p99 / max over many presses);
  3. the Nth label (the one that triggers a retrain) -> refreshed queue installed;
  4. project.install(result) on the GUI thread (part of 2's worst case).
Prints a table. The project is created once in --workdir (features cached) and copied per run;
each run starts with a 200-sample cold-start queue.

    python benchmarks/ui_latency.py [--data ../shared/data/fashion_mnist/fashion_mnist.npz]
                                    [--workdir ~/.cache/activelab-bench] [--labels 200]
                                    [--retrain-in process|thread] [--docks closed]
                                    [--events 100000 [--out benchmarks/results/ui_latency_events.txt]]

``--events N`` runs twice, each in its own process: on a fresh copy of the project and on one
whose history holds N events written beforehand (``history.write_history``: labels, relabels,
skips, flags, undos and redos; 10,000 samples left unlabeled), and prints both side by side
with their ratio (the reads the app makes per key press must not grow with the history).

``--retrain-in thread`` is the previous design (the retrain holds this process's GIL between
numpy/sklearn releases); ``process`` (the app's default) runs it in the training process.
"""
from __future__ import annotations

import time

T_PROCESS = time.perf_counter()

import argparse  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def percentile(xs: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(xs), q)) if xs else float("nan")


def ensure_project(data: Path, workdir: Path, events: int = 0) -> Path:
    """The Fashion-MNIST project template (created once; features cached inside)."""
    from activelab.core.project.project import Project

    template = workdir / "fashion_mnist_template"
    if not (template / "project.sqlite").exists():
        if template.exists():
            shutil.rmtree(template)
        t = time.perf_counter()
        Project.create(template, data=data, tasks=("item=label",),
                       settings={"batch_size": 10, "retrain_every": 5}).close()
        print(f"created template project in {time.perf_counter() - t:.1f} s")
    # The run measures a project being reopened (features and pool map cached), as a user
    # opens their project day after day; the very first open also computes the map (~1.6 s,
    # in the background).
    reopened = Project.open(template)
    reopened.pool_projection()
    reopened.close()
    run = workdir / f"fashion_mnist_run_{events}"
    if run.exists():
        shutil.rmtree(run)
    shutil.copytree(template, run)
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from history import write_history

    from activelab.core.loop.cycle import make_queue

    p = Project.open(run)
    t = time.perf_counter()
    write_history(p, events, keep_unlabeled=10_000)
    written = time.perf_counter() - t
    snap = p.training_snapshot()          # the same starting queue for every run
    p.store.save_queue([q.to_dict() for q in make_queue(snap, None, n=200)], snap.event_seq)
    if events:
        print(f"wrote {p.store.last_seq():,} events ({p.labeled_count():,} samples labeled) "
              f"in {written:.1f} s")
    p.close()
    return run


def compare(args: argparse.Namespace) -> int:
    """Run a fresh project and one with --events of history, each in its own process,
    alternating for --rounds rounds; print the medians over the rounds and their ratio."""
    import json
    import statistics
    import subprocess
    import tempfile

    runs: dict[int, list[dict]] = {0: [], args.events: []}
    for _round in range(args.rounds):
        for events in (0, args.events):
            with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
                out = Path(f.name)
            cmd = [sys.executable, __file__, "--single", "--json-out", str(out),
                   "--events", str(events), "--data", args.data, "--workdir", args.workdir,
                   "--labels", str(args.labels), "--pace-ms", str(args.pace_ms),
                   "--docks", args.docks, "--retrain-in", args.retrain_in, "--refresh-rounds", "0"]
            r = subprocess.run(cmd, text=True, capture_output=True)
            print(r.stdout)
            if r.returncode != 0:
                print(r.stderr)
                return r.returncode
            runs[events].append(json.loads(out.read_text()))
            out.unlink()

    def med(events: int, *path: str) -> float:
        values = []
        for run in runs[events]:
            v = run
            for p in path:
                v = v[p]
            values.append(v)
        return statistics.median(values)

    lines = [f"ui_latency, fresh project vs {args.events:,} events of history: {args.rounds} "
             f"round(s), fresh and long history alternating, each run in its own process; "
             f"Fashion-MNIST (60,000 images), {args.labels} presses {args.pace_ms} ms apart, "
             f"retrain in the {args.retrain_in}, side panels {args.docks}, {os.cpu_count()} CPUs, "
             f"load average {os.getloadavg()[0]:.1f} at the end; medians over the rounds",
             f"{'measure':<44} {'fresh':>9} {f'{args.events:,} events':>15} {'ratio':>7}"]

    def row(name: str, path: tuple[str, ...], unit: str) -> None:
        a, b = med(0, *path), med(args.events, *path)
        lines.append(f"{name:<44} {a:>7.1f}{unit} {b:>13.1f}{unit} {b / a:>6.2f}x")

    row("key press -> next sample painted, p50", ("press_ms", "p50"), "ms")
    row("key press -> next sample painted, p99", ("press_ms", "p99"), "ms")
    row("key press -> next sample painted, max", ("press_ms", "max"), "ms")
    busy = lambda e: ", ".join(r["busy"] for r in runs[e])  # noqa: E731
    lines.append(f"{'  presses with a retrain running':<44} {busy(0):>9} {busy(args.events):>15}")
    row("launch -> first sample painted (in process)", ("launch_s",), "s ")
    if all(r.get("install_ms") for r in runs[0] + runs[args.events]):
        row("project.install on the GUI thread, p50", ("install_ms", "p50"), "ms")
    lines.append(f"{'labeled samples at the end':<44} {runs[0][0]['labeled']:>9,} "
                 f"{runs[args.events][0]['labeled']:>15,}")
    for e in (0, args.events):
        lines.append(f"  per round, {e:,} events: p50/p99 ms " + "; ".join(
            f"{r['press_ms']['p50']:.1f}/{r['press_ms']['p99']:.1f} (load {r['load']:.1f})"
            for r in runs[e]))
    text = "\n".join(lines)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data/fashion_mnist/fashion_mnist.npz"))
    ap.add_argument("--workdir", default=str(Path("~/.cache/activelab-bench").expanduser()))
    ap.add_argument("--labels", type=int, default=200, help="key presses to time")
    ap.add_argument("--pace-ms", type=int, default=60, help="pause between presses (a fast expert)")
    ap.add_argument("--docks", choices=("shown", "closed"), default="shown",
                    help="closed: side panels closed, to separate their redraw cost")
    ap.add_argument("--slow", action="store_true", help="list the presses over 50 ms")
    ap.add_argument("--retrain-in", choices=("process", "thread"), default="process",
                    help="where the retrain runs (thread: ACTIVELAB_RETRAIN_IN_PROCESS=0)")
    ap.add_argument("--events", type=int, default=0,
                    help="events of history written beforehand; > 0 also runs a fresh project "
                         "and prints both side by side")
    ap.add_argument("--refresh-rounds", type=int, default=5,
                    help="rounds of 'Nth label -> refreshed queue' (3.); 0 skips it")
    ap.add_argument("--rounds", type=int, default=2,
                    help="with --events: rounds of (fresh, long history) runs, alternating")
    ap.add_argument("--out", help="also write the comparison table (--events) to this file")
    ap.add_argument("--single", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json-out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.events > 0 and not args.single:
        return compare(args)
    os.environ["ACTIVELAB_RETRAIN_IN_PROCESS"] = "1" if args.retrain_in == "process" else "0"
    data = Path(args.data)
    if not data.exists():
        print(f"Fashion-MNIST not found at {data}; pass --data.")
        return 2
    workdir = Path(args.workdir).expanduser()
    workdir.mkdir(parents=True, exist_ok=True)
    path = ensure_project(data, workdir, args.events)

    # ---- 1. launch -> usable window (imports, open, first sample painted)
    t_launch = time.perf_counter()
    from PySide6.QtCore import QEvent, QObject, Qt
    from PySide6.QtTest import QTest

    from activelab.app.main import make_app
    from activelab.app.main_window import MainWindow
    from activelab.app.worker import limit_compute_threads
    from activelab.core.project.project import Project

    limit_compute_threads(1)
    app = make_app(["bench"])

    class PaintWatch(QObject):
        painted = 0

        def eventFilter(self, obj, ev):  # noqa: N802 - Qt override
            if ev.type() == QEvent.Type.Paint:
                self.painted += 1
            return False

    watch = PaintWatch()
    project = Project.open(path)
    win = MainWindow(project)
    win.sample_view.image_view.viewport().installEventFilter(watch)
    if args.docks == "closed":
        for dock in (win.history_dock, win.settings_dock, win.progress_dock, win.curve_dock,
                     win.map_dock, win.histogram_dock):
            dock.close()
    win.show()
    win.start()
    while watch.painted == 0:
        app.processEvents()
    launch_in_process = time.perf_counter() - t_launch
    launch_total = time.perf_counter() - T_PROCESS

    def spin(ms: float) -> None:
        end = time.perf_counter() + ms / 1000
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)

    def wait_until(cond, timeout: float = 120.0) -> None:
        end = time.perf_counter() + timeout
        while not cond() and time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.001)

    c = win.controller
    wait_until(lambda: not win.runner.is_running("retrain"))  # the cold-start queue

    # install() timing on the GUI thread
    install_times: list[float] = []
    original_install = project.install

    def timed_install(result, **kw):
        t = time.perf_counter()
        out = original_install(result, **kw)
        install_times.append(time.perf_counter() - t)
        return out

    project.install = timed_install  # type: ignore[method-assign]

    # ---- 2. key press -> next sample painted, with a retrain running
    press_ms: list[float] = []
    slow: list[str] = []   # presses over 50 ms: when they happened (--slow)
    import gc

    gc_ms: list[tuple[int, float]] = []   # (generation, ms) of the GUI process's collections
    gc_t0 = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_t0[0] = time.perf_counter()
        else:
            gc_ms.append((info["generation"], 1000 * (time.perf_counter() - gc_t0[0])))

    gc.callbacks.append(on_gc)
    loading: list[bool] = []
    busy_presses = 0
    for _ in range(args.labels):
        if not win.runner.is_running("retrain"):
            c.request_retrain()
        cur = c.current
        key = getattr(Qt.Key, f"Key_{cur.sample.fields['label']}")
        before = watch.painted
        n_gc = len(gc_ms)
        loading.append(not c.ready)   # the window's warm-up job (features, map) still runs
        t = time.perf_counter()
        QTest.keyClick(win, key)
        while watch.painted == before:
            app.processEvents()
        press_ms.append(1000 * (time.perf_counter() - t))
        gc_in_press = [ms for _g, ms in gc_ms[n_gc:]]
        busy_presses += win.runner.is_running("retrain")
        if press_ms[-1] > 50:
            slow.append(f"#{len(press_ms)} {press_ms[-1]:.0f} ms (warm-up {loading[-1]}, installs so far {len(install_times)}, "
                        f"retrain running {win.runner.is_running('retrain')}, "
                        f"GC in the press {sum(gc_in_press):.0f} ms)")
        spin(args.pace_ms)

    # ---- 3. Nth label -> refreshed queue
    wait_until(lambda: not win.runner.is_running("retrain"))
    refresh_s: list[float] = []
    every = project.settings.retrain_every
    for _ in range(args.refresh_rounds):
        for i in range(every):
            cur = c.current
            QTest.keyClick(win, getattr(Qt.Key, f"Key_{cur.sample.fields['label']}"))
            if i == every - 1:
                t = time.perf_counter()
                n_before = len(install_times)
                wait_until(lambda: len(install_times) > n_before)
                refresh_s.append(time.perf_counter() - t)
            else:
                spin(args.pace_ms)

    n_labels = project.labeled_count()
    problem = getattr(win.runner, "process_problem", None)   # getattr: runs on older commits too
    child = getattr(getattr(win.runner, "training_process", None), "pid", None)
    win.close()
    project.close()
    print()
    print(f"ui_latency on Fashion-MNIST ({project.n_samples:,} images), {n_labels} labels, "
          f"Qt offscreen, {os.cpu_count()} CPUs, side panels {args.docks}, "
          f"load average {os.getloadavg()[0]:.1f}")
    where = (f"training process (pid {child})" if args.retrain_in == "process" and not problem
             else f"thread{f' ({problem})' if problem else ''}")
    print(f"retrain in: {where}")
    print(f"{'measure':<52} {'p50':>9} {'p99':>9} {'max':>9}")
    print(f"{'launch -> first sample painted (whole process)':<52} {launch_total:>8.2f}s")
    print(f"{'launch -> first sample painted (after imports of bench)':<52} {launch_in_process:>8.2f}s")
    print(f"{'key press -> next sample painted':<52} {percentile(press_ms, 50):>7.1f}ms "
          f"{percentile(press_ms, 99):>7.1f}ms {max(press_ms):>7.1f}ms")
    print(f"{'  (presses with a retrain running)':<52} {busy_presses}/{len(press_ms)}")
    ready = [ms for ms, load in zip(press_ms, loading) if not load]
    if len(ready) < len(press_ms) and ready:
        print(f"{'  after the window warm-up job (features, map) ended':<52} {percentile(ready, 50):>7.1f}ms "
              f"{percentile(ready, 99):>7.1f}ms {max(ready):>7.1f}ms")
        print(f"{'  (presses while the warm-up job ran)':<52} {len(press_ms) - len(ready)}/{len(press_ms)}")
    if refresh_s:
        print(f"{'Nth label -> refreshed queue installed':<52} {percentile(refresh_s, 50):>8.2f}s "
              f"{percentile(refresh_s, 99):>8.2f}s {max(refresh_s):>8.2f}s")
    if install_times:
        ms = [1000 * x for x in install_times]
        print(f"{'project.install on the GUI thread':<52} {percentile(ms, 50):>7.1f}ms "
              f"{percentile(ms, 99):>7.1f}ms {max(ms):>7.1f}ms")
    if args.slow:
        print("presses over 50 ms:", "; ".join(slow) or "none")
        gen2 = [ms for g, ms in gc_ms if g == 2]
        print(f"GUI-process GC: {len(gc_ms)} collections, {len(gen2)} of generation 2 "
              f"(max {max(gen2, default=0):.0f} ms), max any {max((m for _g, m in gc_ms), default=0):.0f} ms")
    if args.json_out:
        import json

        Path(args.json_out).write_text(json.dumps({
            "press_ms": {"p50": percentile(press_ms, 50), "p99": percentile(press_ms, 99),
                         "max": max(press_ms)},
            "busy": f"{busy_presses}/{len(press_ms)}", "launch_s": launch_in_process,
            "install_ms": ({"p50": percentile([1000 * x for x in install_times], 50)}
                           if install_times else None),
            "labeled": n_labels, "load": os.getloadavg()[0],
        }))
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown of Qt/pyqtgraph objects (nothing left to save)


if __name__ == "__main__":
    raise SystemExit(main())
