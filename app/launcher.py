"""The ``activelab`` console command: the headless commands run in activelab.core.cli.main; opening the desktop
app (no argument, a project folder, ``gui`` or ``demo``) is handed to activelab.app.main, imported only
then, so ``activelab new/query/label/...`` never loads Qt."""
from __future__ import annotations

import sys
from typing import Any, Sequence


def _run_gui(*args: Any, **kwargs: Any) -> int:
    from activelab.app.main import run_gui

    return run_gui(*args, **kwargs)


def main(argv: Sequence[str] | None = None) -> int:
    from activelab.core.cli.main import main as cli_main

    return cli_main(argv, run_gui=_run_gui)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
