"""Exports: queue one, follow it, download its artifact."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from kilo.errors import Conflict, InvalidInput, NotFound
from kilo.export.core import create_export, download_export, get_export
from kilo.models import CreateExportRequest, Export, ExportDownloadResponse
from kilo.progress import ItemResult
from kilo.text import redact_paths
from kilo_server.deps import CallerDep
from kilo_server.files import signed_export_url
from kilo_server.routes import IdempotencyKey, errors

router = APIRouter(tags=["Exports"])


@router.post(
    "/projects/{projectId}/exports",
    response_model=Export,
    status_code=201,
    responses=errors(400, 401),
)
def exports_create(
    projectId: UUID,
    body: CreateExportRequest,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
) -> Export:
    """Queue an export of the project (its picks unless assetIds are given).

    Nothing in a request names a file or folder of the server: the export goes to the
    store's export area and a watermark logo is the id of one of the caller's photos
    (``allow_local_paths=False``)."""
    pid = caller.owns_or_bad_request("projects", projectId)  # the contract has no 404 here
    try:  # an asset id of someone else's (assetIds, a logo): a bad request too
        export = create_export(
            caller.catalog,
            pid,
            body.preset,
            asset_ids=body.asset_ids,
            settings=body.settings,
            idempotency_key=idempotency_key,
            user_id=caller.user_id,
            allow_local_paths=False,
        )
    except NotFound as exc:
        raise InvalidInput(exc.reason) from None
    return _public(export)


def _public(export: Export) -> Export:
    """The export without store locations (its file is fetched through /download): no
    paths in its error or its photos' reasons, no logo file of a local export."""
    results = None
    if export.results is not None:
        results = [_public_result(r) for r in export.results]
    settings = dict(export.settings)
    watermark = settings.get("watermark")
    if isinstance(watermark, dict) and "image" in watermark:
        settings["watermark"] = {k: v for k, v in watermark.items() if k != "image"}
    update = {
        "artifact": None,
        "dest": None,
        "results": results,
        "settings": settings,
        "error": None if export.error is None else redact_paths(export.error),
    }
    return export.model_copy(update=update)


def _public_result(result: ItemResult) -> ItemResult:
    extra = {k: v for k, v in result.extra.items() if k not in ("uri", "path")}
    reason = None if result.reason is None else redact_paths(result.reason)
    return result.model_copy(update={"extra": extra, "reason": reason})


@router.get("/exports/{exportId}", response_model=Export, responses=errors(401, 404))
def exports_get(exportId: UUID, caller: CallerDep) -> Export:
    return _public(get_export(caller.catalog, caller.owns("exports", exportId)))


@router.get(
    "/exports/{exportId}/download",
    response_model=ExportDownloadResponse,
    responses=errors(401, 404),
)
def exports_download(exportId: UUID, caller: CallerDep) -> ExportDownloadResponse:
    """A download URL of the finished export (signed, for an hour)."""
    eid = caller.owns("exports", exportId)
    try:
        download_export(caller.catalog, eid)  # checks it is done and its file is there
    except (Conflict, NotFound) as exc:  # the contract has no 409 here
        raise NotFound(exc.reason) from None
    return signed_export_url(caller.catalog, eid)
