"""The six shared data sets of the label-efficiency benchmark, as (pool, test) tables.

Each loader returns ``Task``s: a pool frame and a test frame with the same columns, the label
column, the feature roles and where the test rows come from ("official test split" or "fixed
split"). Pools are subsampled (seeded, stratified) to ``pool_size`` rows and test sets to
``test_size`` rows so the whole benchmark fits on a shared 2-core machine; features are then
built by the project's own code (``activelab.core.features.held_out``: fitted on the pool only).

Data: ``ACTIVELAB_SHARED_DATA`` (default ``../shared/data`` beside the project root); see
that folder's DATA.md.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("ACTIVELAB_SHARED_DATA", ROOT.parent / "shared" / "data"))
PRODUCT_TASKS = ("masterCategory", "gender", "usage")


@dataclass
class Task:
    """One classification task: ``pool`` and ``test`` frames holding ``label`` and the
    feature columns; ``image_array`` (N, H, W) for ``@array:<row>`` image references."""

    name: str
    pool: pd.DataFrame
    test: pd.DataFrame
    label: str
    text_columns: tuple[str, ...] = ()
    image_column: str | None = None
    feature_columns: tuple[str, ...] = ()
    image_root: str | None = None
    pool_images: np.ndarray | None = None
    test_images: np.ndarray | None = None
    split: str = "fixed split"
    image_size: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def has_text(self) -> bool:
        return bool(self.text_columns)


def _sample(frame: pd.DataFrame, label: str, n: int, seed: int) -> pd.DataFrame:
    """At most n rows, stratified by ``label`` (seeded), index reset."""
    if len(frame) <= n:
        return frame.reset_index(drop=True)
    from sklearn.model_selection import train_test_split

    keep, _ = train_test_split(np.arange(len(frame)), train_size=n, random_state=seed,
                               stratify=_strata(frame[label]))
    return frame.iloc[np.sort(keep)].reset_index(drop=True)


def _strata(y: pd.Series) -> np.ndarray | None:
    """Labels usable for stratification (None when a class has a single row)."""
    counts = y.value_counts()
    return None if counts.min() < 2 else y.to_numpy()


def _fixed_split(frame: pd.DataFrame, label: str, pool_size: int, test_size: int, seed: int
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A fixed stratified split of a set without an official test split."""
    from sklearn.model_selection import train_test_split

    n_test = min(test_size, len(frame) // 3)
    rest, test = train_test_split(np.arange(len(frame)), test_size=n_test, random_state=seed,
                                  stratify=_strata(frame[label]))
    pool = _sample(frame.iloc[rest].reset_index(drop=True), label, pool_size, seed)
    return pool, frame.iloc[np.sort(test)].reset_index(drop=True)


def _read_text(path: Path, sep: str, **kw) -> pd.DataFrame:
    return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE
                       if sep == "\t" else csv.QUOTE_MINIMAL, **kw)


def sms_spam(pool_size: int, test_size: int, seed: int) -> list[Task]:
    frame = _read_text(DATA / "sms_spam" / "SMSSpamCollection", "\t")
    pool, test = _fixed_split(frame, "Label", pool_size, test_size, seed)
    return [Task("sms_spam", pool, test, "Label", text_columns=("SMS",))]


def ag_news(pool_size: int, test_size: int, seed: int) -> list[Task]:
    frame = _read_text(DATA / "ag_news_test" / "test.csv", ",")
    pool, test = _fixed_split(frame, "label", pool_size, test_size, seed)
    return [Task("ag_news", pool, test, "label", text_columns=("title", "description"))]


def _trec_file(path: Path) -> pd.DataFrame:
    rows = []
    for line in path.read_text(encoding="latin-1").splitlines():
        if not line.strip():
            continue
        tag, _, text = line.partition(" ")
        rows.append((tag.split(":")[0], text))
    return pd.DataFrame(rows, columns=["coarse", "question"])


def trec(pool_size: int, test_size: int, seed: int) -> list[Task]:
    pool = _sample(_trec_file(DATA / "trec" / "train_5500.label"), "coarse", pool_size, seed)
    test = _sample(_trec_file(DATA / "trec" / "TREC_10.label"), "coarse", test_size, seed)
    return [Task("trec", pool, test, "coarse", text_columns=("question",),
                 split="official test split")]


def adult_census(pool_size: int, test_size: int, seed: int) -> list[Task]:
    train = pd.read_csv(DATA / "adult_census" / "adult_train.csv", dtype=str,
                        keep_default_na=False)
    test = pd.read_csv(DATA / "adult_census" / "adult_test.csv", dtype=str,
                       keep_default_na=False)
    # The official test file writes its labels with a trailing dot ("<=50K.").
    test["income"] = test["income"].str.rstrip(".")
    features = tuple(c for c in train.columns if c != "income")
    return [Task("adult_census", _sample(train, "income", pool_size, seed),
                 _sample(test, "income", test_size, seed), "income",
                 feature_columns=features, split="official test split")]


def fashion_mnist(pool_size: int, test_size: int, seed: int) -> list[Task]:
    z = np.load(DATA / "fashion_mnist" / "fashion_mnist.npz")
    out = {}
    for part, n in (("train", pool_size), ("test", test_size)):
        y = z[f"y_{part}"].astype(str)
        frame = _sample(pd.DataFrame({"row": np.arange(len(y)), "label": y}), "label", n, seed)
        images = z[f"X_{part}"][frame["row"].to_numpy()]
        frame["image"] = [f"@array:{i}" for i in range(len(frame))]
        out[part] = (frame[["image", "label"]], images)
    return [Task("fashion_mnist", out["train"][0], out["test"][0], "label", image_column="image",
                 pool_images=out["train"][1], test_images=out["test"][1],
                 split="official test split", image_size=28,
                 notes=["native 28x28 pixels (no upscaling)"])]


def fashion_products(pool_size: int, test_size: int, seed: int) -> list[Task]:
    root = DATA / "fashion_products"
    frame = pd.read_csv(root / "metadata.csv", dtype=str, keep_default_na=False)
    frame = frame[(frame[list(PRODUCT_TASKS)] != "").all(axis=1)].reset_index(drop=True)
    pool, test = _fixed_split(frame, "masterCategory", pool_size, test_size, seed)
    return [Task(f"products_{t}", pool, test, t, text_columns=("productDisplayName",),
                 image_column="image", image_root=str(root)) for t in PRODUCT_TASKS]


LOADERS = {
    "sms_spam": sms_spam, "ag_news": ag_news, "trec": trec, "adult_census": adult_census,
    "fashion_mnist": fashion_mnist, "products": fashion_products,
}
