"""Output shared by every command: ``--json`` data on stdout, tables via rich, CSV, messages
and progress on stderr.

Text from outside (a client's comment in a gallery, a file name, a title) reaches the
photographer's terminal and spreadsheet through here, so nothing in it may act there:

* tables, records and messages escape control characters (ESC sequences that would clear
  the screen, set the clipboard (OSC 52) or forge lines), C1 controls and bidirectional
  overrides, as ``\\x1b``-style text (:func:`safe`);
* JSON writes those as ``\\u`` escapes (the same data once parsed, nothing raw on a terminal);
* CSV cells keep tabs and line breaks (quoted), escape the rest, and a cell a spreadsheet
  would run as a formula (``=``, ``+``, ``-``, ``@``, tab or CR first) starts with a single
  quote (OWASP's CSV-injection rule): :func:`csv_cell`.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kilo_cli.escaping import printable_text as printable_text
from kilo_cli.escaping import safe as safe

if TYPE_CHECKING:
    from rich.console import Console

    from kilo_cli.table_layout import Col

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


#: what a terminal may act on that JSON leaves raw with ensure_ascii=False: DEL, C1 controls,
#: line/paragraph separators, bidirectional overrides and isolates, lone surrogates
_RAW_IN_JSON = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def print_json(obj: Any) -> None:
    """``obj`` as JSON on stdout; characters a terminal would act on are ``\\u`` escapes
    (JSON escapes C0 controls itself)."""
    text = json.dumps(to_jsonable(obj), indent=2, ensure_ascii=False, default=str)
    sys.stdout.write(_RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text))
    sys.stdout.write("\n")
    sys.stdout.flush()


#: first characters that make a spreadsheet cell a formula (and their full-width forms)
_FORMULA_START = tuple("=+-@\t\r\uff1d\uff0b\uff0d\uff20")


def csv_cell(value: Any) -> Any:
    """One CSV cell made harmless: numbers as they are; text with control characters
    escaped but for tab and line breaks (CRLF becomes LF), and a single quote before it when
    it would start a formula, leading spaces aside."""
    if value is None or isinstance(value, bool | int | float):
        return value
    parts = re.split(r"([\t\n])", str(value).replace("\r\n", "\n"))
    text = "".join(p if p in ("\t", "\n") else printable_text(p) for p in parts)
    return f"'{text}" if text.lstrip(" ").startswith(_FORMULA_START) else text


def write_csv(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A header and ``rows`` as CSV on stdout, every text cell quoted and made harmless
    (:func:`csv_cell`)."""
    writer = csv.writer(sys.stdout, quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow([csv_cell(c) for c in columns])
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    sys.stdout.flush()


def print_table(
    rows: Sequence[Sequence[Any]],
    columns: Sequence[str | Col],
    *,
    title: str | None = None,
    empty: str = "nothing to show",
) -> list[str]:
    """``rows`` as a table on stdout that fits the terminal (see :mod:`kilo_cli.table_layout`);
    returns the names of the columns left out for lack of room."""
    from kilo_cli.table_layout import build_table

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


def human_size(n: int | None) -> str:
    """A byte count as people read it: ``0 B``, ``512 B``, ``1.5 KB``, ``48 KB``, ``3.2 MB``,
    ``1.1 GB`` (decimal units, as file managers and cameras count them)."""
    if n is None:
        return ""
    if n < 1000:
        return f"{n} B"
    value, unit = n / 1e3, "KB"
    for bigger in ("MB", "GB"):
        if round(value) < 1000:
            break
        value, unit = value / 1e3, bigger
    return f"{value:.1f} {unit}" if value < 9.95 else f"{round(value)} {unit}"
