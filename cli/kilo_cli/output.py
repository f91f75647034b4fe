"""Output shared by every command: ``--json`` data on stdout, tables via rich, messages and
progress on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from kilo_cli.tables import Col

JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print JSON on stdout (the API's field names).")
]

_consoles: dict[str, Console] = {}


def __getattr__(name: str) -> Any:
    """``out`` and ``err``: rich consoles for stdout and stderr, made on first use (importing
    rich costs more than the rest of ``kilo --help``)."""
    if name in ("out", "err"):
        if name not in _consoles:
            from rich.console import Console

            _consoles[name] = Console(stderr=name == "err", soft_wrap=True)
        return _consoles[name]
    raise AttributeError(name)


def out_console() -> Console:
    """The rich console on stdout (made on first use)."""
    console: Console = __getattr__("out")
    return console


def err_console() -> Console:
    """The rich console on stderr, for messages and progress (made on first use)."""
    console: Console = __getattr__("err")
    return console


def to_jsonable(obj: Any) -> Any:
    """pydantic models (by alias) and lists of them as plain JSON data."""
    if hasattr(obj, "dump") and callable(obj.dump):
        return obj.dump()
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json", by_alias=True)
    if isinstance(obj, list | tuple):
        return [to_jsonable(o) for o in obj]
    if isinstance(obj, dict):
        return {k: to_jsonable(v) for k, v in obj.items()}
    return obj


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False, default=str))
    sys.stdout.write("\n")
    sys.stdout.flush()


def print_table(
    rows: Sequence[Sequence[Any]],
    columns: Sequence[str | Col],
    *,
    title: str | None = None,
    empty: str = "nothing to show",
) -> list[str]:
    """``rows`` as a table on stdout that fits the terminal (see :mod:`kilo_cli.tables`);
    returns the names of the columns left out for lack of room."""
    from kilo_cli.tables import build_table

    if not rows:
        err_console().print(f"[dim]{empty}[/dim]")
        return []
    console = out_console()
    table, hidden = build_table(rows, columns, console, title=title)
    console.print(table)
    if hidden:
        err_console().print(
            f"[dim]left out at {console.width} columns: {safe(', '.join(hidden))} "
            "(a wider terminal or --json shows them)[/dim]",
            highlight=False,
        )
    return hidden


def safe(value: Any) -> str:
    """A value as text to print: control characters and bytes that are not text escaped
    (a title holding ESC sequences cannot recolour or clear the terminal) and rich markup
    escaped (a title ``[red]x`` prints as written)."""
    from rich.markup import escape

    from kilo.text import printable

    return "" if value is None else escape(printable(str(value)))


def print_record(pairs: Sequence[tuple[str, Any]]) -> None:
    """A single record as aligned ``key  value`` lines."""
    width = max((len(k) for k, _ in pairs), default=0)
    for key, value in pairs:
        out_console().print(f"[bold]{key.ljust(width)}[/bold]  {safe(value)}", highlight=False)


def message(text: str) -> None:
    err_console().print(text, highlight=False)


def emit(obj: Any, as_json: bool, human: Callable[[], object]) -> None:
    """``--json``: the object as JSON on stdout; else the human rendering."""
    if as_json:
        print_json(obj)
    else:
        human()
