"""The ``kilo`` console script. ``kilo --version`` answers without loading the CLI framework;
everything else goes to :func:`kilo_cli.main.main`."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from kilo import __version__

        sys.stdout.write(f"kilo {__version__}\n")
        return
    from kilo_cli.main import main as run

    run()
