"""What the WAL checkpoint policy costs a key press: ms per ``Project.label``, three policies.

    python benchmarks/label_checkpoint.py [--labels 200] [--rounds 3] [--workdir DIR]

* ``none``: no checkpoint while labeling (the store before the policy: labels stay in
  project.sqlite-wal until the last connection closes);
* ``background`` (the policy): a thread checkpoints each burst IDLE_DELAY s after its last label
  (at most MAX_DELAY s after its first), the key press only wakes it;
* ``sync``: a PASSIVE checkpoint inside every label (the simple alternative, for comparison).

Each round labels ``--labels`` samples with each policy in turn (same process, same disk), on a
fresh copy of one project, with a 5 ms pause between labels (a fast expert). Prints median and
p95 ms per label, and how long after the last label project.sqlite alone holds every label.
"""
from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from activelab.core.project.project import Project  # noqa: E402
from activelab.core.store.connection import checkpoint  # noqa: E402
from tests.core.helpers import write_text_csv  # noqa: E402

POLICIES = ("none", "background", "sync")


class _SyncCheckpointer:
    def __init__(self, store) -> None:
        self.store = store

    def poke(self) -> None:
        checkpoint(self.store._conn(), "PASSIVE")

    def stop(self, timeout: float = 0.0) -> None:
        pass


def _labels_in_main_file(store_path: Path) -> int:
    """Labels a copy of project.sqlite alone (no -wal) holds."""
    with tempfile.TemporaryDirectory() as d:
        copy = Path(d) / "copy.sqlite"
        shutil.copy2(store_path, copy)
        con = sqlite3.connect(f"{copy.as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            return con.execute("SELECT COUNT(*) FROM events WHERE kind='label'").fetchone()[0]
        finally:
            con.close()


def run(policy: str, template: Path, work: Path, n: int) -> tuple[list[float], float | None]:
    dest = work / f"p-{policy}"
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(template, dest)
    proj = Project.open(dest)
    if policy == "none":
        proj.store._checkpointer.stop()
        proj.store._checkpointer = None
    elif policy == "sync":
        proj.store._checkpointer.stop()
        proj.store._checkpointer = _SyncCheckpointer(proj.store)
    classes = ["sport", "tech", "food"]
    times = []
    for k in range(n):
        t = time.perf_counter()
        proj.label(proj.ids[k % len(proj.ids)], classes[k % 3], task="topic")
        times.append((time.perf_counter() - t) * 1000)
        time.sleep(0.005)
    end = time.perf_counter()
    in_main = None
    while time.perf_counter() - end < 3.0:
        if _labels_in_main_file(dest / "project.sqlite") == n:
            in_main = time.perf_counter() - end
            break
        time.sleep(0.02)
    proj.close()
    return times, in_main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=None)
    a = ap.parse_args()
    work = a.workdir or Path(tempfile.mkdtemp(prefix="activelab-bench-ckpt-"))
    work.mkdir(parents=True, exist_ok=True)
    data = write_text_csv(work / "d.csv", n=300)
    template = work / "template"
    shutil.rmtree(template, ignore_errors=True)
    Project.create(template, data=data, text_columns=["text"], tasks=["topic=topic"]).close()
    per: dict[str, list[float]] = {p: [] for p in POLICIES}
    lag: dict[str, list[float | None]] = {p: [] for p in POLICIES}
    for _ in range(a.rounds):
        for policy in POLICIES:
            t, l_ = run(policy, template, work, a.labels)
            per[policy] += t
            lag[policy].append(l_)
    print(f"{a.labels} labels x {a.rounds} rounds, work dir {work}")
    print(f"{'policy':<12}{'median ms':>10}{'p95 ms':>9}  project.sqlite alone has every label")
    for policy in POLICIES:
        xs = sorted(per[policy])
        p95 = xs[int(0.95 * (len(xs) - 1))]
        lags = ["never (until close)" if v is None else f"{v:.2f} s" for v in lag[policy]]
        print(f"{policy:<12}{statistics.median(xs):>10.2f}{p95:>9.2f}  after {', '.join(lags)}")
    if a.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
