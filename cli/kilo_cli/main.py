"""The ``kilo`` command: one Typer app, command groups discovered in ``kilo_cli.commands``,
and one :func:`main` that maps kilo's error tree to exit codes.

Exit codes: 0 ok, 1 failure, 2 usage or bad input, 3 partial success (some items failed),
130 interrupted.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from kilo_cli import commands
from kilo_cli.context import STATE

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_PARTIAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

app = typer.Typer(
    name="kilo",
    help="kilo: an AI-first photography toolkit. Ingest, cull, search, edit and deliver.",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        from kilo import __version__

        typer.echo(f"kilo {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            envvar="KILO_HOME",
            help="Library folder (catalog and store).",
            show_envvar=True,
        ),
    ] = None,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            envvar="KILO_STORE",
            help="Store URL for renditions and copies (folder or s3://bucket/prefix).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """kilo: an AI-first photography toolkit."""
    STATE.reset(home=home, store=store)


def _load_commands() -> None:
    modules = []
    for folder in commands.__path__:
        for entry in sorted(os.listdir(folder)):
            if entry.endswith(".py") and not entry.startswith("_"):
                modules.append(importlib.import_module(f"kilo_cli.commands.{entry[:-3]}"))
    modules.sort(key=lambda m: (getattr(m, "ORDER", 100), m.__name__))
    for module in modules:
        module.register(app)


_load_commands()


def exit_code_for(exc: BaseException) -> int:
    from kilo.errors import InvalidInput, NotFound, PartialFailure

    if isinstance(exc, PartialFailure):
        return EXIT_PARTIAL
    if isinstance(exc, InvalidInput | NotFound):
        return EXIT_USAGE
    return EXIT_FAILURE


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and exits with) the process exit code."""
    from kilo.errors import KiloError

    code = EXIT_OK
    try:
        result = app(args=argv, standalone_mode=False)
        code = result if isinstance(result, int) else EXIT_OK
    except KiloError as exc:
        from kilo_cli.output import err

        err.print(f"[red]error:[/red] {exc.message}", highlight=False, markup=True)
        code = exit_code_for(exc)
    except typer.Exit as exc:
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        code = EXIT_INTERRUPTED
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = EXIT_OK
    except Exception as exc:
        # Typer's own (vendored click) usage errors: they know how to show themselves.
        show = getattr(exc, "show", None)
        if show is None or not hasattr(exc, "exit_code"):
            raise
        show()
        code = (
            EXIT_USAGE if "Usage" in type(exc).__name__ or exc.exit_code == 2 else (exc.exit_code)
        )
    finally:
        STATE.close()
    if code and argv is None:
        sys.exit(code)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
