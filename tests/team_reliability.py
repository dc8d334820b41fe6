"""Several real labelers on one project at once, and the books checked afterwards (issue 12,
"reliability, measured"); used by tests/core/test_team_reliability.py (small) and
benchmarks/team_reliability.py (2 x 500 labels).

``run(work, store_url, app_labels, cli_labels)`` makes a project (overlap on), starts two real
app processes -- the main window offscreen (``QT_QPA_PLATFORM=offscreen``), each with its own
annotator (``ACTIVELAB_ANNOTATOR``), driven by class-key presses (``python -m
tests.team_reliability app FOLDER N OUT SEED``) -- and, meanwhile, a command-line loop
(``activelab query -n 1 --json`` + ``activelab label`` as a third annotator, with an
``activelab export`` every ten labels), then exports and checks:

* every label given (each key press that was not refused, each CLI label) is in the store
  exactly once, with the class given, by its annotator; no label is in the store that no one
  gave (``lost``, ``doubled``, ``strange`` all 0);
* no sample was labeled by two annotators unless it is an overlap sample, and none by more
  than ``overlap_annotators`` (``over_assigned`` 0);
* the final exports (CSV and JSON lines) have one row per labeled sample of the store.
"""
from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ACTIVELAB = [sys.executable, "-m", "activelab.core.cli.main"]


def make_project(work: Path, store_url: str | None, n: int, *, overlap: float = 0.1,
                 retrain_every: int = 50) -> Path:
    """A text project of ``n`` samples (3 classes) with a prepared queue of every sample and
    ``overlap`` of the samples meant for two annotators; on PostgreSQL when ``store_url``."""
    from activelab.core.project.project import Project
    from activelab.core.records import QueueItem
    from tests.core.helpers import write_text_csv

    data = write_text_csv(work / "d.csv", n=n)
    p = Project.create(work / "team", data=data, text_columns=["text"], tasks=["topic=topic"],
                       store_url=store_url)
    p.update_settings(overlap=overlap, overlap_annotators=2, retrain_every=retrain_every)
    items = [QueueItem(i, sid, "margin", 1.0, i + 1, 100.0, False, {}, 0, "test").to_dict()
             for i, sid in enumerate(p.ids)]
    p.store.save_queue(items, p.store.last_seq())
    p.close()
    return work / "team"


# ---------------------------------------------------------------- one app process, keys pressed
def drive_app(folder: str, n: int, out: str, seed: int) -> int:
    """Open the main window on ``folder`` and press class keys until ``n`` labels were taken
    (or nothing is left to show). Each taken label is a JSON line {id, label, ms} in ``out``;
    a refused press (the error banner showed) a line {id, refused: message}."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from activelab.app.main import make_app
    from activelab.app.main_window import MainWindow
    from activelab.core.project.project import Project

    app = make_app()
    proj = Project.open(folder)
    win = MainWindow(proj)
    win.show()
    win.activateWindow()
    win.start()
    rng = random.Random(seed)

    def wait(cond, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            if cond():
                return True
            time.sleep(0.005)
        return cond()

    taken = 0
    with open(out, "w") as f:
        while taken < n:
            if not wait(lambda: win.controller.current is not None, 60):
                break                                    # nothing left to hand out
            sid = win.controller.current.sample.id
            keyed = win.label_panel.rows[0].keyed_classes()
            key = rng.choice(sorted(keyed))
            t0 = time.perf_counter()
            QTest.keyClick(win, Qt.Key(ord(key)))
            app.processEvents()
            if win.banner.isVisible():
                f.write(json.dumps({"id": sid, "refused": win.banner.text.text()}) + "\n")
                f.flush()
                time.sleep(0.2)
                continue
            wait(lambda: win.controller.current is None
                 or win.controller.current.sample.id != sid, 30)
            ms = (time.perf_counter() - t0) * 1000
            f.write(json.dumps({"id": sid, "label": keyed[key], "ms": round(ms, 2)}) + "\n")
            f.flush()
            taken += 1
    win.close()
    proj.close()
    app.processEvents()
    return 0


# ---------------------------------------------------------------- the command-line loop
def _cli(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(ACTIVELAB + args, capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)


def cli_loop(folder: Path, n: int, out: Path, env: dict, stop: threading.Event,
             errors: list[str]) -> None:
    """Label ``n`` samples as annotator "cli" the way a script would (query one, label it),
    exporting every ten labels; stops early when ``stop`` is set. Lines as ``drive_app``."""
    classes = ["sport", "tech", "food"]
    with open(out, "w") as f:
        k = 0
        while k < n and not stop.is_set():
            q = _cli(["query", str(folder), "-n", "1", "--json", "--annotator", "cli"], env)
            if q.returncode != 0:
                errors.append("query: " + q.stderr[-500:])
                return
            got = json.loads(q.stdout or "[]")
            if not got:
                return
            sid, cls = got[0]["id"], classes[k % 3]
            t0 = time.perf_counter()
            r = _cli(["label", str(folder), sid, cls, "--annotator", "cli"], env)
            if r.returncode != 0:
                f.write(json.dumps({"id": sid, "refused": r.stderr.strip()}) + "\n")
                errors.append("label: " + r.stderr[-500:])
                return
            f.write(json.dumps({"id": sid, "label": cls,
                                "ms": round((time.perf_counter() - t0) * 1000, 2)}) + "\n")
            f.flush()
            k += 1
            if k % 10 == 0:
                e = _cli(["export", str(folder), "--out", str(out.parent / f"mid-{k}.csv")], env)
                if e.returncode != 0:
                    errors.append("export: " + e.stderr[-500:])


class ConnectionWatch:
    """Samples ``pg_stat_activity`` every ``every`` seconds while the run goes on: the peak
    number of server connections of each activelab process (their ``application_name`` is
    ``activelab ROLE pid PID``), the peak total and the server's ``max_connections``."""

    SQL = ("SELECT application_name, count(*) FROM pg_stat_activity "
           "WHERE application_name LIKE 'activelab %' GROUP BY 1")

    def __init__(self, url: str, every: float = 0.25) -> None:
        import psycopg

        self._conn = psycopg.connect(url, autocommit=True, application_name="reliability watch")
        self.max_connections = int(self._conn.execute("SHOW max_connections").fetchone()[0])
        self.peak: dict[str, int] = {}
        self.peak_total = 0
        self._stop = threading.Event()
        self._every = every
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def sample(self) -> dict[str, int]:
        """The activelab connections now, by application_name."""
        return dict(self._conn.execute(self.SQL).fetchall())

    def _loop(self) -> None:
        while not self._stop.wait(self._every):
            now = self.sample()
            for name, n in now.items():
                self.peak[name] = max(self.peak.get(name, 0), n)
            self.peak_total = max(self.peak_total, sum(now.values()))

    def stop(self) -> dict:
        """Stop sampling; the peaks by role (``app``, ``query``, ``label``, ...): the most
        connections any one process of that role held, and how many processes there were."""
        self._stop.set()
        self._thread.join()
        roles: dict[str, dict] = {}
        for name, n in self.peak.items():
            role = name.split(" pid ")[0].removeprefix("activelab ")
            r = roles.setdefault(role, {"processes": 0, "peak": 0})
            r["processes"] += 1
            r["peak"] = max(r["peak"], n)
        left = self.sample()
        self._conn.close()
        return {"by_role": roles, "peak_total": self.peak_total,
                "max_connections": self.max_connections, "left_open": sum(left.values())}


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# ---------------------------------------------------------------- the run and its books
def run(work: Path, store_url: str | None, app_labels: int, cli_labels: int, *,
        overlap: float = 0.1, retrain_every: int = 50, timeout: float = 1800,
        watch_every: float = 0.25) -> dict:
    """Two app processes x ``app_labels`` + a CLI loop of ``cli_labels`` on one new project
    in ``work``; returns the counts checked (see the module's docstring) and timings.
    ``watch_every``: seconds between samples of the server's connections (a short command
    can run between two samples and not be seen)."""
    import pandas as pd

    from activelab.core.project.annotators import is_overlap
    from activelab.core.project.project import Project

    n = 2 * app_labels + cli_labels + max(60, app_labels // 2)
    folder = make_project(work, store_url, n, overlap=overlap, retrain_every=retrain_every)
    watch = ConnectionWatch(store_url, every=watch_every) if store_url else None
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    env.pop("ACTIVELAB_ANNOTATOR", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)   # as installed: commands start from .pyc files
    t0 = time.monotonic()
    names = ["alice", "bob"]
    apps = [subprocess.Popen([sys.executable, "-m", "tests.team_reliability", "app", str(folder),
                              str(app_labels), str(work / f"{who}.jsonl"), str(i)],
                             env={**env, "ACTIVELAB_ANNOTATOR": who}, cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for i, who in enumerate(names)]
    stop, errors = threading.Event(), []
    cli = threading.Thread(target=cli_loop, args=(folder, cli_labels, work / "cli.jsonl", env,
                                                  stop, errors))
    cli.start()
    for who, proc in zip(names, apps):
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
        if proc.returncode != 0:
            errors.append(f"app {who} exited {proc.returncode}: {err[-1500:]}")
    cli.join(timeout=timeout)
    stop.set()
    seconds = time.monotonic() - t0

    given = {who: _read(work / f"{who}.jsonl") for who in [*names, "cli"]}
    taken = Counter((who, d["id"]) for who, rows in given.items() for d in rows if "label" in d)
    value = {(who, d["id"]): d["label"] for who, rows in given.items() for d in rows
             if "label" in d}
    from activelab.core.store.pg_refusals import set_role

    set_role("harness")         # this process's own check, named apart in pg_stat_activity
    p = Project.open(folder)
    events = [e for e in p.store.events() if e.kind == "label"]
    stored = Counter((e.annotator, e.sample_id) for e in events)
    st = p.label_state()
    by_sample: dict[str, set[str]] = {}
    for who, sid in stored:
        by_sample.setdefault(sid, set()).add(who)
    over = [sid for sid, people in by_sample.items()
            if len(people) > (p.settings.overlap_annotators
                              if is_overlap(sid, p.settings.overlap, p.settings.seed) else 1)]
    labeled = p.labeled_count()
    p.close()
    exports = {}
    for fmt, name in (("csv", "labels.csv"), ("jsonl", "labels.jsonl")):
        r = _cli(["export", str(folder), "--out", str(work / name)], env)
        if r.returncode != 0:
            errors.append(f"export {fmt}: {r.stderr[-500:]}")
            exports[fmt] = -1
            continue
        exports[fmt] = len(pd.read_csv(work / name)) if fmt == "csv" else \
            len(pd.read_json(work / name, lines=True))
    connections = watch.stop() if watch is not None else None   # everyone has exited
    ms = [d["ms"] for rows in (given["alice"], given["bob"]) for d in rows if "ms" in d]
    cli_ms = [d["ms"] for d in given["cli"] if "ms" in d]
    return {
        "given": {who: sum(1 for d in rows if "label" in d) for who, rows in given.items()},
        "refused": sum(1 for rows in given.values() for d in rows if "refused" in d),
        "given_total": sum(taken.values()),
        "stored_total": sum(stored.values()),
        "lost": sum(1 for k in taken if stored[k] == 0),
        "doubled": sum(1 for k in stored if stored[k] > 1) + sum(1 for k in taken if taken[k] > 1),
        "strange": sum(1 for k in stored if k not in taken),
        "wrong_value": sum(1 for e in events if (e.annotator, e.sample_id) in value
                           and e.value != value[(e.annotator, e.sample_id)]),
        "two_annotators": sum(1 for people in by_sample.values() if len(people) > 1),
        "over_assigned": len(over),
        "labeled_samples": labeled,
        "state_samples": len(st.labels.get("topic", {})),
        "export_rows": exports,
        "seconds": round(seconds, 1),
        "app_ms_median": round(statistics.median(ms), 1) if ms else None,
        "app_ms_p95": round(sorted(ms)[int(0.95 * (len(ms) - 1))], 1) if ms else None,
        "cli_ms_median": round(statistics.median(cli_ms), 1) if cli_ms else None,
        "connections": connections,
        "errors": errors,
    }


if __name__ == "__main__" and len(sys.argv) == 6 and sys.argv[1] == "app":
    sys.exit(drive_app(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])))
