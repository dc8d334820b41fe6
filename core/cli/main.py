"""The ``activelab`` command: create projects, label from the shell, export, simulate, and
open the desktop app. Every user-fixable error prints one paragraph and exits non-zero."""
from __future__ import annotations

import argparse
import json
import math
import sqlite3
import sys
from typing import Any, Callable, Sequence

from activelab.core.cli.support import (
    fraction_or_zero, nonnegative_float, positive_int, progress_bar, stdout_closed,
)
from activelab.core.errors import ActiveLabError

COMMANDS = ("new", "query", "label", "skip", "flag", "undo", "redo", "status", "export",
            "simulate", "strategies", "models", "add-class", "set", "demo", "gui", "retrain",
            "backup", "check", "show", "history", "review", "agreement", "attach")

_OPENED: list[Any] = []   # projects opened by this command: closed (checkpointed) at the end
_ANNOTATOR: list[str | None] = [None]   # this command's --annotator (None: not given)


def _project(path: str):
    from activelab.core.project.project import Project

    proj = Project.open(path)
    proj.set_annotator(_ANNOTATOR[0])   # --annotator > $ACTIVELAB_ANNOTATOR > project setting
    _OPENED.append(proj)   # damaged rows (settings included) are warned about at the end
    return proj


def _csv_list(s: str | None) -> list[str] | None:
    return None if s is None else [x.strip() for x in s.split(",") if x.strip()]


def read_options(a: argparse.Namespace) -> dict[str, Any]:
    """--delimiter, --decimal, --na-values and --header as keywords for
    ``activelab.core.data.read.read_table``."""
    out: dict[str, Any] = {}
    if getattr(a, "delimiter", None) is not None:
        out["delimiter"] = a.delimiter
    if getattr(a, "decimal", None) is not None:
        out["decimal"] = a.decimal
    if getattr(a, "na_values", None):
        out["na_values"] = tuple(_csv_list(a.na_values) or ())
    if getattr(a, "header", None) is not None:
        out["header"] = a.header
    return out


def add_annotator_argument(p: argparse.ArgumentParser, what: str = "who labels") -> None:
    """``--annotator NAME``: overrides $ACTIVELAB_ANNOTATOR, then the project's setting."""
    p.add_argument("--annotator", metavar="NAME",
                   help=f"{what}; default: $ACTIVELAB_ANNOTATOR, else the project's "
                        "'annotator' setting (the login name)")


def add_read_arguments(p: argparse.ArgumentParser) -> None:
    """The options of how a text table is read, shared by 'new' and 'simulate'."""
    p.add_argument("--delimiter", help="field delimiter of a text table: , ; | or tab "
                   "(default: detected whatever the file extension)")
    p.add_argument("--decimal", choices=[".", ","], help="decimal mark of numbers in the file "
                   "(default: ',' when a semicolon file writes numbers like 0,5, else '.')")
    p.add_argument("--na-values", metavar="A,B,C", help="comma-separated cell values to read as "
                   "missing besides empty cells, e.g. NA,null (default: only empty cells; 'NA', "
                   "'None', 'null', 'nan' are ordinary values)")
    p.add_argument("--header", action=argparse.BooleanOptionalAction, default=None,
                   help="the first row of a text table names the columns (--no-header: it is "
                   "data; default: detected)")


# --------------------------------------------------------------------------- commands
def cmd_new(a: argparse.Namespace) -> int:
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
    team = {k: v for k, v in (("overlap", a.overlap), ("overlap_annotators", a.overlap_annotators),
                              ("lease_minutes", a.lease_minutes)) if v is not None}
    if team:
        settings = {**(settings or {}), **team}
    if (a.engine == "dask" or a.scheduler) and a.store:
        raise ActiveLabError(
            "A Dask-engine project (--engine dask) keeps its labels in the project folder's own "
            "store for now; --store (PostgreSQL) works with the embedded engine. Drop one of the "
            "two options.")
    if a.engine == "dask" or a.scheduler:   # a pool read in place, scored on Dask (issue 13)
        from activelab.core.scale.create import create_dask_project

        with _progress_bar("creating project") as prog:
            final, decisions = create_dask_project(
                a.project, data=a.data, scheduler=a.scheduler, id_column=a.id_column,
                text_columns=a.text_column or (), feature_columns=_csv_list(a.feature_columns),
                tasks=a.task or (), multilabel=a.multilabel or (), import_labels=a.import_labels,
                model=a.model, model_params=parse_key_values(a.model_params),
                strategy=a.strategy, settings=settings, progress=prog,
                text_features=a.text_features)
        proj = _project(str(final))
        proj.decisions = decisions
    else:
        with _progress_bar("creating project") as prog:
            proj = Project.create(
                a.project, data=a.data, format=a.format, encoding=a.encoding, id_column=a.id_column,
                text_columns=a.text_column or (), image_column=a.image_column,
                feature_columns=_csv_list(a.feature_columns), tasks=a.task or (),
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


def cmd_query(a: argparse.Namespace) -> int:
    proj = _project(a.project)
    from activelab.core.cli.show import BLIND_NOTE, without_suggestions

    items, hidden = without_suggestions(proj, proj.query(a.n, strategy=a.strategy))
    if a.json:
        if hidden and items:
            print(f"note: {BLIND_NOTE}", file=sys.stderr)
        out = []
        for it in items:
            d = it.to_dict()
            for t, p in it.predictions.items():   # flat columns, for jq and spreadsheets
                d[f"{t}_prediction"], d[f"{t}_confidence"] = p.label, p.confidence
            if a.show:
                from activelab.core.cli.show import sample_lines

                d["shown"] = sample_lines(proj, it.idx, it)
            out.append(d)
        print(json.dumps(out, indent=2))
        return 0
    if not items:
        print("Nothing left to label: every sample is labeled or skipped.")
        return 0
    if items[0].reason.startswith(("cold start", "fallback")):
        print(f"({items[0].reason})")
    if hidden:
        print(f"note: {BLIND_NOTE}")
    for it in items:
        s = proj.sample(it.idx)
        preview = " | ".join(v for v in s.texts.values())[:70] or (s.image_ref or "")
        preds = ", ".join(f"{t}={p.label if not isinstance(p.label, list) else '|'.join(p.label)}"
                          f" ({p.confidence:.2f})" for t, p in it.predictions.items()) or ("hidden" if hidden else "no model yet")
        score = "-" if math.isnan(it.score) else f"{it.score:.4f}"
        tag = " [audit]" if it.audit else ""
        print(f"{it.id}\t{it.strategy}{tag}\tscore {score}\trank {it.rank}\t{preds}\t{preview}")
        if a.show:   # the whole sample, as 'activelab show' prints it
            from activelab.core.cli.show import sample_lines

            print("\n".join(sample_lines(proj, it.idx, it)) + "\n")
    return 0


def _typed_id(proj, raw: str) -> str:
    """The sample id as typed, or stripped of surrounding whitespace / a Windows ``\\r`` when
    only the stripped form is an id (ids are matched verbatim first: they are never changed)."""
    from activelab.core.errors import LabelError

    try:
        proj.index_of(raw)
        return raw
    except LabelError:
        return raw.strip() if raw.strip() != raw else raw


def _typed_label(proj, task: str | None, raw: str) -> str:
    """The label as typed, stripped of surrounding whitespace and ``\\r`` (class names never
    have any: imported and added classes are stripped); multi-label parts each stripped."""
    t = proj._task(task)
    if t.multilabel:
        return t.separator.join(part.strip() for part in raw.split(t.separator))
    return raw.strip()


def cmd_label(a: argparse.Namespace) -> int:
    proj = _project(a.project)
    task = None if a.task is None else a.task.strip()
    if a.review:   # a reviewer's decision (strategy review:disagreement), activelab.core.team
        from activelab.core.team.review import record_review

        name = proj._task(task).name
        ev = record_review(proj, _typed_id(proj, a.sample_id),
                           {name: _typed_label(proj, name, a.label)},
                           reviewer=proj.annotator,
                           seconds=a.seconds, inputs={name: "cli"})[0]
        print(f"Saved review decision: {ev.sample_id} -> {ev.task} = {ev.value} (event {ev.seq}).")
        return 0
    ev = proj.label(_typed_id(proj, a.sample_id), _typed_label(proj, task, a.label), task=task,
                    annotator=proj.annotator, seconds=a.seconds, input="cli")
    print(f"Saved: {ev.sample_id} -> {ev.task} = {ev.value} (event {ev.seq}).")
    return 0


def cmd_skip(a: argparse.Namespace) -> int:
    proj = _project(a.project)
    ev = proj.skip(_typed_id(proj, a.sample_id), annotator=proj.annotator)
    print(f"Skipped {ev.sample_id} (event {ev.seq}).")
    return 0


def cmd_flag(a: argparse.Namespace) -> int:
    proj = _project(a.project)
    ev = proj.flag(_typed_id(proj, a.sample_id), annotator=proj.annotator, note=a.note)
    print(f"Flagged {ev.sample_id} (event {ev.seq}).")
    return 0


def cmd_undo(a: argparse.Namespace) -> int:
    proj = _project(a.project)
    ev = proj.undo()
    print(f"Nothing of {proj.annotator}'s to undo." if ev is None
          else f"Undid {proj.annotator}'s {ev.kind} of {ev.sample_id} (event {ev.seq}).")
    return 0


def cmd_redo(a: argparse.Namespace) -> int:
    proj = _project(a.project)
    ev = proj.redo()
    print(f"Nothing of {proj.annotator}'s to redo." if ev is None
          else f"Redid {proj.annotator}'s {ev.kind} of {ev.sample_id} (event {ev.seq}).")
    return 0


def cmd_status(a: argparse.Namespace) -> int:
    from activelab.core.cli.outlook import outlook, outlook_lines, without_stop_sets

    proj = _project(a.project)
    s = proj.status().to_dict()
    s.update(outlook(proj.curve(), getattr(a, "target", None),   # stopping, forecast, savings
                     audit_rate=proj.settings.audit_rate))
    s["latest_curve_point"] = without_stop_sets(s["latest_curve_point"])
    s["annotator"], s["annotators"] = proj.annotator, proj.annotator_counts()
    from activelab.core.team.report import team_report

    team = team_report(proj)
    s["agreement"] = [t.to_dict() for t in team.agreement]
    if a.json:
        print(json.dumps(s, indent=2))
        return 0
    print(f"Project {s['project']}: {s['labeled']} of {s['samples']} samples labeled "
          f"({s['skipped']} skipped, {s['flagged']} flagged)")
    for name, t in s["tasks"].items():
        counts = ", ".join(f"{c}: {n}" for c, n in t["classes"].items())
        print(f"  task {name} ({'multi' if t['multilabel'] else 'single'}-label), "
              f"{t['labeled']} labeled — {counts}")
    print(f"  model {s['model']} v{s['model_version']}, strategy {s['strategy']}")
    who = ", ".join(f"{n}: {c}" for n, c in s["annotators"].items()) or "none yet"
    print(f"  annotators (samples labeled): {who}; you are {s['annotator']}")
    p = s["latest_curve_point"]
    if p:
        fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
        print(f"  latest curve point: {p['n_labels']} labels, CV accuracy {fmt(p['cv_accuracy'])}, "
              f"macro-F1 {fmt(p['cv_macro_f1'])}, audit accuracy {fmt(p['audit_accuracy'])} "
              f"(n={p['audit_n']}), trained in {p['train_seconds']:.2f} s")
    else:
        print("  no model trained yet")
    for line in outlook_lines(s):
        print(line)
    for line in team.lines():
        print(line)
    return 0


def cmd_export(a: argparse.Namespace) -> int:
    from activelab.core.export.labels import check_destination, format_for_path, write_export

    format_for_path(check_destination(a.out), a.format)   # refused before any progress shows
    with _progress_bar("exporting") as prog:
        s = write_export(a.project, a.out, format=a.format,
                         include_unlabeled=a.include_unlabeled, progress=prog)
    print(f"Exported {s.rows} rows ({s.labeled} labeled) to {s.path} ({s.format}).")
    for line in s.agreement:   # a team project: per-annotator labels and resolutions went out
        print(f"  {line}")
    return 0


def cmd_retrain(a: argparse.Namespace) -> int:
    proj = _project(a.project)
    p = proj.retrain()
    if p is None:
        print("Not enough labels to train: each task needs two classes labeled.")
    else:
        print(f"Model v{p.version} on {p.n_labels} labels: CV accuracy "
              f"{p.cv_accuracy if p.cv_accuracy is None else round(p.cv_accuracy, 3)}")
    return 0


def cmd_strategies(a: argparse.Namespace) -> int:
    from activelab.core.querying.registry import registry

    from activelab.core.querying.measured import measured_default_strategy, record_text

    reg = registry()
    default = measured_default_strategy()
    for s in sorted(reg, key=lambda s: s.name):
        print(f"{s.name:24s} {s.description}")
        record = record_text(s.name)
        if record:
            print(f"{'':26s}{record}" + (" [default]" if s.name == default else ""))
        for p in s.params:
            extra = f" one of {list(p.choices)}" if p.choices else ""
            print(f"{'':26s}{p.name} ({p.type.__name__}, default {p.default!r}){extra}: {p.description}")
        if s.source != "builtin":
            print(f"{'':26s}from {s.source}")
    for name, err in reg.failures.items():
        print(f"plug-in '{name}' failed to load: {err}", file=sys.stderr)
    if not len(list(reg)):
        print("error: no query strategy could be loaded, not even the built-in ones (entry-point "
              "group 'activelab.strategies'). Reinstall activelab (pip install --force-reinstall "
              "activelab) in this environment.", file=sys.stderr)
        return 1
    return 0


def cmd_models(a: argparse.Namespace) -> int:
    from activelab.core.learning.models import model_info, model_names

    for n in model_names():
        print(f"{n:22s} {model_info(n).description}")
    return 0


def cmd_add_class(a: argparse.Namespace) -> int:
    t = _project(a.project).add_class(a.task, a.name)
    print(f"Task {t.name} classes: {', '.join(t.classes)}")
    return 0


def cmd_set(a: argparse.Namespace) -> int:
    from activelab.core.cli.simulate import parse_key_values

    proj = _project(a.project)
    s = proj.update_settings(**parse_key_values(a.assignments, "setting"))
    print(json.dumps(s.to_dict(), indent=2))
    return 0


def _gui(a: argparse.Namespace) -> Callable[..., int]:
    run_gui = getattr(a, "run_gui", None)
    if run_gui is None:
        raise ActiveLabError(
            "The desktop app is not available from here: start it with the 'activelab' command "
            "(installed with the package), e.g. 'activelab demo'."
        )
    return run_gui


def cmd_gui(a: argparse.Namespace) -> int:
    return _gui(a)([], project_path=getattr(a, "project", None))


def cmd_demo(a: argparse.Namespace) -> int:
    return _gui(a)([], demo=True, demo_dir=a.project)


# --------------------------------------------------------------------------- parser
#: A tqdm bar on stderr only when it is a terminal; cleared before any error message.
_progress_bar = progress_bar


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="activelab",
        description="Human-in-the-loop active learning. 'activelab' alone opens the app; "
                    "'activelab PROJECT_DIR' opens a project.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

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
    n.add_argument("--overlap-annotators", type=positive_int("--overlap-annotators"),
                   metavar="K", help="how many annotators label each overlap sample (default 2)")
    n.add_argument("--lease-minutes", type=nonnegative_float("--lease-minutes"), metavar="MIN",
                   help="a sample handed to an annotator is kept from others this long "
                        "unless labeled or skipped (default 15)")
    n.add_argument("--store", metavar="URL", help="keep the labels, queue and settings in a "
                   "PostgreSQL database (postgresql://USER@HOST:PORT/DB), for a team; default: "
                   "project.sqlite in the folder")
    n.set_defaults(func=cmd_new)

    q = sub.add_parser("query", help="print the next samples to label")
    q.add_argument("project")
    q.add_argument("-n", type=positive_int("n"), default=None,
                   help="how many, at least 1 (default: the batch size)")
    q.add_argument("--strategy")
    q.add_argument("--json", action="store_true")
    q.add_argument("--show", action="store_true", help="print each sample as 'activelab show' "
                   "does (texts, image path and size, values, suggestion)")
    add_annotator_argument(q, "who the samples are handed to (claimed for the project's "
                           "lease_minutes, so no other annotator gets them)")
    q.set_defaults(func=cmd_query)

    lab = sub.add_parser(
        "label", help="label a sample (saved before this returns)",
        description="Label a sample. The label (each part of a multi-label value), the task "
                    "and the annotator are stripped of surrounding whitespace and carriage "
                    "returns ('pos ' and 'pos\\r' from a Windows script are 'pos'); the sample "
                    "id is matched as typed first, then stripped.")
    lab.add_argument("project")
    lab.add_argument("sample_id", help="the sample's id, as imported")
    lab.add_argument("label", help="a class; for multi-label tasks several joined by '|' "
                                   "(or a JSON array), and [] for the empty set (no class "
                                   "applies); surrounding whitespace and \\r are stripped")
    lab.add_argument("--task")
    add_annotator_argument(lab)
    lab.add_argument("--seconds", type=nonnegative_float("--seconds"),
                     help="time spent on the sample (>= 0)")
    lab.add_argument("--review", action="store_true", help="record a reviewer's decision on "
                     "a disagreement (strategy review:disagreement; see 'activelab agreement')")
    lab.set_defaults(func=cmd_label)

    for name, fn, hlp in (("skip", cmd_skip, "skip a sample"), ("flag", cmd_flag, "flag a sample")):
        sp = sub.add_parser(name, help=hlp)
        sp.add_argument("project")
        sp.add_argument("sample_id")
        add_annotator_argument(sp)
        if name == "flag":
            sp.add_argument("--note")
        sp.set_defaults(func=fn)

    for name, fn, hlp in (("undo", cmd_undo, "undo the last label, skip or flag"),
                          ("redo", cmd_redo, "redo what was undone"),
                          ("retrain", cmd_retrain, "retrain the model now")):
        sp = sub.add_parser(name, help=hlp)
        sp.add_argument("project")
        if name != "retrain":
            add_annotator_argument(sp, "whose own last action (default: as for 'label')")
        sp.set_defaults(func=fn)

    st = sub.add_parser("status", help="labels per task and class, model, learning curve")
    st.add_argument("project")
    st.add_argument("--json", action="store_true")
    st.add_argument("--target", type=float, default=None, metavar="SCORE",
                    help="accuracy the forecast counts the labels to (default: 0.02 above the "
                         "latest cross-validated accuracy, or half-way to 1 if closer)")
    add_annotator_argument(st, "who 'you' are in the per-annotator counts")
    st.set_defaults(func=cmd_status)

    ex = sub.add_parser(
        "export", help="export the labeled data set",
        description="One row per labeled sample: activelab__id (the id as imported), every "
        "source column unchanged, then per task activelab__<task>__label and its provenance "
        "(annotator, time, seconds, strategy, score, rank, model_version, audit), and "
        "activelab__skipped/flagged. Multi-label values are lists in Parquet and JSON; in CSV "
        "a JSON array (\"[]\" = labeled with no class; an empty cell = not labeled).")
    ex.add_argument("project")
    ex.add_argument("--out", required=True,
                    help="the file to write; its extension sets the format: .csv, "
                         ".parquet/.pq, .jsonl/.ndjson (JSON Lines), .json (one JSON array)")
    ex.add_argument("--format", choices=["csv", "parquet", "jsonl", "json"],
                    help="write this format (an extension naming another format is refused)")
    ex.add_argument("--include-unlabeled", action="store_true",
                    help="add the model's predictions for unlabeled samples")
    ex.set_defaults(func=cmd_export)

    try:
        from activelab.core.cli import simulate as cli_simulate

        cli_simulate.add_parser(sub)
    except ImportError:  # pragma: no cover - simulate is part of the package
        pass
    from activelab.core.cli import store as cli_store

    cli_store.add_parser(sub)
    from activelab.core.cli import team as cli_team

    cli_team.add_parser(sub)
    from activelab.core.cli import show as cli_show

    cli_show.add_parser(sub)
    from activelab.core.cli import history as cli_history

    cli_history.add_parser(sub)
    from activelab.core.cli import review as cli_review

    cli_review.add_parser(sub)
    from activelab.core.cli import agreement as cli_agreement

    cli_agreement.add_parser(sub)

    sub.add_parser("strategies", help="list the query strategies").set_defaults(func=cmd_strategies)
    sub.add_parser("models", help="list the models").set_defaults(func=cmd_models)

    ac = sub.add_parser("add-class", help="add a class to a task")
    ac.add_argument("project")
    ac.add_argument("task")
    ac.add_argument("name")
    ac.set_defaults(func=cmd_add_class)

    se = sub.add_parser("set", help="change settings: KEY=VALUE (JSON values)")
    se.add_argument("project")
    se.add_argument("assignments", nargs="+")
    se.set_defaults(func=cmd_set)

    d = sub.add_parser("demo", help="open the app on bundled demo data")
    d.add_argument("--project", help="where to create (or reopen) the demo project")
    d.set_defaults(func=cmd_demo)

    g = sub.add_parser("gui", help="open the app (optionally on a project)")
    g.add_argument("project", nargs="?")
    g.set_defaults(func=cmd_gui)
    return p


def main(argv: Sequence[str] | None = None, run_gui: Callable[..., int] | None = None) -> int:
    """Run one command. ``run_gui`` opens the desktop app; core never imports the app, so
    the ``activelab`` launcher (app/launcher.py) passes it in."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        argv = ["gui"]
    elif argv[0] not in COMMANDS and not argv[0].startswith("-"):
        argv = ["gui", *argv]
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        finally:
            sys.stdout.flush()      # --help into a closed pipe
    except BrokenPipeError:
        return stdout_closed()
    args.run_gui = run_gui
    _ANNOTATOR[0] = getattr(args, "annotator", None)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from activelab.core.store.pg_refusals import set_role
    from activelab.core.store.temp_folders import sigterm_as_keyboard_interrupt

    set_role("app" if args.command == "gui" else args.command)   # names its server connections
    try:
        with sigterm_as_keyboard_interrupt():   # a kill cleans up like Ctrl+C does
            code = int(args.func(args) or 0)
        sys.stdout.flush()          # a closed pipe shows here, not in the exit flush
        return code
    except BrokenPipeError:
        return stdout_closed()
    except ActiveLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; everything saved so far is kept.", file=sys.stderr)
        return 130
    except (sqlite3.Error, OSError) as exc:   # last resort: named, never a traceback
        from activelab.core.store.failures import describe_error

        print(f"error: {describe_error(exc)}", file=sys.stderr)
        return 1
    finally:
        _finish_projects()


def _finish_projects() -> None:
    """Warn about damaged rows the command skipped; close (checkpoint) what it opened."""
    from activelab.core.cli.store import warn_damaged

    opened, _OPENED[:] = list(_OPENED), []
    warn_damaged(opened)
    for proj in opened:
        try:
            proj.close()
        except (sqlite3.Error, OSError):   # the WAL keeps the data; the next open recovers it
            pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
