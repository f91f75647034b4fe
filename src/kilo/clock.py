"""Time and identifiers, in one place so that every module agrees on them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from kilo.errors import InvalidInput


def utcnow() -> datetime:
    """Aware UTC now, truncated to microseconds (what DuckDB stores)."""
    return datetime.now(UTC)


def to_utc_naive(value: datetime) -> datetime:
    """The naive UTC form the catalog stores (``TIMESTAMP`` columns are UTC)."""
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def from_catalog(value: datetime | None) -> datetime | None:
    """A catalog timestamp (naive UTC) as an aware UTC datetime."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_id() -> str:
    """A new random id (uuid4, canonical text form)."""
    return str(uuid.uuid4())


def parse_uuid(value: str | uuid.UUID, what: str = "id") -> str:
    """Canonical text form of a uuid, or :class:`InvalidInput` naming what was malformed."""
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(str(value).strip()))
    except (ValueError, AttributeError, TypeError):
        raise InvalidInput(f"{what} {value!r} is not a valid uuid") from None
