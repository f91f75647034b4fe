"""A gallery's public side, ``/share/{shareSlug}``: what a client's browser calls. Every
route goes through one gate (:mod:`kilo.gallery.visitors`) and the rate limits below, which
are charged before anything else, the password check included.

The visitor's token travels in ``Authorization: Bearer``; image URLs carry a session id and
an HMAC bound to the link, the session, the photo and one size, valid for 15 to 30 minutes
and checked against the gallery on every fetch, so a revoked link, a new link or a photo
taken out stops every URL made before. Missing, expired and revoked links answer one 404,
wrong passwords one 401.

Rate limits (a minute each; :mod:`kilo_server.limits`). Every budget that refuses a request
belongs to the address that sent it, so a stranger, or many, can slow only themselves:

- per address, all links: 600 requests, 30 password tries (charged first: made-up links
  cost the sender, and one address cannot churn the limiter's keys fast);
- per (link, address): 60 requests, 10 password tries; images 1,200;
- per link, wrong passwords from all addresses: 60 (:class:`~kilo_server.limits.WrongTries`).
  Past it, an address that already tried a wrong password on the link is refused before
  the argon2 check, while an address that has not is still checked: an attack from many
  addresses gets one try per address a minute, and the right client gets in from an
  address of its own. A right password is not charged to the link.

There is no cap on a link's requests from all addresses together: any such cap is a switch
that enough addresses flip for everyone (eleven addresses at 60 a minute locked out the
600 a minute that once stood here).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import Response, StreamingResponse

from kilo.catalog import Catalog
from kilo.errors import Conflict, InvalidInput, NotFound, Unauthorized
from kilo.gallery.view import gallery_image, view_items
from kilo.gallery.visitors import (
    Visit,
    add_comment,
    authenticate,
    open_gallery,
    session_visit,
    set_favorite,
    start_visit,
    submitted,
    visit,
)
from kilo.models import (
    KiloModel,
    PublicCommentRequest,
    PublicCommentResponse,
    PublicFavoriteRequest,
    PublicFavoriteResponse,
    PublicGalleryAsset,
    PublicGalleryAuthRequest,
    PublicGalleryAuthResponse,
    PublicGalleryResponse,
)
from kilo_server.deps import CatalogDep
from kilo_server.files import FILE_URL_TTL_S, Expires, Signature, _signed, check_signature
from kilo_server.limits import RateLimiter, WrongTries, client_key
from kilo_server.routes import errors

IMAGE_TTL_S = 15 * 60
Slug = Annotated[str, Path(min_length=8, max_length=128)]
Bearer = Annotated[str | None, Header(alias="Authorization", include_in_schema=False)]
Size = Literal["thumb", "preview", "download"]
router = APIRouter(tags=["Public"])
WRONG_PER_LINK = 60  # wrong passwords a minute per link, from all addresses


class Limits:
    """The public routes' rate limits (one set per app)."""

    def __init__(self, wrong_per_link: int = WRONG_PER_LINK) -> None:
        self.address = RateLimiter(600)
        self.tries = RateLimiter(30)
        self.visitor = RateLimiter(60)
        self.password = RateLimiter(10)
        self.images = RateLimiter(1200)
        self.wrong = WrongTries(wrong_per_link)


def _limits(request: Request) -> Limits:
    limits: Limits | None = getattr(request.app.state, "share_limits", None)
    if limits is None:
        limits = request.app.state.share_limits = Limits()
    return limits


def charge(request: Request, shareSlug: Slug) -> None:
    """Dependency: the address's and the (link, address) limits, before the route does
    anything."""
    limits, address = _limits(request), client_key(request)
    where = f"{shareSlug}|{address}"
    limits.address.hit(address)
    limits.visitor.hit(where)
    if request.url.path.endswith("/auth"):
        limits.tries.hit(address)
        limits.password.hit(where)


def _token(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return None


def _visitor(catalog: Catalog, slug: str, authorization: str | None) -> Visit:
    """The visit of the request's token; for routes whose contract has no 401, an ended or
    missing session is a 404 like the link."""
    try:
        return visit(catalog, slug, _token(authorization))
    except Unauthorized as exc:
        raise NotFound(exc.reason) from None


def image_url(catalog: Catalog, v: Visit, asset_id: str, size: str) -> str:
    return _share_url(catalog, v, f"{asset_id}:{size}", f"images/{asset_id}/{size}")


def _share_url(catalog: Catalog, v: Visit, what: str, path: str) -> str:
    """A URL of the link's ``path``, signed for (link, session, ``what``): what the image
    and download-all routes check."""
    slug = v.gallery["share_slug"]
    ident = f"{slug}:{v.session_id}:{what}"
    url, _ = _signed(catalog, "share", ident, f"/v1/x-kilo/share/{slug}/{path}", IMAGE_TTL_S)
    return f"{url}&s={v.session_id}"


def _view(catalog: Catalog, v: Visit, token: str | None) -> PublicGalleryResponse:
    g = v.gallery
    assets = [
        PublicGalleryAsset(
            asset_id=i.asset_id,
            preview_url=image_url(catalog, v, i.asset_id, "preview"),
            thumb_url=image_url(catalog, v, i.asset_id, "thumb"),
            width=i.width,
            height=i.height,
            filename=i.filename,
            favorite_count=i.favorites,
            comments_count=i.comments,
            favorite=i.mine,
            download_url=(
                image_url(catalog, v, i.asset_id, "download") if g["allow_downloads"] else None
            ),
        )
        for i in view_items(catalog, v)
    ]
    from kilo.clock import from_catalog

    everything = None
    if g["allow_downloads"]:
        everything = _share_url(catalog, v, "all:zip", "download-all")
    return PublicGalleryResponse(
        title=g["title"],
        requires_auth=False,
        token=token,
        assets=assets,
        download_all_url=everything,
        expires_at=from_catalog(g["expires_at"]),
        min_picks=g["min_picks"],
        max_picks=g["max_picks"],
        submitted=submitted(catalog, v),
        allow_downloads=bool(g["allow_downloads"]),
    )


@router.get(
    "/share/{shareSlug}",
    response_model=PublicGalleryResponse,
    responses=errors(404, 429),
    dependencies=[Depends(charge)],
)
def share_get(
    shareSlug: Slug, catalog: CatalogDep, authorization: Bearer = None
) -> PublicGalleryResponse:
    """The gallery and its photos for a client. A password-protected gallery answers
    ``requiresAuth: true`` and no photos until ``/auth``; an open one gives each new visitor
    their own ``token``."""
    gallery = open_gallery(catalog, shareSlug)
    token = _token(authorization)
    try:
        return _view(catalog, visit(catalog, shareSlug, token), token)
    except Unauthorized:
        pass
    if gallery["password_hash"] is not None:
        return PublicGalleryResponse(title=gallery["title"], requires_auth=True)
    try:
        token, v = start_visit(catalog, gallery)
    except Unauthorized:  # protected, revoked or given a new link while we looked
        raise NotFound("this gallery changed; open it again") from None
    return _view(catalog, v, token)


@router.post(
    "/share/{shareSlug}/auth",
    response_model=PublicGalleryAuthResponse,
    responses=errors(401, 429),
    dependencies=[Depends(charge)],
)
def share_auth(
    request: Request, shareSlug: Slug, body: PublicGalleryAuthRequest, catalog: CatalogDep
) -> PublicGalleryAuthResponse:
    """A visitor token for the gallery's password (in the body, never in the URL)."""
    wrong, address = _limits(request).wrong, client_key(request)
    wrong.admit(shareSlug, address)
    token = authenticate(catalog, shareSlug, body.password)  # a wrong one stays counted
    wrong.forgive(shareSlug, address)
    return PublicGalleryAuthResponse(token=token)


@router.post(
    "/share/{shareSlug}/favorite",
    response_model=PublicFavoriteResponse,
    responses=errors(400, 404, 429),
    dependencies=[Depends(charge)],
)
def share_favorite(
    shareSlug: Slug, body: PublicFavoriteRequest, catalog: CatalogDep, authorization: Bearer = None
) -> PublicFavoriteResponse:
    v = _visitor(catalog, shareSlug, authorization)
    try:
        set_favorite(catalog, v, body.asset_id, body.favorite)
    except Conflict as exc:  # the contract has no 409 here: a submitted selection is locked
        raise InvalidInput(exc.reason) from None
    return PublicFavoriteResponse(ok=True)


@router.post(
    "/share/{shareSlug}/comment",
    response_model=PublicCommentResponse,
    status_code=201,
    responses=errors(400, 404, 429),
    dependencies=[Depends(charge)],
)
def share_comment(
    shareSlug: Slug, body: PublicCommentRequest, catalog: CatalogDep, authorization: Bearer = None
) -> PublicCommentResponse:
    """A comment on one photo, kept as plain text (shown escaped, always)."""
    v = _visitor(catalog, shareSlug, authorization)
    return PublicCommentResponse(comment_id=add_comment(catalog, v, body.asset_id, body.text))


class SubmitSelectionRequest(KiloModel):
    name: str | None = None


class SubmitSelectionResponse(KiloModel):
    count: int


@router.post(
    "/x-kilo/share/{shareSlug}/submit",
    response_model=SubmitSelectionResponse,
    responses=errors(400, 404, 409, 429),
    dependencies=[Depends(charge)],
)
def share_submit(
    shareSlug: Slug, body: SubmitSelectionRequest, catalog: CatalogDep, authorization: Bearer = None
) -> SubmitSelectionResponse:
    """Extension: lock the visitor's favorites as their selection; the photographer is
    told (an event on the project's stream, a line in the activity log)."""
    from kilo.gallery.visitors import submit_selection

    v = _visitor(catalog, shareSlug, authorization)
    return SubmitSelectionResponse(count=submit_selection(catalog, v, body.name))


class VisitorComment(KiloModel):
    text: str
    at: datetime


class VisitorComments(KiloModel):
    items: list[VisitorComment]


@router.get(
    "/x-kilo/share/{shareSlug}/comments",
    response_model=VisitorComments,
    responses=errors(404, 429),
    dependencies=[Depends(charge)],
)
def share_comments(
    shareSlug: Slug, assetId: str, catalog: CatalogDep, authorization: Bearer = None
) -> VisitorComments:
    """Extension: the visitor's own comments on one photo."""
    from kilo.gallery.visitors import own_comments

    v = _visitor(catalog, shareSlug, authorization)
    return VisitorComments(
        items=[VisitorComment(text=t, at=at) for t, at in own_comments(catalog, v, assetId)]
    )


@router.get(
    "/x-kilo/share/{shareSlug}/download-all",
    response_class=StreamingResponse,
    responses=errors(404, 429),
)
def share_download_all(
    request: Request, shareSlug: Slug, catalog: CatalogDep, exp: Expires, sig: Signature, s: str
) -> StreamingResponse:
    """Extension: every photo at the gallery's download size as one zip, streamed; by the
    signed URL of the gallery view (when downloads are on)."""
    from kilo.gallery.view import gallery_zip

    limits, address = _limits(request), client_key(request)
    limits.address.hit(address)
    limits.visitor.hit(f"{shareSlug}|{address}")
    check_signature(catalog, "share", f"{shareSlug}:{s}:all:zip", exp, sig)
    v = session_visit(catalog, shareSlug, s)
    chunks = gallery_zip(catalog, v)
    title = "".join(c for c in str(v.gallery["title"]) if c.isalnum() or c in " -_")
    title = title.strip()[:60] or "gallery"
    headers = {
        "Content-Disposition": f'attachment; filename="{title}.zip"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    return StreamingResponse(chunks, media_type="application/zip", headers=headers)


@router.get(
    "/x-kilo/share/{shareSlug}/images/{assetId}/{size}",
    response_class=Response,
    responses=errors(404, 429),
)
def share_image(
    request: Request,
    shareSlug: Slug,
    assetId: str,
    size: Size,
    catalog: CatalogDep,
    exp: Expires,
    sig: Signature,
    s: str,
) -> Response:
    """Extension: one photo as the gallery serves it (no metadata; watermarked when the
    gallery is), by the signed URL of the gallery view."""
    _limits(request).images.hit(f"{shareSlug}|{client_key(request)}")
    check_signature(catalog, "share", f"{shareSlug}:{s}:{assetId}:{size}", exp, sig)
    v = session_visit(catalog, shareSlug, s)
    data = gallery_image(catalog, v, assetId, size)
    headers = {
        "Cache-Control": f"private, max-age={min(IMAGE_TTL_S, FILE_URL_TTL_S)}",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    if size == "download":
        headers["Content-Disposition"] = f'attachment; filename="photo-{assetId[:8]}.jpg"'
    return Response(data, media_type="image/jpeg", headers=headers)
