"""Time and identifiers, in one place so that every module agrees on them.

A photo's capture time is shown everywhere (moment titles, tables, contact sheets, export
names, the API) as its own local time: :func:`local_capture_time` reads it from the catalog
(the photo's OffsetTime*, else the project's time zone, else the camera's wall clock as it
was set) and :func:`format_capture` / :func:`format_span` print it; an undated photo is
marked :data:`UNDATED`."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any

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


# -- the local time of a photo ------------------------------------------------------------
#: how every front end marks a photo whose capture time is unknown (a file's time says when
#: it was copied, not shot)
UNDATED = "undated"
_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class CaptureTime:
    """When a photo was taken, as the photographer's clock read it.

    ``local``: the wall-clock time where it was taken; aware when its offset is known (the
    photo's own OffsetTime*, or the project's time zone read at that wall time), naive when
    neither is known (the camera's clock, as it was set); None when the photo is undated.
    ``file_time``: an undated photo's file modification time (aware UTC), when known."""

    local: datetime | None
    source: str | None = None
    own_offset: bool = False
    file_time: datetime | None = None

    @property
    def dated(self) -> bool:
        return self.local is not None

    @property
    def instant(self) -> datetime | None:
        """The aware UTC moment, when the offset is known (None otherwise)."""
        if self.local is None or is_floating(self.local):
            return None
        return self.local.astimezone(UTC)

    def order_key(self, shoot_offset: int | None = None) -> datetime | None:
        """Naive UTC for sorting and time gaps (None when undated): the instant when the
        offset is known, else the wall clock read at ``shoot_offset`` (minutes: the offset
        the project's other photos carry, :func:`kilo.catalog.file_reads.read_shoot_offset`;
        a camera without a zone of its own was set to the time where the shoot was), else
        read as UTC (all of them floating: their wall clocks in order). The catalog's
        ``CAPTURE_INSTANT`` is the same order in SQL."""
        if self.local is None:
            return None
        if is_floating(self.local):
            return self.local.replace(tzinfo=None) - timedelta(minutes=shoot_offset or 0)
        return self.local.astimezone(UTC).replace(tzinfo=None)


class _Floating(tzinfo):
    """The zone of a wall-clock time whose offset nobody knows (iCalendar's "floating"
    time): it orders as if it were UTC, so such times sort among others, but it is printed
    and sent without an offset (:func:`wire_time`), never as UTC."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return timedelta(0)

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str:
        return "floating"

    def __repr__(self) -> str:
        return "kilo.clock.FLOATING"

    def __reduce__(self) -> str:
        return "FLOATING"


FLOATING = _Floating()


def is_floating(value: datetime | None) -> bool:
    """Whether ``value`` is a wall-clock time of unknown offset (naive, or :data:`FLOATING`)."""
    return value is not None and (value.tzinfo is None or value.tzinfo is FLOATING)


def floating(value: datetime | None) -> datetime | None:
    """A naive wall-clock time as an aware one of :data:`FLOATING` (aware ones unchanged):
    what models hold, so that every capture time of a list compares with the others."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=FLOATING)


def wire_time(value: datetime, timespec: str = "auto") -> str:
    """``value`` as the API sends it: RFC 3339 with its offset (``Z`` for UTC), or, for a
    time of unknown offset, the ISO 8601 local time without one (never with a ``Z``)."""
    if is_floating(value):
        return value.replace(tzinfo=None).isoformat(timespec=timespec)
    text = value.isoformat(timespec=timespec)
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def zone(name: str | None) -> tzinfo | None:
    """The IANA zone ``name`` (None for none, or for a name this machine does not know)."""
    if not name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def capture_time(
    captured_at: datetime | None,
    offset_min: int | None,
    source: str | None,
    project_zone: str | tzinfo | None = None,
) -> CaptureTime:
    """The local time of a photo from its catalog columns (``captured_at``: naive UTC when
    ``offset_min`` is known, else the camera's wall clock; ``source`` ``file_mtime``: the
    file's time, so undated) and the project's time zone (used only where the photo has
    no offset of its own)."""
    tz = zone(project_zone) if isinstance(project_zone, str | None) else project_zone
    if captured_at is None:
        return CaptureTime(None, source)
    if str(source or "").startswith("file"):
        return CaptureTime(None, source, file_time=_as_utc(captured_at).astimezone(tz or UTC))
    if offset_min is not None:
        own = timezone(timedelta(minutes=int(offset_min)))
        return CaptureTime(_as_utc(captured_at).astimezone(own), source, own_offset=True)
    wall = captured_at.replace(tzinfo=None) if captured_at.tzinfo is not None else captured_at
    if tz is None:
        return CaptureTime(wall, source)
    offset = wall.replace(tzinfo=tz).utcoffset()
    return CaptureTime(wall.replace(tzinfo=timezone(offset or timedelta(0))), source)


def local_capture_time(asset: Mapping[str, Any] | Any, project_zone: Any = None) -> CaptureTime:
    """The local time of ``asset`` (a catalog row, or anything with ``captured_at``,
    ``captured_offset_min`` and ``captured_at_source``) in a project of time zone
    ``project_zone`` (an IANA name, a tzinfo, or a project with a ``timezone``)."""
    if project_zone is not None and not isinstance(project_zone, str | tzinfo):
        project_zone = _get(project_zone, "timezone")
    return capture_time(
        _get(asset, "captured_at"),
        _get(asset, "captured_offset_min"),
        _get(asset, "captured_at_source"),
        project_zone,
    )


def _get(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_capture(when: CaptureTime | datetime | None, *, seconds: bool = True) -> str:
    """A capture time for a table or a page: ``2018-06-06 22:20:11`` (its own local time),
    or :data:`UNDATED`."""
    local = when.local if isinstance(when, CaptureTime) else when
    if local is None:
        return UNDATED
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def format_span(first: datetime | None, last: datetime | None) -> str:
    """A moment's span in local times: ``06 Jun 2018, 22:20–22:45``, or across days
    ``06 Jun 2018 22:20 – 07 Jun 2018 01:10``; :data:`UNDATED` (capitalised by callers
    that start a sentence) when neither end is known."""
    if first is None or last is None:
        return UNDATED
    if first.date() == last.date():
        wall = last.replace(tzinfo=None) - first.replace(tzinfo=None)
        return f"{first:%d %b %Y, %H:%M}" + (f"–{last:%H:%M}" if wall >= _MINUTE else "")
    return f"{first:%d %b %Y %H:%M} – {last:%d %b %Y %H:%M}"
