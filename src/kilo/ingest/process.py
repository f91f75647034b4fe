"""The worker side of the ``asset.process`` job: metadata, thumbnail and preview of one asset.

Runs in a worker process (CPU-bound decoding) and writes the renditions to the store
atomically (temporary name, then rename). It imports only what that needs (imaging, the store,
OpenCV), never the catalog, pydantic or the job queue, so that a worker pool starts in a
fraction of a second. :mod:`kilo.ingest.handlers` is the catalog side.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from typing import Any

from kilo.errors import DecodeError, KiloError
from kilo.store import PlainStoreConfig

log = logging.getLogger(__name__)

RENDITIONS_PREFIX = "renditions"


@dataclass(slots=True)
class FileRow:
    kind: str
    uri: str
    content_type: str
    byte_size: int
    sha256: str
    width: int
    height: int


@dataclass(slots=True)
class ProcessResult:
    asset_id: str
    source_uri: str
    source_mtime: float | None = None
    replaces: bool = True  # the asset may have rendition rows already (to be replaced)
    quarantine: str | None = None
    sha256: str | None = None
    byte_size: int | None = None
    format: str | None = None
    width: int | None = None
    height: int | None = None
    frame_count: int = 1
    method: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    files: list[FileRow] = field(default_factory=list)


def rendition_key(project_id: str, asset_id: str, kind: str) -> str:
    return f"{RENDITIONS_PREFIX}/{project_id}/{asset_id[:2]}/{asset_id}/{kind}.jpg"


def _drop_renditions(
    payload: dict[str, Any], settings: PlainStoreConfig, sizes: dict[str, int]
) -> None:
    """The renditions an earlier run made of an asset that is now quarantined (its file
    changed into one that cannot be decoded): its rows go, so its files go too."""
    from kilo.store import Store

    if payload.get("replaces"):
        keys = [rendition_key(payload["project_id"], payload["asset_id"], k) for k in sizes]
        _delete_quietly(Store(settings), keys)


def _delete_quietly(store: Any, keys: list[str]) -> None:
    """Remove store files, best effort: the failure being handled is what the caller needs."""
    for key in keys:
        with suppress(Exception):
            store.delete(key)


def _prepare_folder(url: str) -> None:
    """Make an asset's local rendition folder. If it was there already (a re-run, or a run
    killed mid-write), delete the temporary files a killed worker may have left in it."""
    from kilo.store import is_local, local_path, note_folder

    if not is_local(url):
        return
    folder = local_path(url)
    try:
        folder.mkdir(parents=True)
    except FileExistsError:
        for part in folder.glob(".*.part"):
            part.unlink(missing_ok=True)
    note_folder(folder)


def process_asset(payload: dict[str, Any]) -> ProcessResult:
    """Decode one asset, extract its metadata, write its renditions. Pure but for the store.

    The result is small (metadata and file rows, never pixels): it crosses a process pipe.
    """
    from kilo.imaging.decode import read_source
    from kilo.imaging.renditions import open_jpeg

    options = payload["settings"]
    settings = PlainStoreConfig(
        options["store_url"], options.get("s3_endpoint_url"), options.get("s3_region")
    )
    aid, uri, name = payload["asset_id"], payload["uri"], payload["source_uri"]
    result = ProcessResult(
        asset_id=aid,
        source_uri=name,
        source_mtime=payload.get("source_mtime"),
        replaces=payload.get("replaces", True),
    )
    frame = int(payload.get("frame_index") or 0)
    sizes = {"preview": int(options["preview_px"]), "thumbnail": int(options["thumbnail_px"])}
    try:
        data = read_source(uri, settings)
    except DecodeError as exc:
        result.quarantine = exc.reason
        return result
    jpeg = payload.get("content_type") == "image/jpeg" and frame == 0
    opened = open_jpeg(data) if jpeg else None  # parsed once for renditions and metadata
    with opened if opened is not None else nullcontext():
        return _fill_result(result, payload, data, frame, sizes, settings, opened)


def _fill_result(
    result: ProcessResult,
    payload: dict[str, Any],
    data: bytes,
    frame: int,
    sizes: dict[str, int],
    settings: PlainStoreConfig,
    opened: Any,
) -> ProcessResult:
    """Renditions, metadata and store writes of the bytes of one asset (see process_asset)."""
    from kilo.imaging.decode import read_source
    from kilo.imaging.metadata import extract_metadata
    from kilo.imaging.renditions import render_renditions
    from kilo.store import Store

    aid, name = result.asset_id, result.source_uri
    try:
        rendered = render_renditions(
            data,
            sizes,
            name=name,
            frame=frame,
            opened=opened,
            content_type=payload.get("content_type"),
        )
    except DecodeError as exc:
        result.quarantine = exc.reason
        _drop_renditions(payload, settings, sizes)
        return result
    sidecar: bytes | None = None
    if payload.get("sidecar_uri"):
        try:
            sidecar = read_source(payload["sidecar_uri"], settings)
        except KiloError:
            sidecar = None
    try:
        meta = extract_metadata(
            data,
            name=name,
            content_type=payload.get("content_type"),
            frame=frame,
            sidecar=sidecar,
            opened=opened,
        ).to_dict()
    except Exception as exc:  # metadata never costs the pixels
        log.debug("%s: metadata failed", name, exc_info=True)
        meta = {"errors": [f"metadata: {type(exc).__name__}: {exc}"[:300]]}
    result.sha256 = payload.get("sha256") or hashlib.sha256(data).hexdigest()
    result.byte_size = len(data)
    result.format = rendered.format
    result.width, result.height = rendered.width, rendered.height
    result.frame_count = rendered.frame_count if rendered.format == "HEIF" else 1
    result.method = rendered.method
    result.metadata = meta
    store = Store(settings)
    folder_key = rendition_key(payload["project_id"], aid, "x").rsplit("/", 1)[0]
    _prepare_folder(store.url(folder_key))
    written: list[str] = []
    for r in rendered.renditions:
        key = rendition_key(payload["project_id"], aid, r.kind)
        try:
            url = store.write_bytes(key, r.data)
        except BaseException:  # a full disk: no file without its catalog row is left
            _delete_quietly(store, written)
            raise
        written.append(key)
        result.files.append(
            FileRow(
                r.kind,
                url,
                r.content_type,
                len(r.data),
                hashlib.sha256(r.data).hexdigest(),
                r.width,
                r.height,
            )
        )
    return result
