"""The ``kilo`` command: one Typer app, command groups discovered in ``kilo_cli.commands``,
and one :func:`main` that maps kilo's error tree to exit codes.

Exit codes: 0 ok, 1 failure, 2 usage or bad input, 3 partial success (some items failed),
130 interrupted.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Annotated, Any, ClassVar

import typer
from typer._click import Context as ClickContext
from typer.core import TyperGroup

from kilo_cli.context import STATE

log = logging.getLogger("kilo_cli")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_PARTIAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130

#: Top-level commands: name -> (module of ``kilo_cli.commands`` that registers it, one-line
#: help). Only the module of the command being run is imported, so ``kilo --help`` imports
#: none of them (tests/cli/test_cli.py checks these lines against the commands' own help).
COMMANDS: dict[str, tuple[str, str]] = {
    "project": ("projects", "Create, list, show, update and archive projects."),
    "ingest": (
        "ingest",
        "Ingest photos: register every file at once, then make metadata and previews.",
    ),
    "analyze": (
        "analyze",
        "Run the culling engine: signals and hashes for new photos, "
        "embeddings (when CLIP is enabled), then moments, bursts and duplicate groups "
        "with suggested winners.",
    ),
    "assets": ("assets", "List and show assets (photos) and their files."),
    "clusters": ("clusters", "Moments, bursts and duplicate groups with their suggested winners."),
    "cull": (
        "cull",
        "Cull: 'kilo cull PROJECT' opens the keyboard culling screen; the "
        "subcommands pick, reject, rate, undo and export decisions from scripts.",
    ),
    "edit": ("edit", "Edit photos non-destructively: versions, sync, before/after, XMP."),
    "style": ("style", "Style DNA: your editing style learned from your own edits."),
    "search": (
        "search",
        "Search photos by meaning (CLIP), by example (--like) and by metadata filters.",
    ),
    "collections": ("collections", "Smart collections: saved searches that stay live."),
    "export": (
        "export",
        "Export photos of a project with a preset, to a folder or s3://, as a job.",
    ),
    "exports": ("export", "List, show and download exports."),
    "gallery": (
        "gallery",
        "Client galleries: a link to send, favorites and comments that come back.",
    ),
    "jobs": ("jobs", "Inspect the job queue."),
    "quarantine": ("quarantine", "Files an ingest could not take, with the reason for each."),
    "serve": (
        "serve",
        "Serve the HTTP API (openapi.yaml under /v1) and the browser studio (at /), and run "
        "the jobs; Ctrl-C stops it.",
    ),
    "open": (
        "open",
        "Open the browser studio signed in as you (starts kilo serve when none runs).",
    ),
}


class LazyRoot(TyperGroup):
    """The root group: lists commands from :data:`COMMANDS` and imports a command's module
    only when that command runs."""

    _loaded: ClassVar[dict[str, Any]] = {}

    def list_commands(self, ctx: ClickContext) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: ClickContext, cmd_name: str) -> Any:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module_name = entry[0]
        if module_name not in self._loaded:
            module = importlib.import_module(f"kilo_cli.commands.{module_name}")
            holder = typer.Typer(rich_markup_mode=None)
            module.register(holder)
            self._loaded[module_name] = typer.main.get_group(holder)
        return self._loaded[module_name].get_command(ctx, cmd_name)

    def format_commands(self, ctx: ClickContext, formatter: Any) -> None:
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = [(name, _shorten(text, limit)) for name, (_, text) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: max(10, limit - 3)].rsplit(" ", 1)[0]
    return f"{cut}..."


app = typer.Typer(
    name="kilo",
    cls=LazyRoot,
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
    all_users: Annotated[
        bool,
        typer.Option(
            "--all-users",
            envvar="KILO_ALL_USERS",
            help="Every user's projects, not only yours (an administrator's view: listings "
            "show whose each is).",
        ),
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            "-v",
            help="Log on stderr what happens, with the traceback of every failure "
            "(KILO_LOG=debug|info|warning does the same).",
        ),
    ] = False,
) -> None:
    """kilo: an AI-first photography toolkit."""
    from kilo.logs import level_from_env, log_to_stderr

    level = logging.DEBUG if verbose else level_from_env()
    if level is not None:
        log_to_stderr(level, ("kilo", "kilo_cli"))
    STATE.reset(home=home, store=store, all_users=all_users)


def exit_code_for(exc: BaseException) -> int:
    from kilo.errors import InvalidInput, NotFound, PartialFailure

    if isinstance(exc, PartialFailure):
        return EXIT_PARTIAL
    if isinstance(exc, InvalidInput | NotFound):
        return EXIT_USAGE
    return EXIT_FAILURE


def _say_interrupted() -> None:
    from kilo_cli.output import err_console
    from kilo_cli.progress import interrupted_summary

    done = interrupted_summary()
    err_console().print(
        f"interrupted: {done or 'what was finished is saved'}; run the same command to resume",
        highlight=False,
        markup=False,
    )


_interrupts = 0
#: how long a second Ctrl-C waits for the clean-up before leaving anyway (seconds)
_LAST_WAIT_S = 3.0


def _on_interrupt(signum: int, frame: Any) -> None:
    """Ctrl-C: the first stops the command where it is (KeyboardInterrupt: what is done is
    saved, claimed jobs go back to the queue); a second one while that happens exits at
    once (committed work is safe in the catalog; the next run reclaims the rest), after
    the same clean-up as the first's exit (:func:`_leave_now`: the pools' semaphores
    unlinked, else the resource tracker warns of "leaked semaphore objects"); a third, or a
    clean-up that does not finish within :data:`_LAST_WAIT_S`, exits at once."""
    global _interrupts
    _interrupts += 1
    if _interrupts == 1:
        raise KeyboardInterrupt
    if _interrupts > 2:
        os._exit(EXIT_INTERRUPTED)
    os.write(2, b"interrupted again: stopping now; the next run picks up what was left\n")
    import threading

    # the handler runs between two bytecodes of whatever was interrupted: should that hold
    # a lock the clean-up needs, the timer still ends the process
    timer = threading.Timer(_LAST_WAIT_S, os._exit, [EXIT_INTERRUPTED])
    timer.daemon = True
    timer.start()
    from kilo.workers import abandon_pools

    abandon_pools(wait_s=_LAST_WAIT_S / 2)  # workers gone before their semaphores are
    _leave_now(EXIT_INTERRUPTED)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns (and exits with) the process exit code."""
    from kilo.errors import KiloError
    from kilo_cli.progress import reset_progress

    reset_progress()
    code = EXIT_OK
    if argv is None:  # the console script, not a test calling main()
        signal.signal(signal.SIGINT, _on_interrupt)
    try:
        result = app(args=argv, prog_name="kilo", standalone_mode=False)
        code = result if isinstance(result, int) else EXIT_OK
        if code == EXIT_INTERRUPTED:  # Typer returns Ctrl-C as 130; no command does
            _say_interrupted()
    except KiloError as exc:
        from kilo_cli.output import err, safe

        if exc.__cause__ is not None or exc.__context__ is not None:
            log.debug("%s", exc.message, exc_info=exc)
        err.print(f"[red]error:[/red] {safe(exc.message)}", highlight=False, markup=True)
        code = exit_code_for(exc)
    except typer.Exit as exc:
        code = exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        _say_interrupted()
        code = EXIT_INTERRUPTED
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = EXIT_OK
    except Exception as exc:
        # Typer's own (vendored click) usage errors: they know how to show themselves.
        show = getattr(exc, "show", None)
        if _interrupts:  # Ctrl-C landed inside a lock's wait and surfaced as another error
            log.debug("interrupted", exc_info=exc)
            _say_interrupted()
            code = EXIT_INTERRUPTED
        elif show is None or not hasattr(exc, "exit_code"):
            code = _unexpected(exc)
        else:
            show()
            usage = "Usage" in type(exc).__name__ or exc.exit_code == 2
            code = EXIT_USAGE if usage else exc.exit_code
    finally:
        if argv is None:  # the work is over: closing the catalog and exiting are not to be
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupted
        STATE.close()
    if code == EXIT_INTERRUPTED and argv is None:
        _leave_now(code)
    if code and argv is None:
        sys.exit(code)
    return code


def _leave_now(code: int) -> None:
    """After Ctrl-C, once the catalog is closed (what was done is saved, claimed jobs are
    back in the queue): exit without the interpreter's shutdown, which joins every thread a
    worker pool left, and a pool interrupted while its workers were starting can keep that
    join waiting (seen once in CI: a Ctrl-C'd ``kilo ingest`` still there after 60 s).
    Workers left behind follow their owner out (``kilo.workers.exit_with``)."""
    import logging
    from contextlib import suppress

    from kilo.workers import release_pools

    release_pools()  # else the resource tracker warns of "leaked semaphore objects"
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):
            stream.flush()
    logging.shutdown()
    os._exit(code)


def _unexpected(exc: BaseException) -> int:
    """A failure kilo did not foresee (a bug): one line, the traceback with -v."""
    from kilo.errors import describe_exception
    from kilo_cli.output import err_console, safe

    log.debug("unexpected failure", exc_info=exc)
    hint = "" if log.isEnabledFor(logging.DEBUG) else " (kilo -v shows the traceback)"
    err_console().print(
        f"[red]error:[/red] unexpected {safe(describe_exception(exc))}{hint}", highlight=False
    )
    return EXIT_FAILURE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
