"""Uploads from clients that are not on the server's disk (the contract's prepareUpload and
finalizeUpload).

``prepare_upload`` makes one asset per file, in state ``pending_upload`` (invisible to
listings, culling and exports), and says where its bytes go in the store. The bytes arrive
through :func:`receive_upload`: streamed to a staging file of their own (hashed on the way,
never held in memory, refused past the size the client declared), then moved into place in
a catalog transaction that checks the asset is still pending; sending the file again
replaces it until it is finalized, never after. ``finalize_upload`` checks each file's
SHA-256 against the client's, then hands the file to the path every other photo takes: it
is identified by ingest's own code and recorded as ``kilo ingest`` records a file it found
on a card (a HEIC burst becomes one asset per frame), each asset ``registered`` with its
original and its ``asset.process`` job queued (metadata, thumbnail, preview).

A PUT holds a lock on its staging file while it works; :func:`clean_upload_staging` removes
the files of PUTs that died with their server (``kill -9``), and no other.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO

from kilo.catalog import Catalog
from kilo.catalog.idempotency import check_idempotency_key, once, request_digest
from kilo.clock import new_id, to_utc_naive, utcnow
from kilo.errors import Conflict, InvalidInput, NotFound, StoreError
from kilo.ingest.discover import Found
from kilo.models import (
    FinalizeUploadRequest,
    FinalizeUploadResponse,
    PrepareUploadRequest,
    UploadInstruction,
)
from kilo.settings import Settings
from kilo.store import filesystem, is_local, join, local_path, new_file_mode
from kilo.text import printable

if TYPE_CHECKING:
    from kilo.ingest.identify import Identified

__all__ = [
    "MAX_FILES",
    "clean_upload_staging",
    "finalize_upload",
    "prepare_upload",
    "receive_upload",
    "staging_folder",
    "upload_target",
]

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
        catalog,
        f"upload.prepare:{project_id}",
        idempotency_key,
        request.dump(),
        lambda: _prepare(catalog, project_id, request),
        save=lambda made: {"uploads": [u.dump() for u in made]},
        replay=lambda kept: [UploadInstruction.model_validate(u) for u in kept["uploads"]],
    )


def _client_time(value: datetime | None) -> dict[str, object]:
    """The capture time a client gave, as the catalog keeps a photo's (UTC and the offset it
    was given with; a time without an offset stays the wall clock it is), until the file's
    own EXIF replaces it."""
    if value is None or value.tzinfo is None:
        source = "client (no offset)" if value is not None else None
        return {"captured_at": value, "captured_offset_min": None, "captured_at_source": source}
    offset = value.utcoffset()
    return {
        "captured_at": to_utc_naive(value),
        "captured_offset_min": int(offset.total_seconds() // 60) if offset else 0,
        "captured_at_source": "client",
    }


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
        rows.append(
            {
                "id": aid,
                "project_id": project_id,
                "filename": name,
                "source_uri": uri,
                "byte_size": f.byte_size,
                "content_type": f.content_type,
                **_client_time(f.captured_at),
                "ingested_at": now,
                "state": "pending_upload",
                "updated_at": now,
            }
        )
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
    (nothing kept) when more or fewer bytes arrive than the client declared, or when the
    upload was finalized before they all arrived (Conflict: a finalized original never
    changes). The bytes go to a staging file of their own, moved into place in the same
    catalog transaction that checks the asset is still pending (so finalize, which freezes it
    in a transaction, sees either all of them or none)."""
    row = await asyncio.to_thread(_pending, catalog, asset_id)
    if row["state"] != "pending_upload":
        raise Conflict(f"asset {asset_id} was finalized already")
    declared = int(row["byte_size"] or 0)  # type: ignore[call-overload]
    settings = catalog.settings
    await asyncio.to_thread(_sweep_now_and_then, settings)
    fd, tmp = _open_staging(staging_folder(settings), asset_id)
    try:
        with os.fdopen(fd, "wb") as out:  # open (its lock held) until it is in place
            sha, size = await _write(out, chunks, declared)
            out.flush()
            await asyncio.to_thread(_commit, catalog, asset_id, tmp, sha)
    finally:
        _discard(tmp)
    return sha, size


async def _write(out: BinaryIO, chunks: AsyncIterator[bytes], declared: int) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    async for chunk in chunks:
        size += len(chunk)
        if size > declared:
            raise InvalidInput(f"more than the {declared} bytes declared for this file")
        digest.update(chunk)
        out.write(chunk)
    if size != declared:
        raise InvalidInput(f"{size} of the {declared} bytes declared arrived; send it again")
    return digest.hexdigest(), size


def _commit(catalog: Catalog, asset_id: str, tmp: str, sha: str) -> None:
    """Move a whole upload into place and record its SHA-256, if the asset is still pending
    (one transaction: finalize cannot run between the check and the move)."""
    with catalog.transaction():
        row = _pending(catalog, asset_id)
        if row["state"] != "pending_upload":
            raise Conflict(
                f"asset {asset_id} was finalized while this upload arrived; it was not kept"
            )
        _place(tmp, str(row["source_uri"]), catalog.settings)
        catalog.table("assets").update(asset_id, {"sha256": sha})


def _place(tmp: str, uri: str, settings: Settings) -> None:
    """The staging file ``tmp`` at ``uri``: renamed (atomic) on a local store, copied beside
    and renamed when the store is on another file system, put to an object store."""
    try:
        if not is_local(uri):
            fs, path = filesystem(uri, settings)
            fs.put_file(tmp, path)
            return
        target = local_path(uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(tmp, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            fd, beside = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".part"
            )
            os.fchmod(fd, new_file_mode())
            os.close(fd)
            try:
                shutil.copyfile(tmp, beside)
                os.replace(beside, target)
            finally:
                _discard(beside)
    except OSError as exc:
        raise StoreError(f"cannot store the upload: {exc.strerror or exc}", path=uri) from None


def _discard(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _check_stored(catalog: Catalog, asset_id: str, row: dict[str, object]) -> Found:
    """The stored upload as ingest's discovery would have found it (Conflict when its bytes
    have not arrived, or not whole)."""
    uri = str(row["source_uri"])
    fs, path = filesystem(uri, catalog.settings)
    try:
        size = int(fs.size(path))
    except (FileNotFoundError, OSError):
        raise Conflict(f"asset {asset_id}: its bytes have not arrived yet") from None
    if size != int(row["byte_size"] or 0):  # type: ignore[call-overload]
        raise Conflict(f"asset {asset_id}: {size} of the {row['byte_size']} bytes arrived")
    return Found(uri, size)


def finalize_upload(
    catalog: Catalog,
    project_id: str,
    request: FinalizeUploadRequest,
    *,
    idempotency_key: str | None = None,
) -> FinalizeUploadResponse:
    """Check every file arrived whole with the client's checksum, then register them all as
    ``kilo ingest`` registers the files it finds (a HEIC burst becomes one asset per frame)
    and queue their processing, in one transaction (Conflict names the first that did not).
    The files are read and hashed before that transaction, so the catalog is not held while
    they are. A repeated ``idempotency_key`` with the same request answers as the first
    time."""
    scope = f"upload.finalize:{project_id}"
    kept = check_idempotency_key(catalog, scope, idempotency_key, request_digest(request.dump()))
    if kept is not None:
        return FinalizeUploadResponse.model_validate(kept)
    checked = _identify_uploads(catalog, project_id, request)
    return once(
        catalog,
        scope,
        idempotency_key,
        request.dump(),
        lambda: _register(catalog, project_id, checked),
        save=lambda response: response.dump(),
        replay=FinalizeUploadResponse.model_validate,
    )


#: an upload checked before finalize's transaction: identified, and the SHA-256 of its bytes
Checked = tuple["Identified", str]


def _identify_uploads(
    catalog: Catalog, project_id: str, request: FinalizeUploadRequest
) -> dict[str, Checked | None]:
    """Each asset of the request once: its stored file identified by ingest's
    :func:`~kilo.ingest.identify.identify` (type, SHA-256, frames) and checked against the
    client's checksum (Conflict); None for an asset that is not pending any more (the
    transaction says so)."""
    from kilo.ingest.run import IO_THREADS

    found: dict[str, Found | None] = {}
    sums: dict[str, str] = {}
    for item in request.assets:
        if item.asset_id in found:
            continue
        sums[item.asset_id] = item.checksum_sha256.strip().lower()
        row = _pending(catalog, item.asset_id, project_id)
        pending = row["state"] == "pending_upload"
        if pending and row["sha256"] and row["sha256"] != sums[item.asset_id]:  # no need to read
            raise Conflict(f"asset {item.asset_id}: the bytes that arrived have another SHA-256")
        found[item.asset_id] = _check_stored(catalog, item.asset_id, row) if pending else None
    settings = catalog.settings
    with ThreadPoolExecutor(max_workers=IO_THREADS) as pool:
        done = list(
            pool.map(lambda f: None if f is None else _identify(f, settings), found.values())
        )
    for aid, checked in zip(found, done, strict=True):
        if checked is not None and checked[1] != sums[aid]:
            raise Conflict(f"asset {aid}: the bytes that arrived have another SHA-256")
    return dict(zip(found, done, strict=True))


def _identify(found: Found, settings: Settings) -> Checked:
    from kilo.ingest.identify import identify

    ident = identify(found, settings)
    if ident.sha256 is not None:
        return ident, ident.sha256
    fs, path = filesystem(found.uri, settings)  # not a photo: identify did not hash it
    with fs.open(path, "rb") as f:
        return ident, hashlib.file_digest(f, "sha256").hexdigest()


def _register(
    catalog: Catalog, project_id: str, checked: dict[str, Checked | None]
) -> FinalizeUploadResponse:
    """In the caller's transaction: each checked upload, still pending with the bytes that
    were checked, becomes registered assets (:func:`kilo.ingest.register.register_upload`);
    their processing is queued."""
    from kilo.ingest.register import process_job, register_upload
    from kilo.jobs import enqueue_many

    now = utcnow()
    ids: list[str] = []
    for aid, one in checked.items():
        row = _pending(catalog, aid, project_id)
        if row["state"] != "pending_upload" or one is None:
            raise Conflict(f"asset {aid} was finalized already")
        ident, sha = one
        if row["sha256"] and row["sha256"] != sha:  # sent again meanwhile
            raise Conflict(
                f"asset {aid}: its bytes were sent again while it was finalized; finalize it again"
            )
        ids += register_upload(catalog, project_id, aid, ident, now)
    jobs = enqueue_many(catalog, [process_job(project_id, aid) for aid in ids])
    log.info("%d uploads of project %s finalized", len(checked), project_id)
    return FinalizeUploadResponse(queued_jobs=list(jobs))


# -- staging ------------------------------------------------------------------------------
#: a server sweeps the staging folder at most this often (and at its start)
SWEEP_EVERY_S = 600.0
_SWEPT: dict[Path, float] = {}


def staging_folder(settings: Settings) -> Path:
    """Where PUT bodies are written as they arrive (one file per PUT, in the library)."""
    return settings.home / "uploads-staging"


def clean_upload_staging(settings: Settings) -> int:
    """Remove the staging files of PUTs that died (a server killed mid-PUT); how many went.
    A PUT holds an exclusive lock on its file until the file is in place, and the operating
    system drops the lock with the process, so a file whose lock can be taken is nobody's:
    safe at any moment, even while another server on the same library receives uploads."""
    folder = staging_folder(settings)
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return 0
    removed = sum(1 for e in entries if e.is_file(follow_symlinks=False) and _take(e.path))
    if removed:
        log.info("removed %d unfinished uploads from %s", removed, folder)
    return removed


def _take(path: str) -> bool:
    """Remove ``path`` if no process holds its lock."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if not _is_at(fd, path):
            return False
        os.unlink(path)
        return True
    except OSError:  # held by a PUT (BlockingIOError), or gone meanwhile
        return False
    finally:
        os.close(fd)


def _is_at(fd: int, path: str) -> bool:
    """Whether the open file ``fd`` is still the file at ``path``."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except FileNotFoundError:
        return False


def _open_staging(folder: Path, asset_id: str) -> tuple[int, str]:
    """A new staging file, locked (a sweep that took it between its making and its lock
    removed it: then another)."""
    folder.mkdir(parents=True, exist_ok=True)
    for _ in range(10):
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f"{asset_id}.", suffix=".part")
        try:
            os.fchmod(fd, new_file_mode())  # the stored original: the umask's mode, not 0600
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if _is_at(fd, tmp):
                return fd, tmp
        except OSError:
            pass
        os.close(fd)
    raise StoreError("cannot make a staging file for the upload", path=str(folder))


def _sweep_now_and_then(settings: Settings) -> None:
    """:func:`clean_upload_staging` on the first upload of this process and every
    ``SWEEP_EVERY_S`` after (another server on the library may have died mid-PUT)."""
    folder = staging_folder(settings)
    now = time.monotonic()
    last = _SWEPT.get(folder)
    if last is not None and now - last < SWEEP_EVERY_S:
        return
    _SWEPT[folder] = now
    clean_upload_staging(settings)
