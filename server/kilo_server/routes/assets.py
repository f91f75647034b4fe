"""Assets: listing a project's photos, one photo, its files, its metadata and its rating."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from kilo.assets import get_asset, list_asset_files, list_assets, update_asset
from kilo.cull.ratings import upsert_rating
from kilo.models import (
    Asset,
    AssetFilesResponse,
    PagedAssets,
    Rating,
    UpdateAssetRequest,
    UpsertRatingRequest,
)
from kilo_server.deps import CallerDep
from kilo_server.files import public_asset, public_files, public_page
from kilo_server.routes import Cursor, Limit, errors

router = APIRouter(tags=["Assets"])


@router.get("/projects/{projectId}/assets", response_model=PagedAssets, responses=errors(401, 404))
def assets_list(
    projectId: UUID,
    caller: CallerDep,
    cursor: Cursor = None,
    limit: Limit = 50,
    picked: bool | None = None,
    rejected: bool | None = None,
    rating_min: Annotated[int | None, Query(alias="ratingMin", ge=1, le=5)] = None,
) -> PagedAssets:
    """A project's photos in capture order, filtered by the caller's decisions."""
    page = list_assets(
        caller.catalog,
        caller.owns("projects", projectId),
        cursor=cursor,
        limit=limit,
        picked=picked,
        rejected=rejected,
        rating_min=rating_min,
        user_id=caller.user_id,
    )
    return public_page(caller.catalog, page)


@router.get("/assets/{assetId}", response_model=Asset, responses=errors(401, 404))
def assets_get(assetId: UUID, caller: CallerDep) -> Asset:
    asset = get_asset(caller.catalog, caller.owns("assets", assetId), user_id=caller.user_id)
    return public_asset(caller.catalog, asset)


@router.patch("/assets/{assetId}", response_model=Asset, responses=errors(400, 401, 404))
def assets_update(assetId: UUID, body: UpdateAssetRequest, caller: CallerDep) -> Asset:
    aid = caller.owns("assets", assetId)
    update_asset(caller.catalog, aid, body)
    return public_asset(caller.catalog, get_asset(caller.catalog, aid, user_id=caller.user_id))


@router.get(
    "/assets/{assetId}/files", response_model=AssetFilesResponse, responses=errors(401, 404)
)
def assets_files(assetId: UUID, caller: CallerDep) -> AssetFilesResponse:
    """The photo's files as signed download URLs of this server (never store paths)."""
    aid = caller.owns("assets", assetId)
    return public_files(caller.catalog, aid, list_asset_files(caller.catalog, aid))


@router.post("/assets/{assetId}/ratings", response_model=Rating, responses=errors(400, 401, 404))
def assets_rate(assetId: UUID, body: UpsertRatingRequest, caller: CallerDep) -> Rating:
    """Set the caller's rating, pick, reject, star or notes of a photo."""
    return upsert_rating(
        caller.catalog, caller.owns("assets", assetId), body, user_id=caller.user_id
    )
