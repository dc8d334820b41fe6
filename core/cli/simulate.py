"""``activelab simulate``: compare query strategies on labeled data before an expert labels.

Reads the data with the importers, uses the label column as the one task (its known labels play
the expert), builds features, runs ``activelab.core.simulation.simulate.simulate`` with a progress bar on stderr,
writes curves.csv / curves.png / summary.csv and prints the summary table.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from activelab.core.cli.support import (
    fraction, nonnegative_int, open_fraction, positive_int, progress_bar,
)
from activelab.core.errors import ActiveLabError, DataError

if TYPE_CHECKING:   # pragma: no cover
    import numpy as np

DEFAULT_STRATEGIES = "random,least_confidence,margin,entropy"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``simulate`` sub-command on an argparse sub-parsers object."""
    p = subparsers.add_parser(
        "simulate",
        help="Compare query strategies on labeled data (the known labels play the expert).",
        description=(
            "Simulate active learning on data that is already labeled: per repeat, a stratified "
            "held-out test split, the same random start for every strategy, then BATCH more "
            "labels per round chosen by each strategy until BUDGET labels. Writes curves.csv, "
            "curves.png and summary.csv to --out and prints area under the learning curve and "
            "labels needed to reach 95%% of the full-training-split accuracy, both relative to "
            "random."
        ),
    )
    p.add_argument("--data", required=True, help="Table, image folder or .npz with the labels.")
    p.add_argument("--label-column", required=True, help="Column holding the known labels.")
    p.add_argument("--format", default=None, help="Input format (default: from the file).")
    p.add_argument("--encoding", default=None, help="Text encoding (default: detected).")
    from activelab.core.cli.context import add_read_arguments

    add_read_arguments(p)
    p.add_argument("--id-column", default=None)
    p.add_argument("--text-column", action="append", default=[], dest="text_columns",
                   help="Text column (repeatable).")
    p.add_argument("--image-column", default=None)
    p.add_argument("--feature-columns", default=None,
                   help="Comma-separated tabular feature columns (default: guessed).")
    p.add_argument("--text-features", choices=("tfidf", "minilm"), default=None,
                   help="Text features: TF-IDF or MiniLM sentence embeddings (default: what a "
                        "new project gets, see 'activelab new --help').")
    p.add_argument("--image-features", choices=("pixels", "efficientnet"), default=None,
                   help="Image features: resized pixels or pretrained EfficientNet-Lite0 "
                        "features (the neural extra); default: see FeatureConfig.")
    p.add_argument("--image-size", type=image_size_arg, default=None, metavar="N|native",
                   help="Side in pixels images are resized to (default 32); 'native' keeps "
                        "the first image's size (28 for MNIST-like data: no upscaling).")
    p.add_argument("--test-data", default=None, metavar="FILE",
                   help="Evaluate on this fixed test file (same columns as --data) instead of "
                        "a random held-out split; features are fitted on --data only.")
    p.add_argument("--target-metric", choices=("accuracy", "macro_f1"), default="accuracy",
                   help="Score that 'labels to target' is measured on (default accuracy).")
    p.add_argument("--target", default=0.95,
                   type=fraction("--target", "a fraction of the full-data model's score, e.g. 0.95"),
                   help="Target as a fraction of the full-data model's score (default 0.95).")
    p.add_argument("--stop-kappa", type=fraction("--stop-kappa"), default=None, metavar="K",
                   help="Stopping rule: kappa between the stop-set predictions of models "
                        "20 labels apart (default 0.982; the paper's 0.99).")
    p.add_argument("--stop-window", type=positive_int("--stop-window"), default=None,
                   metavar="N", help="Stopping rule: successive kappas it looks at "
                                     "(default 3).")
    p.add_argument("--stop-aggregate", choices=("trend", "each", "mean"), default=None,
                   help="Stopping rule: the kappas' fitted trend must reach K at each of the "
                        "window's checks (default), each raw kappa, or their mean (the "
                        "paper's averaging).")
    p.add_argument("--model", default="logistic_regression",
                   help="Model name (see 'activelab models'; default logistic_regression).")
    p.add_argument("--model-param", action="append", default=[], dest="model_params",
                   metavar="KEY=VALUE", help="Model parameter, e.g. C=10 (repeatable).")
    p.add_argument("--strategies", default=DEFAULT_STRATEGIES,
                   help=f"Comma-separated strategy names (default {DEFAULT_STRATEGIES}); "
                        "random is always added as the reference.")
    p.add_argument("--initial", type=positive_int("--initial"), default=10,
                   help="Random labels to start from (>= 1).")
    p.add_argument("--batch", type=positive_int("--batch"), default=10,
                   help="Labels queried per round (>= 1).")
    p.add_argument("--budget", type=positive_int("--budget"), default=200,
                   help="Labels at the end of a run (>= 1).")
    p.add_argument("--repeats", type=positive_int("--repeats"), default=3,
                   help="Repeats with different splits (>= 1).")
    p.add_argument("--test-size", type=open_fraction("--test-size"), default=0.25,
                   help="Held-out share, between 0 and 1 (exclusive).")
    p.add_argument("--seed", type=nonnegative_int("--seed"), default=0)
    p.add_argument("--out", default=None,
                   help="Output folder (default ./simulation-<data name>).")
    p.add_argument("--engine", choices=("embedded", "dask"), default="embedded",
                   help="embedded (default): every run in this process; dask: the repeats x "
                        "strategies as parallel Dask tasks (same results for the same seed).")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="With --engine dask: a running Dask scheduler (e.g. tcp://host:8786); "
                        "default a local cluster of --workers processes.")
    p.add_argument("--workers", type=positive_int("--workers"), default=2,
                   help="With --engine dask and no --scheduler: local worker processes "
                        "(default 2).")
    p.add_argument("--no-progress", action="store_true", help="No progress bar.")
    p.set_defaults(func=run)
    return p


def _tqdm_progress(desc: str, enabled: bool) -> tuple[Any, Callable[..., None]]:
    """A core Progress driving a tqdm bar on stderr (only when stderr is a terminal), and a
    function closing the bar (``close(failed=True)`` clears it before an error message)."""
    bar = progress_bar(desc, enabled=enabled, leave=True)
    return bar.__enter__(), bar.close


def parse_key_values(items: list[str], what: str = "--model-param") -> dict[str, Any]:
    """KEY=VALUE pairs (shape: list of "KEY=VALUE" -> dict). Values are read as JSON (10,
    0.5, true, null, "x", {"C": 5}, [64, 32]) and else kept as text; keys and values are
    stripped of surrounding whitespace (a Windows ``\r`` too). NaN and Infinity, which JSON
    does not have, stay text, so they are refused by the typed checks rather than stored.
    Raises DataError for an item without '=' or without a key. The values' types are checked
    by the settings / model / strategy they are for, not here."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise DataError(f"{what} '{item}' must look like KEY=VALUE, e.g. C=10.")
        try:
            out[key] = json.loads(value, parse_constant=_no_constant)
        except ValueError:
            out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def _check_choices(model: str, params: dict[str, Any], strategies: list[str]) -> None:
    """Fail on an unknown model, a model parameter of the wrong name, type or range, or an
    unknown strategy before the slow feature work (ActiveLabError)."""
    from activelab.core.learning.model_params import validate_model_params
    from activelab.core.querying.registry import get_strategy

    validate_model_params(model, params)
    for name in strategies:
        get_strategy(name)


def _data_name(path: str) -> str:
    p = Path(path).expanduser()
    name = p.stem if p.is_file() else p.name
    return name or "data"


def load_labeled(args: argparse.Namespace, cache_dir: Path | None, progress: Any = None
                 ) -> tuple[Any, np.ndarray, np.ndarray, list[str]]:
    """(model_X, dense, labels, decisions) for the rows that have a label."""
    import numpy as np

    from activelab.core.features.build import build_features
    from activelab.core.data.roles import infer_spec, label_str
    from activelab.core.data.read import read_table

    from activelab.core.cli.context import read_options

    table = read_table(args.data, format=args.format, encoding=getattr(args, "encoding", None),
                       image_column=args.image_column, **read_options(args))
    if args.label_column not in table.frame.columns:
        raise DataError(
            f"Label column '{args.label_column}' is not in {args.data}. Available columns: "
            f"{', '.join(map(str, table.frame.columns))}. Pass the column that holds the known "
            "labels with --label-column (names are case-sensitive)."
        )
    features = None
    if args.feature_columns:
        features = [c.strip() for c in args.feature_columns.split(",") if c.strip()]
    spec, decisions = infer_spec(
        table, id_column=args.id_column, text_columns=args.text_columns,
        image_column=args.image_column, feature_columns=features, tasks=[args.label_column],
    )
    labels = np.array([label_str(v) for v in table.frame[args.label_column]], dtype=object)
    keep = np.array([v is not None for v in labels])
    if keep.sum() < len(labels):
        decisions.append(f"{len(labels) - int(keep.sum())} rows without a label in "
                         f"'{args.label_column}' are left out")
    if keep.sum() == 0:
        raise DataError(f"Column '{args.label_column}' of {args.data} has no labels at all.")
    fs = build_features(table.frame, spec, feature_config(args, table, spec),
                        image_root=table.image_root, image_array=table.image_array,
                        cache_dir=cache_dir, progress=progress,
                        decimal=getattr(table, "decimal", None) or ".")
    rows = np.flatnonzero(keep)
    X = fs.model_X if keep.all() else fs.model_X[rows]
    dense = np.asarray(fs.dense) if keep.all() else np.asarray(fs.dense[rows])
    return X, dense, labels[rows], list(table.decisions) + decisions


def image_size_arg(text: str) -> int | str:
    """argparse type of --image-size: an integer from 8 to 1024, or 'native'."""
    if text.strip().lower() == "native":
        return "native"
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--image-size must be a whole number of pixels or 'native'; got '{text}'.") from None
    if not 8 <= n <= 1024:
        raise argparse.ArgumentTypeError(f"--image-size must lie between 8 and 1024; got {n}.")
    return n


def stop_options(args: argparse.Namespace) -> dict[str, Any]:
    """The stopping-rule settings given on the command line (absent ones keep the defaults)."""
    given = {"stop_kappa": getattr(args, "stop_kappa", None),
             "stop_window": getattr(args, "stop_window", None),
             "stop_aggregate": getattr(args, "stop_aggregate", None)}
    return {k: v for k, v in given.items() if v is not None}


def _native_image_size(table: Any, column: str) -> int:
    """The larger side of the first image of ``column`` (decoded as the viewer shows it)."""
    from activelab.core.data.images import load_image

    refs = table.frame[column].astype(str).str.strip()
    first = next((r for r in refs if r), None)
    if first is None:
        raise DataError(f"Image column '{column}' is empty; --image-size native has no image "
                        "to read the size from.")
    img = load_image(first, table.image_root, table.image_array, None, None)
    return int(max(img.size))


def feature_config(args: argparse.Namespace, table: Any, spec: Any) -> Any:
    """The FeatureConfig of the command line: text features and, for images, --image-features
    and --image-size."""
    from activelab.core.data.spec import FeatureConfig

    from activelab.core.features.image_encoder import feature_config_options

    from activelab.core.querying.measured import default_text_features

    text = getattr(args, "text_features", None) or default_text_features()
    options: dict[str, Any] = feature_config_options(text, getattr(args, "image_features", None))
    size = getattr(args, "image_size", None)
    if size is not None and spec.image_column:
        if size == "native":
            size = _native_image_size(table, spec.image_column)
        options["image_size"] = int(size)
    return FeatureConfig(**options)


def _pretrained_dense(args: argparse.Namespace) -> bool:
    """Whether the dense view comes from pretrained encoders only (MiniLM text and/or
    EfficientNet images, no raw modality beside them); then it serves as embeddings."""
    text_ok = getattr(args, "text_features", None) == "minilm"
    image_ok = getattr(args, "image_features", None) == "efficientnet"
    return (not getattr(args, "feature_columns", None) and (text_ok or image_ok)
            and (text_ok or not getattr(args, "text_columns", None))
            and (image_ok or not getattr(args, "image_column", None)))


def load_pool_and_test(args: argparse.Namespace, progress: Any = None
                       ) -> tuple[Any, np.ndarray, np.ndarray, tuple[Any, np.ndarray], list[str]]:
    """(pool model_X, pool dense view, pool labels, (test model_X, test labels), decisions):
    --data is the pool, --test-data the fixed test set; features are fitted on the pool only
    (``activelab.core.features.held_out``). Unlabeled rows of either are left out (said)."""
    import numpy as np

    from activelab.core.cli.context import read_options
    from activelab.core.data.read import read_table
    from activelab.core.data.roles import infer_spec, label_str
    from activelab.core.features.held_out import build_pool_and_test_features

    tables = []
    for path in (args.data, args.test_data):
        table = read_table(path, format=args.format, encoding=getattr(args, "encoding", None),
                           image_column=args.image_column, **read_options(args))
        if args.label_column not in table.frame.columns:
            raise DataError(
                f"Label column '{args.label_column}' is not in {path}. Available columns: "
                f"{', '.join(map(str, table.frame.columns))}. The pool and the test file need "
                "the same label column (names are case-sensitive)."
            )
        tables.append(table)
    pool, test = tables
    features = None
    if args.feature_columns:
        features = [c.strip() for c in args.feature_columns.split(",") if c.strip()]
    spec, decisions = infer_spec(
        pool, id_column=args.id_column, text_columns=args.text_columns,
        image_column=args.image_column, feature_columns=features, tasks=[args.label_column],
    )
    kept = []
    for what, table in (("pool", pool), ("test file", test)):
        labels = np.array([label_str(v) for v in table.frame[args.label_column]], dtype=object)
        keep = np.array([v is not None for v in labels])
        if not keep.any():
            raise DataError(f"Column '{args.label_column}' of the {what} has no labels at all.")
        if not keep.all():
            decisions.append(f"{int((~keep).sum())} rows of the {what} without a label in "
                             f"'{args.label_column}' are left out")
        frame = table.frame[keep].reset_index(drop=True) if not keep.all() else table.frame
        kept.append((frame, labels[keep]))
    (pool_frame, y_pool), (test_frame, y_test) = kept
    decisions.append(f"evaluating on {args.test_data} ({len(y_test):,} rows); features "
                     f"(vocabulary, scalers, dense view) fitted on the pool's {len(y_pool):,} "
                     "rows only")
    fs = build_pool_and_test_features(
        pool_frame, test_frame, spec, feature_config(args, pool, spec),
        image_root=pool.image_root, image_array=pool.image_array,
        test_image_root=test.image_root, test_image_array=test.image_array,
        progress=progress, decimal=getattr(pool, "decimal", None) or ".",
        test_decimal=getattr(test, "decimal", None) or ".")
    return (fs.pool_X, fs.pool_dense, y_pool, (fs.test_X, y_test),
            list(pool.decisions) + [f"test file: {d}" for d in test.decisions] + decisions)


def run(args: argparse.Namespace) -> int:
    """Run ``activelab simulate``; return the exit status (1 with the message on bad input)."""
    from activelab.core.simulation.simulate import simulate
    from activelab.core.simulation.report import format_summary, write_outputs

    try:
        name = _data_name(args.data)
        out = Path(args.out) if args.out else Path.cwd() / f"simulation-{name}"
        show = not getattr(args, "no_progress", False)
        strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
        _check_choices(args.model, parse_key_values(args.model_params), strategies)
        runner = None
        if getattr(args, "engine", "embedded") == "dask":
            from activelab.core.simulation.on_dask import DaskRunner

            runner = DaskRunner(args.scheduler, args.workers)
        elif getattr(args, "scheduler", None):
            raise DataError("--scheduler is used by --engine dask only; add --engine dask.")
        progress, close = _tqdm_progress("features", show)
        test = None
        try:
            if getattr(args, "test_data", None):
                X, dense, y, test, decisions = load_pool_and_test(args, progress)
            else:
                X, dense, y, decisions = load_labeled(args, out / ".feature-cache", progress)
        except BaseException:
            close(failed=True)
            raise
        close()
        for d in decisions:
            print(f"  {d}", file=sys.stderr)
        progress, close = _tqdm_progress("simulate", show)
        try:
            result = simulate(
                X, y, X_dense=dense, strategies=strategies, model=args.model,
                model_params=parse_key_values(args.model_params),
                initial=args.initial, batch=args.batch, budget=args.budget,
                repeats=args.repeats, test_size=args.test_size, seed=args.seed,
                progress=progress, name=name, test=test,
                target_metric=args.target_metric, target=args.target,
                pretrained_dense=_pretrained_dense(args), runner=runner,
                **stop_options(args),
            )
        except BaseException:
            close(failed=True)
            raise
        close()
        paths = write_outputs(result, out)
    except ActiveLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(format_summary(result))
    print()
    print(f"Wrote {paths['curves_csv']}, {paths['curves_png']}, {paths['summary_csv']} (one "
          f"row per strategy and repeat), {paths['table_csv']} and {paths['kappas_csv']}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (``python -m activelab.core.cli.simulate``) until the main CLI wires it in."""
    parser = argparse.ArgumentParser(prog="activelab")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
