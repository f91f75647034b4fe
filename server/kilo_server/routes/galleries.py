"""Galleries, the photographer's side: create one from photos of a project, read and change
it, add and remove photos. The client's side is :mod:`kilo_server.routes.share`."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from fastapi import APIRouter

from kilo.catalog import Catalog
from kilo.catalog.idempotency import once
from kilo.errors import InvalidInput, NotFound
from kilo.gallery import (
    add_gallery_assets,
    create_gallery,
    get_gallery,
    remove_gallery_assets,
    update_gallery,
)
from kilo.models import (
    AddGalleryAssetsRequest,
    CreateGalleryRequest,
    Gallery,
    RemoveGalleryAssetsRequest,
    UpdateGalleryRequest,
)
from kilo.text import check_title
from kilo_server.deps import CallerDep
from kilo_server.routes import IdempotencyKey, errors

router = APIRouter(tags=["Galleries"])
TITLE_MAX = 200


@router.post(
    "/projects/{projectId}/galleries",
    response_model=Gallery,
    status_code=201,
    responses=errors(400, 401),
)
def galleries_create(
    projectId: UUID,
    body: CreateGalleryRequest,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
) -> Gallery:
    """A gallery of photos of the project; its link is ``/g/{shareSlug}`` on this server."""
    pid = caller.owns_or_bad_request("projects", projectId)
    body = body.model_copy(update={"title": _title(body.title)})
    return _once(
        caller.catalog,
        f"{caller.user_id}:galleries.create:{pid}",
        idempotency_key,
        body,
        lambda: create_gallery(caller.catalog, pid, body),
    )


@router.get("/galleries/{galleryId}", response_model=Gallery, responses=errors(401, 404))
def galleries_get(galleryId: UUID, caller: CallerDep) -> Gallery:
    return get_gallery(caller.catalog, caller.owns("galleries", galleryId))


@router.patch("/galleries/{galleryId}", response_model=Gallery, responses=errors(400, 401))
def galleries_update(galleryId: UUID, body: UpdateGalleryRequest, caller: CallerDep) -> Gallery:
    """Change what is given; ``password: null`` takes the password off (visitors let in
    with the old one must ask again), ``expiresAt: null`` makes the link never expire."""
    gid = caller.owns_or_bad_request("galleries", galleryId)
    if body.title is not None:
        body = body.model_copy(update={"title": _title(body.title)})
    return update_gallery(caller.catalog, gid, body)


@router.post("/galleries/{galleryId}/assets", response_model=Gallery, responses=errors(400, 401))
def galleries_add_assets(
    galleryId: UUID,
    body: AddGalleryAssetsRequest,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
) -> Gallery:
    gid = caller.owns_or_bad_request("galleries", galleryId)
    return _once(
        caller.catalog,
        f"{caller.user_id}:galleries.addAssets:{gid}",
        idempotency_key,
        body,
        lambda: add_gallery_assets(caller.catalog, gid, body.asset_ids),
    )


@router.delete("/galleries/{galleryId}/assets", response_model=Gallery, responses=errors(400, 401))
def galleries_remove_assets(
    galleryId: UUID, body: RemoveGalleryAssetsRequest, caller: CallerDep
) -> Gallery:
    """Take photos out of the gallery; their image links stop working at once. The contract
    documents neither 400 nor 404 here: a gallery that is not the caller's is a 400, as on
    POST and PATCH (docs/api.md, "gallery-remove-400")."""
    gid = caller.owns_or_bad_request("galleries", galleryId)
    return remove_gallery_assets(caller.catalog, gid, body.asset_ids)


def _title(title: str) -> str:
    """A gallery's title as a project's: a visible character, no control characters
    (docs/api.md, "blank-titles"): it heads the page the client sees."""
    return check_title(title, max_length=TITLE_MAX)


def _once(
    catalog: Catalog, scope: str, key: str | None, body: object, act: Callable[[], Gallery]
) -> Gallery:
    """``act`` once per Idempotency-Key: a retried request gets the first answer again. A
    photo of another project (or of someone else) among assetIds is a bad request (these
    operations document no 404)."""
    request = body.model_dump(mode="json") if hasattr(body, "model_dump") else body

    def act_or_400() -> Gallery:
        try:
            return act()
        except NotFound as exc:
            raise InvalidInput(exc.reason) from None

    return once(
        catalog,
        scope,
        key,
        request,
        act_or_400,
        save=lambda g: g.model_dump(mode="json"),
        replay=Gallery.model_validate,
    )
