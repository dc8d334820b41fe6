"""Issue 12, reliability: two real app processes (offscreen, class keys pressed) and a
command-line loop label one PostgreSQL project at once, with overlap on and exports on the
way; afterwards every label given is in the store exactly once, no sample went to two
annotators unless it is an overlap sample, and the exports count what the store counts.
(The 2 x 500 run is benchmarks/team_reliability.py; this is the size CI can afford.)"""
from __future__ import annotations

from tests.team_reliability import run


def test_two_apps_and_a_cli_loop_on_postgresql_lose_nothing(tmp_path, pg_url):
    r = run(tmp_path, pg_url, app_labels=30, cli_labels=8, overlap=0.2, retrain_every=10,
            timeout=600, watch_every=0.05)
    assert r["errors"] == []
    assert r["given"] == {"alice": 30, "bob": 30, "cli": 8}
    assert r["refused"] == 0
    assert r["stored_total"] == r["given_total"] == 68
    assert r["lost"] == r["doubled"] == r["strange"] == r["wrong_value"] == 0
    assert r["over_assigned"] == 0, "a sample handed to two annotators without overlap"
    assert r["labeled_samples"] == r["state_samples"]
    assert r["export_rows"] == {"csv": r["labeled_samples"], "jsonl": r["labeled_samples"]}
    # The connection budget (issue 12): each app (labelling, retraining every 10, polling for
    # the others' labels) holds at most 3 server connections, each command at most 2, and
    # none is left open once they have exited.
    c = r["connections"]
    assert c["by_role"]["app"]["processes"] == 2, c
    assert c["by_role"]["app"]["peak"] <= 3, c
    # A command can start and end between two samples, so not every one is seen; those
    # seen never held more than 2, and the sampler caught some of them.
    seen = {role: c["by_role"][role] for role in ("query", "label", "export") if role in c["by_role"]}
    assert seen, c
    for role, r in seen.items():
        assert 1 <= r["peak"] <= 2, c
    assert c["left_open"] == 0, c
