"""The ``kilo`` console script. ``kilo --version`` and ``kilo --help`` answer without loading
the CLI framework (importing Typer costs several times Python's own start-up); everything else
goes to :func:`kilo_cli.main.main`.

The top-level help is the app's own ``--help`` output, written to ``root_help.txt`` by
``scripts/gen_cli_reference.py``; ``tests/cli/test_cli.py`` checks the two are identical.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT_HELP = Path(__file__).with_name("root_help.txt")


def main() -> None:
    args = sys.argv[1:]
    if args == ["--version"]:
        from kilo import __version__

        sys.stdout.write(f"kilo {__version__}\n")
        return
    if args in (["--help"], ["-h"]) and ROOT_HELP.exists():
        sys.stdout.write(ROOT_HELP.read_text(encoding="utf-8"))
        return
    from kilo_cli.main import main as run

    run()
