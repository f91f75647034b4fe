"""Edits: versions of a photo's develop settings and applying one to many photos."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from kilo.access import check_owner_assets
from kilo.edit.versions import apply_version, create_version, get_version, list_versions
from kilo.errors import InvalidInput, NotFound
from kilo.models import (
    ApplyEditBatchRequest,
    ApplyEditBatchResponse,
    CreateEditVersionRequest,
    EditVersion,
    EditVersionList,
)
from kilo_server.deps import CallerDep
from kilo_server.routes import IdempotencyKey, errors

router = APIRouter(tags=["Edits"])


@router.get("/assets/{assetId}/edits", response_model=EditVersionList, responses=errors(401, 404))
def edits_list(assetId: UUID, caller: CallerDep) -> EditVersionList:
    return list_versions(caller.catalog, caller.owns("assets", assetId))


@router.post(
    "/assets/{assetId}/edits",
    response_model=EditVersion,
    status_code=201,
    responses=errors(400, 401, 404),
)
def edits_create(
    assetId: UUID,
    body: CreateEditVersionRequest,
    caller: CallerDep,
) -> EditVersion:
    return create_version(caller.catalog, caller.owns("assets", assetId), body, caller.user_id)


@router.get("/edits/{editId}", response_model=EditVersion, responses=errors(401, 404))
def edits_get(editId: UUID, caller: CallerDep) -> EditVersion:
    return get_version(caller.catalog, caller.owns("edit_versions", editId))


@router.post(
    "/edits/{editId}/applyTo", response_model=ApplyEditBatchResponse, responses=errors(400, 401)
)
def edits_apply(
    editId: UUID,
    body: ApplyEditBatchRequest,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
) -> ApplyEditBatchResponse:
    """Queue an edit.apply job writing the version's settings to many photos; follow it by
    its job id (the realtime stream or the project's jobs)."""
    eid = caller.owns_or_bad_request("edit_versions", editId)  # the contract has no 404 here
    try:
        targets = check_owner_assets(caller.catalog, caller.user_id, body.asset_ids)
    except NotFound as exc:
        raise InvalidInput(exc.reason) from None
    return apply_version(
        caller.catalog,
        eid,
        targets,
        body.mode,
        body.name,
        user_id=caller.user_id,
        idempotency_key=idempotency_key,
    )
