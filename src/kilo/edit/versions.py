"""Edit versions in the catalog: create, list, get, latest, render, before/after, batch apply.

A version is a complete :class:`EditParams` (stored compact: only the non-default values plus
``version``) with an optional parent (the version it was derived from) and a name. Nothing
touches the original: rendering is always original + params.

``source`` records where a version came from: ``user`` (an edit the photographer saved; Style
DNA learns from these), ``batch`` (apply/sync), ``style`` (Style DNA), ``fix`` (Fix only),
``xmp`` (imported sidecar).
"""

from __future__ import annotations

import json
import math
from typing import Any, Literal

from PIL import Image

from kilo.catalog import Catalog
from kilo.catalog.file_reads import read_capture_instant_sql
from kilo.catalog.idempotency import once
from kilo.catalog.ids import lookup_id, resolve_ids
from kilo.clock import from_catalog, new_id, utcnow
from kilo.edit.geometry import crop_box
from kilo.edit.params import EditParams
from kilo.edit.photo import asset_row, original_uri
from kilo.edit.render import compose_before_after, render_image
from kilo.errors import InvalidInput, NotFound
from kilo.jobspec import EventType, JobType
from kilo.models import (
    ApplyEditBatchResponse,
    CreateEditVersionRequest,
    EditVersion,
    EditVersionList,
)
from kilo.progress import ItemResult
from kilo.records import chunks, json_object
from kilo.text import check_title

VersionSource = Literal["user", "batch", "style", "fix", "xmp"]
ApplyMode = Literal["create_versions", "overwrite_latest"]
MAX_BATCH = 10_000
_CHUNK = 500  # rows per multi-row statement


def _to_model(row: dict[str, Any]) -> EditVersion:
    params = json_object(row["params"])
    created = from_catalog(row["created_at"])
    assert created is not None
    return EditVersion(
        id=row["id"],
        asset_id=row["asset_id"],
        user_id=row["user_id"],
        parent_id=row["parent_id"],
        name=row["name"],
        params=params,
        created_at=created,
    )


def get_version(catalog: Catalog, edit_id: str) -> EditVersion:
    """One edit version by id (:class:`NotFound` if there is none)."""
    eid = lookup_id(catalog, "edit_versions", edit_id)
    row = catalog.fetchdict("SELECT * FROM edit_versions WHERE id = ?", [eid])
    if row is None:
        raise NotFound(f"no edit version with id {eid}")
    return _to_model(row)


def version_params(version: EditVersion) -> EditParams:
    return EditParams.parse(version.params)


def list_versions(
    catalog: Catalog, asset_id: str, *, user_id: str | None = None
) -> EditVersionList:
    """Versions of an asset, oldest first (of one user when ``user_id`` is given)."""
    aid = asset_row(catalog, asset_id)["id"]
    where, params = "asset_id = ?", [aid]
    if user_id is not None:
        where += " AND user_id = ?"
        params.append(user_id)
    rows = catalog.fetchdicts(
        f"SELECT * FROM edit_versions WHERE {where} ORDER BY created_at, id", params
    )
    return EditVersionList(items=[_to_model(r) for r in rows])


def latest_version(
    catalog: Catalog, asset_id: str, user_id: str | None = None
) -> EditVersion | None:
    """The newest version of an asset by ``user_id`` (default: the local user), or None."""
    aid = lookup_id(catalog, "assets", asset_id)
    row = catalog.fetchdict(
        "SELECT * FROM edit_versions WHERE asset_id = ? AND user_id = ? "
        "ORDER BY created_at DESC, id DESC LIMIT 1",
        [aid, user_id or catalog.local_user_id],
    )
    return _to_model(row) if row else None


def latest_of_source(catalog: Catalog, project_id: str, user_id: str, source: str) -> list[str]:
    """The project's photos whose newest version by ``user_id`` came from ``source`` (fix,
    style, user ...), in capture order."""
    rows = catalog.fetchall(
        "SELECT asset_id FROM (SELECT v.asset_id, v.source, a.filename, a.frame_index, "
        f"{read_capture_instant_sql(catalog, project_id)} AS taken, "
        "row_number() OVER (PARTITION BY v.asset_id ORDER BY v.created_at DESC, v.id DESC) AS rn "
        "FROM edit_versions v JOIN assets a ON a.id = v.asset_id "
        "WHERE a.project_id = ? AND v.user_id = ?) WHERE rn = 1 AND source = ? "
        "ORDER BY taken NULLS LAST, filename, frame_index, asset_id",
        [project_id, user_id, source],
    )
    return [str(r[0]) for r in rows]


def _check_name(name: str | None) -> str | None:
    if name is None:
        return None
    name = " ".join(name.split())
    return check_title(name, what="version name", max_length=200) if name else None


def create_version(
    catalog: Catalog,
    asset_id: str,
    request: CreateEditVersionRequest | dict[str, Any],
    user_id: str | None = None,
    *,
    source: VersionSource = "user",
    learn: bool = True,
) -> EditVersion:
    """Save a new edit version of an asset.

    ``request`` is a :class:`CreateEditVersionRequest` (or its dict): ``params`` (validated
    into :class:`EditParams`; unknown keys or out-of-range values raise
    :class:`InvalidInput`), optional ``name`` and ``parentId`` (a version of the same asset).
    A ``user`` version teaches Style DNA (``learn=False`` to skip).
    """
    req = (
        request
        if isinstance(request, CreateEditVersionRequest)
        else CreateEditVersionRequest.model_validate(request)
    )
    asset = asset_row(catalog, asset_id)
    params = EditParams.parse(req.params)
    parent_id = None
    if req.parent_id is not None:
        parent = get_version(catalog, req.parent_id)
        if parent.asset_id != asset["id"]:
            raise InvalidInput("parentId is a version of another asset")
        parent_id = parent.id
    version = EditVersion(
        id=new_id(),
        asset_id=asset["id"],
        user_id=user_id or catalog.local_user_id,
        parent_id=parent_id,
        name=_check_name(req.name),
        params=params.dump(),
        created_at=utcnow(),
    )
    with catalog.transaction():
        catalog.table("edit_versions").insert({**version.model_dump(), "source": source})
        catalog.emit_event(
            EventType.EDIT_CREATED,
            project_id=asset["project_id"],
            asset_id=asset["id"],
            data={"editId": version.id, "assetId": asset["id"], "source": source},
        )
    if learn and source == "user":
        from kilo.style.learn import learn_from_version

        learn_from_version(catalog, version)
    return version


def overwrite_latest(
    catalog: Catalog,
    asset_id: str,
    params: EditParams,
    user_id: str | None = None,
    *,
    name: str | None = None,
    source: VersionSource = "batch",
) -> EditVersion:
    """Replace the params of the asset's latest version (creating one if it has none)."""
    current = latest_version(catalog, asset_id, user_id)
    if current is None:
        return create_version(
            catalog,
            asset_id,
            CreateEditVersionRequest(params=params.dump(), name=name),
            user_id,
            source=source,
            learn=False,
        )
    with catalog.transaction():
        _overwrite_versions(catalog, {_dump_json(params): [current.id]}, _check_name(name), source)
    return get_version(catalog, current.id)


# -- pixels -----------------------------------------------------------------------------------
def decode_size(params: EditParams, size: tuple[int, int] | None, max_px: int | None) -> int | None:
    """Long edge to decode at so that the cropped render still reaches ``max_px``."""
    if max_px is None:
        return None
    if size is None or not size[0] or not size[1]:
        return max_px * 2 if (not params.crop.is_full() or params.straighten) else max_px
    w, h = size
    _, _, cw, ch = crop_box(w, h, params)
    need = max_px * max(w, h) / max(cw, ch)
    return None if need >= max(w, h) else math.ceil(need)


def render_asset(
    catalog: Catalog,
    asset_id: str,
    *,
    max_px: int | None = None,
    version_id: str | None = None,
    params: EditParams | None = None,
) -> Image.Image:
    """The asset's original decoded (``kilo.imaging.load_image``) with an edit applied.

    Applies ``params`` if given, else version ``version_id``, else the latest version of the
    local user; with no edit at all, the decoded photo (at most ``max_px`` on the long edge).
    """
    from kilo.edit.output import check_render_px
    from kilo.imaging import load_image

    check_render_px(max_px)
    asset = asset_row(catalog, asset_id)
    if params is None:
        version: EditVersion | None
        if version_id is not None:
            version = get_version(catalog, version_id)
            if version.asset_id != asset["id"]:
                raise InvalidInput("that edit version belongs to another asset")
        else:
            version = latest_version(catalog, asset["id"])
        params = version_params(version) if version is not None else EditParams()
    src, frame = original_uri(catalog, asset["id"])
    size = (asset["width_px"], asset["height_px"]) if asset["width_px"] else None
    img = load_image(
        src, max_px=decode_size(params, size, max_px), settings=catalog.settings, frame=frame
    )
    if params.is_identity():
        if max_px is not None and max(img.size) > max_px:
            img = img.copy()
            img.thumbnail((max_px, max_px), Image.Resampling.LANCZOS)
        return img
    return render_image(img, params, max_px=max_px)


def render_before_after(
    catalog: Catalog,
    asset_id: str,
    *,
    max_px: int = 1024,
    version_id: str | None = None,
) -> Image.Image:
    """Before (the original, uncropped) and after (the edit) side by side."""
    before = render_asset(catalog, asset_id, max_px=max_px, params=EditParams())
    after = render_asset(catalog, asset_id, max_px=max_px, version_id=version_id)
    return compose_before_after(before, after)


# -- batch apply ------------------------------------------------------------------------------
def apply_version(
    catalog: Catalog,
    edit_id: str,
    asset_ids: list[str],
    mode: ApplyMode = "create_versions",
    name: str | None = None,
    *,
    user_id: str | None = None,
    exclude_geometry: bool = False,
    wait: bool = False,
    idempotency_key: str | None = None,
) -> ApplyEditBatchResponse:
    """Apply a version's params to many assets, as one ``edit.apply`` job.

    ``create_versions`` adds a version to each asset (its parent = that asset's latest);
    ``overwrite_latest`` replaces each asset's latest version. ``exclude_geometry`` keeps each
    target's own crop/straighten (what "sync from hero" does by default). With ``wait`` the
    job runs now and the response says ``done``; otherwise it is ``queued`` for a worker. A
    repeated ``idempotency_key`` with the same request queues nothing and answers for the
    first job; with another request it raises Conflict.
    """
    from kilo.jobs import enqueue, run_jobs

    if mode not in ("create_versions", "overwrite_latest"):
        raise InvalidInput("mode must be create_versions or overwrite_latest")
    source = get_version(catalog, edit_id)
    targets = existing_assets(catalog, asset_ids)
    if not targets:
        raise InvalidInput("assetIds needs at least one asset")
    if len(targets) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} assets per batch")
    project_id = asset_row(catalog, source.asset_id)["project_id"]
    payload = {
        "editId": source.id,
        "assetIds": targets,
        "mode": mode,
        "name": _check_name(name),
        "userId": user_id or catalog.local_user_id,
        "excludeGeometry": exclude_geometry,
    }
    job_id = once(
        catalog,
        f"{JobType.EDIT_APPLY}:{payload['userId']}",
        idempotency_key,
        payload,
        lambda: enqueue(catalog, JobType.EDIT_APPLY, project_id=project_id, payload=payload),
        save=lambda job: {"jobId": job},
        replay=lambda kept: str(kept["jobId"]),
    )
    if wait:
        run_jobs(catalog, job_ids=[job_id])
    return get_apply_status(catalog, job_id)  # a repeated key: where the first job is now


def get_apply_status(catalog: Catalog, job_id: str) -> ApplyEditBatchResponse:
    """Where an ``edit.apply`` job is; once done, one ItemResult per asset as stored by the
    job (``extra.editId``: the version it wrote). A failed job raises with its reason."""
    from kilo.errors import KiloError
    from kilo.jobs import get_job

    job = get_job(catalog, job_id)
    if job.type != JobType.EDIT_APPLY:
        raise InvalidInput(f"job {job.id} is a {job.type} job, not {JobType.EDIT_APPLY}")
    if job.status in ("failed", "canceled"):
        raise KiloError(
            f"{JobType.EDIT_APPLY} job {job.id} {job.status}: {job.error or 'no reason kept'}"
        )
    if job.status != "done":
        status: Literal["queued", "running"] = "queued" if job.status == "queued" else "running"
        return ApplyEditBatchResponse(job_id=job.id, status=status)
    stored = json_object(catalog.table("jobs").value(job.id, "result")).get("results") or []
    results = [ItemResult.model_validate(r) for r in stored]
    return ApplyEditBatchResponse(job_id=job.id, status="done", results=results)


def existing_assets(catalog: Catalog, asset_ids: list[str]) -> list[str]:
    """The canonical ids of ``asset_ids`` (ids, prefixes or file names; order kept,
    duplicates dropped); :class:`NotFound` names the first with no asset."""
    return list(dict.fromkeys(resolve_ids(catalog, "assets", asset_ids)))


def _dump_json(params: EditParams) -> str:
    return json.dumps(params.dump(), separators=(",", ":"))


def _overwrite_versions(
    catalog: Catalog, updates: dict[str, list[str]], name: str | None, source: str
) -> None:
    """One UPDATE per distinct params JSON (and chunk of ids): ``updates`` maps the JSON of
    the new params to the ids of the versions that get it."""
    for params_json, ids in updates.items():
        for chunk in chunks(ids, _CHUNK):
            marks = ", ".join("?" for _ in chunk)
            catalog.execute(
                "UPDATE edit_versions SET params = ?, name = coalesce(?, name), source = ? "
                f"WHERE id IN ({marks})",
                [params_json, name, source, *chunk],
            )


def _latest_many(catalog: Catalog, asset_ids: list[str], user_id: str) -> dict[str, EditVersion]:
    out: dict[str, EditVersion] = {}
    for chunk in chunks(asset_ids, 500):
        marks = ", ".join("?" for _ in chunk)
        rows = catalog.fetchdicts(
            f"SELECT DISTINCT ON (asset_id) * FROM edit_versions WHERE user_id = ? "
            f"AND asset_id IN ({marks}) ORDER BY asset_id, created_at DESC, id DESC",
            [user_id, *chunk],
        )
        out.update({r["asset_id"]: _to_model(r) for r in rows})
    return out


def apply_params_to_assets(
    catalog: Catalog,
    params: EditParams,
    asset_ids: list[str],
    mode: ApplyMode,
    *,
    name: str | None,
    user_id: str,
    exclude_geometry: bool = False,
    source: VersionSource = "batch",
) -> list[str]:
    """Write ``params`` to each asset (the body of the ``edit.apply`` job); returns version ids.

    One transaction, batched statements: the latest versions are read in chunked queries, the
    new rows written with multi-row INSERTs (500 rows each), overwrites as one UPDATE per
    distinct params; one ``edit.applied`` event sums it up.
    """
    latest = _latest_many(catalog, asset_ids, user_id)
    name = _check_name(name)
    now = utcnow()
    shared = _dump_json(params)
    inserts: list[dict[str, Any]] = []
    updates: dict[str, list[str]] = {}
    made: list[str] = []
    for aid in asset_ids:
        current = latest.get(aid)
        body = shared
        if exclude_geometry:
            own = version_params(current) if current is not None else EditParams()
            target = params.with_changes(
                crop=own.crop, aspect=own.aspect, straighten=own.straighten
            )
            body = _dump_json(target)
        if mode == "overwrite_latest" and current is not None:
            updates.setdefault(body, []).append(current.id)
            made.append(current.id)
        else:
            vid = new_id()
            parent = current.id if current is not None else None
            inserts.append(
                {
                    "id": vid,
                    "asset_id": aid,
                    "user_id": user_id,
                    "parent_id": parent,
                    "name": name,
                    "params": body,
                    "source": source,
                    "created_at": now,
                }
            )
            made.append(vid)
    with catalog.transaction():
        catalog.table("edit_versions").insert_all(inserts)
        _overwrite_versions(catalog, updates, name, source)
        if asset_ids:
            project = asset_row(catalog, asset_ids[0])["project_id"]
            catalog.emit_event(
                EventType.EDIT_APPLIED,
                project_id=project,
                data={"count": len(made), "mode": mode, "editIds": made[:1000]},
            )
    return made
