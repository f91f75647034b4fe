"""A cluster's span (its first and last photo in their own local times) as list_clusters and
get_cluster give it equals the formula it was first written as: every member's
:func:`kilo.clock.local_capture_time` in the project's zone, the earliest and the latest by
order key at the project's shoot offset (the first of equals in member order). The listing
now reads the members' times in its member query and makes a CaptureTime only where the
order key is not the stored time; this compares the two over a fixed catalog of awkward
times, in four zones."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from kilo.catalog import Catalog
from kilo.catalog.file_reads import read_shoot_offset
from kilo.clock import floating, local_capture_time
from kilo.group import get_cluster, list_clusters
from kilo.models import UpdateProjectRequest
from kilo.projects import create_project, update_project
from support.studio import insert_cluster_members

#: wall times where zones are awkward: Paris' DST gap and repeated hour (2024), New
#: York's, midnight, a leap day
_AWKWARD = [
    datetime(2024, 3, 31, 2, 30),
    datetime(2024, 10, 27, 2, 30),
    datetime(2024, 10, 27, 1, 59, 59, 999999),
    datetime(2024, 3, 10, 2, 15),
    datetime(2024, 11, 3, 1, 30),
    datetime(2024, 2, 29, 0, 0),
]
_OFFSETS = [None, None, 0, 60, 120, -300, 345, 765]  # minutes; NULL most often
_SOURCES = [None, "exif", "exif", "exif:DateTimeOriginal", "file_mtime", "filename"]


def _times(rng: random.Random) -> tuple[datetime | None, int | None, str | None]:
    """(captured_at, captured_offset_min, captured_at_source) of one made-up photo."""
    roll = rng.random()
    if roll < 0.08:
        return None, None, None  # undated
    base = (
        rng.choice(_AWKWARD)
        if roll < 0.4
        else datetime(2024, 6, 1) + timedelta(seconds=rng.randrange(3 * 86400))
    )
    return base, rng.choice(_OFFSETS), rng.choice(_SOURCES)


def _fill(catalog: Catalog, project_id: str, n_clusters: int) -> list[str]:
    """Clusters of 1-6 members with made-up times (some shared by several members, some
    the same instant told two ways); the cluster ids."""
    rng = random.Random(31)
    now = datetime(2026, 1, 1)
    assets: list[list[object]] = []
    clusters: list[list[object]] = []
    members: list[list[object]] = []
    for c in range(n_clusters):
        cid = f"00000000-0000-4000-8000-{c:012d}"
        clusters.append([cid, project_id, rng.choice(["burst", "moment"]), now, now])
        shared = _times(rng)
        for k in range(rng.randint(1, 6)):
            aid = f"00000000-0000-4000-9{c:03d}-{k:012d}"
            when = shared if rng.random() < 0.3 else _times(rng)
            if rng.random() < 0.1 and when[0] is not None and when[1] is not None:
                # the same instant without an offset: an equal key in a zoneless project
                when = (when[0], None, "exif")
            name = f"IMG_{c}_{k}.jpg"
            assets.append([aid, project_id, name, f"file:///{name}", now, *when, "ready", now])
            members.append([cid, aid, rng.randint(1, 3), "alt"])  # equal ranks: by asset id
    catalog.insert_many(
        "assets",
        [
            ("id", "VARCHAR"),
            ("project_id", "VARCHAR"),
            ("filename", "VARCHAR"),
            ("source_uri", "VARCHAR"),
            ("ingested_at", "TIMESTAMP"),
            ("captured_at", "TIMESTAMP"),
            ("captured_offset_min", "INTEGER"),
            ("captured_at_source", "VARCHAR"),
            ("state", "VARCHAR"),
            ("updated_at", "TIMESTAMP"),
        ],
        assets,
    )
    catalog.insert_many(
        "clusters",
        [
            ("id", "VARCHAR"),
            ("project_id", "VARCHAR"),
            ("kind", "VARCHAR"),
            ("created_at", "TIMESTAMP"),
            ("updated_at", "TIMESTAMP"),
        ],
        clusters,
    )
    insert_cluster_members(catalog, members)
    return [str(c[0]) for c in clusters]


def _reference_span(
    catalog: Catalog, cluster_id: str, zone_name: str | None, project_id: str
) -> tuple[datetime | None, datetime | None]:
    """The span by the first formula: a CaptureTime per member, min and max by order key
    (a photo without an offset in a project without a zone at the shoot offset)."""
    guess = None if zone_name else read_shoot_offset(catalog, project_id)
    rows = catalog.fetchall(
        "SELECT a.captured_at, a.captured_offset_min, a.captured_at_source "
        "FROM cluster_members m JOIN assets a ON a.id = m.asset_id WHERE m.cluster_id = ? "
        "ORDER BY m.rank, m.asset_id",
        [cluster_id],
    )
    times = [
        local_capture_time(
            {"captured_at": r[0], "captured_offset_min": r[1], "captured_at_source": r[2]},
            zone_name,
        )
        for r in rows
    ]
    dated = [t for t in times if t.local is not None]
    if not dated:
        return None, None
    first = min(dated, key=lambda t: t.order_key(guess) or datetime.max)
    last = max(dated, key=lambda t: t.order_key(guess) or datetime.min)
    return floating(first.local), floating(last.local)


def _same(a: datetime | None, b: datetime | None) -> bool:
    """Equal and told the same way (the same offset, or both floating)."""
    if a is None or b is None:
        return a is b
    return a == b and a.utcoffset() == b.utcoffset() and a.tzname() == b.tzname()


@pytest.mark.parametrize("zone_name", [None, "Europe/Paris", "America/New_York", "Asia/Kathmandu"])
def test_cluster_spans_equal_the_per_member_formula(
    catalog: Catalog, zone_name: str | None
) -> None:
    project = create_project(catalog, "Spans")
    if zone_name:
        update_project(catalog, project.id, UpdateProjectRequest(timezone=zone_name))
    ids = _fill(catalog, project.id, 160)
    listed = {}
    cursor = None
    while True:
        page = list_clusters(catalog, project.id, cursor=cursor, limit=50)
        listed.update({c.id: c for c in page.items})
        cursor = page.page_info.next_cursor
        if not cursor:
            break
    assert sorted(listed) == sorted(ids)
    undated = 0
    for cid in ids:
        want = _reference_span(catalog, cid, zone_name, project.id)
        got = (listed[cid].start_time, listed[cid].end_time)
        assert _same(got[0], want[0]) and _same(got[1], want[1]), (cid, got, want)
        undated += want == (None, None)
    # the catalog has what the comparison is about: undated clusters, and ties told two ways
    assert 0 < undated < len(ids)
    # and a shoot offset that moves the zoneless project's wall clocks
    assert read_shoot_offset(catalog, project.id) not in (None, 0)
    one = get_cluster(catalog, ids[7])
    want = _reference_span(catalog, ids[7], zone_name, project.id)
    assert _same(one.start_time, want[0]) and _same(one.end_time, want[1])
