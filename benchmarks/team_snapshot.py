"""What resolving a team's labels adds to taking a training snapshot (the app's UI thread).

For a one-person project with a long history (``history.write_history``) and for a
two-annotator project (every sample labeled by both, a quarter of them in disagreement), the
table gives, in the same run: the whole snapshot (peer) and its team step on a warm fold
(every snapshot after the first), LabelState's first fold (peer) and the team fold's first
read, and, for the team, the retrain (peer) and the Dawid-Skene step in it (worker side).
Ratios to the peer above, not wall-clock limits.

    nice .venv/bin/python -m benchmarks.team_snapshot [--events 20000] [--samples 2000]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from activelab.core.project.project import Project
from activelab.core.team import training
from activelab.core.team.annotations import _CACHE, team_labels
from benchmarks.history import write_history
from tests.core.helpers import write_text_csv


def _best(fn, repeats: int = 5) -> float:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


def measure(p: Project, label: str) -> list[tuple[str, float]]:
    p.store.configure_events(p.store.event_filter, p._index)
    first_state = _best(lambda: (p.store.configure_events(p.store.event_filter, p._index),
                                 p.store.state()), 1)
    _CACHE.pop(p.store, None)
    first_team = _best(lambda: (_CACHE.pop(p.store, None), team_labels(p.store)), 1)
    p.training_snapshot()
    whole = _best(p.training_snapshot)
    ix, tasks = p._index, [t.name for t in p.spec.tasks]
    labeled = p.training_snapshot().labeled
    warm = _best(lambda: training.training_labels(p.store, tasks, ix, labeled))
    rows = [(f"{label}: whole training snapshot (peer)", whole),
            (f"{label}: its team step, warm fold", warm),
            (f"{label}: LabelState first fold (peer)", first_state),
            (f"{label}: team fold first read", first_team)]
    snap = p.training_snapshot()
    if snap.label_ties:
        first = _best(lambda: training.resolve_ties(snap), 1)
        ds = _best(lambda: training.resolve_ties(snap), 3)
        retrain = _best(lambda: p.retrain(), 1)
        rows += [(f"{label}: retrain, ties included (peer)", retrain),
                 (f"{label}: Dawid-Skene on the ties (in it)", ds),
                 (f"{label}: Dawid-Skene, first call (imports crowd-kit)", first)]
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--samples", type=int, default=2000)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    data = write_text_csv(tmp / "d.csv", n=max(a.samples, 3000))
    solo = Project.create(tmp / "solo", data=data, text_columns=["text"], tasks=["topic=topic"])
    write_history(solo, a.events)
    team = Project.create(tmp / "team", data=data, text_columns=["text"], tasks=["topic=topic"])
    classes = list(team.spec.task("topic").classes)
    groups = []
    for i, sid in enumerate(team.ids[:a.samples]):
        c = classes[i % len(classes)]
        other = classes[(i + 1) % len(classes)] if i % 4 == 0 else c
        groups += [[{"kind": "label", "sample_id": sid, "task": "topic", "value": c,
                     "annotator": "alice"}],
                   [{"kind": "label", "sample_id": sid, "task": "topic", "value": other,
                     "annotator": "bob"}]]
    team.store.append_groups(groups)
    rows = measure(solo, f"solo, {a.events} events") + measure(team, f"team, {a.samples} x 2")
    print(f"{'what':<58} {'ms':>9} {'ratio':>7}")
    peer = None
    for name, sec in rows:
        peer = sec if "(peer)" in name else peer
        ratio = "" if "(peer)" in name or not peer else f"{sec / peer:.2f}"
        print(f"{name:<58} {sec * 1000:>9.1f} {ratio:>7}")
    solo.close()
    team.close()


if __name__ == "__main__":
    main()
