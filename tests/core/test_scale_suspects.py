"""Suspect labels on a Dask-engine project (issues 12 and 13): the labels the model, trained
out-of-fold, contradicts are found from the labelled rows read out of the parts, and they are
the embedded engine's suspects for the same pool and labels (same ids, same ranks)."""
from __future__ import annotations

import json

import pytest

from tests.core.scale_helpers import in_process_client, twin_projects
from tests.core.test_scale_dask import _pool

pytest.importorskip("distributed")
pytest.importorskip("cleanlab")


@pytest.fixture(scope="module")
def client():
    yield from in_process_client()


def test_flipped_labels_are_found_as_on_the_embedded_engine(tmp_path, client, capsys):
    from activelab.core.quality.on_dask import dask_suspects
    from activelab.core.quality.suspects import snapshot_suspects

    frame = _pool(tmp_path / "pool", n=3_000, parts=3, labelled=150, seed=5)
    embedded, dask_proj, _ = twin_projects(
        tmp_path, tmp_path / "pool", id_column="id", tasks=["label=label"],
        import_labels=True, strategy="least_confidence", client=client)
    labelled = frame[frame["label"].notna()]
    flipped = {}
    for sid, y in zip(labelled["id"][:6], labelled["label"][:6]):   # 6 of 150 made wrong
        flipped[sid] = "b" if y == "a" else "a"
        for proj in (embedded, dask_proj):
            proj.label(sid, flipped[sid], annotator="mallory")
    want = snapshot_suspects(embedded.training_snapshot())["label"]
    got = dask_suspects(dask_proj)["label"]
    assert got.checked == want.checked == 150
    assert [(s.sample_id, s.rank, s.alternative) for s in got.suspects] == [
        (s.sample_id, s.rank, s.alternative) for s in want.suspects]
    top = {s.sample_id for s in got.suspects[:6]}
    assert len(top & set(flipped)) >= 5                  # the flips lead the list
    for s in got.suspects:                               # pool positions, as the app opens them
        assert dask_proj.ids[s.idx] == s.sample_id
    path = dask_proj.path
    embedded.close()
    dask_proj.close()
    from activelab.core.cli.main import main

    assert main(["review", str(path), "--suspects", "--top", "6", "--json"]) == 0
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [d["sample_id"] for d in printed] == [s.sample_id for s in got.suspects[:6]]
    first = printed[0]["sample_id"]                      # the decision, from the shell
    assert main(["review", str(path), "--suspects", "--relabel", first,
                 "b" if flipped.get(first) == "a" else "a"]) == 0
    assert "review:suspect" in capsys.readouterr().out
