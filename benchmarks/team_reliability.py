"""Issue 12, reliability measured: two app processes and one CLI loop labeling the same
project, 2 x 500 labels plus exports -- on PostgreSQL (a real server, tests/pg_server.py) and,
as the peer measured in the same run, on the embedded SQLite store.

    python benchmarks/team_reliability.py [--app-labels 500] [--cli-labels 50]
        [--backends postgresql,sqlite] [--out benchmarks/results/team_reliability.txt]

The apps are the real main window, offscreen, one process per annotator, driven by class-key
presses; the CLI loop is ``activelab query -n 1 --json`` + ``activelab label`` as a third
annotator with an export every ten labels; overlap 10%, retrain every 50 labels (see
tests/team_reliability.py for what is checked). Prints a table and writes it to --out.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.pg_server import start_server  # noqa: E402
from tests.team_reliability import run  # noqa: E402

COLS = ["given_total", "stored_total", "lost", "doubled", "strange", "wrong_value", "refused",
        "two_annotators", "over_assigned", "labeled_samples"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--app-labels", type=int, default=500)
    ap.add_argument("--cli-labels", type=int, default=50)
    ap.add_argument("--backends", default="postgresql,sqlite")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "team_reliability.txt"))
    a = ap.parse_args()
    rows = {}
    for backend in a.backends.split(","):
        work = Path(tempfile.mkdtemp(prefix=f"activelab-reliab-{backend}-"))
        server = None
        url = None
        if backend == "postgresql":
            server, why = start_server(fsync=True)
            if server is None:
                print(f"postgresql skipped: {why}")
                continue
            url = server.url
        try:
            rows[backend] = run(work, url, a.app_labels, a.cli_labels)
        finally:
            if server is not None:
                server.stop()
        print(backend, json.dumps(rows[backend]), flush=True)
        write_table(a, rows)     # after each backend: a later one cut short keeps this one


def write_table(a: argparse.Namespace, rows: dict) -> None:
    """Print the table of ``rows`` (by backend) and write it to ``a.out``."""
    lines = [f"2 app processes x {a.app_labels} labels (offscreen main window, key presses) + "
             f"a CLI loop of {a.cli_labels} labels, overlap 0.1, exports every 10 CLI labels "
             "and at the end",
             f"{'backend':11s} " + " ".join(f"{c:>15s}" for c in COLS)
             + f" {'export csv/jsonl':>17s} {'ms/key med':>10s} {'p95':>7s} {'cli ms':>7s}"
             f" {'seconds':>8s} {'ratio':>6s}"]
    peer = rows.get("sqlite", {}).get("app_ms_median")
    for backend, r in rows.items():
        ratio = f"{r['app_ms_median'] / peer:6.2f}" if peer and r["app_ms_median"] else "     -"
        lines.append(f"{backend:11s} " + " ".join(f"{r[c]:>15}" for c in COLS)
                     + f" {r['export_rows']['csv']:>8}/{r['export_rows']['jsonl']:<8}"
                     + f" {r['app_ms_median']:>10} {r['app_ms_p95']:>7} {r['cli_ms_median']:>7}"
                     + f" {r['seconds']:>8} {ratio}")
        for e in r["errors"]:
            lines.append(f"  error: {e}")
    lines.append("ratio: median ms per key press (press to next sample shown) over SQLite's, "
                 "same run, same machine; cli ms: median ms of one 'activelab label' process")
    for backend, r in rows.items():
        c = r.get("connections")
        if not c:
            continue
        lines.append(f"{backend} server connections (pg_stat_activity, sampled every 0.25 s): "
                     f"server max_connections {c['max_connections']}, peak in use by "
                     f"activelab {c['peak_total']}, left open after the run {c['left_open']}")
        for role, v in sorted(c["by_role"].items()):
            lines.append(f"  {role:10s} processes {v['processes']:>4}  peak connections per "
                         f"process {v['peak']}")
    text = "\n".join(lines)
    print(text, flush=True)
    Path(a.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
