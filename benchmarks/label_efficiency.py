"""Label efficiency of every registered strategy on the six shared data sets, paired against
random, with the project's own simulate engine (``activelab.core.simulation.simulate``).

    ACTIVELAB_SHARED_DATA=/work/shared/data .venv/bin/python benchmarks/label_efficiency.py \
        [--pool 2000] [--test 1000] [--initial 20] [--batch 20] [--budget 240] [--repeats 5] \
        [--sets sms_spam,ag_news,trec,adult_census,fashion_mnist,products] \
        [--text-features tfidf,minilm] [--strategies all] [--write-records]

Per task (the product catalogue gives three: masterCategory, gender, usage) and text features:
the pool is subsampled to --pool rows, the test set is the set's official test split where it
has one (TREC, Adult census, Fashion-MNIST; subsampled to --test rows) and else a fixed
stratified split; features are fitted on the pool only (``--test-data``'s path). Every
strategy starts each repeat from the same random start set as random; per repeat the engine
records accuracy and macro-F1 on the test rows, the stopping rule and the forecast.

The table, per task x strategy: AULC (macro-F1) ratio to random with its 95% paired interval,
labels to reach 95% of the full-pool model's macro-F1 as a ratio to random (paired, censored
repeats entered as bounds; how many repeats reached it), where the stopping rule fired against
where the curve flattened, and the forecast's median error. A strategy is "below random" on a
task when the AULC interval lies wholly below 1, "above" when it lies wholly above.

Written to benchmarks/results/label_efficiency.txt and label_efficiency.csv (one row per task x
features x strategy); each task's per-repeat summary.csv stays under --out for recomputation.
``--defaults`` measures what a new project gets when the user chooses nothing: the default
strategy against random, with the default text and image features (MiniLM; EfficientNet-Lite0
for image projects of up to 5,000 images), label steps +20 to 200 then +50, pool 4,000 and
budget 1,000 (``--set-budget trec=2000`` for a set where random needs more); results in
label_efficiency_defaults.txt/.csv, runs (with curves.csv, kappas.csv) under
label_efficiency_runs/defaults/ (``label_efficiency_defaults``).
``--write-records`` also writes each built-in's record (``strategy_records.json`` in
activelab.resources), which ``activelab strategies`` and the app's strategy picker show.
Every registered strategy is run unless --strategies names some, so a re-run after new
strategies are merged measures them too.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from label_efficiency_data import LOADERS, Task  # noqa: E402
from label_efficiency_defaults import growing_steps  # noqa: E402
from label_efficiency_table import (  # noqa: E402
    COLUMNS, format_tables, records_from, verdicts,
)

RESULTS = HERE / "results"
MISSING: dict[str, list[str]] = {}    # task -> strategies not measured (--assemble)
SIZE_FLAGS = ("model", "pool", "test", "initial", "batch", "budget", "repeats", "target", "seed")


def strategies_to_run(wanted: str) -> tuple[list[str], dict[str, str]]:
    """(names, skipped name -> reason): every registered strategy (or those named) except those
    whose inputs no single-model simulation can give."""
    from activelab.core.querying.registry import registry

    reg = registry()
    names = sorted(s.name for s in reg) if wanted == "all" else [
        s.strip() for s in wanted.split(",") if s.strip()]
    skipped = {}
    for n in list(names):
        req = reg.get(n).requires
        if "by_modality" in req:
            skipped[n] = f"needs per-modality model heads ({', '.join(sorted(req))})"
            names.remove(n)
    return names, skipped


def features_for(task: Task, text: str, image: str = "pixels", encoder=None):
    """(pool_X, pool_dense, test_X) built by the project's held-out feature code; ``image``:
    the image features ("pixels" or a pretrained encoder, then encoded by ``encoder``)."""
    from activelab.core.data.spec import DatasetSpec, FeatureConfig
    from activelab.core.features.held_out import build_pool_and_test_features

    spec = DatasetSpec(text_columns=task.text_columns, image_column=task.image_column,
                       feature_columns=task.feature_columns)
    config = FeatureConfig(text=text, image=image, **({"image_size": task.image_size}
                                                      if task.image_size else {}))
    fs = build_pool_and_test_features(
        task.pool, task.test, spec, config, image_root=task.image_root,
        image_array=task.pool_images, test_image_root=task.image_root,
        test_image_array=task.test_images, image_encoder=encoder)
    return fs.pool_X, fs.pool_dense, fs.test_X


def cached_features(task: Task, text: str, args: argparse.Namespace):
    """``features_for``, kept on disk under --out/_features (MiniLM embeddings take minutes on
    a busy machine); keyed by the pool's set, the text features and the sampling flags."""
    import scipy.sparse as sp

    base = "products" if task.name.startswith("products_") else task.name
    image = args.image if task.image_column else "pixels"
    tag = "" if image == "pixels" else f"-{image}"
    folder = Path(args.out) / "_features" / \
        f"{base}-{text}{tag}-{args.pool}-{args.test}-{args.seed}"
    names = ("pool_X", "pool_dense", "test_X")
    if folder.is_dir() and not args.fresh:
        out = []
        for n in names:
            out.append(sp.load_npz(folder / f"{n}.npz") if (folder / f"{n}.npz").is_file()
                       else np.load(folder / f"{n}.npy"))
        return tuple(out)
    memo = None
    if image != "pixels":
        from label_efficiency_defaults import ImageMemo

        memo = ImageMemo(Path(args.out).parent / "_image_memo", image).encode
    parts = features_for(task, text, image, memo)
    tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    for n, a in zip(names, parts):
        if sp.issparse(a):
            sp.save_npz(tmp / f"{n}.npz", sp.csr_matrix(a))
        else:
            np.save(tmp / f"{n}.npy", np.asarray(a))
    try:
        tmp.rename(folder)
    except OSError:          # another process cached the same features meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
    return parts


def run_task(task: Task, text: str, names: list[str], args: argparse.Namespace,
             cache: dict) -> pd.DataFrame:
    """The engine's per-strategy summary for one task and text features, plus the task's
    columns. Rows already measured with the same sizes under --out/<task>-<text>/ are kept
    (table.csv; per-repeat rows in summary.csv) and only the missing strategies run, with
    random again: its picks depend only on (seed, repeat), so it is the same reference."""
    from activelab.core.errors import StrategyError
    from activelab.core.simulation.simulate import simulate

    out = Path(args.out) / f"{task.name}-{label_of(task, text, args) if args.defaults else text}"
    settings = {k: getattr(args, k) for k in SIZE_FLAGS}
    if args.defaults:      # runs made by other stop / forecast code are not reused
        settings["steps"], settings["evaluation_code"] = args.steps, evaluation_code()
    old, old_rows = pd.DataFrame(), pd.DataFrame()
    if not args.fresh and (out / "table.csv").is_file() and (out / "settings.json").is_file() \
            and json.loads((out / "settings.json").read_text()) == settings:
        old, old_rows = pd.read_csv(out / "table.csv"), pd.read_csv(out / "summary.csv")
    todo = [n for n in names if n not in set(old.get("strategy", ()))]
    if args.assemble:
        if todo:
            MISSING.setdefault(f"{task.name} [{label_of(task, text, args)}]", []).extend(
                n for n in todo if n != "random")
        return old[old["strategy"].isin(names)] if len(old) else old
    if not todo:
        print(f"  reused {out / 'table.csv'}", file=sys.stderr)
        return old[old["strategy"].isin(names)]
    key = (id(task.pool), text)
    if key not in cache:
        cache.clear()
        cache[key] = cached_features(task, text, args)
    X, dense, X_test = cache[key]
    y = task.pool[task.label].to_numpy()
    y_test = task.test[task.label].to_numpy()
    t0 = time.time()
    while True:
        try:
            result = simulate(
                X, y, X_dense=dense, strategies=todo, model=args.model, initial=args.initial,
                batch=args.batch, budget=args.budget, repeats=args.repeats, seed=args.seed,
                test=(X_test, y_test), target_metric="macro_f1", target=args.target,
                name=task.name, pretrained_dense=args.defaults,
                steps=args.steps if args.defaults else None)
            break
        except StrategyError as exc:      # one strategy cannot run here: drop it, say so
            bad = next((n for n in todo if f"'{n}'" in str(exc)), None)
            if bad is None or bad == "random":
                raise
            print(f"  {task.name}/{text}: {bad} skipped: {exc}", file=sys.stderr)
            todo.remove(bad)
    out.mkdir(parents=True, exist_ok=True)
    table = result.summary.copy()
    first = result.per_repeat.drop_duplicates("repeat")
    table.insert(0, "features", label_of(task, text, args))
    table.insert(0, "task", task.name)
    table["split"] = task.split
    table["n_pool"] = len(y)
    table["n_test"] = len(y_test)
    table["full_macro_f1"] = float(first["full_macro_f1"].mean())
    table["majority_macro_f1"] = float(first["majority_macro_f1"].mean())
    rows = result.per_repeat
    if len(old):
        table = pd.concat([old, table[table["strategy"] != "random"]], ignore_index=True)
        rows = pd.concat([old_rows, rows[rows["strategy"] != "random"]], ignore_index=True)
    table["seconds"] = round(float(old["seconds"].iloc[0]) if len(old) else 0.0, 1) \
        + round(time.time() - t0, 1)
    for note in result.notes:
        print(f"  {task.name}/{text}: {note}", file=sys.stderr)
    rows.to_csv(out / "summary.csv", index=False)
    if args.defaults:      # the curves and kappas, to recompute stop / forecast columns
        result.curves.to_csv(out / "curves.csv", index=False)
        result.kappas.to_csv(out / "kappas.csv", index=False)
    table.to_csv(out / "table.csv", index=False)
    (out / "settings.json").write_text(json.dumps(settings))
    return table[table["strategy"].isin(names)]


def evaluation_code() -> str:
    """A fingerprint of the code that evaluates a run (the loop, the stopping rule, the
    forecast, the summary), so --defaults reruns what an earlier version measured."""
    import hashlib
    import importlib

    h = hashlib.sha1()
    for name in ("loop.stopping", "loop.stop_trend", "loop.forecast", "loop.forecast_trust",
                 "simulation.summary", "simulation.plateau", "simulation.evaluation",
                 "simulation.simulate"):
        h.update(Path(importlib.import_module(f"activelab.core.{name}").__file__).read_bytes())
    return h.hexdigest()[:12]


def label_of(task: Task, text: str, args: argparse.Namespace) -> str:
    """The table's features column: the text features ('-' without text), or with --defaults
    everything the model reads (e.g. 'minilm+efficientnet')."""
    if args.defaults:
        from label_efficiency_defaults import features_label

        return features_label(task, {"text": text, "image": args.image})
    return text if task.has_text else "-"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sets", default=",".join(LOADERS), help="Comma-separated data sets.")
    p.add_argument("--text-features", default="tfidf,minilm",
                   help="Text features to measure text sets with (comma-separated).")
    p.add_argument("--strategies", default="all", help="'all' registered, or names.")
    p.add_argument("--model", default="logistic_regression")
    p.add_argument("--pool", type=int, default=2000, help="Pool rows per set (subsampled).")
    p.add_argument("--test", type=int, default=1000, help="Test rows per set (subsampled).")
    p.add_argument("--initial", type=int, default=20)
    p.add_argument("--batch", type=int, default=20)
    p.add_argument("--budget", type=int, default=240)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--target", type=float, default=0.95)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(RESULTS / "label_efficiency_runs"))
    p.add_argument("--results", default=str(RESULTS / "label_efficiency"),
                   help="Path stem of the .txt table and .csv.")
    p.add_argument("--minilm-sets", default="sms_spam,ag_news,trec",
                   help="Sets also measured with MiniLM text features ('all': every text set).")
    p.add_argument("--tasks", default="",
                   help="Only these tasks (comma-separated, e.g. products_usage; default all "
                        "tasks of --sets), to spread one run over several processes.")
    p.add_argument("--features-only", action="store_true",
                   help="Only build (and cache under --out/_features) the features.")
    p.add_argument("--assemble", action="store_true",
                   help="Run nothing: assemble the table from what is measured under --out "
                        "(and list what is missing).")
    p.add_argument("--fresh", action="store_true",
                   help="Ignore strategies already measured under --out with the same sizes "
                        "(by default they are reused and only the missing ones run).")
    p.add_argument("--write-records", action="store_true",
                   help="Write each built-in's record to activelab.resources "
                        "strategy_records.json (needs every set and >= 5 repeats).")
    p.add_argument("--set-budget", default="",
                   help="With --defaults: a larger budget for some sets, e.g. trec=2000 (where "
                        "random does not reach the target within --budget).")
    p.add_argument("--defaults", action="store_true",
                   help="The project's defaults only: random against the default strategy, "
                        "default text and image features (MiniLM, EfficientNet-Lite0), label "
                        "steps +20 to 200 then +50; sizes --pool 4000 --budget 1000 unless "
                        "given; results label_efficiency_defaults.txt/.csv, runs under "
                        "label_efficiency_runs/defaults.")
    args = p.parse_args(argv)
    args.image, args.steps = "pixels", None
    if args.defaults:
        apply_defaults(args, argv if argv is not None else sys.argv[1:])

    names, skipped = strategies_to_run(args.strategies)
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    texts = [t.strip() for t in args.text_features.split(",") if t.strip()]
    if "minilm" in texts:
        from activelab.core.features.text_embeddings import minilm_available

        if not minilm_available():
            print("MiniLM is not installed (activelab[embeddings]); text sets use TF-IDF only.",
                  file=sys.stderr)
            texts = [t for t in texts if t != "minilm"]
    minilm_sets = {s.strip() for s in args.minilm_sets.split(",") if s.strip()}
    if args.defaults:
        minilm_sets = set(LOADERS)
    tables, cache = [], {}
    budgets = dict(b.split("=") for b in args.set_budget.split(",") if "=" in b)
    base_budget = args.budget
    for set_name in sets:
        if args.defaults:        # this set's budget and label steps
            args.budget = int(budgets.get(set_name, base_budget))
            args.steps = growing_steps(args.initial, args.budget)
        for task in LOADERS[set_name](args.pool, args.test, args.seed):
            wanted = texts if (args.minilm_sets == "all" or set_name in minilm_sets) \
                else [t for t in texts if t != "minilm"] or texts[:1]
            if args.tasks and task.name not in args.tasks.split(","):
                continue
            for text in (wanted if task.has_text else texts[:1]):
                if args.features_only:
                    cached_features(task, text, args)
                    continue
                t0 = time.time()
                print(f"{task.name} [{label_of(task, text, args)}]: pool {len(task.pool)}, "
                      f"test {len(task.test)} ({task.split}) ...", file=sys.stderr, flush=True)
                tables.append(run_task(task, text, names, args, cache))
                print(f"  done in {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    if args.features_only:
        return 0
    table = pd.concat(tables, ignore_index=True)
    args.budget = base_budget
    minutes = table.drop_duplicates(["task", "features"])["seconds"].sum() / 60.0
    header = (
        f"Label efficiency on the shared sets: model {args.model}, {args.repeats} repeats, "
        f"pool <= {args.pool:,} rows (subsampled, seeded), test <= {args.test:,} rows, "
        f"{args.initial} random labels then {args.batch} per round to {args.budget}; "
        f"target {args.target:.0%} of the full-pool model's macro-F1. Simulations took "
        f"{minutes:.0f} min (summed over tasks; 2-core machine shared with other work).\n"
        f"Command: ACTIVELAB_SHARED_DATA=/work/shared/data .venv/bin/python "
        f"benchmarks/label_efficiency.py {' '.join(argv if argv is not None else sys.argv[1:])}"
    )
    if args.defaults:
        header = header.replace(
            f"{args.initial} random labels then {args.batch} per round to {args.budget}",
            f"the project's defaults (strategy {names[-1]} against random; text features "
            f"{args.text_features}, image features {args.image}, tabular standardized/one-hot; "
            f"start: {args.initial} random labels), then +{args.steps[1] - args.steps[0]} "
            f"labels per round to {min(args.budget, 200)} and +50 per round to {args.budget}"
            + "".join(f" ({k}: to {v})" for k, v in budgets.items()))
        header += (f"\nStop / forecast columns from the evaluation code {evaluation_code()} "
                   "(fingerprint of the stopping rule, forecast and summary modules; runs made "
                   "by other code are not reused; benchmarks/label_efficiency_recompute.py "
                   "brings kept runs to the current code from their curves and kappas).")
    if args.assemble:
        header += ("\nAssembled (--assemble) from runs of the same sizes made in parallel "
                   "processes, each a --sets/--tasks/--strategies/--text-features slice of "
                   "this command; random is re-run in each slice with the same picks.")
    if skipped:
        header += "\nNot run: " + "; ".join(f"{k} ({v})" for k, v in skipped.items())
    if MISSING:
        header += "\nNot measured in the time this run had (these tasks lack them): " + \
            "; ".join(f"{k}: {', '.join(v)}" for k, v in MISSING.items())
    if "plateau_flat" in table and table["plateau_flat"].isna().any() \
            and table["plateau_flat"].notna().any():
        header += (f"\nStop / forecast columns: {int(table['plateau_flat'].notna().sum())} rows "
                   "measured with the current stopping rule and forecast (plateau shown with "
                   "'(flat/n)'), the others with the code of their earlier run.")
    text = format_tables(table, header, default=names[-1] if args.defaults else None)
    print(text)
    stem = Path(args.results)
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".txt").write_text(text + "\n", encoding="utf-8")
    table.reindex(columns=COLUMNS).to_csv(stem.with_suffix(".csv"), index=False)
    print(f"Wrote {stem.with_suffix('.txt')} and {stem.with_suffix('.csv')}.")
    if args.write_records:
        write_records(table, args, sets)
    return 0


def apply_defaults(args: argparse.Namespace, argv: list[str]) -> None:
    """--defaults: the project's default strategy (against random), text and image features;
    larger sizes (unless given) so random reaches the target; its own results and runs."""
    from label_efficiency_defaults import default_config

    from activelab.core.loop.settings import DEFAULT_STRATEGY
    from activelab.core.project.create import AUTO_PRETRAINED_MAX_IMAGES, DEFAULT_MODEL

    given = {a.split("=")[0] for a in argv if a.startswith("--")}
    for flag, value in (("--pool", 4000), ("--budget", 1000),
                        ("--out", str(RESULTS / "label_efficiency_runs" / "defaults")),
                        ("--results", str(RESULTS / "label_efficiency_defaults")),
                        ("--strategies", f"random,{DEFAULT_STRATEGY}"),
                        ("--model", DEFAULT_MODEL)):
        if flag not in given:
            setattr(args, flag[2:].replace("-", "_"), value)
    if args.write_records:
        raise SystemExit("--write-records comes from the full table, not --defaults.")
    if args.pool > AUTO_PRETRAINED_MAX_IMAGES:
        print(f"Note: a new project with more than {AUTO_PRETRAINED_MAX_IMAGES} images gets "
              "pixels by default; this pool is larger.", file=sys.stderr)
    config = default_config(images=True)
    args.text_features, args.image = config["text"], config["image"]
    args.steps = growing_steps(args.initial, args.budget)     # per set in main (--set-budget)


def write_records(table: pd.DataFrame, args: argparse.Namespace, sets: list[str]) -> None:
    """Each strategy's record on the sets, as package data (activelab.resources)."""
    import json

    from activelab.core.querying.measured import RECORDS_FILE

    if set(sets) != set(LOADERS) or args.repeats < 5:
        raise SystemExit("--write-records needs every set (--sets default) and >= 5 repeats.")
    data = records_from(table, verdicts(table))
    data["command"] = ("benchmarks/label_efficiency.py " + " ".join(sys.argv[1:])).strip()
    data["settings"] = {k: getattr(args, k) for k in SIZE_FLAGS}
    path = HERE.parent / "resources" / RECORDS_FILE    # the source tree's package data
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"Wrote {path} ({RECORDS_FILE}): {len(data['strategies'])} strategies.")


if __name__ == "__main__":
    raise SystemExit(main())
