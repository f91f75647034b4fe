"""Uploads from clients that are not on the server's disk (the contract's prepareUpload and
finalizeUpload).

``prepare_upload`` makes one asset per file, in state ``pending_upload`` (invisible to
listings, culling and exports), and says where its bytes go in the store. The bytes arrive
through :func:`receive_upload` (streamed to a temporary file, hashed on the way, never held
in memory, refused past the size the client declared); a file that arrived whole is kept,
and sending it again is a no-op. ``finalize_upload`` checks each file's SHA-256 against
the client's, then hands the asset to the ingest path every other photo takes: it becomes
``registered`` with its original recorded and its ``asset.process`` job queued (metadata,
thumbnail, preview), exactly as ``kilo ingest`` leaves a photo it found on a card.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import PurePosixPath

from kilo.catalog import Catalog
from kilo.catalog.idempotency import once
from kilo.clock import new_id, utcnow
from kilo.errors import Conflict, InvalidInput, NotFound
from kilo.imaging.sniff import SNIFF_BYTES, sniff_content_type
from kilo.models import (
    FinalizeUploadRequest,
    FinalizeUploadResponse,
    PrepareUploadRequest,
    UploadInstruction,
)
from kilo.store import filesystem, join
from kilo.text import printable

__all__ = ["MAX_FILES", "finalize_upload", "prepare_upload", "receive_upload", "upload_target"]

log = logging.getLogger(__name__)
MAX_FILES = 1000  # per prepareUpload request


def _safe_name(filename: str) -> str:
    name = PurePosixPath(filename.replace("\\", "/")).name.strip()
    name = printable(name).replace("/", "_")
    if not name or name in (".", ".."):
        raise InvalidInput(f"{filename!r} is not a file name")
    return name[:200]


def upload_target(catalog: Catalog, asset_id: str) -> str:
    """The store URI an upload's bytes go to (``uploads/<project>/<asset>/<name>``)."""
    row = catalog.table("assets").get(asset_id, ("source_uri",))
    if row is None:
        raise NotFound(f"no upload with id {asset_id}")
    return str(row["source_uri"])


def prepare_upload(
    catalog: Catalog,
    project_id: str,
    request: PrepareUploadRequest,
    *,
    idempotency_key: str | None = None,
) -> list[UploadInstruction]:
    """One pending asset per file; instructions without URLs (the front end signs those).
    The same ``idempotency_key`` and request again returns the same assets (nothing new is
    made); with another request, Conflict."""
    return once(
        catalog, f"upload.prepare:{project_id}", idempotency_key, request.dump(),
        lambda: _prepare(catalog, project_id, request),
        save=lambda made: {"uploads": [u.dump() for u in made]},
        replay=lambda kept: [UploadInstruction.model_validate(u) for u in kept["uploads"]],
    )  # fmt: skip


def _prepare(
    catalog: Catalog, project_id: str, request: PrepareUploadRequest
) -> list[UploadInstruction]:
    if len(request.files) > MAX_FILES:
        raise InvalidInput(f"at most {MAX_FILES} files per request")
    limit = catalog.settings.max_upload_mb * 1024 * 1024
    now = utcnow()
    rows, out = [], []
    for f in request.files:
        if f.byte_size > limit:
            raise InvalidInput(f"{f.filename}: over the {catalog.settings.max_upload_mb} MB limit")
        aid = new_id()
        name = _safe_name(f.filename)
        uri = join(catalog.settings.store_url, "uploads", project_id, aid, name)
        rows.append({"id": aid, "project_id": project_id, "filename": name, "source_uri": uri,
                     "byte_size": f.byte_size, "content_type": f.content_type,
                     "captured_at": f.captured_at, "ingested_at": now, "state": "pending_upload",
                     "updated_at": now})  # fmt: skip
        out.append(UploadInstruction(client_file_id=f.client_file_id, asset_id=aid, upload_url=""))
    catalog.table("assets").insert_all(rows)
    return out


def _pending(catalog: Catalog, asset_id: str, project_id: str | None = None) -> dict[str, object]:
    row = catalog.table("assets").get(
        asset_id, ("id", "project_id", "source_uri", "byte_size", "state", "sha256")
    )
    if row is None or (project_id is not None and row["project_id"] != project_id):
        raise NotFound(f"no upload with id {asset_id}")
    return row


async def receive_upload(
    catalog: Catalog, asset_id: str, chunks: AsyncIterator[bytes]
) -> tuple[str, int]:
    """Store the bytes of an upload as they stream in; (their SHA-256, their size). Refused
    (nothing kept) when more or fewer bytes arrive than the client declared."""
    row = _pending(catalog, asset_id)
    if row["state"] != "pending_upload":
        raise Conflict(f"asset {asset_id} was finalized already")
    declared = int(row["byte_size"] or 0)  # type: ignore[call-overload]
    digest, size = hashlib.sha256(), 0
    staging = catalog.settings.home / "uploads-staging"
    staging.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=staging, prefix=f"{asset_id}.")
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in chunks:
                size += len(chunk)
                if size > declared:
                    raise InvalidInput(f"more than the {declared} bytes declared for this file")
                digest.update(chunk)
                out.write(chunk)
        if size != declared:
            raise InvalidInput(f"{size} of the {declared} bytes declared arrived; send it again")
        fs, path = filesystem(str(row["source_uri"]), catalog.settings)
        fs.makedirs(str(PurePosixPath(path).parent), exist_ok=True)
        fs.put_file(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    sha = digest.hexdigest()
    catalog.table("assets").update(asset_id, {"sha256": sha})
    return sha, size


def _hash_stored(catalog: Catalog, asset_id: str, row: dict[str, object]) -> str:
    """The SHA-256 of an upload that went straight to the store (Conflict when it has not
    arrived, or not whole)."""
    fs, path = filesystem(str(row["source_uri"]), catalog.settings)
    try:
        size = int(fs.size(path))
    except (FileNotFoundError, OSError):
        raise Conflict(f"asset {asset_id}: its bytes have not arrived yet") from None
    if size != int(row["byte_size"] or 0):  # type: ignore[call-overload]
        raise Conflict(f"asset {asset_id}: {size} of the {row['byte_size']} bytes arrived")
    with fs.open(path, "rb") as f:
        sha = hashlib.file_digest(f, "sha256").hexdigest()
    catalog.table("assets").update(asset_id, {"sha256": sha})
    return sha


def finalize_upload(
    catalog: Catalog,
    project_id: str,
    request: FinalizeUploadRequest,
    *,
    idempotency_key: str | None = None,
) -> FinalizeUploadResponse:
    """Check every file arrived whole with the client's checksum, then register them all
    and queue their processing, in one transaction (Conflict names the first that did not).
    A repeated ``idempotency_key`` with the same request answers as the first time."""
    return once(
        catalog, f"upload.finalize:{project_id}", idempotency_key, request.dump(),
        lambda: _finalize(catalog, project_id, request),
        save=lambda response: response.dump(), replay=FinalizeUploadResponse.model_validate,
    )  # fmt: skip


def _finalize(
    catalog: Catalog, project_id: str, request: FinalizeUploadRequest
) -> FinalizeUploadResponse:
    from kilo.ingest.register import PROCESS_JOB
    from kilo.jobs import enqueue_many

    ready: list[tuple[str, str, str | None, str]] = []
    items = {i.asset_id: i for i in request.assets}.values()  # each asset once
    for item in items:
        row = _pending(catalog, item.asset_id, project_id)
        if row["state"] != "pending_upload":
            raise Conflict(f"asset {item.asset_id} was finalized already")
        if not row["sha256"]:  # sent straight to the bucket: hash what is there now
            row["sha256"] = _hash_stored(catalog, item.asset_id, row)
        if str(row["sha256"]).lower() != item.checksum_sha256.strip().lower():
            raise Conflict(f"asset {item.asset_id}: the bytes that arrived have another SHA-256")
        ready.append((item.asset_id, str(row["source_uri"]), item.content_type, str(row["sha256"])))
    now = utcnow()
    for aid, uri, given_type, sha in ready:
        fs, path = filesystem(uri, catalog.settings)
        with fs.open(path, "rb") as f:
            head = f.read(SNIFF_BYTES)
        content_type = sniff_content_type(head, uri) or given_type
        catalog.table("assets").update(aid, {"state": "registered",
                                             "content_type": content_type})  # fmt: skip
        catalog.table("asset_files").insert({
            "id": new_id(), "asset_id": aid, "kind": "original", "uri": uri,
            "content_type": content_type, "byte_size": fs.size(path),
            "sha256": sha, "created_at": now})  # fmt: skip
    jobs = enqueue_many(
        catalog,
        [{"job_type": PROCESS_JOB, "project_id": project_id, "asset_id": aid,
          "payload": {"assetId": aid}, "dedupe_key": f"{PROCESS_JOB}:{aid}"}
         for aid, _, _, _ in ready],
    )  # fmt: skip
    log.info("%d uploads of project %s finalized", len(ready), project_id)
    return FinalizeUploadResponse(queued_jobs=list(jobs))
