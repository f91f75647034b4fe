"""Uploads: the contract's prepareUpload and finalizeUpload (Assets tag), and the signed
PUT route the bytes go to (an extension: ``/v1/x-kilo/uploads/{assetId}``)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter, Request
from starlette.requests import ClientDisconnect

from kilo.errors import InvalidInput
from kilo.models import (
    FinalizeUploadRequest,
    FinalizeUploadResponse,
    KiloModel,
    PrepareUploadRequest,
    PrepareUploadResponse,
)
from kilo.store import presign_put
from kilo_server.deps import CallerDep, CatalogDep
from kilo_server.files import (
    UPLOAD_TTL_S,
    Expires,
    Signature,
    check_signature,
    signed_upload_url,
)
from kilo_server.routes import IdempotencyKey, errors
from kilo_server.uploads import finalize_upload, prepare_upload, receive_upload, upload_target

log = logging.getLogger(__name__)
router = APIRouter(tags=["Assets"])
signed = APIRouter(tags=["Assets"])


@router.post(
    "/projects/{projectId}/assets:prepareUpload",
    response_model=PrepareUploadResponse,
    responses=errors(400, 401, 409),
)
def uploads_prepare(
    projectId: UUID,
    body: PrepareUploadRequest,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
) -> PrepareUploadResponse:
    """One pending asset per file and a signed PUT URL for its bytes (valid 6 hours; send
    the file again to the same URL if the connection breaks)."""
    pid = caller.owns_or_bad_request("projects", projectId)
    made = prepare_upload(caller.catalog, pid, body, idempotency_key=idempotency_key)
    uploads = []
    settings = caller.catalog.settings
    for u in made:
        url, expires = signed_upload_url(caller.catalog, u.asset_id)
        # an s3 store: straight to the bucket with a presigned PUT (same lifetime)
        direct = presign_put(upload_target(caller.catalog, u.asset_id), settings, UPLOAD_TTL_S)
        uploads.append(
            u.model_copy(
                update={
                    "upload_url": direct or url,
                    "headers": {"Content-Type": "application/octet-stream"},
                    "expires_at": datetime.fromtimestamp(expires, UTC),
                }
            )
        )
    return PrepareUploadResponse(uploads=uploads)


@router.post(
    "/projects/{projectId}/assets:finalizeUpload",
    response_model=FinalizeUploadResponse,
    responses=errors(400, 401, 409),
)
def uploads_finalize(
    projectId: UUID,
    body: FinalizeUploadRequest,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
) -> FinalizeUploadResponse:
    """Check the files arrived whole (SHA-256) and queue their processing, as ingest does."""
    pid = caller.owns_or_bad_request("projects", projectId)
    for item in body.assets:
        caller.owns_pending(item.asset_id, pid)
    return finalize_upload(caller.catalog, pid, body, idempotency_key=idempotency_key)


class UploadReceived(KiloModel):
    asset_id: str
    byte_size: int
    checksum_sha256: str


@signed.put(
    "/x-kilo/uploads/{assetId}", response_model=UploadReceived, responses=errors(400, 404, 409)
)
async def uploads_put(
    assetId: UUID,
    request: Request,
    catalog: CatalogDep,
    exp: Expires,
    sig: Signature,
) -> UploadReceived:
    """Extension: the bytes of one prepared upload, by its signed URL (streamed to the store,
    checked against the declared size; the SHA-256 of what arrived is returned)."""
    aid = str(assetId)
    check_signature(catalog, "upload", aid, exp, sig)
    try:
        sha, size = await receive_upload(catalog, aid, request.stream())
    except ClientDisconnect:  # nothing was kept; the asset waits for its bytes again
        log.info(
            "upload of asset %s: the client went away before the whole file arrived; "
            "nothing was kept",
            aid,
        )
        raise InvalidInput("the connection broke before the whole file arrived") from None
    return UploadReceived(asset_id=aid, byte_size=size, checksum_sha256=sha)
