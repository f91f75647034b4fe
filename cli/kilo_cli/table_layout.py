"""Tables that fit the terminal: short ids that never wrap, file names on one line, and
columns a narrow terminal has no room for left out (named once on stderr; ``--json`` and a
wider terminal show them).

A column is a name or a :class:`Col`. Kinds: ``id`` (a uuid is shown by its first 8
characters, which every command takes as a prefix), ``name`` (a file name or title on one
line, cut with an ellipsis past 40 characters), ``num`` (right-aligned), ``time`` (one line),
``link`` (one line, never cut: a command leaves it out, and prints it otherwise, when there is
no room) and ``text`` (wraps at words). ``drop``
orders what goes first when the table is too wide: 0 never, higher sooner.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

__all__ = ["Col", "build_table", "short_id"]

Kind = Literal["id", "name", "num", "time", "link", "text"]
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
#: a text column is not squeezed below this many characters (or its longest word)
_TEXT_MIN = 12
#: a file name longer than this is cut with an ellipsis rather than widening the table
_NAME_MAX = 40


@dataclass(frozen=True, slots=True)
class Col:
    name: str
    kind: Kind = "text"
    drop: int = 0


def short_id(value: Any) -> str:
    """A uuid as its first 8 characters (what ``show`` commands take); anything else as is."""
    text = "" if value is None else str(value)
    return text[:8] if _UUID.match(text) else text


def _need(col: Col, cells: Sequence[str]) -> int:
    """The fewest characters ``col`` can be shown in."""
    longest = max((len(c) for c in cells), default=0)
    if col.kind == "id":
        return max(len(col.name), min(longest, 8))
    if col.kind == "name":
        return max(len(col.name), min(longest, _NAME_MAX))
    if col.kind in ("num", "time", "link"):
        return max(len(col.name), longest)
    word = max((len(w) for c in cells for w in c.split()), default=0)
    return max(len(col.name), min(longest, max(_TEXT_MIN, min(word, 20))))


def _fit(cols: list[Col], cells: list[list[str]], width: int) -> list[int]:
    """Indexes of the columns kept so the table fits ``width``: first droppable columns with
    nothing in them go while the table is wider than ``width`` at its natural size, then
    droppable columns by ``drop`` while it is wider at its least."""
    keep = list(range(len(cols)))
    needs = [_need(c, [row[i] for row in cells]) for i, c in enumerate(cols)]
    natural = [max(len(c.name), *(len(row[i]) for row in cells)) for i, c in enumerate(cols)]
    empty = {i for i in keep if cols[i].drop > 0 and not any(row[i] for row in cells)}

    def total(widths: list[int]) -> int:
        return sum(widths[i] for i in keep) + 3 * len(keep) + 1

    def drop_one(among: list[int]) -> None:
        keep.remove(max(among, key=lambda i: (cols[i].drop, i)))

    while total(natural) > width and (gone := [i for i in keep if i in empty]):
        drop_one(gone)
    while total(needs) > width and (droppable := [i for i in keep if cols[i].drop > 0]):
        drop_one(droppable)
    return keep


def build_table(
    rows: Sequence[Sequence[Any]],
    columns: Sequence[str | Col],
    console: Console,
    *,
    title: str | None = None,
) -> tuple[Table, list[str]]:
    """The rich table of ``rows`` for ``console``'s width, and the names of the columns left
    out for lack of room."""
    from rich.table import Table

    from kilo_cli.escaping import safe

    cols = [c if isinstance(c, Col) else Col(c) for c in columns]
    cells = [
        [
            short_id(v) if cols[i].kind == "id" else ("" if v is None else str(v))
            for i, v in enumerate(row)
        ]
        for row in rows
    ]
    keep = _fit(cols, cells, console.width)
    table = Table(title=title, header_style="bold", show_lines=False)
    for i in keep:
        col = cols[i]
        if col.kind == "text":
            table.add_column(col.name, overflow="fold", min_width=min(_TEXT_MIN, len(col.name)))
        else:
            table.add_column(
                col.name,
                no_wrap=True,
                overflow="ellipsis",
                justify="right" if col.kind == "num" else "left",
                min_width=_need(col, [row[i] for row in cells]),
                max_width=_NAME_MAX if col.kind == "name" else None,
            )
    for row in cells:
        table.add_row(*(safe(row[i]) for i in keep))
    return table, [cols[i].name for i in range(len(cols)) if i not in keep]
