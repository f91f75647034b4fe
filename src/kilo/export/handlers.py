"""The ``export.run`` job: prepare a plan from the catalog, execute it, record the artifact.

``compute`` renders on every core through its own process pool, so the handler itself is not
pooled (it runs in the process that owns the catalog and reports per-photo progress there).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from typing import Any

from kilo.catalog import Catalog
from kilo.catalog.assets_repo import owned_original_uri, read_export_rows
from kilo.catalog.file_reads import list_moment_members, read_shoot_offset
from kilo.catalog.users_repo import get_user_row
from kilo.clock import format_span, local_capture_time, new_id, utcnow
from kilo.errors import NotFound
from kilo.export.core import set_export_status
from kilo.export.execute import ExportPlan, SheetEntry, execute_plan, remove_staging
from kilo.export.presets import ExportSettings, PhotoTask, parse_settings
from kilo.jobs import JobRow
from kilo.jobspec import JobHandler, JobType
from kilo.progress import ProgressCallback
from kilo.records import json_object
from kilo.text import frame_name


def _shot_time(asset: dict[str, Any]) -> datetime | None:
    """When the photo was taken, as its own local wall clock read
    (:func:`kilo.clock.local_capture_time`); None when undated (the only time known is the
    file's modification time: when it was copied, not shot)."""
    local = local_capture_time(asset).local
    return local.replace(tzinfo=None) if local is not None else None


def _edit_params(catalog: Catalog, asset_id: str, user_id: str) -> dict[str, Any] | None:
    """The params of the user's latest edit version of the asset (None: no edit)."""
    from kilo.edit import latest_version

    version = latest_version(catalog, asset_id, user_id)
    if version is None or version.params is None:
        return None
    params = version.params
    if hasattr(params, "model_dump"):
        dumped: dict[str, Any] = params.model_dump(mode="json", by_alias=True)
        return dumped
    return dict(params)


_COUNT_SUFFIX = re.compile(r" · \d+ photos?$")


def _moment_groups(
    catalog: Catalog, project_id: str, assets: dict[str, dict[str, Any]] | None = None
) -> dict[str, tuple[int, str]]:
    """asset id -> (moment order, moment header) for the project's moment clusters; a
    moment without a title is headed by the local times of its photos in ``assets``."""
    rows = list_moment_members(catalog, project_id)
    order: dict[str, int] = {}
    shown: dict[str, list[datetime]] = {}
    for asset_id, cluster_id, *_ in rows:
        when = _shot_time(assets[str(asset_id)]) if assets and str(asset_id) in assets else None
        if when is not None:
            shown.setdefault(cluster_id, []).append(when)
    out: dict[str, tuple[int, str]] = {}
    for asset_id, cluster_id, title, _start, _end, overrides in rows:
        n = order.setdefault(cluster_id, len(order) + 1)
        if title and not json_object(overrides).get("title"):
            # a title kilo gave counts the whole moment; the sheet counts what it shows
            title = _COUNT_SUFFIX.sub("", title)
        header = title or f"Moment {n}"
        times = shown.get(cluster_id)
        if times and not title:
            header += f" · {format_span(min(times), max(times))}"
        out.setdefault(str(asset_id), (n, header))
    return out


class ExportHandler(JobHandler):
    """``compute`` renders on every core through its own pool, so the job itself runs in the
    process that owns the catalog, with the run's progress channel."""

    type = JobType.EXPORT
    pooled = False

    def prepare(self, catalog: Catalog, job: JobRow) -> ExportPlan:
        export_id = str(job.payload.get("exportId") or "")
        row = catalog.table("exports").get(export_id)
        if row is None:
            raise NotFound(f"no export with id {export_id}")
        user_id = str(job.payload.get("userId") or catalog.local_user_id)
        settings = row["settings"]
        settings = json_object(settings)
        preset = str(row["preset"])
        opts = parse_settings(preset, settings)
        project = catalog.table("projects").get(row["project_id"], ("title",))
        title = str(project["title"]) if project else "export"
        ids = [str(a) for a in (row["asset_ids"] or [])]
        plan = ExportPlan(
            export_id=export_id,
            preset=preset,
            settings=settings,
            dest=str(row["dest_uri"]),
            project_title=title,
            export_date=date.today(),
            store_settings=catalog.settings,
            workers=catalog.settings.workers,
        )
        if not ids:
            return plan
        assets = _asset_rows(catalog, ids, user_id)
        if preset == "contact_sheet_pdf":
            _plan_sheet(catalog, plan, ids, assets, str(row["project_id"]), user_id)
        else:
            plan.photos = _photo_tasks(catalog, ids, assets, preset, settings, user_id)
            logo = _logo_uri(catalog, opts, user_id)
            for task in plan.photos:
                task.watermark_logo = logo
        return plan

    def compute(
        self, payload: ExportPlan, progress: ProgressCallback | None = None
    ) -> dict[str, Any]:
        outcome = execute_plan(payload, progress)
        result = outcome.to_result()
        result["exportId"] = payload.export_id
        result["preset"] = payload.preset
        result["dest"] = payload.dest
        result["assetFiles"] = (
            []
            if payload.preset == "contact_sheet_pdf"
            or len(outcome.files) != len([r for r in outcome.results if r.status == "ok"])
            else [
                [r.asset_id, f"{payload.dest.rstrip('/')}/{name}"]
                for r, name in zip(
                    [r for r in outcome.results if r.status == "ok"], outcome.files, strict=True
                )
            ]
        )
        return result

    def compute_with_progress(
        self, payload: ExportPlan, progress: ProgressCallback | None
    ) -> dict[str, Any]:
        return self.compute(payload, progress)

    def reclaim(self, catalog: Catalog, job: JobRow) -> None:
        """The process running this export was killed: remove what it left in the
        destination and show the export as queued again (``kilo exports run`` resumes it)."""
        export_id = str(job.payload.get("exportId") or "")
        row = catalog.table("exports").get(export_id, ("dest_uri", "status"))
        if row is None:
            return
        if row["dest_uri"]:
            remove_staging(export_id, str(row["dest_uri"]))
        if row["status"] == "running":
            set_export_status(catalog, export_id, "queued", progress=0.0)

    def on_failed(self, catalog: Catalog, job: JobRow, reason: str) -> None:
        """The job failed for good: the export shows the reason."""
        export_id = str(job.payload.get("exportId") or "")
        if catalog.table("exports").exists(export_id):
            set_export_status(catalog, export_id, "failed", error=reason)

    def apply(self, catalog: Catalog, job: JobRow, result: dict[str, Any]) -> None:
        export_id = str(result["exportId"])
        failed = result.get("failed") or []
        error = None
        if failed:
            first = "; ".join(f"{f.get('item')}: {f.get('reason')}" for f in failed[:3])
            error = f"{len(failed)} photo(s) failed: {first}"
        now = utcnow()
        catalog.table("asset_files").insert_all(
            [
                {
                    "id": new_id(),
                    "asset_id": asset_id,
                    "kind": "export",
                    "uri": uri,
                    "content_type": _content_type(uri),
                    "created_at": now,
                }
                for asset_id, uri in result.get("assetFiles") or []
            ]
        )
        catalog.table("exports").update(
            export_id, {"results": json.dumps(result.get("results") or [])}, stamp=False
        )
        set_export_status(
            catalog, export_id, "done", progress=1.0, error=error, artifact=result["artifact"]
        )


def _logo_uri(catalog: Catalog, opts: ExportSettings, user_id: str) -> str | None:
    """The stored file of the watermark's logo asset (None without one): a photo of one of
    the user's projects, read from the catalog, never a path from the request."""
    wm = opts.watermark_spec()
    if wm is None or wm.image_asset is None:
        return None
    uri = owned_original_uri(catalog, wm.image_asset, user_id)
    if uri is None:
        raise NotFound("the watermark logo is no longer in the library")
    return uri


def _asset_rows(catalog: Catalog, ids: list[str], user_id: str) -> dict[str, dict[str, Any]]:
    """The export's assets with their thumbnail, original and the user's decisions, by id."""
    return {str(a["id"]): a for a in read_export_rows(catalog, ids, user_id)}


def _plan_sheet(
    catalog: Catalog,
    plan: ExportPlan,
    ids: list[str],
    assets: dict[str, dict[str, Any]],
    project_id: str,
    user_id: str,
) -> None:
    """A contact sheet's entries, grouped by moment, and its facts (the photographer)."""
    groups = _moment_groups(catalog, project_id, assets)
    zone = catalog.table("projects").value(project_id, "timezone")
    guess = None if zone else read_shoot_offset(catalog, project_id)
    entries: list[tuple[tuple[int, bool, datetime, int], SheetEntry]] = []
    for pos, asset_id in enumerate(ids):
        a = assets.get(asset_id)
        if a is None:
            continue
        group = groups.get(asset_id)
        entry = SheetEntry(
            asset_id=asset_id,
            filename=str(a["filename"]),
            source_uri=str(a["source_uri"]),
            thumbnail_uri=a["thumb_uri"],
            captured_at=_shot_time(a),
            rating=a["rating"],
            picked=bool(a["picked"]),
            rejected=bool(a["rejected"]),
            group=group[1] if group else ("Other photos" if groups else None),
            frame=int(a["frame_index"] or 0),
            name=frame_name(str(a["filename"]), a["frame_index"], a["frame_count"]),
        )
        # in a moment, photos in the order they were taken (undated ones last)
        at = local_capture_time(a, zone).order_key(guess)
        key = (group[0] if group else 1 << 30, at is None, at or datetime.min, pos)
        entries.append((key, entry))
    entries.sort(key=lambda e: e[0])
    plan.sheet = [e for _, e in entries]
    name = catalog.settings.photographer
    user = get_user_row(catalog, user_id) or {}
    shown, email = user.get("display_name"), str(user.get("email"))
    if not name and shown and not email.endswith("@kilo.localhost"):
        name = str(shown)  # an account's name; the CLI's built-in user has none worth printing
    if name:
        plan.sheet_facts.append(("Photographer", name))


def _photo_tasks(
    catalog: Catalog,
    ids: list[str],
    assets: dict[str, dict[str, Any]],
    preset: str,
    settings: dict[str, Any],
    user_id: str,
) -> list[PhotoTask]:
    """One render task per photo, in the export's order, with its edit."""
    tasks = []
    for index, asset_id in enumerate(ids):
        a = assets.get(asset_id)
        if a is None:
            continue
        tasks.append(
            PhotoTask(
                index=index,
                asset_id=asset_id,
                source_uri=str(a["original_uri"] or a["source_uri"]),
                preset=preset,
                settings=settings,
                staging_dir="",
                frame=int(a["frame_index"] or 0),
                edit_params=_edit_params(catalog, asset_id, user_id),
                width=a["width_px"],
                height=a["height_px"],
                meta={
                    "filename": str(a["filename"]),
                    "captured_at": _shot_time(a),
                    "camera_make": a["camera_make"],
                    "camera_model": a["camera_model"],
                },
            )
        )
    return tasks


def _content_type(uri: str) -> str:
    lower = uri.lower()
    if lower.endswith((".tif", ".tiff")):
        return "image/tiff"
    if lower.endswith(".pdf"):
        return "application/pdf"
    return "image/jpeg"


EXPORT_HANDLER = ExportHandler()
