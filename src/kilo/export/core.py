"""Exports in the catalog: create (idempotently), run as an ``export.run`` job, list, download.

>>> exp = create_export(catalog, project_id, "web", dest="out/")     # doctest: +SKIP
>>> exp = run_export(catalog, exp.id, progress=print)                  # doctest: +SKIP
>>> download_export(catalog, exp.id).url                               # doctest: +SKIP

Without ``asset_ids`` an export takes the user's picks of the project (a contact sheet takes
every photo, since it shows the picks and rejects). The ``exports`` row follows the job:
``queued`` -> ``running`` -> ``done`` or ``failed`` (with the reason), each change appended to
the event log as ``export.updated``.
"""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from kilo.assets import Selection, select_assets
from kilo.catalog import Catalog
from kilo.catalog.idempotency import check_idempotency_key, remember_response, request_digest
from kilo.catalog.ids import lookup_id, resolve_ids
from kilo.clock import from_catalog, new_id, parse_uuid, utcnow
from kilo.errors import Conflict, InvalidInput, NotFound
from kilo.export.presets import PRESETS, ExportSettings, parse_settings
from kilo.jobspec import EventType, JobType
from kilo.models import Export, ExportDownloadResponse, KiloModel, PageInfo
from kilo.paging import Keyset, check_limit
from kilo.progress import ItemResult, Progress, ProgressCallback, report
from kilo.records import json_object
from kilo.store import filesystem, is_local, local_path
from kilo.text import redact_paths

JOB_MAX_ATTEMPTS = 1  # a failed export is reported, not retried behind the user's back
DOWNLOAD_TTL_S = 3600
_STATUSES = ("queued", "running", "done", "failed")
_KEYSET = Keyset("exports", "e.created_at, e.id", descending=True)


class PagedExports(KiloModel):
    items: list[Export]
    page_info: PageInfo


# -- selection ----------------------------------------------------------------------------
def _check_assets(catalog: Catalog, project_id: str, asset_ids: list[str]) -> list[str]:
    if not asset_ids:
        raise InvalidInput("asset_ids is empty")
    return list(dict.fromkeys(resolve_ids(catalog, "assets", asset_ids, project_id=project_id)))


def _normalize_dest(dest: str | Path | None, default: str) -> str:
    if dest is None or str(dest).strip() == "":
        return default
    text = str(dest).strip()
    if is_local(text):
        return str(local_path(os.path.expanduser(text)).absolute())
    if not text.split("://", 1)[1].strip("/"):
        raise InvalidInput(f"destination {text!r} has no bucket or folder")
    return text.rstrip("/")


# -- create -------------------------------------------------------------------------------
def _selection(
    catalog: Catalog,
    project_id: str,
    preset: str,
    asset_ids: list[str] | None,
    user_id: str | None,
) -> list[str]:
    """The export's photos: those given (checked), else the picks (every photo for a contact
    sheet)."""
    if asset_ids is not None:
        return _check_assets(catalog, project_id, asset_ids)
    how: Selection = "all" if preset == "contact_sheet_pdf" else "picked"
    ids = select_assets(catalog, project_id, how, user_id=user_id)
    if not ids:
        raise InvalidInput(
            "the project has no picked photos; pick some, or export --all or "
            "--cluster-winners, or pass asset ids"
            if how == "picked"
            else "the project has no photos"
        )
    return ids


def _check_logo_asset(catalog: Catalog, opts: ExportSettings, user_id: str) -> None:
    """A watermark logo given as an asset must be a photo of one of the user's projects
    (anyone else's is reported exactly as one that does not exist)."""
    from kilo.access import check_owner

    wm = opts.watermark_spec()
    if wm is not None and wm.image_asset is not None:
        check_owner(catalog, user_id, "assets", wm.image_asset)


def create_export(
    catalog: Catalog,
    project_id: str,
    preset: str,
    *,
    asset_ids: list[str] | None = None,
    settings: dict[str, Any] | ExportSettings | None = None,
    dest: str | Path | None = None,
    idempotency_key: str | None = None,
    user_id: str | None = None,
    allow_local_paths: bool = True,
) -> Export:
    """Record an export and queue its ``export.run`` job (run it with :func:`run_export`).

    The same ``idempotency_key`` with the same request returns the first export; with a
    different request it raises :class:`Conflict`.

    ``allow_local_paths=False`` is for requests of people who may not use this machine's
    files (the HTTP server): no ``dest`` (exports go to the store's export area), and no
    setting may name a file (a watermark logo is an asset id of the user's).
    """
    from kilo.jobs import enqueue
    from kilo.projects import get_project

    project = get_project(catalog, parse_uuid(project_id, "project id"))
    if preset not in PRESETS:
        raise InvalidInput(f"unknown preset {preset!r} (one of {', '.join(PRESETS)})")
    if dest is not None and not allow_local_paths:
        raise InvalidInput("an export's destination cannot be chosen here")
    opts = parse_settings(preset, settings, allow_local_paths=allow_local_paths)
    _check_logo_asset(catalog, opts, user_id or catalog.local_user_id)
    stored_settings = opts.dump()
    scope = f"exports:{project.id}"
    request = {
        "preset": preset,
        "assetIds": asset_ids,
        "settings": stored_settings,
        "dest": None if dest is None else str(dest),
        "user": user_id or catalog.local_user_id,
    }
    digest = request_digest(request)
    with catalog.transaction():  # the key's check and its use are one step
        stored = check_idempotency_key(catalog, scope, idempotency_key, digest)
        if stored is not None:
            return get_export(catalog, str(stored["id"]))
        ids = _selection(catalog, project.id, preset, asset_ids, user_id)
        export_id = new_id()
        default_dest = f"{catalog.settings.store_url.rstrip('/')}/exports/{export_id}"
        dest_uri = _normalize_dest(dest, default_dest)
        now = utcnow()
        exports = catalog.table("exports")
        exports.insert(
            {
                "id": export_id,
                "project_id": project.id,
                "preset": preset,
                "settings": stored_settings,
                "asset_ids": ids,
                "dest_uri": dest_uri,
                "status": "queued",
                "progress": 0.0,
                "created_at": now,
                "updated_at": now,
            }
        )
        job_id = enqueue(
            catalog,
            JobType.EXPORT,
            project_id=project.id,
            payload={"exportId": export_id, "userId": user_id or catalog.local_user_id},
            dedupe_key=f"export:{export_id}",
            max_attempts=JOB_MAX_ATTEMPTS,
        )
        exports.update(export_id, {"job_id": job_id}, stamp=False)
        remember_response(catalog, scope, idempotency_key, digest, {"id": export_id})
        emit_export_event(catalog, export_id, project.id, "queued", 0.0)
    return get_export(catalog, export_id)


# -- status -------------------------------------------------------------------------------
def emit_export_event(
    catalog: Catalog,
    export_id: str,
    project_id: str,
    status: str,
    progress: float | None,
    error: str | None = None,
) -> None:
    data: dict[str, Any] = {"exportId": export_id, "status": status, "progress": progress}
    if error:
        data["error"] = redact_paths(error)  # the event log is what the HTTP stream shows
    catalog.emit_event(EventType.EXPORT_UPDATED, project_id=project_id, data=data)


def set_export_status(
    catalog: Catalog,
    export_id: str,
    status: str,
    *,
    progress: float | None = None,
    error: str | None = None,
    artifact: str | None = None,
) -> None:
    """Write the export's status (and event). ``progress`` None keeps the current value."""
    project_id = catalog.table("exports").value(export_id, "project_id")
    if project_id is None:
        raise NotFound(f"no export with id {export_id}")
    with catalog.transaction():
        catalog.execute(
            "UPDATE exports SET status = ?, progress = coalesce(?, progress), error = ?, "
            "artifact_uri = coalesce(?, artifact_uri), updated_at = ? WHERE id = ?",
            [status, progress, error, artifact, utcnow(), export_id],
        )
        emit_export_event(catalog, export_id, str(project_id), status, progress, error)


_SELECT = (
    "SELECT e.*, j.status AS job_status, j.error AS job_error FROM exports e "
    "LEFT JOIN jobs j ON j.id = e.job_id"
)


def _to_model(row: dict[str, Any]) -> Export:
    """An exports row as the model (a read only: an export whose job failed or was canceled
    shows as failed with the job's reason)."""
    status, error = row["status"], row["error"]
    if status in ("queued", "running") and row.get("job_status") in ("failed", "canceled"):
        status, error = "failed", row.get("job_error") or f"job {row['job_status']}"
    settings = json_object(row["settings"])
    results = row.get("results")
    created = from_catalog(row["created_at"])
    assert created is not None
    return Export(
        id=row["id"],
        project_id=row["project_id"],
        preset=row["preset"],
        settings=settings or {},
        status=status,
        progress=row["progress"],
        created_at=created,
        error=error,
        asset_count=len(row["asset_ids"] or []),
        dest=row["dest_uri"],
        artifact=row["artifact_uri"],
        results=[ItemResult.model_validate(r) for r in json.loads(results)] if results else None,
    )


def get_export(catalog: Catalog, export_id: str) -> Export:
    eid = lookup_id(catalog, "exports", export_id)
    row = catalog.fetchdict(f"{_SELECT} WHERE e.id = ?", [eid])
    if row is None:
        raise NotFound(f"no export with id {eid}")
    return _to_model(row)


def live_export_artifact(catalog: Catalog, export_id: str) -> str | None:
    """Where the export's file is while its project is not deleted (a signed link outlives
    neither); None when it is gone or has no file yet."""
    row = catalog.fetchone(
        "SELECT e.artifact_uri FROM exports e JOIN projects p ON p.id = e.project_id "
        "WHERE e.id = ? AND p.status <> 'deleted'",
        [export_id],
    )
    return str(row[0]) if row is not None and row[0] else None


def list_exports(
    catalog: Catalog,
    project_id: str | None = None,
    *,
    status: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> PagedExports:
    """Exports, newest first, one page at a time."""
    limit = check_limit(limit)
    where, params = [], []
    if project_id is not None:
        where.append("e.project_id = ?")
        params.append(parse_uuid(project_id, "project id"))
    if status is not None:
        if status not in _STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(_STATUSES)}")
        where.append("e.status = ?")
        params.append(status)
    rows, nxt = _KEYSET.fetch_page(catalog, _SELECT, where, params, cursor, limit)
    return PagedExports(items=[_to_model(r) for r in rows], page_info=PageInfo(next_cursor=nxt))


# -- running ------------------------------------------------------------------------------
def recover_exports(catalog: Catalog) -> int:
    """Exports of a killed process: their jobs queued again, their export rows ``queued``,
    their staging folders and half-published files removed. Returns how many jobs of any
    kind were reclaimed (the job queue does the work; see ``ExportHandler.reclaim``)."""
    from kilo.jobs import reclaim_jobs

    return reclaim_jobs(catalog)


def run_export(
    catalog: Catalog, export_id: str, *, progress: ProgressCallback | None = None
) -> Export:
    """Run a queued export now, in this process (photos rendered on every core), through the
    job runner like every job. Returns the export, ``done`` or ``failed`` with the reason;
    does not raise for a failed export. An export already finished is returned as is."""
    from kilo.jobs import run_jobs

    recover_exports(catalog)
    export = get_export(catalog, export_id)
    if export.status in ("done", "failed"):
        return export
    row = catalog.fetchone(
        "SELECT j.id, j.status FROM exports e JOIN jobs j ON j.id = e.job_id WHERE e.id = ?",
        [export.id],
    )
    if row is None or row[1] != "queued":
        raise Conflict(f"export {export.id} is being run by another worker")
    relay = _catalog_progress(catalog, export.id, export.project_id, progress)
    run = run_jobs(catalog, job_ids=[str(row[0])], progress=relay)
    for failed in (r for r in run.results if r.status == "failed"):
        report(progress, Progress("export", 0, None, status="failed", message=failed.reason))
    return get_export(catalog, export.id)


def _catalog_progress(
    catalog: Catalog, export_id: str, project_id: str, forward: ProgressCallback | None
) -> ProgressCallback:
    """The export's progress channel: forwards snapshots and writes the export row (running
    at the first snapshot, then the render fraction at most twice a second)."""
    last = [0.0]
    started = [False]

    def update(snapshot: Progress) -> None:
        report(forward, snapshot)
        if not started[0]:
            started[0] = True
            set_export_status(catalog, export_id, "running", progress=0.0)
        if snapshot.stage != "render" and snapshot.stage != "thumbnails":
            return
        fraction = snapshot.fraction
        now = time.monotonic()
        if fraction is None or (now - last[0] < 0.5 and fraction < 1.0):
            return
        last[0] = now
        catalog.table("exports").update(export_id, {"progress": round(0.95 * fraction, 4)})
        emit_export_event(catalog, export_id, project_id, "running", round(0.95 * fraction, 4))

    return update


# -- download -----------------------------------------------------------------------------
def download_export(
    catalog: Catalog, export_id: str, *, expires_in: int = DOWNLOAD_TTL_S
) -> ExportDownloadResponse:
    """Where to fetch a finished export: a local path, or a presigned S3 URL with its expiry."""
    export = get_export(catalog, export_id)
    if export.status != "done" or not export.artifact:
        raise Conflict(f"export {export.id} is {export.status}; nothing to download yet")
    if not 1 <= expires_in <= 7 * 24 * 3600:
        raise InvalidInput("expires_in must be from 1 second to 7 days")
    artifact = export.artifact
    if is_local(artifact):
        path = local_path(artifact)
        if not path.exists():
            raise NotFound("the export's files are no longer at their destination", path=str(path))
        return ExportDownloadResponse(url=str(path), expires_at=None)
    fs, path_in = filesystem(artifact, catalog.settings)
    if not fs.isfile(path_in):
        raise Conflict(
            "this export is a folder of files on object storage; export with zip to get one "
            "download link",
            path=artifact,
        )
    if not hasattr(fs, "sign"):
        raise Conflict("this storage cannot make signed download links", path=artifact)
    url = fs.sign(path_in, expiration=expires_in)
    return ExportDownloadResponse(url=str(url), expires_at=utcnow() + timedelta(seconds=expires_in))
