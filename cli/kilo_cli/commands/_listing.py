"""What every ``... list`` command shares: the paging options, following cursors, and the
output: a table, or with ``--json`` a JSON array of the records on stdout; the cursor of the
next page goes to stderr as a message (``more: --cursor ...``) either way."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any, Protocol

import typer

from kilo_cli.output import message, print_json, print_table
from kilo_cli.table_layout import Col

LimitOpt = Annotated[int, typer.Option(help="Page size, 1 to 200.")]
CursorOpt = Annotated[
    str | None, typer.Option(help="The next cursor printed after a previous page.")
]
AllOpt = Annotated[bool, typer.Option("--all", help="Follow cursors to the end.")]
AllUsersOpt = Annotated[
    bool,
    typer.Option(
        "--all-users", help="Every user's, with an owner column (an administrator's view)."
    ),
]
RatingMinOpt = Annotated[
    int | None, typer.Option("--rating-min", min=1, max=5, help="Minimum star rating, 1 to 5.")
]


class _PageInfo(Protocol):
    @property
    def next_cursor(self) -> str | None: ...


class _Page(Protocol):
    @property
    def items(self) -> Sequence[Any]: ...

    @property
    def page_info(self) -> _PageInfo: ...


def collect_pages(
    fetch: Callable[[str | None], _Page], cursor: str | None, all_pages: bool
) -> tuple[list[Any], str | None]:
    """(the items of the page at ``cursor``, or of every page from there with ``all_pages``;
    the cursor of the page after them, None at the end)."""
    page = fetch(cursor)
    items = list(page.items)
    while all_pages and page.page_info.next_cursor:
        page = fetch(page.page_info.next_cursor)
        items += page.items
    return items, page.page_info.next_cursor


def print_listing(
    items: Sequence[Any],
    as_json: bool,
    row: Callable[[Any], Sequence[Any]],
    columns: Sequence[str | Col],
    *,
    empty: str,
    next_cursor: str | None = None,
) -> None:
    """The records as a JSON array (``--json``) or a table of ``row(item)``; then the next
    cursor as a message on stderr."""
    if as_json:
        print_json(list(items))
    else:
        print_table([row(item) for item in items], columns, empty=empty)
    if next_cursor:
        message(f"more: --cursor {next_cursor}")
