"""``auto`` in the labeling loop: each label given on one of its picks records the strategy
that chose it (``auto:<strategy>``), audit picks record whether the model was right, and the
bandit's state is replayed from that provenance after a restart."""
from __future__ import annotations

import numpy as np
import pandas as pd

from activelab.core.project.project import Project
from activelab.strategies.portfolio import expert_probabilities, rounds_of
from tests.core.helpers import write_text_csv

PORTFOLIO = ["margin", "entropy", "badge", "density_weighted", "random"]


def test_auto_learns_from_audit_picks_and_survives_a_restart(tmp_path):
    data = write_text_csv(tmp_path / "news.csv", n=240)
    truth = pd.read_csv(data).set_index("id")["topic"]
    p = Project.create(tmp_path / "proj", data=data, text_columns=["text"], id_column="id",
                       tasks=["topic=topic"], strategy="auto",
                       settings={"audit_rate": 0.3, "batch_size": 10})
    for sid in truth.index[:12]:                       # a first model
        p.label(sid, truth[sid])
    for _ in range(4):                                 # four batches from the queue
        p.retrain()
        for item in p.queue():
            p.label_sample(item.id, {"topic": truth[item.id]}, item=item)
    snap = p.training_snapshot()
    chosen = {r.strategy for r in snap.history if not r.audit}
    assert chosen and all(s.startswith("auto:") and s[5:] in PORTFOLIO for s in chosen)
    audits = [r for r in snap.history if r.audit]
    assert audits and all(r.correct is not None for r in audits)
    assert all(len(rows) == len(wrong) for rows, wrong in snap.audit_rows.values())
    rewarded = [r for _, r in rounds_of(snap.history, PORTFOLIO) if r is not None]
    assert rewarded and all(0.0 <= r <= 1.0 for r in rewarded)
    probs = expert_probabilities(snap.history, PORTFOLIO)
    assert not np.allclose(probs, 1 / len(PORTFOLIO))   # the rewards moved the weights
    p.close()
    again = Project.open(tmp_path / "proj")
    np.testing.assert_allclose(expert_probabilities(again.training_snapshot().history,
                                                    PORTFOLIO), probs)
    again.close()
