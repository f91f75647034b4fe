"""One chronological order: the catalog's SQL (``CAPTURE_INSTANT``/``CAPTURE_ORDER``, what
listings, selections and the cull order sort on) and Python's
``CaptureTime.order_key(read_shoot_offset(...))`` (what moments and the contact sheet sort
on) place every photo at the same instant, in a project with a time zone (DST folds and
gaps included) and without one (photos without an offset read at the offset the others
carry); ``kilo.assets.list_assets`` pages through that order (undated last, by name)."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kilo.assets import list_assets
from kilo.catalog import Catalog
from kilo.catalog.file_reads import CAPTURE_INSTANT, CAPTURE_ORDER, read_shoot_offset
from kilo.clock import local_capture_time, new_id, utcnow
from kilo.errors import InvalidInput
from kilo.ingest import ingest
from kilo.models import Project

ZONES = [None, "Europe/Oslo", "America/Sao_Paulo", "Australia/Lord_Howe", "Pacific/Chatham"]
#: wall times where a zone repeats or skips an hour (Oslo 2018: fall back 28 Oct, spring
#: forward 25 Mar; Lord Howe's 30-minute DST: back 1 Apr, forward 7 Oct 2018)
EDGES = [
    datetime(2018, 10, 28, 2, 30),
    datetime(2018, 10, 28, 2, 0),
    datetime(2018, 3, 25, 2, 30),
    datetime(2018, 4, 1, 1, 45),
    datetime(2018, 10, 7, 2, 15),
]
WALL = st.one_of(
    st.sampled_from(EDGES),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2030, 12, 31)).map(
        lambda d: d.replace(microsecond=0)
    ),
)
#: (wall clock, own offset or None, undated)
PHOTO = st.tuples(
    WALL, st.one_of(st.none(), st.sampled_from([-180, 0, 60, 120, 345])), st.booleans()
)


def _insert(
    catalog: Catalog, project_id: str, photos: list[tuple[datetime, int | None, bool]]
) -> None:
    now = utcnow()
    for i, (wall, offset, undated) in enumerate(photos):
        stored = wall if offset is None else wall - timedelta(minutes=offset)
        source = "file_mtime" if undated else "exif:DateTimeOriginal"
        catalog.execute(
            "INSERT INTO assets (id, project_id, filename, source_uri, ingested_at, state, "
            "updated_at, captured_at, captured_offset_min, captured_at_source) "
            "VALUES (?, ?, ?, ?, ?, 'ready', ?, ?, ?, ?)",
            [
                new_id(),
                project_id,
                f"p{i:03d}.jpg",
                f"file:///p{i:03d}.jpg",
                now,
                now,
                stored,
                None if undated else offset,
                source,
            ],
        )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(PHOTO, min_size=1, max_size=12), st.sampled_from(ZONES))
def test_sql_and_python_place_every_photo_at_the_same_instant(
    catalog: Catalog, photos: list[tuple[datetime, int | None, bool]], zone: str | None
) -> None:
    pid = new_id()
    catalog.execute(
        "INSERT INTO projects (id, owner_user_id, title, timezone, status, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, 'active', ?, ?)",
        [pid, catalog.local_user_id, f"t{pid[:8]}", zone, utcnow(), utcnow()],
    )
    _insert(catalog, pid, photos)
    rows = catalog.fetchdicts(
        f"SELECT a.*, {CAPTURE_INSTANT} AS sql_at FROM assets a WHERE a.project_id = ? "
        f"ORDER BY {CAPTURE_ORDER}",
        [pid],
    )
    guess = None if zone else read_shoot_offset(catalog, pid)
    py = [local_capture_time(r, zone).order_key(guess) for r in rows]
    assert [r["sql_at"] for r in rows] == py
    # the SQL order is Python's: dated by instant, undated last, then by name
    assert py == sorted(py, key=lambda t: (t is None, t or datetime.min))


def test_without_a_zone_a_photo_without_an_offset_reads_at_the_others_offset(
    catalog: Catalog, project: Project
) -> None:
    """A phone (-03:00) and a camera set to the same local time but writing no offset: the
    camera's 22:25 sits between the phone's 22:20 and 22:30, not three hours before."""
    wall = datetime(2018, 6, 6, 22, 20)
    _insert(
        catalog,
        project.id,
        [
            (wall, -180, False),
            (wall + timedelta(minutes=10), -180, False),
            (wall + timedelta(minutes=5), None, False),
            (wall, None, True),
            (wall, 120, False),
        ],
    )
    assert read_shoot_offset(catalog, project.id) == -180  # two photos against one
    names = [a.filename for a in list_assets(catalog, project.id).items]
    assert names == ["p004.jpg", "p000.jpg", "p002.jpg", "p001.jpg", "p003.jpg"]


def test_assets_list_is_chronological_on_real_photos_and_pages_through_it(
    catalog: Catalog, project: Project, photos_dir: Path, tmp_path: Path
) -> None:
    """The committed photos: dated ones by when they were taken (xiaomi_mi3.jpg at +08:00,
    cv_leuven*.jpg at +02:00, empty_icc.heic's frames at +03:00, the rest without an
    offset), undated ones (bird_burst.heic's four frames, the PNG-derived JPEGs) last by
    name and frame; pages of 3 walk the same order."""
    for name in (
        "bird_burst.heic",
        "xiaomi_mi3.jpg",
        "cv_leuvenA.jpg",
        "cv_leuvenB.jpg",
        "cv_aloeL.jpg",
        "group_t1.jpg",
        "empty_icc.heic",
    ):
        shutil.copy2(photos_dir / name, tmp_path / name)
    ingest(catalog, project.id, [tmp_path])
    whole = list_assets(catalog, project.id, limit=200).items
    shown = [(a.filename, a.frame_index) for a in whole]
    assert shown == [
        ("cv_aloeL.jpg", 0),
        ("xiaomi_mi3.jpg", 0),
        ("cv_leuvenB.jpg", 0),
        ("cv_leuvenA.jpg", 0),
        ("empty_icc.heic", 1),  # 16:08:12, two seconds before the file's first image
        ("empty_icc.heic", 0),
        ("bird_burst.heic", 0),
        ("bird_burst.heic", 1),
        ("bird_burst.heic", 2),
        ("bird_burst.heic", 3),
        ("group_t1.jpg", 0),
    ]
    paged, cursor = [], None
    while True:
        page = list_assets(catalog, project.id, limit=3, cursor=cursor)
        paged += [a.id for a in page.items]
        cursor = page.page_info.next_cursor
        if not cursor:
            break
    assert paged == [a.id for a in whole]
    with pytest.raises(InvalidInput):
        list_assets(catalog, project.id, cursor="eyJzIjoiYXNzZXRzIiwiayI6WyJ4IiwieSJdfQ")
