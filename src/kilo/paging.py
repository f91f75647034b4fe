"""Cursor pagination as the contract has it: an opaque ``cursor``, ``limit`` 1..200 (default 50)
and ``pageInfo.nextCursor`` (null on the last page).

Cursors are keyset positions (the sort key of the last row returned), base64url-encoded JSON
tagged with the listing they belong to, so a cursor from one listing is refused by another.
"""

from __future__ import annotations

import base64
import binascii
import json
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
