"""The one chronological order with its project's values read first: a one-project query
sorts on :func:`kilo.catalog.file_reads.read_capture_instant_sql` (the project's time zone
and shoot offset written in as constants) instead of ``CAPTURE_INSTANT`` (two scalar
subqueries a row). Both give every photo the same instant, and the frames the same order,
in a project with or without a zone, beside another project with other photos, after its
zone changes (set, changed, cleared) and after photos with other offsets arrive (which
moves the shoot offset)."""

from __future__ import annotations

from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.catalog.test_capture_order import PHOTO, ZONES, _insert

from kilo.catalog import Catalog
from kilo.catalog.file_reads import (
    CAPTURE_INSTANT,
    CAPTURE_ORDER,
    project_frame_ids,
    read_capture_instant_sql,
    read_shoot_offset,
)
from kilo.clock import new_id, utcnow
from kilo.models import UpdateProjectRequest
from kilo.projects import update_project

PHOTOS = st.lists(PHOTO, min_size=1, max_size=10)


def _project(catalog: Catalog, zone: str | None) -> str:
    pid = new_id()
    catalog.execute(
        "INSERT INTO projects (id, owner_user_id, title, timezone, status, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, 'active', ?, ?)",
        [pid, catalog.local_user_id, f"t{pid[:8]}", zone, utcnow(), utcnow()],
    )
    return pid


def _check(catalog: Catalog, pid: str) -> None:
    """Every photo of ``pid`` at the same instant both ways; the frames in the same order."""
    rows = catalog.fetchall(
        f"SELECT a.id, {CAPTURE_INSTANT}, {read_capture_instant_sql(catalog, pid)} "
        "FROM assets a WHERE a.project_id = ?",
        [pid],
    )
    assert rows and all(r[1] == r[2] for r in rows), [r for r in rows if r[1] != r[2]]
    ordered = catalog.fetchall(
        f"SELECT a.id FROM assets a WHERE a.project_id = ? ORDER BY {CAPTURE_ORDER}", [pid]
    )
    assert project_frame_ids(catalog, pid, None) == [str(r[0]) for r in ordered]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(PHOTOS, PHOTOS, PHOTOS, st.sampled_from(ZONES), st.sampled_from(ZONES))
def test_the_project_instant_is_capture_instant_through_zone_changes_and_new_photos(
    catalog: Catalog,
    photos: list[tuple[datetime, int | None, bool]],
    others: list[tuple[datetime, int | None, bool]],
    later: list[tuple[datetime, int | None, bool]],
    zone: str | None,
    then: str | None,
) -> None:
    pid, other = _project(catalog, zone), _project(catalog, "Asia/Kathmandu")
    _insert(catalog, pid, photos)
    _insert(catalog, other, others)  # another project's photos: not this one's offsets
    _check(catalog, pid)
    update_project(catalog, pid, UpdateProjectRequest(timezone=then))
    if then is None:  # a zone cleared: its photos read at the shoot offset again
        catalog.execute("UPDATE projects SET timezone = NULL WHERE id = ?", [pid])
    _check(catalog, pid)
    _insert(catalog, pid, [(w, -600 if o is not None else None, u) for w, o, u in later * 3])
    _check(catalog, pid)
    _check(catalog, other)


def test_new_photos_that_move_the_shoot_offset_move_the_others_with_it(
    catalog: Catalog,
) -> None:
    pid = _project(catalog, None)
    wall = datetime(2018, 6, 6, 22, 20)
    _insert(catalog, pid, [(wall, -180, False), (wall, -180, False), (wall, None, False)])
    _check(catalog, pid)
    assert read_shoot_offset(catalog, pid) == -180
    _insert(catalog, pid, [(wall, 120, False)] * 3)
    assert read_shoot_offset(catalog, pid) == 120
    _check(catalog, pid)


def test_a_zone_with_a_quote_is_written_as_sql_text(catalog: Catalog) -> None:
    """A zone name is text in the SQL, whatever it holds (the catalog checks names on the
    way in; this is the last line)."""
    pid = _project(catalog, None)
    catalog.execute("UPDATE projects SET timezone = ? WHERE id = ?", ["O'Brien/Zone", pid])
    assert "'O''Brien/Zone'" in read_capture_instant_sql(catalog, pid)
