"""Output shared by every command: ``--json`` data on stdout, tables via rich, messages and
progress on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

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
    columns: Sequence[str],
    *,
    title: str | None = None,
    empty: str = "nothing to show",
) -> None:
    from rich.table import Table

    if not rows:
        err_console().print(f"[dim]{empty}[/dim]")
        return
    table = Table(title=title, header_style="bold", show_lines=False)
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*(safe(v) for v in row))
    out_console().print(table)


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


def emit(obj: Any, as_json: bool, human: Callable[[], None]) -> None:
    """``--json``: the object as JSON on stdout; else the human rendering."""
    if as_json:
        print_json(obj)
    else:
        human()


@contextmanager
def progress_bar(description: str, *, enabled: bool = True) -> Iterator[Callable[[Any], None]]:
    """A rich progress bar on stderr fed by ``kilo.progress.Progress`` snapshots."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    err = err_console()
    if not enabled or not err.is_terminal:
        yield lambda _snapshot: None
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    task = bar.add_task(description, total=None, info="")

    def update(snapshot: Any) -> None:
        info = snapshot.message or snapshot.item or ""
        bar.update(
            task,
            completed=snapshot.done,
            total=snapshot.total,
            description=f"{description}: {snapshot.stage}",
            info=str(info)[:40],
        )

    with bar:
        yield update
