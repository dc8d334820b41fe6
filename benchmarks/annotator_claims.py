"""What handing out samples (claims, for several annotators) costs a key press.

    python benchmarks/annotator_claims.py [--labels 200] [--rounds 2] [--workdir DIR]

Per round, on a fresh project with a prepared queue of every sample, in the same process and
on the same disk:

* ``label``: ``Project.label`` of the next queued sample (one annotator, no claim: the peer);
* ``claim+label``: what the app now does per key press: claim the next queued sample for the
  annotator (``Project.claim``, one small write transaction), then label it (which ends the
  claim);
* ``claim+label, 2 annotators``: the same while a second annotator holds 20 claims.

Prints median and p95 ms per label and the ratio of medians to the peer.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from activelab.core.project.project import Project  # noqa: E402
from activelab.core.records import QueueItem  # noqa: E402
from tests.core.helpers import write_text_csv  # noqa: E402


def _fresh(work: Path, name: str, n: int) -> Project:
    p = Project.create(work / name, data=write_text_csv(work / f"{name}.csv", n=n),
                       text_columns=["text"], tasks=["topic=topic"])
    items = [QueueItem(i, sid, "margin", 1.0, i + 1, 100.0, False, {}, 0, "bench").to_dict()
             for i, sid in enumerate(p.ids)]
    p.store.save_queue(items, p.store.last_seq())
    p.set_annotator("alice")
    return p


def _run(p: Project, n: int, claim: bool) -> list[float]:
    ms = []
    done = 0
    for sid in p.ids:
        if done >= n:
            break
        t0 = time.perf_counter()
        if claim and not p.claim(sid):
            continue
        p.label(sid, "sport")
        ms.append((time.perf_counter() - t0) * 1000)
        done += 1
        time.sleep(0.005)            # a fast expert
    return ms


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--labels", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workdir")
    a = ap.parse_args()
    work = Path(a.workdir or tempfile.mkdtemp(prefix="activelab-bench-claims-"))
    rows: dict[str, list[float]] = {"label": [], "claim+label": [], "claim+label, 2 annotators": []}
    for r in range(a.rounds):
        for case in rows:
            p = _fresh(work, f"r{r}-{case.replace(' ', '').replace(',', '-')}", a.labels + 40)
            if case.endswith("2 annotators"):
                other = Project.open(p.path)
                other.set_annotator("bob")
                for sid in p.ids[: 40: 2]:
                    other.claim(sid)
                other.close()
            rows[case] += _run(p, a.labels, claim=case != "label")
            p.close()
    peer = statistics.median(rows["label"])
    print(f"{a.labels} labels x {a.rounds} rounds, work dir {work}")
    print(f"{'case':28s} {'median ms':>10s} {'p95 ms':>8s} {'ratio':>6s}")
    for case, ms in rows.items():
        ms.sort()
        med = statistics.median(ms)
        print(f"{case:28s} {med:10.2f} {ms[int(0.95 * (len(ms) - 1))]:8.2f} {med / peer:6.2f}")


if __name__ == "__main__":
    main()
