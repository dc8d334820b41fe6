"""``activelab new``: create a project from data (embedded, a team store, or a Dask pool)."""
from __future__ import annotations

import argparse

from activelab.core.cli.context import add_read_arguments, csv_list, open_project, read_options
from activelab.core.cli.support import (
    fraction_or_zero, nonnegative_float, positive_int, progress_bar,
)
from activelab.core.errors import ActiveLabError


def cmd_new(a: argparse.Namespace) -> int:
    """Create the project ``a.project`` from ``a.data`` and print what was decided."""
    from activelab.core.cli.simulate import parse_key_values
    from activelab.core.project.project import Project
    from activelab.core.data.spec import FeatureConfig
    from activelab.core.features.image_encoder import feature_config_options

    chosen = feature_config_options(a.text_features, a.image_features)
    from activelab.core.querying.measured import default_text_features

    # What is not given, the project chooses (image "auto"; text: the measured default).
    fc = (FeatureConfig(**{"image": "auto", "text": default_text_features(), **chosen})
          if chosen else None)
    settings = {"strategy_params": parse_key_values(a.strategy_params, "--strategy-param")} if a.strategy_params else None
    if a.overlap and a.overlap_every:
        raise ActiveLabError(
            f"--overlap {a.overlap:g} and --overlap-every {a.overlap_every} were both given: "
            "overlap is either a share of the samples or every k-th pick, not both. Give one of "
            "the two; nothing was created.")
    team = {k: v for k, v in (("overlap", a.overlap), ("overlap_every", a.overlap_every),
                              ("overlap_annotators", a.overlap_annotators),
                              ("lease_minutes", a.lease_minutes)) if v is not None}
    if team:
        settings = {**(settings or {}), **team}
    if (a.engine == "dask" or a.scheduler) and a.store:
        raise ActiveLabError(
            "A Dask-engine project (--engine dask) keeps its labels in the project folder's own "
            "store for now; --store (PostgreSQL) works with the embedded engine. Drop one of the "
            "two options.")
    if (a.engine == "dask" or a.scheduler) and a.image_features == "pixels":
        raise ActiveLabError(
            "The Dask engine embeds images with EfficientNet-Lite0 only; --image-features "
            "pixels works with the embedded engine. Drop --image-features pixels, or leave out "
            "--engine dask.")
    if a.engine == "dask" or a.scheduler:   # a pool read in place, scored on Dask (issue 13)
        from activelab.core.scale.create import create_dask_project

        with progress_bar("creating project") as prog:
            final, decisions = create_dask_project(
                a.project, data=a.data, scheduler=a.scheduler, id_column=a.id_column,
                text_columns=a.text_column or (), feature_columns=csv_list(a.feature_columns),
                tasks=a.task or (), multilabel=a.multilabel or (), import_labels=a.import_labels,
                model=a.model, model_params=parse_key_values(a.model_params),
                strategy=a.strategy, settings=settings, progress=prog,
                text_features=a.text_features)
        proj = open_project(str(final))
        proj.decisions = decisions
    else:
        with progress_bar("creating project") as prog:
            proj = Project.create(
                a.project, data=a.data, format=a.format, encoding=a.encoding, id_column=a.id_column,
                text_columns=a.text_column or (), image_column=a.image_column,
                feature_columns=csv_list(a.feature_columns), tasks=a.task or (),
                multilabel=a.multilabel or (), import_labels=a.import_labels,
                model=a.model, model_params=parse_key_values(a.model_params), strategy=a.strategy,
                feature_config=fc, settings=settings, progress=prog, read_options=read_options(a),
                store_url=a.store,
            )
    for d in proj.decisions:
        print(f"  - {d}")
    n_lab = proj.labeled_count()
    tasks = "; ".join(
        f"{t.name} ({'multi-label' if t.multilabel else 'single-label'}: {', '.join(t.classes[:8])}"
        f"{'…' if len(t.classes) > 8 else ''})" for t in proj.spec.tasks
    )
    read = proj.rows_read if proj.rows_read is not None else proj.n_samples
    print(f"Created project {proj.path} with {proj.n_samples} samples from {read} data rows "
          f"read; tasks: {tasks}; {n_lab} samples with imported labels; model {a.model}, "
          f"strategy {a.strategy}.")
    print(f"Next: activelab query {proj.path} -n 5 --show   (or open it: activelab {proj.path})")
    return 0


def add_parser(sub) -> None:
    """The ``new`` sub-command and its options."""
    n = sub.add_parser("new", help="create a project from data")
    n.add_argument("project", help="the new project folder")
    n.add_argument("--data", required=True, help="CSV/TSV/Parquet/JSONL file, image folder or .npz")
    n.add_argument("--format", help="csv, tsv, parquet, jsonl, image_folder, metadata, npz (default: detect)")
    n.add_argument("--encoding", help="text encoding, e.g. utf-8, cp1252, shift_jis (default: "
                   "detected; a file whose encoding cannot be decided is refused)")
    add_read_arguments(n)
    n.add_argument("--id-column")
    n.add_argument("--text-column", action="append", help="a text column (repeatable)")
    n.add_argument("--image-column")
    n.add_argument("--feature-columns", help="comma-separated tabular feature columns")
    n.add_argument("--task", action="append",
                   help="NAME=COLUMN (classes from a column) or NAME:a,b,c (repeatable)")
    n.add_argument("--multilabel", action="append", metavar="TASK", help="mark a task multi-label")
    n.add_argument("--import-labels", action="store_true", help="record the task columns' values as labels")
    n.add_argument("--model", default="logistic_regression",
                   help="a name from 'activelab models' or a scikit-learn class path, "
                        "e.g. sklearn.ensemble.ExtraTreesClassifier")
    n.add_argument("--model-param", action="append", default=[], dest="model_params",
                   metavar="KEY=VALUE", help="a model parameter (repeatable), e.g. C=10")
    from activelab.core.loop.settings import DEFAULT_STRATEGY

    n.add_argument("--strategy", default=DEFAULT_STRATEGY,
                   help=f"query strategy (default {DEFAULT_STRATEGY}: the label-efficiency "
                        "benchmark's choice; 'activelab strategies' shows each one's record)")
    n.add_argument("--strategy-param", action="append", default=[], dest="strategy_params",
                   metavar="KEY=VALUE", help="a strategy parameter (repeatable), e.g. beta=2")
    n.add_argument("--text-features", choices=["tfidf", "minilm"],
                   help="text features (default: MiniLM sentence embeddings when the "
                        "embeddings extra is installed and the label-efficiency benchmark chose "
                        "them, else TF-IDF; ACTIVELAB_TEXT_FEATURES overrides)")
    n.add_argument("--image-features", choices=["pixels", "efficientnet"],
                   help="image features: resized pixels, or pretrained EfficientNet-Lite0 "
                        "features; default: EfficientNet when the neural extra is installed "
                        "(pixels for a model that reads pixels: cnn, multimodal), else pixels")
    n.add_argument("--engine", choices=["embedded", "dask"], default="embedded",
                   help="embedded (default: everything in this process) or dask: the pool "
                        "(a folder of Parquet parts, a glob or an fsspec URL) is read in place "
                        "and scored as Dask tasks")
    n.add_argument("--scheduler", metavar="ADDRESS", help="with --engine dask: the Dask "
                   "scheduler to use, e.g. tcp://10.0.0.5:8786 (default: a LocalCluster on "
                   "this machine, one worker per core)")
    n.add_argument("--overlap", type=fraction_or_zero("--overlap"), metavar="SHARE",
                   help="share of samples labeled by several annotators, blind to each "
                        "other (0 to 1; default 0)")
    n.add_argument("--overlap-every", type=positive_int("--overlap-every"), metavar="K",
                   help="or: every K-th sample labeled project-wide (the K-th, 2K-th, ...) is "
                        "labeled by several annotators, blind to each other")
    n.add_argument("--overlap-annotators", type=positive_int("--overlap-annotators"),
                   metavar="K", help="how many annotators label each overlap sample (default 2)")
    n.add_argument("--lease-minutes", type=nonnegative_float("--lease-minutes"), metavar="MIN",
                   help="a sample handed to an annotator is kept from others this long "
                        "unless labeled or skipped (default 15)")
    n.add_argument("--store", metavar="URL", help="keep the labels, queue and settings in a "
                   "PostgreSQL database (postgresql://USER@HOST:PORT/DB), for a team; default: "
                   "project.sqlite in the folder")
    n.set_defaults(func=cmd_new)
