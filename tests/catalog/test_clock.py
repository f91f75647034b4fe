"""kilo.clock: the local time of a photo, from the catalog's columns and the project's zone.

The catalog keeps ``captured_at`` as naive UTC with the photo's own offset in minutes, or, for
a photo whose EXIF has no offset, the camera's wall clock with no offset; a file's mtime
(``file_mtime``) is no capture time at all."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from kilo.clock import (
    FLOATING,
    UNDATED,
    capture_time,
    floating,
    format_capture,
    format_span,
    is_floating,
    local_capture_time,
    wire_time,
)
from kilo.models import Asset

ZONES = ["Europe/Oslo", "America/Sao_Paulo", "Asia/Kolkata", "Pacific/Chatham", "UTC"]
#: naive datetimes within EXIF's range, to the second
WALL = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2037, 12, 31)).map(
    lambda d: d.replace(microsecond=0)
)
#: offsets a camera writes: -12:00 .. +14:00 in quarter hours
OFFSETS = st.integers(min_value=-48, max_value=56).map(lambda q: q * 15)


def test_the_real_case_a_photo_at_22_20_minus_3_is_shown_at_22_20() -> None:
    """cv_ela_original.jpg: 2018-06-06 22:20:11 at -03:00 is stored as 2018-06-07 01:20:11
    UTC; every place shows 22:20, the API sends it with its offset."""
    when = capture_time(datetime(2018, 6, 7, 1, 20, 11), -180, "exif:DateTimeOriginal")
    assert format_capture(when) == "2018-06-06 22:20:11"
    assert when.local is not None and wire_time(when.local) == "2018-06-06T22:20:11-03:00"
    assert when.instant == datetime(2018, 6, 7, 1, 20, 11, tzinfo=UTC)


def test_without_an_offset_the_project_zone_gives_one_and_the_wall_clock_stays() -> None:
    row = {
        "captured_at": datetime(2018, 6, 6, 22, 30, 5),
        "captured_offset_min": None,
        "captured_at_source": "exif:DateTimeOriginal (no offset)",
    }
    alone = local_capture_time(row)
    assert alone.local == datetime(2018, 6, 6, 22, 30, 5) and alone.instant is None
    assert is_floating(alone.local) and wire_time(floating(alone.local)) == "2018-06-06T22:30:05"
    oslo = local_capture_time(row, "Europe/Oslo")  # summer: +02:00
    assert oslo.local is not None and wire_time(oslo.local) == "2018-06-06T22:30:05+02:00"
    assert oslo.instant == datetime(2018, 6, 6, 20, 30, 5, tzinfo=UTC)
    winter = local_capture_time({**row, "captured_at": datetime(2018, 1, 6, 22, 30)}, "Europe/Oslo")
    assert winter.local is not None and winter.local.utcoffset() == timedelta(hours=1)
    # a project (anything with a timezone) works as well as its zone's name
    assert local_capture_time(row, SimpleNamespace(timezone="Europe/Oslo")) == oslo


def test_a_file_time_is_undated_everywhere_and_kept_as_the_file_time() -> None:
    row = {
        "captured_at": datetime(2026, 12, 7, 20, 54),
        "captured_offset_min": None,
        "captured_at_source": "file_mtime",
    }
    when = local_capture_time(row, "America/Sao_Paulo")
    assert when.local is None and not when.dated and format_capture(when) == UNDATED
    assert when.file_time == datetime(2026, 12, 7, 17, 54, tzinfo=ZoneInfo("America/Sao_Paulo"))
    assert format_capture(None) == "undated" and format_span(None, None) == "undated"
    assert local_capture_time({}).local is None


def test_spans_read_as_the_photographer_reads_them() -> None:
    day = datetime(2018, 6, 6, 22, 20, 11)
    assert format_span(day, day + timedelta(seconds=30)) == "06 Jun 2018, 22:20"
    assert format_span(day, day + timedelta(minutes=10)) == "06 Jun 2018, 22:20–22:30"
    assert format_span(day, day + timedelta(hours=3)) == "06 Jun 2018 22:20 – 07 Jun 2018 01:20"


def test_floating_times_sort_among_aware_ones_and_survive_a_process_pool() -> None:
    a = floating(datetime(2018, 6, 6, 22, 30))
    b = datetime(2018, 6, 6, 22, 20, tzinfo=UTC)
    assert a is not None and sorted([a, b]) == [b, a]  # no TypeError: comparable
    assert pickle.loads(pickle.dumps(a)).tzinfo is FLOATING
    asset = Asset(id="x", project_id="p", ingested_at=b, captured_at=a)
    assert asset.dump()["capturedAt"] == "2018-06-06T22:30:00"  # never with a Z
    assert Asset(id="x", project_id="p", ingested_at=b, captured_at=b).dump()["capturedAt"] == (
        "2018-06-06T22:20:00Z"
    )


@given(WALL, OFFSETS, st.sampled_from([None, *ZONES]))
def test_a_photo_with_its_own_offset_shows_its_wall_clock_whatever_the_project_zone(
    wall: datetime, offset: int, zone: str | None
) -> None:
    stored = wall - timedelta(minutes=offset)  # what ingest keeps: UTC
    when = capture_time(stored, offset, "exif:DateTimeOriginal", zone)
    assert when.local is not None and when.local.replace(tzinfo=None) == wall
    assert when.instant == stored.replace(tzinfo=UTC)
    assert when.order_key() == stored
    assert datetime.fromisoformat(wire_time(when.local)) == when.instant


@given(WALL, st.sampled_from(ZONES))
def test_a_photo_without_an_offset_keeps_its_wall_clock_in_the_project_zone(
    wall: datetime, zone: str
) -> None:
    when = capture_time(wall, None, "exif:DateTimeOriginal (no offset)", zone)
    assert when.local is not None and when.local.replace(tzinfo=None) == wall
    assert when.local.utcoffset() == wall.replace(tzinfo=ZoneInfo(zone)).utcoffset()
    assert when.instant is not None and when.order_key() == when.instant.replace(tzinfo=None)
    sent = wire_time(when.local)
    assert not sent.endswith("Z") or when.local.utcoffset() == timedelta(0)
    assert datetime.fromisoformat(sent) == when.local


@given(WALL)
def test_without_any_zone_the_wall_clock_is_sent_without_an_offset(wall: datetime) -> None:
    when = capture_time(wall, None, None)
    assert when.local == wall and when.instant is None and when.order_key() == wall
    sent = wire_time(floating(when.local))  # type: ignore[arg-type]
    assert datetime.fromisoformat(sent) == wall and datetime.fromisoformat(sent).tzinfo is None
