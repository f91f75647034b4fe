"""Assets of a project: listing (with the user's rating filters), one asset, its files,
updates of the user-editable fields, and its renditions.

>>> page = list_assets(catalog, project.id, picked=True, limit=100)   # doctest: +SKIP
>>> img = open_rendition(catalog, page.items[0].id, "thumbnail")    # doctest: +SKIP
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from kilo.catalog import Catalog
from kilo.catalog.assets_repo import (
    list_file_rows,
    page_asset_keys,
    read_asset_row,
    read_asset_rows,
)
from kilo.catalog.file_reads import (
    latest_file_uri,
    one_of_each_shot,
    original_source,
    project_frame_ids,
)
from kilo.catalog.ids import lookup_id
from kilo.clock import floating, from_catalog, local_capture_time, parse_uuid
from kilo.errors import InvalidInput, NotFound
from kilo.jobspec import EventType
from kilo.models import (
    Asset,
    AssetFile,
    AssetFilesResponse,
    PagedAssets,
    PageInfo,
    Rating,
    UpdateAssetRequest,
)
from kilo.paging import check_limit, decode_cursor, encode_cursor
from kilo.records import json_object

RenditionKind = Literal["thumbnail", "preview", "original"]
Selection = Literal["picked", "cluster_winners", "all"]
#: the cursors of the asset listing: the (sort time, file name, frame, id) of a page's last
#: row (the listing's order, :func:`kilo.catalog.assets_repo.page_asset_keys`)
_SCOPE = "assets"
_FILE_KINDS = ("original", "thumbnail", "preview", "export")
if TYPE_CHECKING:
    from PIL import Image


def _to_model(row: dict[str, Any]) -> Asset:
    rating = None
    if row.get("r_user_id"):
        rating = Rating(
            asset_id=row["id"],
            user_id=row["r_user_id"],
            rating=row["r_rating"],
            picked=row["r_picked"],
            rejected=row["r_rejected"],
            starred=row["r_starred"],
            notes=row["r_notes"],
            updated_at=from_catalog(row["r_updated_at"]),
        )
    when = local_capture_time(row, row.get("project_timezone"))
    ingested = from_catalog(row["ingested_at"])
    assert ingested is not None
    return Asset(
        id=row["id"],
        project_id=row["project_id"],
        captured_at=floating(when.local),
        captured_at_source=row.get("captured_at_source"),
        file_time=when.file_time,
        ingested_at=ingested,
        width_px=row["width_px"],
        height_px=row["height_px"],
        camera_make=row["camera_make"],
        camera_model=row["camera_model"],
        lens_model=row["lens_model"],
        focal_length_mm=row["focal_length_mm"],
        shutter_speed=row["shutter_speed"],
        aperture=row["aperture"],
        iso=row["iso"],
        exif=json_object(row["exif"]),
        iptc=json_object(row["iptc"]),
        flags=json_object(row["flags"]),
        my_rating=rating,
        best_preview_url=row.get("preview_uri"),
        filename=row["filename"],
        frame_index=row["frame_index"],
        frame_count=max(1, int(row.get("frame_count") or 1)),
        source_uri=row["source_uri"],
        sha256=row["sha256"],
        byte_size=row["byte_size"],
        keywords=list(row["keywords"] or []),
        notes=row["notes"],
        state=row["state"],
    )


def get_asset(catalog: Catalog, asset_id: str, *, user_id: str | None = None) -> Asset:
    aid = lookup_id(catalog, "assets", asset_id)
    row = read_asset_row(catalog, aid, user_id or catalog.local_user_id)
    if row is None:
        raise NotFound(f"no asset with id {aid}")
    return _to_model(row)


def get_assets(
    catalog: Catalog, asset_ids: list[str], *, user_id: str | None = None
) -> dict[str, Asset]:
    """The assets of ``asset_ids`` that exist, by id, in one query (a page of search
    results, a selection)."""
    ids = [parse_uuid(a, "asset id") for a in asset_ids]
    if not ids:
        return {}
    rows = read_asset_rows(catalog, ids, user_id or catalog.local_user_id)
    return {str(r["id"]): _to_model(r) for r in rows}


def select_assets(
    catalog: Catalog, project_id: str, how: Selection = "picked", *, user_id: str | None = None
) -> list[str]:
    """Asset ids of a project in capture order: the user's picks, the cluster winners, or all.

    ``cluster_winners``: the winner of every burst and duplicate group plus every photo that
    is in none, leaving out the user's rejects (one of each shot).
    """
    if how == "picked":
        where, params = "r.picked", []
    elif how == "cluster_winners":
        where, params = one_of_each_shot(), [project_id, project_id]
    elif how == "all":
        return project_frame_ids(catalog, project_id, None)
    else:
        raise InvalidInput("selection must be picked, cluster_winners or all")
    user = user_id or catalog.local_user_id
    return project_frame_ids(catalog, project_id, user, where=where, params=params)


def list_assets(
    catalog: Catalog,
    project_id: str,
    *,
    picked: bool | None = None,
    rejected: bool | None = None,
    rating_min: int | None = None,
    cursor: str | None = None,
    limit: int | None = None,
    user_id: str | None = None,
) -> PagedAssets:
    """A project's assets in chronological order, one page at a time: when they were
    taken (``kilo.catalog.file_reads.CAPTURE_ORDER``: own offset, else the project's time
    zone, else the offset the project's other photos carry), undated ones last, then by
    file name and frame.

    ``picked``/``rejected``/``rating_min`` filter on the user's ratings (default: the
    catalog's local user); ``picked=False`` means "not picked".
    """
    from kilo.projects import require_project

    pid = parse_uuid(project_id, "project id")
    limit = check_limit(limit)
    after = decode_cursor(_SCOPE, cursor)
    if after is not None and len(after) != 4:
        raise InvalidInput("cursor is not valid for this listing")
    where = ["a.project_id = $pid", "a.state <> 'pending_upload'"]
    params: dict[str, Any] = {"pid": pid}
    if picked is not None:
        where.append("coalesce(r.picked, false) = $picked")
        params["picked"] = picked
    if rejected is not None:
        where.append("coalesce(r.rejected, false) = $rejected")
        params["rejected"] = rejected
    if rating_min is not None:
        if isinstance(rating_min, bool) or not 1 <= int(rating_min) <= 5:
            raise InvalidInput("rating_min must be from 1 to 5")
        where.append("coalesce(r.rating, 0) >= $rmin")
        params["rmin"] = int(rating_min)
    user = user_id or catalog.local_user_id
    decisions = picked is not None or rejected is not None or rating_min is not None
    if decisions:  # a filter on the user's decisions: join them
        params["user"] = user
    params["lim"] = limit + 1
    # The page's keys first, from the narrow columns (a top-N over the wide rows costs
    # several times more in DuckDB), then the whole rows of just that page.
    rows = page_asset_keys(catalog, where, params, decisions, after)
    keys, nxt = rows[:limit], None
    if len(rows) > limit:
        last = keys[-1]
        nxt = encode_cursor(
            _SCOPE,
            [last["sort_time"].isoformat(), last["filename"], last["frame_index"], last["id"]],
        )
    if not keys:
        require_project(catalog, pid)  # an empty page, or no such project
    found = get_assets(catalog, [str(k["id"]) for k in keys], user_id=user)
    items = [found[str(k["id"])] for k in keys if str(k["id"]) in found]
    return PagedAssets(items=items, page_info=PageInfo(next_cursor=nxt))


def list_asset_files(catalog: Catalog, asset_id: str) -> AssetFilesResponse:
    """The asset's files: original, thumbnail, preview (and exports), with store URIs."""
    aid = get_asset(catalog, asset_id).id
    rows = list_file_rows(catalog, aid)
    return AssetFilesResponse(
        files=[
            AssetFile(
                kind=r["kind"],
                url=r["uri"],
                content_type=r["content_type"],
                byte_size=r["byte_size"],
                checksum_sha256=r["sha256"],
            )
            for r in rows
            if r["kind"] in _FILE_KINDS
        ]
    )


def update_asset(catalog: Catalog, asset_id: str, request: UpdateAssetRequest) -> Asset:
    """Change IPTC fields, keywords, notes or flags (only the fields given)."""
    aid = get_asset(catalog, asset_id).id
    changes: dict[str, Any] = {}
    if request.iptc is not None:
        changes["iptc"] = request.iptc
    if request.keywords is not None:
        cleaned = [k.strip() for k in request.keywords if k and k.strip()]
        changes["keywords"] = list(dict.fromkeys(cleaned))
    if request.notes is not None:
        changes["notes"] = request.notes or None
    if request.flags is not None:
        changes["flags"] = request.flags
    if changes:
        assets = catalog.table("assets")
        with catalog.transaction():
            assets.update(aid, changes)
            catalog.emit_event(
                EventType.ASSET_UPDATED,
                project_id=assets.value(aid, "project_id"),
                asset_id=aid,
                data={"assetId": aid},
            )
    return get_asset(catalog, aid)


def rendition_uri(catalog: Catalog, asset_id: str, kind: RenditionKind) -> str | None:
    """Store URI of the asset's thumbnail/preview, or its original; None if not made yet."""
    if kind not in ("thumbnail", "preview", "original"):
        raise InvalidInput("kind must be thumbnail, preview or original")
    aid = lookup_id(catalog, "assets", asset_id)
    uri = latest_file_uri(catalog, aid, kind)
    if uri is None and not catalog.table("assets").exists(aid):
        raise NotFound(f"no asset with id {aid}")
    return uri


def open_rendition(catalog: Catalog, asset_id: str, kind: RenditionKind = "preview") -> Image.Image:
    """The rendition as an RGB image. Decodes the original (at the rendition's size) when
    the asset has not been processed yet."""
    from PIL import Image

    from kilo.imaging.decode import decode_image, read_source

    settings = catalog.settings
    uri = rendition_uri(catalog, asset_id, kind)
    if uri is not None and kind != "original":
        data = read_source(uri, settings)
        img = Image.open(io.BytesIO(data))
        img.load()
        return img if img.mode == "RGB" else img.convert("RGB")
    original = original_source(catalog, lookup_id(catalog, "assets", asset_id))
    if original is None:
        raise NotFound(f"no asset with id {asset_id}")
    max_px = {"thumbnail": settings.thumbnail_px, "preview": settings.preview_px}.get(kind)
    data = read_source(original.uri, settings)
    return decode_image(
        data,
        name=original.uri,
        content_type=original.content_type,
        max_px=max_px,
        frame=original.frame_index,
    ).image


def asset_filenames(catalog: Catalog, asset_ids: Sequence[str]) -> dict[str, str]:
    """File names by asset id, in one query (what tables show instead of uuids); ids with no
    asset are left out."""
    ids = [a for a in dict.fromkeys(asset_ids) if a]
    if not ids:
        return {}
    rows = catalog.table("assets").rows_for(ids, select=("filename",))
    return {aid: str(row["filename"]) for aid, row in rows.items()}


def asset_names(catalog: Catalog, asset_ids: Sequence[str]) -> dict[str, str]:
    """The names tables show instead of uuids, by asset id, in one query: each one's
    :func:`kilo.text.display_name` (``bird_burst.heic [2/4]`` for a frame of a multi-frame
    file); ids with no asset are left out."""
    from kilo.text import frame_name

    ids = [a for a in dict.fromkeys(asset_ids) if a]
    if not ids:
        return {}
    rows = catalog.table("assets").rows_for(ids, select=("filename", "frame_index", "frame_count"))
    return {
        aid: frame_name(str(row["filename"]), row["frame_index"], row["frame_count"])
        for aid, row in rows.items()
    }
