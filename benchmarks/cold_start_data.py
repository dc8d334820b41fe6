"""The shared text sets for the cold-start and zero-shot benchmarks, featurised with activelab's
own ``build_features`` (MiniLM sentence embeddings, or TF-IDF and its dense view), cached.

Each loader returns (frame with a ``text`` column, labels as strings, class names in the order
a user would type them, one-line class descriptions). The descriptions are what a user would
write in ``class_descriptions`` — short, from the data set's own documentation, never tuned
on the data.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = Path(os.environ.get("ACTIVELAB_SHARED_DATA", ROOT.parent / "shared" / "data"))
CACHE = Path(os.environ.get("ACTIVELAB_BENCH_CACHE", "/tmp/activelab-coldstart-cache"))

DESCRIPTIONS = {
    "sms_spam": {"ham": "an ordinary personal text message between friends or family",
                 "spam": "an unsolicited advert: a prize, offer or service to call or text"},
    "trec": {"ABBR": "what an abbreviation or acronym stands for",
             "DESC": "a definition, description, manner or reason",
             "ENTY": "an entity: an animal, colour, food, product, event, term or other thing",
             "HUM": "a person, group of people or organisation",
             "LOC": "a place: a city, country, mountain, state or other location",
             "NUM": "a number: a date, count, distance, money, percentage, speed or size"},
    "ag_news": {"World": "world news, politics and international affairs",
                "Sports": "sports news", "Business": "business and economy news",
                "Sci/Tech": "science and technology news"},
    "catalogue": {"Apparel": "clothing such as shirts, trousers, dresses",
                  "Accessories": "bags, watches, belts, jewellery, wallets, sunglasses",
                  "Footwear": "shoes, sandals, flip flops",
                  "Personal Care": "cosmetics, perfume, deodorant, nail polish, lipstick",
                  "Free Items": "free gifts given with a purchase",
                  "Sporting Goods": "sports equipment such as balls, gloves, rackets"},
}


def sms_spam() -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    f = pd.read_csv(DATA / "sms_spam" / "SMSSpamCollection", sep="\t", quoting=3, dtype=str)
    return pd.DataFrame({"text": f["SMS"].fillna("")}), f["Label"].to_numpy(str), ["ham", "spam"]


def trec() -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    lines = (DATA / "trec" / "train_5500.label").read_text(encoding="latin-1").splitlines()
    labels, texts = [], []
    for line in lines:
        head, _, text = line.partition(" ")
        labels.append(head.split(":")[0])
        texts.append(text)
    return (pd.DataFrame({"text": texts}), np.array(labels, dtype=str),
            ["ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM"])


def ag_news() -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    f = pd.read_csv(DATA / "ag_news_test" / "test.csv")
    names = ["World", "Sports", "Business", "Sci/Tech"]
    text = f["title"].astype(str) + ". " + f["description"].astype(str)
    return pd.DataFrame({"text": text}), np.array([names[i - 1] for i in f["label"]]), names


def catalogue() -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    f = pd.read_csv(DATA / "fashion_products" / "metadata.csv", dtype=str, keep_default_na=False)
    f = f[f["masterCategory"].str.strip() != ""].reset_index(drop=True)
    names = ["Apparel", "Accessories", "Footwear", "Personal Care", "Free Items", "Sporting Goods"]
    return (pd.DataFrame({"text": f["productDisplayName"], "image": f["image"]}),
            f["masterCategory"].to_numpy(str), names)


LOADERS = {"sms_spam": sms_spam, "trec": trec, "ag_news": ag_news, "catalogue": catalogue}
TITLES = {"sms_spam": "SMS spam (ham/spam)", "trec": "TREC coarse (6)",
          "ag_news": "AG News (4)", "catalogue": "product catalogue masterCategory (6, titles)"}


def features(name: str, frame: pd.DataFrame, text: str):
    """activelab's FeatureSet of the set's text column: ``text`` "minilm" or "tfidf"."""
    from activelab.core.data.spec import DatasetSpec, FeatureConfig
    from activelab.core.features.build import build_features

    spec = DatasetSpec(text_columns=("text",))
    return build_features(frame[["text"]], spec, FeatureConfig(text=text),
                          cache_dir=CACHE / name)


def photo_features(frame: pd.DataFrame):
    """The catalogue photos' pretrained EfficientNet-Lite0 features (the image_features
    benchmark's cache is reused when present)."""
    from activelab.core.data.spec import DatasetSpec, FeatureConfig
    from activelab.core.features.build import build_features

    root = DATA / "fashion_products"
    full = pd.read_csv(root / "metadata.csv", dtype=str, keep_default_na=False)
    fs = build_features(full, DatasetSpec(image_column="image"),
                        FeatureConfig(image="efficientnet_lite0"),
                        cache_dir=os.environ.get("ACTIVELAB_IMAGE_CACHE",
                                                 "/tmp/activelab-image-features-cache"),
                        image_root=str(root))
    keep = full.index[full["masterCategory"].str.strip() != ""].to_numpy()
    return np.asarray(fs.blocks["image"])[keep]


def split(n: int, seed: int, pool_cap: int, test_cap: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """A seeded 75/25 pool/test split, each capped (rows of the whole set, sorted)."""
    perm = np.random.default_rng(seed).permutation(n)
    cut = n // 4
    return np.sort(perm[cut:][:pool_cap]), np.sort(perm[:cut][:test_cap])
