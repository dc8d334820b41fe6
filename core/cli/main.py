"""The ``activelab`` command: create projects, label from the shell, export, simulate, and
open the desktop app. Every user-fixable error prints one paragraph and exits non-zero."""
from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from typing import Callable, Sequence

from activelab.core.cli import labeling, new, status
from activelab.core.cli.context import finish_projects, open_project, set_annotator
from activelab.core.cli.support import stdout_closed
from activelab.core.errors import ActiveLabError

COMMANDS = ("new", "query", "label", "skip", "flag", "undo", "redo", "status", "export",
            "simulate", "strategies", "models", "add-class", "set", "demo", "gui", "retrain",
            "backup", "check", "show", "history", "review", "agreement", "attach")


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
    t = open_project(a.project).add_class(a.task, a.name)
    print(f"Task {t.name} classes: {', '.join(t.classes)}")
    return 0


def cmd_set(a: argparse.Namespace) -> int:
    from activelab.core.cli.simulate import parse_key_values

    proj = open_project(a.project)
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
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="activelab",
        description="Human-in-the-loop active learning. 'activelab' alone opens the app; "
                    "'activelab PROJECT_DIR' opens a project.",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    new.add_parser(sub)
    labeling.add_parsers(sub)
    status.add_parsers(sub)

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
    set_annotator(getattr(args, "annotator", None))
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from activelab.core.store.failures import command_running
    from activelab.core.store.pg_refusals import set_role
    from activelab.core.store.temp_folders import sigterm_as_keyboard_interrupt

    set_role("app" if args.command == "gui" else args.command)   # names its server connections
    try:
        cli_command = "" if args.command == "gui" else args.command   # retry advice
        with sigterm_as_keyboard_interrupt(), command_running(cli_command):
            code = int(args.func(args) or 0)    # a kill cleans up like Ctrl+C does
        sys.stdout.flush()          # a closed pipe shows here, not in the exit flush
        return code
    except BrokenPipeError:
        return stdout_closed()
    except ActiveLabError as exc:
        if "distributed" in sys.modules:   # our Dask clusters closed now, quietly, not at exit
            from activelab.core.scale.cluster import close_local_clusters
            close_local_clusters()
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
        finish_projects()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
