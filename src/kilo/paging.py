"""Cursor pagination as the contract has it: an opaque ``cursor``, ``limit`` 1..200 (default 50)
and ``pageInfo.nextCursor`` (null on the last page).

Cursors are keyset positions (the sort key of the last row returned), base64url-encoded JSON
tagged with the listing they belong to, so a cursor from one listing is refused by another.
Most listings sort on a (timestamp, id) pair: :class:`Keyset` builds their WHERE condition
from a cursor and the next cursor from a page of rows::

    KEYSET = Keyset("projects", "created_at, id", descending=True)
    if after := KEYSET.after(cursor):
        where.append(after.sql)
        params += after.params
    rows, next_cursor = KEYSET.page(catalog.fetchdicts(sql, [*params, limit + 1]), limit)
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kilo.errors import InvalidInput

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
