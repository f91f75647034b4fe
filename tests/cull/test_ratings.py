"""Per-user ratings, bulk actions (atomic, idempotent) on real photo assets."""

from __future__ import annotations

from pathlib import Path

import pytest

from kilo.catalog import Catalog
from kilo.clock import new_id, utcnow
from kilo.cull import apply_bulk, get_rating, list_ratings, undo, upsert_rating
from kilo.errors import Conflict, InvalidInput, NotFound
from kilo.models import BulkCullAction, BulkCullActionRequest, Project, UpsertRatingRequest
from kilo.projects import create_project, get_project
from support.cull_data import CullData, build_cull_project, snapshot_project


@pytest.fixture
def data(catalog: Catalog, project: Project, shared_photos_dir: Path) -> CullData:
    return build_cull_project(catalog, project.id, shared_photos_dir, signals=False, clusters=False)


def _ids(data: CullData) -> list[str]:
    return list(data.assets.values())


def test_unrated_asset_has_empty_rating(catalog: Catalog, data: CullData) -> None:
    a = _ids(data)[0]
    r = get_rating(catalog, a)
    assert r.asset_id == a and r.user_id == catalog.local_user_id
    assert (r.rating, r.picked, r.rejected, r.starred, r.updated_at) == (None,) * 5


def test_upsert_changes_only_given_fields(catalog: Catalog, data: CullData) -> None:
    a = _ids(data)[0]
    first = upsert_rating(catalog, a, rating=4, starred=True, notes="keep")
    assert (first.rating, first.starred, first.picked, first.rejected) == (4, True, False, False)
    assert first.updated_at is not None and first.updated_at <= utcnow()
    second = upsert_rating(catalog, a, UpsertRatingRequest(picked=True))
    assert (second.rating, second.starred, second.picked, second.notes) == (4, True, True, "keep")
    cleared = upsert_rating(catalog, a, rating=None)
    assert cleared.rating is None and cleared.picked is True
    dumped = cleared.dump()
    assert set(dumped) == {
        "assetId",
        "userId",
        "rating",
        "picked",
        "rejected",
        "starred",
        "notes",
        "updatedAt",
    }


def test_pick_and_reject_exclude_each_other(catalog: Catalog, data: CullData) -> None:
    a = _ids(data)[0]
    upsert_rating(catalog, a, picked=True)
    r = upsert_rating(catalog, a, rejected=True)
    assert r.rejected is True and r.picked is False
    r = upsert_rating(catalog, a, picked=True)
    assert r.picked is True and r.rejected is False
    with pytest.raises(InvalidInput):
        upsert_rating(catalog, a, picked=True, rejected=True)


def test_bad_values_are_refused(catalog: Catalog, data: CullData) -> None:
    a = _ids(data)[0]
    with pytest.raises(InvalidInput, match="rating") as info:  # one line, not pydantic's
        upsert_rating(catalog, a, rating=6)
    assert "\n" not in info.value.message
    with pytest.raises(NotFound):
        upsert_rating(catalog, new_id(), rating=3)
    with pytest.raises(InvalidInput):
        get_rating(catalog, "not-a-uuid")


def test_ratings_are_per_user(catalog: Catalog, data: CullData) -> None:
    a = _ids(data)[0]
    other = new_id()
    upsert_rating(catalog, a, rating=5)
    upsert_rating(catalog, a, rating=1, user_id=other)
    assert get_rating(catalog, a).rating == 5
    assert get_rating(catalog, a, other).rating == 1
    assert set(list_ratings(catalog, data.project_id)) == {a}


def test_project_stats_follow_ratings(catalog: Catalog, data: CullData) -> None:
    ids = _ids(data)
    apply_bulk(
        catalog,
        data.project_id,
        BulkCullActionRequest(
            actions=[
                BulkCullAction(asset_id=ids[0], picked=True),
                BulkCullAction(asset_id=ids[1], picked=True),
                BulkCullAction(asset_id=ids[2], rejected=True),
            ]
        ),
    )
    stats = get_project(catalog, data.project_id).stats
    assert stats["pickedCount"] == 2 and stats["rejectedCount"] == 1


def test_bulk_applies_in_one_action(catalog: Catalog, data: CullData) -> None:
    ids = _ids(data)
    req = BulkCullActionRequest.model_validate(
        {
            "actions": [
                {"assetId": ids[0], "picked": True, "rating": 5},
                {"assetId": ids[1], "rejected": True},
                {"assetId": ids[2], "starred": True},
                {"assetId": ids[0], "rating": None},
            ]
        }
    )
    res = apply_bulk(catalog, data.project_id, req)
    assert res.ok and res.updated_asset_ids == ids[:3]
    r0 = get_rating(catalog, ids[0])
    assert r0.picked is True and r0.rating is None  # later action on the same asset wins
    assert get_rating(catalog, ids[1]).rejected is True
    assert get_rating(catalog, ids[2]).starred is True
    undo(catalog, data.project_id)  # one bulk request = one undo step
    assert all(get_rating(catalog, a).updated_at is None for a in ids[:3])


def test_bulk_is_all_or_nothing(catalog: Catalog, data: CullData) -> None:
    ids = _ids(data)
    upsert_rating(catalog, ids[0], rating=2)
    before = snapshot_project(catalog, data.project_id)
    events = catalog.scalar("SELECT count(*) FROM events")
    bad = BulkCullActionRequest(
        actions=[
            BulkCullAction(asset_id=ids[0], picked=True, rating=5),
            BulkCullAction(asset_id=ids[1], rejected=True),
            BulkCullAction(asset_id=new_id(), picked=True),
        ]
    )
    with pytest.raises(NotFound):
        apply_bulk(catalog, data.project_id, bad, idempotency_key="k1")
    assert snapshot_project(catalog, data.project_id) == before
    assert catalog.scalar("SELECT count(*) FROM events") == events
    assert catalog.scalar("SELECT count(*) FROM idempotency_keys") == 0
    # an asset of another project is just as unknown
    other = create_project(catalog, "other shoot")
    with pytest.raises(NotFound):
        apply_bulk(
            catalog,
            other.id,
            BulkCullActionRequest(actions=[BulkCullAction(asset_id=ids[0], picked=True)]),
        )
    # a contradictory action fails the whole request too
    with pytest.raises(InvalidInput):
        apply_bulk(
            catalog,
            data.project_id,
            BulkCullActionRequest(
                actions=[
                    BulkCullAction(asset_id=ids[1], starred=True),
                    BulkCullAction(asset_id=ids[0], picked=True, rejected=True),
                ]
            ),
        )
    assert snapshot_project(catalog, data.project_id) == before


def test_idempotency_key_replays(catalog: Catalog, data: CullData) -> None:
    ids = _ids(data)
    req = BulkCullActionRequest(actions=[BulkCullAction(asset_id=ids[0], picked=True)])
    first = apply_bulk(catalog, data.project_id, req, idempotency_key="abc")
    stamp = get_rating(catalog, ids[0]).updated_at
    # the user changes their mind in between; the retried request must not re-apply
    upsert_rating(catalog, ids[0], rejected=True)
    actions = catalog.scalar("SELECT count(*) FROM cull_actions")
    again = apply_bulk(catalog, data.project_id, req, idempotency_key="abc")
    assert again == first
    assert get_rating(catalog, ids[0]).rejected is True
    assert catalog.scalar("SELECT count(*) FROM cull_actions") == actions
    assert stamp is not None
    other = BulkCullActionRequest(actions=[BulkCullAction(asset_id=ids[1], picked=True)])
    with pytest.raises(Conflict):
        apply_bulk(catalog, data.project_id, other, idempotency_key="abc")
    # another key applies normally
    apply_bulk(catalog, data.project_id, req, idempotency_key="def")
    assert get_rating(catalog, ids[0]).picked is True


def test_bulk_unknown_project(catalog: Catalog, data: CullData) -> None:
    req = BulkCullActionRequest(actions=[BulkCullAction(asset_id=_ids(data)[0], picked=True)])
    with pytest.raises(NotFound):
        apply_bulk(catalog, new_id(), req)
