"""Files over HTTP without store paths: the API never shows where a file lives (a local
path names the photographer's disk and user; an s3 URI their bucket). Each file is offered
as a URL of this server, ``/v1/x-kilo/files/{fileId}?exp=...&sig=...``, signed with the
server's key for one hour; the route streams the file. Signed URLs are what ``<img>`` tags
and downloads need (no Authorization header), and they stop working when they expire, and
at once when the file, its photo or its project is gone (a deleted project included).

Whatever a file claims to be (an upload names its own type), it is served by what its first
bytes are: inline only as an image a browser draws and no script runs in (JPEG, PNG, WebP,
HEIC/HEIF, AVIF, TIFF); anything else (camera RAW, an HTML or SVG file uploaded as a
"photo") as ``application/octet-stream`` and an attachment. Every file response also
carries a sandboxing Content-Security-Policy and ``nosniff``, so even a browser that
renders it gives it no script and no access to this origin's storage or cookies."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from kilo.catalog import Catalog
from kilo.catalog.assets_repo import find_rendition, live_file
from kilo.catalog.file_reads import project_owner
from kilo.cull.faces import crop_face
from kilo.cull.loupe import ensure_loupe
from kilo.errors import DecodeError, NotFound
from kilo.export.core import live_export_artifact
from kilo.imaging.sniff import SNIFF_BYTES, sniff_content_type
from kilo.models import Asset, AssetFile, AssetFilesResponse, ExportDownloadResponse, PagedAssets
from kilo.settings import Settings
from kilo.store import filesystem
from kilo_server.deps import CatalogDep
from kilo_server.loupe_pool import loupe_pool
from kilo_server.routes import errors

log = logging.getLogger(__name__)
FILE_URL_TTL_S = 3600
UPLOAD_TTL_S = 6 * 3600
Expires = Annotated[int, Query(ge=0, description="When the link stops working (Unix time).")]
Signature = Annotated[str, Query(min_length=1, max_length=64, description="The link's HMAC.")]
router = APIRouter(tags=["Assets"])
GONE = "no such file, or the link has expired"
#: what a file is served inline as (by its first bytes): images a browser only draws
INLINE_TYPES = frozenset(
    f"image/{k}" for k in ("jpeg", "png", "webp", "heic", "heif", "avif", "tiff")
)
#: the headers of every file response: no script, no plugin, no origin (``sandbox`` gives
#: the document an opaque origin: no cookies, no storage), no framing, no sniffing
FILE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


def _signature(catalog: Catalog, what: str, ident: str, expires: int) -> str:
    key = catalog.settings.signing_key().encode()
    message = f"{what}:{ident}:{expires}".encode()
    return hmac.digest(key, message, hashlib.sha256).hex()[:32]  # one C call (a view signs 9,000)


def _signed(
    catalog: Catalog, what: str, ident: str, path: str, ttl: int = FILE_URL_TTL_S
) -> tuple[str, int]:
    # Whole periods: a link stays the same for a while (lists of photos can be cached by
    # the browser), and is good for between one and two ``ttl``.
    expires = (int(time.time()) // ttl + 2) * ttl
    return f"{path}?exp={expires}&sig={_signature(catalog, what, ident, expires)}", expires


def check_signature(catalog: Catalog, what: str, ident: str, exp: int, sig: str) -> None:
    if not hmac.compare_digest(_signature(catalog, what, ident, exp), sig) or exp < time.time():
        raise NotFound("no such file, or the link has expired")


def signed_file_url(catalog: Catalog, file_id: str) -> tuple[str, int]:
    return _signed(catalog, "file", file_id, f"/v1/x-kilo/files/{file_id}")


def signed_preview_url(catalog: Catalog, asset_id: str) -> str:
    """The URL of the asset's best preview (whichever file that is when it is fetched)."""
    return _signed(catalog, "preview", asset_id, f"/v1/x-kilo/assets/{asset_id}/preview")[0]


#: how long the cull screen's image links work (a session; signed again with every view)
STUDIO_URL_TTL_S = 12 * 3600


def studio_frame_urls(catalog: Catalog) -> tuple[Callable[[str], tuple[str, str, str]], int]:
    """(asset id -> its signed thumbnail, preview and loupe URLs, when they expire): links
    good for :data:`STUDIO_URL_TTL_S` or more."""
    ttl = STUDIO_URL_TTL_S
    expires = (int(time.time()) // ttl + 2) * ttl

    key = catalog.settings.signing_key().encode()

    def signed(what: str, asset_id: str) -> str:
        message = f"{what}:{asset_id}:{expires}".encode()  # as _signature signs it
        sig = hmac.digest(key, message, hashlib.sha256).hex()[:32]
        return f"/v1/x-kilo/assets/{asset_id}/{what}?exp={expires}&sig={sig}"

    def urls(asset_id: str) -> tuple[str, str, str]:
        return signed("thumb", asset_id), signed("preview", asset_id), signed("loupe", asset_id)

    return urls, expires


def signed_face_url(catalog: Catalog, asset_id: str, box: str) -> str:
    """A signed URL of a face's crop (``box``: ``x,y,w,h`` in shares of the photo)."""
    ident = f"{asset_id}:{box}"
    url, _ = _signed(catalog, "face", ident, f"/v1/x-kilo/assets/{asset_id}/face", STUDIO_URL_TTL_S)
    return f"{url}&box={box}"


def signed_upload_url(catalog: Catalog, asset_id: str) -> tuple[str, int]:
    return _signed(catalog, "upload", asset_id, f"/v1/x-kilo/uploads/{asset_id}", UPLOAD_TTL_S)


def signed_export_url(catalog: Catalog, export_id: str) -> ExportDownloadResponse:
    url, expires = _signed(catalog, "export", export_id, f"/v1/x-kilo/exports/{export_id}/file")
    return ExportDownloadResponse(url=url, expires_at=datetime.fromtimestamp(expires, UTC))


def _chunks(handle: Any, head: bytes = b"") -> Iterator[bytes]:
    """``head`` (the bytes already read), then an open binary file's bytes in 1 MB blocks,
    closing it at the end."""
    with handle:
        if head:
            yield head
        while block := handle.read(1 << 20):
            yield block


def inline_type(head: bytes) -> str | None:
    """The type a file starting with ``head`` is served inline as: the image type its bytes
    show when it is one a browser only draws; None (an attachment of bytes) else."""
    kind = sniff_content_type(head)
    return kind if kind in INLINE_TYPES else None


def attachment(filename: str | None) -> str:
    """A Content-Disposition that makes the browser save the file, never show it."""
    safe = "".join(c for c in (filename or "") if c.isascii() and (c.isalnum() or c in "._- "))
    return f'attachment; filename="{safe.strip()[:100]}"' if safe.strip() else "attachment"


def _stream(
    settings: Settings, uri: str, size: int | None, filename: str | None = None
) -> StreamingResponse:
    """The file at ``uri``: an image inline by its own bytes, anything else (and anything
    with a ``filename``: an export) as an attachment of bytes."""
    fs, path = filesystem(uri, settings)
    try:
        if not fs.isfile(path):
            raise NotFound(GONE)
        handle = fs.open(path, "rb")
    except OSError:
        raise NotFound(GONE) from None
    try:
        head = handle.read(SNIFF_BYTES)
    except OSError:
        handle.close()
        raise NotFound(GONE) from None

    kind = None if filename else inline_type(head)
    headers = {**FILE_HEADERS, "Cache-Control": "private, max-age=3600"}
    if size:
        headers["Content-Length"] = str(size)
    if kind is None:
        headers["Content-Disposition"] = attachment(filename)
    return StreamingResponse(
        _chunks(handle, head), media_type=kind or "application/octet-stream", headers=headers
    )


def public_files(catalog: Catalog, asset_id: str, files: AssetFilesResponse) -> AssetFilesResponse:
    """``files`` with each store URI replaced by a signed URL of this server."""
    ids = {
        str(r["uri"]): str(r["id"])
        for r in catalog.table("asset_files").rows_where(
            "asset_id = ?", [asset_id], select=("id", "uri")
        )
    }
    out: list[AssetFile] = []
    for f in files.files:
        file_id = ids.get(f.url)
        if file_id is None:
            continue
        url, expires = signed_file_url(catalog, file_id)
        out.append(
            f.model_copy(update={"url": url, "expires_at": datetime.fromtimestamp(expires, UTC)})
        )
    return AssetFilesResponse(files=out)


def _public(asset: Asset, catalog: Catalog) -> Asset:
    url = signed_preview_url(catalog, asset.id) if asset.best_preview_url else None
    return asset.model_copy(update={"source_uri": None, "best_preview_url": url})


def public_asset(catalog: Catalog, asset: Asset) -> Asset:
    """``asset`` without its source location, its preview as a signed URL."""
    return _public(asset, catalog)


def public_page(catalog: Catalog, page: PagedAssets) -> PagedAssets:
    items = [_public(a, catalog) for a in page.items]
    return page.model_copy(update={"items": items})


@router.get("/x-kilo/files/{fileId}", responses=errors(404), response_class=StreamingResponse)
def file_download(
    fileId: UUID,
    catalog: CatalogDep,
    exp: Expires,
    sig: Signature,
) -> StreamingResponse:
    """Extension: the bytes of one file of a photo, by a signed URL (see /assets/{id}/files)."""
    check_signature(catalog, "file", str(fileId), exp, sig)
    return _stream_file(catalog, str(fileId))


@router.get(
    "/x-kilo/assets/{assetId}/preview", responses=errors(404), response_class=StreamingResponse
)
def preview_download(
    assetId: UUID,
    catalog: CatalogDep,
    exp: Expires,
    sig: Signature,
) -> StreamingResponse:
    """Extension: a photo's best preview (see ``bestPreviewUrl``) by a signed URL."""
    check_signature(catalog, "preview", str(assetId), exp, sig)
    return _stream_file(catalog, catalog.table("assets").value(str(assetId), "preview_file_id"))


@router.get(
    "/x-kilo/assets/{assetId}/thumb", responses=errors(404), response_class=StreamingResponse
)
def thumb_download(
    assetId: UUID,
    catalog: CatalogDep,
    exp: Expires,
    sig: Signature,
) -> StreamingResponse:
    """Extension: a photo's thumbnail (its preview while it has none) by a signed URL (the
    cull view's ``thumbUrl``)."""
    aid = str(assetId)
    check_signature(catalog, "thumb", aid, exp, sig)
    found = find_rendition(catalog, aid, "thumbnail")
    if found is None:
        return _stream_file(catalog, catalog.table("assets").value(aid, "preview_file_id"))
    return _stream(catalog.settings, str(found[1]), found[2])


@router.get(
    "/x-kilo/assets/{assetId}/loupe", responses=errors(404), response_class=StreamingResponse
)
async def loupe_download(
    assetId: UUID,
    catalog: CatalogDep,
    exp: Expires,
    sig: Signature,
) -> Response:
    """Extension: the photo at 100% from the original's pixels (a RAW's embedded full-size
    preview, else a render), upright, without metadata; made on the first request and
    kept (the cull view's ``loupeUrl``)."""
    aid = str(assetId)
    check_signature(catalog, "loupe", aid, exp, sig)
    # made and read on the loupe's own threads, newest request first (loupe_pool): a
    # flood of previews and thumbnails on the shared thread pool never keeps it waiting
    made = loupe_pool().submit(lambda: _loupe_response(catalog, aid))
    return await asyncio.wrap_future(made)


def _loupe_response(catalog: Catalog, aid: str) -> Response:
    if project_owner(catalog, "assets", aid) is None:  # gone, or its project deleted
        raise NotFound(GONE)
    try:
        made = ensure_loupe(catalog, aid)
    except DecodeError:
        log.warning("no loupe for %s: the original cannot be decoded", aid, exc_info=True)
        raise NotFound("the photo's original cannot be read") from None
    fs, path = filesystem(made.uri, catalog.settings)
    try:
        data = bytes(fs.cat_file(path))  # whole: the body needs no thread of the shared pool
    except OSError:
        raise NotFound(GONE) from None
    kind = inline_type(data[:SNIFF_BYTES])
    headers = {**FILE_HEADERS, "Cache-Control": "private, max-age=3600"}
    if kind is None:
        headers["Content-Disposition"] = attachment(None)
    return Response(data, media_type=kind or "application/octet-stream", headers=headers)


FaceBox = Annotated[
    str,
    Query(
        max_length=64,
        pattern=r"^[0-9.]+,[0-9.]+,[0-9.]+,[0-9.]+$",
        description="The face's box: x,y,w,h as shares of the photo.",
    ),
]


@router.get("/x-kilo/assets/{assetId}/face", responses=errors(404), response_class=Response)
def face_crop(
    assetId: UUID,
    catalog: CatalogDep,
    box: FaceBox,
    exp: Expires,
    sig: Signature,
) -> Response:
    """Extension: one face of the face strip, cropped from the photo's preview, by a signed
    URL (the strip's ``cropUrl``)."""
    aid = str(assetId)
    check_signature(catalog, "face", f"{aid}:{box}", exp, sig)
    if project_owner(catalog, "assets", aid) is None:  # gone, or its project deleted
        raise NotFound(GONE)
    x, y, w, h = (float(v) for v in box.split(","))
    data = crop_face(catalog, aid, (x, y, w, h))
    headers = {**FILE_HEADERS, "Cache-Control": "private, max-age=3600"}
    return Response(data, media_type="image/jpeg", headers=headers)


def _stream_file(catalog: Catalog, file_id: str | None) -> StreamingResponse:
    row = live_file(catalog, file_id) if file_id else None
    if row is None:
        raise NotFound(GONE)
    return _stream(catalog.settings, str(row[0]), row[1])


@router.get(
    "/x-kilo/exports/{exportId}/file", responses=errors(404), response_class=StreamingResponse
)
def export_file(
    exportId: UUID,
    catalog: CatalogDep,
    exp: Expires,
    sig: Signature,
) -> StreamingResponse:
    """Extension: a finished export's file (a zip, a PDF, one photo) by a signed URL."""
    export_id = str(exportId)
    check_signature(catalog, "export", export_id, exp, sig)
    artifact = live_export_artifact(catalog, export_id)
    if artifact is None:
        raise NotFound(GONE)
    name = artifact.rstrip("/").rsplit("/", 1)[-1]
    fs, path = filesystem(artifact, catalog.settings)
    if fs.isdir(path):
        return _zip_folder(fs, path, f"{name}.zip")
    return _stream(catalog.settings, artifact, None, filename=name)


def _zip_folder(fs: Any, root: str, filename: str) -> StreamingResponse:
    """A folder export as one ZIP, written to a temporary file (photos are not compressed
    again) and streamed from it."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the stream
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_STORED) as zf:
        for entry in sorted(fs.find(root)):
            rel = entry[len(root.rstrip("/")) + 1 :]
            with fs.open(entry, "rb") as src, zf.open(rel, "w") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    size = spool.tell()
    spool.seek(0)

    headers = {
        **FILE_HEADERS,
        "Content-Disposition": attachment(filename),
        "Content-Length": str(size),
        "Cache-Control": "private",
    }
    return StreamingResponse(_chunks(spool), media_type="application/zip", headers=headers)
