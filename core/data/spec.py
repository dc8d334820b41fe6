"""Plain descriptions of a data set: which columns are what, and the labeling tasks."""
from __future__ import annotations

from dataclasses import dataclass, field, asdict
from typing import Any


@dataclass(frozen=True)
class TaskSpec:
    """One labeling task: a name, its classes, single- or multi-label.

    ``column`` is the data column the classes (and, with import, labels) came from, if any.
    Multi-label values in a column are separated by ``separator``.
    """

    name: str
    classes: tuple[str, ...]
    multilabel: bool = False
    column: str | None = None
    separator: str = "|"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["classes"] = list(self.classes)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TaskSpec":
        return cls(
            name=d["name"],
            classes=tuple(d.get("classes", ())),
            multilabel=bool(d.get("multilabel", False)),
            column=d.get("column"),
            separator=d.get("separator", "|"),
        )


@dataclass(frozen=True)
class DatasetSpec:
    """Which columns of the imported table play which role.

    ``id_column`` None means row numbers (as strings "0", "1", ...) are the ids.
    ``feature_columns`` are tabular features (numeric or categorical, may have missing values).
    ``image_column`` holds image paths relative to ``image_root`` (or absolute), or, for arrays
    imported from .npz, references of the form ``@array:<row>``.
    """

    id_column: str | None = None
    text_columns: tuple[str, ...] = ()
    image_column: str | None = None
    feature_columns: tuple[str, ...] = ()
    tasks: tuple[TaskSpec, ...] = ()

    @property
    def modalities(self) -> tuple[str, ...]:
        out = []
        if self.image_column:
            out.append("image")
        if self.text_columns:
            out.append("text")
        if self.feature_columns:
            out.append("tabular")
        return tuple(out)

    def task(self, name: str) -> TaskSpec:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id_column": self.id_column,
            "text_columns": list(self.text_columns),
            "image_column": self.image_column,
            "feature_columns": list(self.feature_columns),
            "tasks": [t.to_dict() for t in self.tasks],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "DatasetSpec":
        return cls(
            id_column=d.get("id_column"),
            text_columns=tuple(d.get("text_columns", ())),
            image_column=d.get("image_column"),
            feature_columns=tuple(d.get("feature_columns", ())),
            tasks=tuple(TaskSpec.from_dict(t) for t in d.get("tasks", ())),
        )


@dataclass(frozen=True)
class FeatureConfig:
    """How features are built per modality (part of the cache fingerprint).

    ``image``: "pixels" (the image resized to ``image_size`` squared, ``image_mode``) or
    "efficientnet_lite0" (1280 pooled features of the pretrained EfficientNet-Lite0, from the
    ``neural`` extra; ``image_size`` and ``image_mode`` then do not apply). A stored config
    written before this option existed reads as "pixels", what it was built with.
    """

    text: str = "tfidf"            # "tfidf" or "minilm" (sentence embeddings, offline package)
    tfidf_max_features: int = 50000
    image_size: int = 32           # images are resized to image_size x image_size
    image_mode: str = "auto"       # "auto" (L for grey sources, RGB otherwise), "L", "RGB"
    dense_dim: int = 256           # width of the dense view used by strategies and the pool map
    image: str = "pixels"          # "pixels" or "efficientnet_lite0" (pretrained, offline)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FeatureConfig":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        known.setdefault("image", "pixels")   # configs stored before the option: pixels
        return cls(**known)


def pretrained_dense(spec: "DatasetSpec", config: FeatureConfig) -> bool:
    """Whether the dense view is built from pretrained encoders only: the project has text or
    images, its text uses MiniLM sentence embeddings and its images a pretrained encoder,
    and it has no table feature columns (raw)."""
    text, image = bool(spec.text_columns), bool(spec.image_column)
    if not (text or image) or spec.feature_columns:
        return False
    return (not text or config.text == "minilm") and (not image or config.image != "pixels")


@dataclass
class ImportedTable:
    """What an importer read: the table plus where it came from and what was decided."""

    frame: Any                       # pandas.DataFrame, every column as read
    source: str                      # the path the user gave
    format: str                      # "csv", "tsv", "parquet", "jsonl", "image_folder", "npz", ...
    image_root: str | None = None    # folder that relative image paths are relative to
    image_array: Any = None          # numpy array (N, H, W[, C]) for "@array:<row>" references
    decisions: list[str] = field(default_factory=list)  # human-readable "what was decided"
    rows_read: int | None = None     # data rows the reader found (a quoted newline is one row)
    decimal: str = "."               # decimal mark of numbers written as text ("," for 0,5)
    na_values: tuple[str, ...] = ()  # cells read as missing besides empty ones (--na-values)
    index_columns: tuple[str, ...] = ()  # columns that were the table's saved (pandas) index
    pool_file: Any = None            # parts_stream.StreamedPool: pool.parquet already written
