"""Small data sets written by the tests themselves."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

WORDS = {
    "sport": "match goal team player score league coach win season stadium".split(),
    "tech": "software chip computer network data code server cloud phone robot".split(),
    "food": "recipe cheese bread cook oven taste dinner fruit sauce kitchen".split(),
}


def write_text_csv(path: Path, n: int = 120, seed: int = 0) -> Path:
    """A CSV with id, text, topic (3 classes) and a multi-label 'tags' column."""
    rng = np.random.default_rng(seed)
    topics = list(WORDS)
    rows = []
    for i in range(n):
        t = topics[i % 3]
        words = rng.choice(WORDS[t], size=8).tolist() + rng.choice(sum(WORDS.values(), []), 2).tolist()
        tags = [t] + (["long"] if i % 4 == 0 else [])
        rows.append({"id": f"s{i:03d}", "text": " ".join(words), "topic": t, "tags": "|".join(tags),
                     "length": float(len(words) + rng.normal())})
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def noisy_truth(path: Path, column: str = "topic", share: float = 0.2, seed: int = 0) -> "pd.Series":
    """The ``column`` of a CSV written by ``write_text_csv``, by id, with ``share`` of the
    values replaced by another class (seeded): an expert who errs, so that no model reaches
    1.0 and a learning curve has room to rise."""
    truth = pd.read_csv(path).set_index("id")[column]
    rng = np.random.default_rng(seed)
    classes = sorted(truth.unique())
    flip = rng.random(len(truth)) < share
    other = [rng.choice([c for c in classes if c != v]) for v in truth]
    return truth.where(~flip, pd.Series(other, index=truth.index))


def text_project(tmp_path: Path, store_url: str | None, n: int) -> Path:
    """A closed text project ``tmp_path/p`` of ``n`` samples (``write_text_csv`` as
    ``tmp_path/d.csv``; task 'topic'), on SQLite or, with ``store_url``, PostgreSQL."""
    from activelab.core.project.project import Project

    data = write_text_csv(tmp_path / "d.csv", n=n)
    Project.create(tmp_path / "p", data=data, text_columns=["text"], tasks=["topic=topic"],
                   store_url=store_url).close()
    return tmp_path / "p"
