"""Labels reported as saved survive SIGKILL at any moment, and the store stays intact."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from activelab.core.project.project import Project
from tests.core.helpers import write_text_csv

ROOT = Path(__file__).resolve().parents[2]

CHILD = r"""
import sys
from activelab.core.project.project import Project
p = Project.open(sys.argv[1])
start = int(sys.argv[2])
classes = ["sport", "tech", "food"]
print("READY", flush=True)
for k in range(start, start + 100000):
    sid = f"s{k % 200:03d}"
    p.label(sid, classes[k % 3], task="topic", annotator=f"child{k}")
    print(f"SAVED {sid} child{k}", flush=True)
"""


@pytest.mark.slow
def test_sigkill_never_loses_a_reported_label(tmp_path, backend, request):
    """On both backends: project.sqlite, and a team project on a real PostgreSQL server."""
    data = write_text_csv(tmp_path / "d.csv", n=200)
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    proj = Project.create(tmp_path / "p", data=data, text_columns=["text"], tasks=["topic=topic"],
                          store_url=url)
    proj.close()
    rng = np.random.default_rng(7)
    reported: list[tuple[str, str]] = []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = 0
    for _round in range(12):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(tmp_path / "p"), str(start)],
            stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT,
        )
        assert child.stdout.readline().strip() == "READY"
        time.sleep(float(rng.uniform(0.05, 0.4)))   # kill at a random moment while labeling
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        lines = [ln.split() for ln in out.splitlines() if ln.startswith("SAVED ")]
        reported += [(ln[1], ln[2]) for ln in lines if len(ln) == 3]
        start += 100000
    assert len(reported) > 20, "the child should have saved labels before being killed"
    p = Project.open(tmp_path / "p")
    assert p.store.integrity_check() == "ok"
    saved = {(e.sample_id, e.annotator) for e in p.store.events() if e.kind == "label"}
    missing = [r for r in reported if r not in saved]
    assert missing == []
