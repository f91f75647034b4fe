"""The ``asset.process`` job: metadata, sha256, thumbnail and preview of one asset (frame).

``compute`` runs in a worker process (CPU-bound decoding) and writes the renditions to the
store atomically (temporary name, then rename); ``apply`` writes the catalog in the main
process. Running it twice writes the same rows and the same files (idempotent). A file that
cannot be decoded is not retried: its asset row is removed and a quarantine row says why.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from kilo.catalog import Catalog
from kilo.clock import new_id, utcnow
from kilo.errors import DecodeError, KiloError
from kilo.jobs import JobRow
from kilo.settings import Settings

RENDITIONS_PREFIX = "renditions"
_SETTINGS_FIELDS = ("home", "store", "s3_endpoint_url", "s3_region", "thumbnail_px", "preview_px")


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


def _settings_payload(settings: Settings) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k in _SETTINGS_FIELDS
            if (v := getattr(settings, k)) is not None}  # fmt: skip


def _remove_stale_parts(store_url: str) -> None:
    """Delete temporary files a killed worker left in a local rendition folder."""
    from kilo.store import is_local, local_path

    if not is_local(store_url):
        return
    folder = local_path(store_url)
    if folder.is_dir():
        for part in folder.glob(".*.part"):
            part.unlink(missing_ok=True)


@lru_cache(maxsize=8)
def _settings(items: tuple[tuple[str, Any], ...]) -> Settings:
    return Settings(**dict(items))  # building Settings reads the environment: ~10 ms


def process_asset(payload: dict[str, Any]) -> ProcessResult:
    """Decode one asset, extract its metadata, write its renditions. Pure but for the store."""
    from kilo.imaging.decode import decode_image, read_source
    from kilo.imaging.metadata import extract_metadata
    from kilo.imaging.renditions import make_renditions
    from kilo.store import Store

    settings = _settings(tuple(sorted(payload["settings"].items())))
    aid, uri, name = payload["asset_id"], payload["uri"], payload["source_uri"]
    result = ProcessResult(asset_id=aid, source_uri=name)
    try:
        data = read_source(uri, settings)
        decoded = decode_image(
            data,
            name=name,
            content_type=payload.get("content_type"),
            max_px=settings.preview_px,
            frame=int(payload.get("frame_index") or 0),
        )
    except DecodeError as exc:
        result.quarantine = exc.reason
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
            frame=int(payload.get("frame_index") or 0),
            sidecar=sidecar,
        ).to_dict()
    except Exception as exc:  # metadata never costs the pixels
        meta = {"errors": [f"metadata: {type(exc).__name__}: {exc}"[:300]]}
    result.sha256 = payload.get("sha256") or hashlib.sha256(data).hexdigest()
    result.byte_size = len(data)
    result.format = decoded.format
    result.width, result.height = decoded.width, decoded.height
    result.frame_count = decoded.frame_count if decoded.format == "HEIF" else 1
    result.method = decoded.method
    result.metadata = meta
    store = Store(settings)
    sizes = {"preview": settings.preview_px, "thumbnail": settings.thumbnail_px}
    renditions = make_renditions(decoded.image, sizes)
    folder_key = rendition_key(payload["project_id"], aid, "x").rsplit("/", 1)[0]
    _remove_stale_parts(store.url(folder_key))
    for r in renditions:
        url = store.write_bytes(rendition_key(payload["project_id"], aid, r.kind), r.data)
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


def _mtime_utc(mtime: float | None) -> datetime | None:
    if not mtime:
        return None
    return datetime.fromtimestamp(mtime, UTC).replace(tzinfo=None)


class ProcessHandler:
    """``asset.process``: pooled (decoding is CPU-bound)."""

    type = "asset.process"
    pooled = True

    def prepare(self, catalog: Catalog, job: JobRow) -> dict[str, Any] | None:
        row = catalog.fetchdict(
            "SELECT a.id, a.project_id, a.source_uri, a.frame_index, a.sha256, a.content_type, "
            "a.sidecar_uri, a.source_mtime, (SELECT f.uri FROM asset_files f WHERE "
            "f.asset_id = a.id AND f.kind = 'original' LIMIT 1) AS original_uri "
            "FROM assets a WHERE a.id = ?",
            [job.asset_id or job.payload.get("assetId")],
        )
        if row is None:
            return None  # the asset was removed since: nothing to do
        return {
            "asset_id": row["id"],
            "project_id": row["project_id"],
            "source_uri": row["source_uri"],
            "uri": row["original_uri"] or row["source_uri"],
            "frame_index": row["frame_index"],
            "sha256": row["sha256"],
            "content_type": row["content_type"],
            "sidecar_uri": row["sidecar_uri"],
            "source_mtime": row["source_mtime"],
            "settings": _settings_payload(catalog.settings),
        }

    def compute(self, payload: dict[str, Any] | None) -> ProcessResult | None:
        return None if payload is None else process_asset(payload)

    def apply(self, catalog: Catalog, job: JobRow, result: ProcessResult | None) -> None:
        if result is None:
            return
        now = utcnow()
        project_id = job.project_id
        if result.quarantine is not None:
            self._quarantine(catalog, result, project_id, now)
            return
        meta = result.metadata
        captured, offset, source = (
            meta.get("captured_at"),
            meta.get("captured_offset_min"),
            meta.get("captured_at_source"),
        )
        if captured is None:
            mtime = catalog.scalar("SELECT source_mtime FROM assets WHERE id = ?",
                                   [result.asset_id])  # fmt: skip
            captured, offset, source = _mtime_utc(mtime), None, "file_mtime"
        flags: dict[str, Any] = {}
        if meta.get("errors"):
            flags["metadataErrors"] = meta["errors"]
        catalog.execute(
            "UPDATE assets SET sha256 = ?, byte_size = coalesce(byte_size, ?), format = ?, "
            "captured_at = ?, captured_offset_min = ?, captured_at_source = ?, width_px = ?, "
            "height_px = ?, orientation = ?, camera_make = ?, camera_model = ?, "
            "camera_serial = ?, lens_model = ?, focal_length_mm = ?, shutter_speed = ?, "
            "exposure_time_s = ?, aperture = ?, iso = ?, exposure_bias_ev = ?, gps_lat = ?, "
            "gps_lon = ?, gps_alt_m = ?, exif = ?, iptc = ?, keywords = ?, "
            "flags = CASE WHEN ? THEN ? ELSE flags END, frame_count = ?, state = 'ready', "
            "error = NULL, updated_at = ? WHERE id = ?",
            [
                result.sha256, result.byte_size, result.format, captured, offset, source,
                result.width, result.height, meta.get("orientation"), meta.get("camera_make"),
                meta.get("camera_model"), meta.get("camera_serial"), meta.get("lens_model"),
                meta.get("focal_length_mm"), meta.get("shutter_speed"),
                meta.get("exposure_time_s"), meta.get("aperture"), meta.get("iso"),
                meta.get("exposure_bias_ev"), meta.get("gps_lat"), meta.get("gps_lon"),
                meta.get("gps_alt_m"), meta.get("exif") or {}, meta.get("iptc") or {},
                list(meta.get("keywords") or []), bool(flags), flags, result.frame_count,
                now, result.asset_id,
            ],
        )  # fmt: skip
        kinds = [f.kind for f in result.files]
        catalog.execute(
            f"DELETE FROM asset_files WHERE asset_id = ? AND kind IN "
            f"({', '.join('?' for _ in kinds)})",
            [result.asset_id, *kinds],
        )
        rows = [
            [
                new_id(),
                result.asset_id,
                f.kind,
                f.uri,
                f.content_type,
                f.byte_size,
                f.sha256,
                f.width,
                f.height,
                now,
            ]
            for f in result.files
        ]
        if rows:  # one multi-row INSERT: DuckDB's executemany costs a round trip per row
            marks = ", ".join("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" for _ in rows)
            catalog.execute(
                "INSERT INTO asset_files (id, asset_id, kind, uri, content_type, byte_size, "
                f"sha256, width_px, height_px, created_at) VALUES {marks}",
                [v for row in rows for v in row],
            )
        # source_files are marked 'ingested' in bulk by ingest(); run_jobs emits job.done

    @staticmethod
    def _quarantine(
        catalog: Catalog, result: ProcessResult, project_id: str | None, now: datetime
    ) -> None:
        row = catalog.fetchone(
            "SELECT frame_index, frame_count, byte_size FROM assets WHERE id = ?",
            [result.asset_id],
        )
        if row is None:
            return
        frame, frames, size = row
        reason = result.quarantine or "cannot be decoded"
        if frames and frames > 1:
            reason = f"frame {frame + 1} of {frames}: {reason}"
        catalog.execute("DELETE FROM asset_files WHERE asset_id = ?", [result.asset_id])
        catalog.execute("DELETE FROM assets WHERE id = ?", [result.asset_id])
        catalog.execute(
            "DELETE FROM quarantine WHERE project_id = ? AND source_uri = ? AND reason = ?",
            [project_id, result.source_uri, reason],
        )
        catalog.execute(
            "INSERT INTO quarantine (id, project_id, source_uri, reason, byte_size, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [new_id(), project_id, result.source_uri, reason, size, now],
        )
        catalog.execute(
            "UPDATE source_files SET outcome = 'quarantined', seen_at = ? "
            "WHERE project_id = ? AND source_uri = ?",
            [now, project_id, result.source_uri],
        )
        catalog.emit_event("asset.quarantined", project_id=project_id, asset_id=result.asset_id,
                           data={"assetId": result.asset_id, "reason": reason})  # fmt: skip


PROCESS_HANDLER = ProcessHandler()
