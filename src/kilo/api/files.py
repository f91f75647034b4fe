"""Files over HTTP without store paths: the API never shows where a file lives (a local
path names the photographer's disk and user; an s3 URI their bucket). Each file is offered
as a URL of this server, ``/v1/x-kilo/files/{fileId}?exp=...&sig=...``, signed with the
server's key for one hour; the route streams the file. Signed URLs are what ``<img>`` tags
and downloads need (no Authorization header), and they stop working when they expire."""

from __future__ import annotations

import hashlib
import hmac
import shutil
import tempfile
import time
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from kilo.api.deps import CatalogDep
from kilo.api.routes import errors
from kilo.catalog import Catalog
from kilo.errors import NotFound
from kilo.models import Asset, AssetFile, AssetFilesResponse, ExportDownloadResponse, PagedAssets
from kilo.settings import Settings
from kilo.store import filesystem

FILE_URL_TTL_S = 3600
UPLOAD_TTL_S = 6 * 3600
Expires = Annotated[int, Query(ge=0, description="When the link stops working (Unix time).")]
Signature = Annotated[str, Query(min_length=1, max_length=64, description="The link's HMAC.")]
router = APIRouter(tags=["Assets"])


def _signature(catalog: Catalog, what: str, ident: str, expires: int) -> str:
    key = catalog.settings.signing_key().encode()
    message = f"{what}:{ident}:{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


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


def signed_upload_url(catalog: Catalog, asset_id: str) -> tuple[str, int]:
    return _signed(catalog, "upload", asset_id, f"/v1/x-kilo/uploads/{asset_id}", UPLOAD_TTL_S)


def signed_export_url(catalog: Catalog, export_id: str) -> ExportDownloadResponse:
    url, expires = _signed(catalog, "export", export_id, f"/v1/x-kilo/exports/{export_id}/file")
    return ExportDownloadResponse(url=url, expires_at=datetime.fromtimestamp(expires, UTC))


def _chunks(handle: Any) -> Iterator[bytes]:
    """An open binary file's bytes in 1 MB blocks, closing it at the end."""
    with handle:
        while block := handle.read(1 << 20):
            yield block


def _stream(settings: Settings, uri: str, content_type: str | None, size: int | None,
            filename: str | None = None) -> StreamingResponse:  # fmt: skip
    fs, path = filesystem(uri, settings)
    try:
        if not fs.isfile(path):
            raise NotFound("no such file, or the link has expired")
        handle = fs.open(path, "rb")
    except OSError:
        raise NotFound("no such file, or the link has expired") from None

    headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
    if size:
        headers["Content-Length"] = str(size)
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return StreamingResponse(_chunks(handle), media_type=content_type or "application/octet-stream",
                             headers=headers)  # fmt: skip


def public_files(catalog: Catalog, asset_id: str, files: AssetFilesResponse) -> AssetFilesResponse:
    """``files`` with each store URI replaced by a signed URL of this server."""
    ids = {str(r["uri"]): str(r["id"]) for r in catalog.table("asset_files").rows_where(
        "asset_id = ?", [asset_id], select=("id", "uri"))}  # fmt: skip
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


@router.get("/x-kilo/assets/{assetId}/preview", responses=errors(404),
            response_class=StreamingResponse)  # fmt: skip
def preview_download(
    assetId: UUID,
    catalog: CatalogDep,
    exp: Expires,
    sig: Signature,
) -> StreamingResponse:
    """Extension: a photo's best preview (see ``bestPreviewUrl``) by a signed URL."""
    check_signature(catalog, "preview", str(assetId), exp, sig)
    return _stream_file(catalog, catalog.table("assets").value(str(assetId), "preview_file_id"))


def _stream_file(catalog: Catalog, file_id: str | None) -> StreamingResponse:
    row = file_id and catalog.table("asset_files").get(
        file_id, ("uri", "content_type", "byte_size")
    )
    if not row:
        raise NotFound("no such file, or the link has expired")
    return _stream(catalog.settings, str(row["uri"]), row["content_type"], row["byte_size"])


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
    artifact = catalog.table("exports").value(export_id, "artifact_uri")
    if not artifact:
        raise NotFound("no such file, or the link has expired")
    name = str(artifact).rstrip("/").rsplit("/", 1)[-1]
    fs, path = filesystem(str(artifact), catalog.settings)
    if fs.isdir(path):
        return _zip_folder(fs, path, f"{name}.zip")
    return _stream(catalog.settings, str(artifact), None, None, filename=name)


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

    headers = {"Content-Disposition": f'attachment; filename="{filename}"',
               "Content-Length": str(size), "Cache-Control": "private"}  # fmt: skip
    return StreamingResponse(_chunks(spool), media_type="application/zip", headers=headers)
