"""Cursor pagination as the contract has it: an opaque ``cursor``, ``limit`` 1..200 (default 50)
and ``pageInfo.nextCursor`` (null on the last page).

Cursors are keyset positions (the sort key of the last row returned), base64url-encoded JSON
tagged with the listing they belong to, so a cursor from one listing is refused by another.
Most listings sort on a (timestamp, id) pair: :class:`Keyset` builds their WHERE condition
from a cursor and the next cursor from a page of rows. With plain columns and positional
parameters, one call does it all::

    KEYSET = Keyset("projects", "created_at, id", descending=True)
    rows, next_cursor = KEYSET.fetch_page(catalog, "SELECT * FROM projects", where, params,
                                          cursor, limit)

Listings sorted on an expression, or with named parameters, use :meth:`Keyset.after` and
:meth:`Keyset.page` around their own query.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kilo.errors import InvalidInput

if TYPE_CHECKING:
    from kilo.catalog import Catalog

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def check_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise InvalidInput(f"limit must be an integer from 1 to {MAX_LIMIT}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be from 1 to {MAX_LIMIT}, got {limit}")
    return limit


def encode_cursor(scope: str, key: list[Any]) -> str:
    raw = json.dumps({"s": scope, "k": key}, separators=(",", ":"), default=str)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(scope: str, cursor: str | None) -> list[Any] | None:
    """The keyset position in ``cursor``, or None for the first page."""
    if cursor is None or cursor == "":
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeError):
        raise InvalidInput("cursor is not valid (pass back pageInfo.nextCursor as is)") from None
    if not isinstance(data, dict) or data.get("s") != scope or not isinstance(data.get("k"), list):
        raise InvalidInput("cursor is not valid for this listing")
    key: list[Any] = data["k"]
    return key


@dataclass(frozen=True, slots=True)
class KeysetCondition:
    """The WHERE condition that starts a page after a cursor, and its two parameters."""

    sql: str
    params: list[Any]


@dataclass(frozen=True, slots=True)
class Keyset:
    """A listing sorted on (timestamp, id), ascending or descending.

    ``columns`` is the SQL of the pair as in the ORDER BY (``"created_at, id"``); ``time_key``
    and ``id_key`` name the row fields the next cursor is read from.
    """

    scope: str
    columns: str
    descending: bool = False
    time_key: str = "created_at"
    id_key: str = "id"

    def after(
        self, cursor: str | None, marks: tuple[str, str] = ("?", "?")
    ) -> KeysetCondition | None:
        """The condition for the page after ``cursor`` (None on the first page); ``marks`` are
        the two parameter placeholders (``$k0``, ``$k1`` for named parameters)."""
        key = decode_cursor(self.scope, cursor)
        if key is None:
            return None
        if len(key) != 2:
            raise InvalidInput("cursor is not valid for this listing")
        op = "<" if self.descending else ">"
        return KeysetCondition(
            f"({self.columns}) {op} (CAST({marks[0]} AS TIMESTAMP), {marks[1]})", list(key)
        )

    def page(
        self, rows: Sequence[dict[str, Any]], limit: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """(the first ``limit`` rows, the next cursor or None) of a query run with
        ``LIMIT limit + 1``."""
        kept = list(rows[:limit])
        if len(rows) <= limit:
            return kept, None
        last = kept[-1]
        return kept, encode_cursor(self.scope, [last[self.time_key].isoformat(), last[self.id_key]])

    def fetch_page(
        self,
        catalog: Catalog,
        select: str,
        where: Sequence[str],
        params: Sequence[Any],
        cursor: str | None,
        limit: int,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of ``select`` filtered by ``where`` (positional ``params``), in this
        keyset's order, after ``cursor``: (rows, next cursor or None). ``columns`` must be
        plain column names here."""
        conditions, values = list(where), list(params)
        after = self.after(cursor)
        if after is not None:
            conditions.append(after.sql)
            values += after.params
        direction = " DESC" if self.descending else ""
        order = ", ".join(f"{column.strip()}{direction}" for column in self.columns.split(","))
        rows = catalog.fetchdicts(
            f"{select} WHERE {' AND '.join(conditions) or 'TRUE'} ORDER BY {order} LIMIT ?",
            [*values, limit + 1],
        )
        return self.page(rows, limit)
