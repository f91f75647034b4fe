"""The ``asset.process`` job: metadata, sha256, thumbnail and preview of one asset (frame).

``compute`` (:func:`kilo.ingest.process.process_asset`) runs in a worker process and writes
the renditions to the store atomically (temporary name, then rename); ``apply`` writes the
catalog in the main process. Running it twice writes the same rows and the same files
(idempotent). A file that cannot be decoded is not retried: its asset row is removed and a
quarantine row says why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kilo.catalog import Catalog
from kilo.catalog.assets_repo import (
    delete_files_of_kinds,
    mark_assets_processed,
    read_process_inputs,
    refresh_previews,
)
from kilo.clock import new_id, utcnow
from kilo.ingest.process import ProcessResult
from kilo.ingest.register import mark_source_quarantined
from kilo.jobs import JobRow
from kilo.jobspec import EventType, JobHandler, JobType
from kilo.quarantine import quarantine_files
from kilo.records import chunks
from kilo.settings import Settings

__all__ = ["PROCESS_HANDLER", "worker_settings"]


def worker_settings(settings: Settings) -> dict[str, Any]:
    """What a worker needs of the settings, as plain values (workers never build Settings)."""
    return {
        "store_url": settings.store_url,
        "s3_endpoint_url": settings.s3_endpoint_url,
        "s3_region": settings.s3_region,
        "preview_px": settings.preview_px,
        "thumbnail_px": settings.thumbnail_px,
    }


def _mtime_utc(mtime: float | None) -> datetime | None:
    if not mtime:
        return None
    return datetime.fromtimestamp(mtime, UTC).replace(tzinfo=None)


class ProcessHandler(JobHandler):
    """``asset.process``: pooled (decoding is CPU-bound); prepared and applied in batches."""

    type = JobType.PROCESS
    pooled = True

    def prepare(self, catalog: Catalog, job: JobRow) -> dict[str, Any] | None:
        return self.prepare_batch(catalog, [job])[0]

    def prepare_batch(self, catalog: Catalog, jobs: list[JobRow]) -> list[dict[str, Any] | None]:
        """The payloads of many jobs from one query (None: the asset was removed since)."""
        ids = [str(job.asset_id or job.payload.get("assetId")) for job in jobs]
        rows = read_process_inputs(catalog, ids)
        settings = worker_settings(catalog.settings)
        by_id = {
            row["id"]: {
                "asset_id": row["id"],
                "project_id": row["project_id"],
                "source_uri": row["source_uri"],
                "uri": row["original_uri"] or row["source_uri"],
                "frame_index": row["frame_index"],
                "sha256": row["sha256"],
                "content_type": row["content_type"],
                "sidecar_uri": row["sidecar_uri"],
                "source_mtime": row["source_mtime"],
                "replaces": bool(row["renditions"]),  # False: no rendition rows to delete
                "settings": settings,
            }
            for row in rows
        }
        return [by_id.get(aid) for aid in ids]

    #: workers call this directly, without importing the catalog side (fast pool start)
    compute_target = "kilo.ingest.process:process_asset"

    def compute(self, payload: dict[str, Any] | None) -> ProcessResult | None:
        from kilo.ingest.process import process_asset

        return None if payload is None else process_asset(payload)

    def apply(self, catalog: Catalog, job: JobRow, result: ProcessResult | None) -> None:
        self.apply_batch(catalog, [(job, result)])

    def apply_batch(
        self, catalog: Catalog, items: list[tuple[JobRow, ProcessResult | None]]
    ) -> None:
        """Write many results with a few multi-row statements (the caller's transaction)."""
        now = utcnow()
        results: dict[str, ProcessResult] = {}
        job_project = {job.asset_id: job.project_id for job, _ in items if job.asset_id}
        for job, result in items:
            if result is None:
                continue
            if result.quarantine is not None:
                self._quarantine(catalog, result, job.project_id, now)
            else:
                results[result.asset_id] = result  # the same asset twice: the last one wins
        if not results:
            return
        for chunk in chunks(list(results.values()), 1000):
            live = _update_assets(catalog, chunk, now)
            part = [r for r in chunk if r.asset_id in live]  # removed since: nothing to do
            kinds = sorted({f.kind for r in part if r.replaces for f in r.files})
            if kinds:  # re-processing: the new rows replace the old ones
                delete_files_of_kinds(catalog, [r.asset_id for r in part if r.replaces], kinds)
            rows = [
                [
                    new_id(),
                    r.asset_id,
                    f.kind,
                    f.uri,
                    f.content_type,
                    f.byte_size,
                    f.sha256,
                    f.width,
                    f.height,
                    now,
                ]
                for r in part
                for f in r.files
            ]
            catalog.insert_many("asset_files", _FILE_COLUMNS, rows)
            refresh_previews(catalog, [r.asset_id for r in part if r.files])
            # a cull screen or a client page shows the photo the moment its preview exists
            catalog.emit_events(
                [
                    {
                        "type": EventType.ASSET_UPDATED,
                        "project_id": job_project.get(r.asset_id),
                        "asset_id": r.asset_id,
                        "data": {"assetId": r.asset_id, "state": "ready"},
                    }
                    for r in part
                ]
            )
        # source_files are marked 'ingested' in bulk by ingest(); run_jobs emits job.done

    @staticmethod
    def _quarantine(
        catalog: Catalog, result: ProcessResult, project_id: str | None, now: datetime
    ) -> None:
        assets = catalog.table("assets")
        row = assets.get(result.asset_id, ("frame_index", "frame_count", "byte_size"))
        if row is None:
            return
        frame, frames, size = row["frame_index"], row["frame_count"], row["byte_size"]
        reason = result.quarantine or "cannot be decoded"
        if frames and frames > 1:
            reason = f"frame {frame + 1} of {frames}: {reason}"
        catalog.table("asset_files").delete_where("asset_id = ?", [result.asset_id])
        assets.delete(result.asset_id)
        quarantine_files(
            catalog,
            [[new_id(), project_id, result.source_uri, reason, size, now]],
            replace="reason",
        )
        mark_source_quarantined(catalog, project_id, result.source_uri, now)
        catalog.emit_event(
            EventType.ASSET_QUARANTINED,
            project_id=project_id,
            asset_id=result.asset_id,
            data={"assetId": result.asset_id, "reason": reason},
        )


def _asset_values(result: ProcessResult) -> list[Any]:
    """The values of :data:`kilo.catalog.assets_repo.PROCESSED_COLUMNS`, in its order."""
    meta = result.metadata
    captured, offset, source = (
        meta.get("captured_at"),
        meta.get("captured_offset_min"),
        meta.get("captured_at_source"),
    )
    if captured is None:
        captured, offset, source = _mtime_utc(result.source_mtime), None, "file_mtime"
    flags = {"metadataErrors": meta["errors"]} if meta.get("errors") else None
    return [
        result.byte_size,
        result.format,
        captured,
        offset,
        source,
        result.width,
        result.height,
        meta.get("orientation"),
        meta.get("camera_make"),
        meta.get("camera_model"),
        meta.get("camera_serial"),
        meta.get("lens_model"),
        meta.get("focal_length_mm"),
        meta.get("shutter_speed"),
        meta.get("exposure_time_s"),
        meta.get("aperture"),
        meta.get("iso"),
        meta.get("exposure_bias_ev"),
        meta.get("gps_lat"),
        meta.get("gps_lon"),
        meta.get("gps_alt_m"),
        _json_text(meta.get("exif") or {}),
        _json_text(meta.get("iptc") or {}),
        _json_text(list(meta.get("keywords") or [])),
        None if flags is None else _json_text(flags),
        result.frame_count,
    ]


def _json_text(value: Any) -> str:
    import json

    return json.dumps(value, default=str, separators=(",", ":"))


def _update_assets(catalog: Catalog, results: list[ProcessResult], now: datetime) -> set[str]:
    """The assets of ``results`` ready, with their metadata, in one statement; the ids of
    those that still exist."""
    return mark_assets_processed(catalog, [[r.asset_id, *_asset_values(r)] for r in results], now)


_FILE_COLUMNS = (
    ("id", "VARCHAR"),
    ("asset_id", "VARCHAR"),
    ("kind", "VARCHAR"),
    ("uri", "VARCHAR"),
    ("content_type", "VARCHAR"),
    ("byte_size", "BIGINT"),
    ("sha256", "VARCHAR"),
    ("width_px", "INTEGER"),
    ("height_px", "INTEGER"),
    ("created_at", "TIMESTAMP"),
)


PROCESS_HANDLER = ProcessHandler()
