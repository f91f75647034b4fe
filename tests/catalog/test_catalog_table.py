"""The table layer: reads and writes by key on a real catalog file, composite keys, stamping,
chunked inserts, and refusal of anything that is not a column name."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kilo.catalog import Catalog
from kilo.catalog.file_reads import CAPTURE_ORDER, asset_project, original_source, project_frames
from kilo.clock import new_id, utcnow
from kilo.errors import NotFound
from kilo.models import Project


def _add_assets(catalog: Catalog, project: Project, n: int) -> list[str]:
    t0 = datetime(2026, 5, 1, 14, 0)
    rows = [
        {
            "id": new_id(),
            "project_id": project.id,
            "filename": f"IMG_{i:03d}.jpg",
            "source_uri": f"file:///card/IMG_{i:03d}.jpg",
            "ingested_at": utcnow(),
            "captured_at": t0 + timedelta(seconds=(n - i)),
            "state": "ready",
            "updated_at": utcnow(),
        }
        for i in range(n)
    ]
    catalog.table("assets").insert_all(rows, chunk=3)
    return [r["id"] for r in rows]


def test_reads_by_key(catalog: Catalog, project: Project) -> None:
    ids = _add_assets(catalog, project, 7)
    assets = catalog.table("assets")
    assert assets.count_where("project_id = ?", [project.id]) == 7
    row = assets.get(ids[0], ("filename", "state"))
    assert row == {"filename": "IMG_000.jpg", "state": "ready"}
    assert assets.value(ids[1], "filename") == "IMG_001.jpg"
    assert assets.exists(ids[2]) and not assets.exists(new_id())
    assert assets.get(new_id()) is None and assets.value(new_id(), "filename") is None
    # capture order: the newest-numbered file was taken first
    assert assets.keys_where("project_id = ?", [project.id], order_by=CAPTURE_ORDER) == ids[::-1]
    found = assets.rows_for([ids[3], new_id(), ids[5]], ["filename"])
    assert set(found) == {ids[3], ids[5]} and found[ids[5]]["filename"] == "IMG_005.jpg"
    assert asset_project(catalog, ids[4]) == project.id
    with pytest.raises(NotFound):
        asset_project(catalog, new_id())
    src = original_source(catalog, ids[0])
    assert src is not None and src.uri == "file:///card/IMG_000.jpg" and src.frame_index == 0


def test_update_stamps_updated_at_and_delete(catalog: Catalog, project: Project) -> None:
    (aid,) = _add_assets(catalog, project, 1)
    assets = catalog.table("assets")
    before = assets.value(aid, "updated_at")
    assets.update(aid, {"notes": "bride's side"})
    assert assets.value(aid, "notes") == "bride's side"
    assert assets.value(aid, "updated_at") >= before
    pinned = datetime(2020, 1, 1)
    assets.update(aid, {"updated_at": pinned})
    assert assets.value(aid, "updated_at") == pinned
    assets.update(aid, {"notes": None}, stamp=False)
    assert assets.value(aid, "updated_at") == pinned and assets.value(aid, "notes") is None
    assets.delete(aid)
    assert not assets.exists(aid)


def test_composite_keys(catalog: Catalog, project: Project) -> None:
    a, b = _add_assets(catalog, project, 2)
    ratings = catalog.table("ratings")
    user = catalog.local_user_id
    ratings.insert({"asset_id": a, "user_id": user, "picked": True, "updated_at": utcnow()})
    assert ratings.exists((a, user)) and not ratings.exists((b, user))
    assert ratings.value((a, user), "picked") is True
    with pytest.raises(ValueError, match="keyed by asset_id, user_id"):
        ratings.get(a)
    with pytest.raises(ValueError, match="composite key"):
        ratings.keys_where()
    ratings.delete((a, user))
    assert ratings.count_where() == 0


def test_names_that_are_not_columns_are_refused(catalog: Catalog, project: Project) -> None:
    (aid,) = _add_assets(catalog, project, 1)
    assets = catalog.table("assets")
    for bad in ("filename; DROP TABLE assets", "a b", "Filename", "1x"):
        with pytest.raises(ValueError, match="not a column name"):
            assets.get(aid, [bad])
        with pytest.raises(ValueError, match="not a column name"):
            assets.update(aid, {bad: 1})
    with pytest.raises(ValueError, match="no table layer"):
        catalog.table("schema_version")
    assert assets.count_where() == 1


def test_project_frames_leave_out_pending_uploads(catalog: Catalog, project: Project) -> None:
    ids = _add_assets(catalog, project, 3)
    catalog.table("assets").update(ids[1], {"state": "pending_upload"})
    catalog.table("ratings").insert(
        {"asset_id": ids[2], "user_id": catalog.local_user_id, "picked": True}
    )
    rows = project_frames(catalog, project.id, catalog.local_user_id, "a.id, r.picked")
    assert [r["id"] for r in rows] == [ids[2], ids[0]]
    assert [r["picked"] for r in rows] == [True, None]
    picked = project_frames(catalog, project.id, catalog.local_user_id, "a.id", where="r.picked")
    assert [r["id"] for r in picked] == [ids[2]]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(n=st.integers(min_value=0, max_value=40), chunk=st.integers(min_value=1, max_value=9))
def test_insert_all_writes_every_row_once(catalog: Catalog, n: int, chunk: int) -> None:
    catalog.execute("DELETE FROM quarantine")
    rows = [
        {
            "id": new_id(),
            "project_id": "p",
            "source_uri": f"file:///{i}",
            "reason": str(i),
            "created_at": utcnow(),
        }
        for i in range(n)
    ]
    catalog.table("quarantine").insert_all(rows, chunk=chunk)
    stored = catalog.table("quarantine").rows_where(select=("reason",), order_by="id")
    assert sorted(r["reason"] for r in stored) == sorted(str(i) for i in range(n))


def test_upsert_inserts_then_updates_in_place(catalog: Catalog, project: Project) -> None:
    a, b = _add_assets(catalog, project, 2)
    ratings = catalog.table("ratings")
    user = catalog.local_user_id
    ratings.upsert({"asset_id": a, "user_id": user, "rating": 3, "notes": "keep"})
    ratings.upsert({"asset_id": a, "user_id": user, "rating": 5})  # notes not given: kept
    assert ratings.get((a, user), ("rating", "notes")) == {"rating": 5, "notes": "keep"}
    types = {"asset_id": "VARCHAR", "user_id": "VARCHAR", "picked": "BOOLEAN"}
    rows = [{"asset_id": x, "user_id": user, "picked": True} for x in (a, b)]
    ratings.upsert_all(rows, types=types)  # the bulk path: one statement, typed lists
    assert ratings.count_where("picked") == 2 and ratings.value((a, user), "rating") == 5
    ratings.upsert_all([{"asset_id": b, "user_id": user, "picked": False}])
    assert ratings.value((b, user), "picked") is False and ratings.count_where() == 2


def test_upsert_on_a_unique_set_keeps_what_update_leaves_out(catalog: Catalog) -> None:
    profiles = catalog.table("style_profiles")
    user, first, now = catalog.local_user_id, new_id(), utcnow()
    row = {"user_id": user, "version": "1", "state": "{}", "created_at": now, "updated_at": now}
    kept = ("version", "state", "updated_at")
    profiles.upsert({"id": first, **row}, key=("user_id",), update=kept)
    profiles.upsert({"id": new_id(), **row, "version": "2"}, key=("user_id",), update=kept)
    assert profiles.keys_where() == [first] and profiles.value(first, "version") == "2"
    with pytest.raises(ValueError, match="not a column name"):
        profiles.upsert({"id": first, **row}, key=("user_id; DROP",))
