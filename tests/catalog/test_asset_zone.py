"""get_asset and get_assets read each photo's time in its own project's zone (now by a join
on the project, not a subquery per row): photos of three projects, two zoned, one not, read
one by one and together, equal local_capture_time in that project's zone."""

from __future__ import annotations

from datetime import datetime, timedelta

from kilo.assets import get_asset, get_assets
from kilo.catalog import Catalog
from kilo.catalog.assets_repo import read_asset_rows
from kilo.clock import floating, local_capture_time
from kilo.projects import create_project

ZONES = ["Europe/Paris", None, "America/New_York"]


def test_each_asset_reads_its_own_projects_zone(catalog: Catalog) -> None:
    now = datetime(2026, 1, 1)
    rows, zone_of = [], {}
    for p, tz in enumerate(ZONES):
        pid = create_project(catalog, f"Zone {p}", timezone=tz).id
        for k in range(4):
            aid = f"00000000-0000-4000-8{p:03d}-{k:012d}"
            zone_of[aid] = tz
            when = datetime(2024, 3, 31, 1, 30) + timedelta(hours=k)  # across Paris' DST gap
            offset = 60 if k == 3 else None  # its own offset wins over the zone
            rows.append([aid, pid, f"{k}.jpg", f"file:///{k}.jpg", now, when, offset, "ready", now])
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
            ("state", "VARCHAR"),
            ("updated_at", "TIMESTAMP"),
        ],
        rows,
    )
    want = {
        r[0]: floating(
            local_capture_time(
                {"captured_at": r[5], "captured_offset_min": r[6], "captured_at_source": None},
                zone_of[r[0]],
            ).local
        )
        for r in rows
    }
    together = get_assets(catalog, list(want))
    assert len(together) == len(want)
    for aid, when in want.items():
        one = get_asset(catalog, aid)
        assert one.captured_at == when and one.captured_at.utcoffset() == when.utcoffset()
        assert together[aid].captured_at.utcoffset() == when.utcoffset()
    # one row per asset, each with its own project's zone
    read = read_asset_rows(catalog, list(want), catalog.local_user_id)
    assert sorted(r["id"] for r in read) == sorted(want)
    assert all(r["project_timezone"] == zone_of[r["id"]] for r in read)
    assert len({str(w.utcoffset()) for w in want.values()}) > 2  # the zones differ here
