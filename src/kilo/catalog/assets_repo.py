"""The ``assets`` and ``asset_files`` tables: a photo (one frame of a file, with its
metadata, state and best preview) and the files kept of it (its original, renditions,
sidecars). Every statement over them that a capability needs is a function here, named for
what it does; rows come back as dicts and tuples, the capabilities make their models.

Plain reads and writes by key go through the table layer (``catalog.table("assets")``);
what many capabilities share about an asset (its newest file of a kind, where its pixels
are, a project's frames) is in :mod:`kilo.catalog.file_reads`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from kilo.catalog.file_reads import (
    CAPTURE_INSTANT,
    DECISIONS_JOIN,
    latest_file,
    read_capture_instant_sql,
)
from kilo.clock import new_id, utcnow

if TYPE_CHECKING:
    from kilo.catalog import Catalog

__all__ = [
    "LOCAL_TIME",
    "PROCESSED_COLUMNS",
    "count_offsets",
    "count_unembedded",
    "delete_files_of_kinds",
    "find_rendition",
    "list_file_rows",
    "live_file",
    "mark_assets_processed",
    "owned_original_uri",
    "page_asset_keys",
    "read_analysis_source",
    "read_asset_row",
    "read_asset_rows",
    "read_capture_instants",
    "read_export_rows",
    "read_process_inputs",
    "record_rendition",
    "record_sidecar",
    "refresh_previews",
    "update_registered",
    "update_uploaded",
]

#: SQL: the local time the photo ``a`` was taken (its UTC time moved by its offset; the wall
#: clock when it has none; NULL when undated: a file's time says when it was copied), as
#: :func:`kilo.clock.local_capture_time` reads it
LOCAL_TIME = (
    "(CASE WHEN a.captured_at_source LIKE 'file%' THEN NULL ELSE a.captured_at + "
    "to_minutes(CAST(coalesce(a.captured_offset_min, 0) AS BIGINT)) END)"
)

# -- the asset with the user's decisions (kilo.assets' model) -------------------------------
_RATINGS = "LEFT JOIN ratings r ON r.asset_id = a.id AND r.user_id = $user"
_COLUMNS = ", ".join(
    f"a.{c}"
    for c in (
        "id",
        "project_id",
        "captured_at",
        "captured_offset_min",
        "captured_at_source",
        "ingested_at",
        "width_px",
        "height_px",
        "camera_make",
        "camera_model",
        "lens_model",
        "focal_length_mm",
        "shutter_speed",
        "aperture",
        "iso",
        "exif",
        "iptc",
        "flags",
        "filename",
        "source_uri",
        "sha256",
        "byte_size",
        "keywords",
        "notes",
        "state",
        "preview_uri",
        "frame_index",
        "frame_count",
    )
)
_SELECT = f"""
SELECT {_COLUMNS}, r.user_id AS r_user_id, r.rating AS r_rating, r.picked AS r_picked,
       r.rejected AS r_rejected, r.starred AS r_starred, r.notes AS r_notes,
       r.updated_at AS r_updated_at, p.timezone AS project_timezone
FROM assets a
LEFT JOIN projects p ON p.id = a.project_id
{_RATINGS}
"""
# the project's zone by a join: a correlated subquery for it was planned by DuckDB as a
# SINGLE join on every read, the costlier plan (get_asset x 500 about 1.1x the CPU time)


def read_asset_row(catalog: Catalog, asset_id: str, user_id: str) -> dict[str, Any] | None:
    """The asset's row with ``user_id``'s decisions as ``r_*`` columns; None: no asset."""
    rows = catalog.fetchdicts(_SELECT + " WHERE a.id = $id", {"user": user_id, "id": asset_id})
    return rows[0] if rows else None


def read_asset_rows(
    catalog: Catalog, asset_ids: Sequence[str], user_id: str
) -> list[dict[str, Any]]:
    """:func:`read_asset_row` of many assets in one query (those that exist)."""
    return catalog.fetchdicts(
        _SELECT + " WHERE a.id IN (SELECT unnest($ids::VARCHAR[]))",
        {"user": user_id, "ids": list(asset_ids)},
    )


#: where undated photos sort in a page's keys: after every dated one
UNDATED_LAST = datetime(9999, 12, 31)
#: the rest of a page's key, after when taken
_PAGE_KEY_TAIL = "coalesce(a.filename, ''), coalesce(a.frame_index, 0), a.id"


def page_asset_keys(
    catalog: Catalog,
    where: Sequence[str],
    params: dict[str, Any],
    decisions: bool,
    after: Sequence[Any] | None = None,
) -> list[dict[str, Any]]:
    """(id, sort_time, filename, frame_index) of the assets matching ``where`` (SQL over
    ``a`` and, with ``decisions``, the user's ``r``; named parameters, ``$pid`` the project,
    ``$lim`` the most) in chronological order (``CAPTURE_ORDER``: when taken, undated ones
    last as :data:`UNDATED_LAST`, then by file name and frame), after the key ``after``
    (those four values of the last row of the page before): the keys of a page, from the
    narrow columns (a top-N over the wide rows costs several times more in DuckDB)."""
    conditions = list(where)
    # the project's zone and shoot offset read first and written in (no subquery a row)
    instant = read_capture_instant_sql(catalog, str(params["pid"]))
    sort_time = f"coalesce({instant}, CAST($undated AS TIMESTAMP))"
    values = {**params, "undated": UNDATED_LAST}
    if after is not None:
        conditions.append(
            f"({sort_time}, {_PAGE_KEY_TAIL}) > (CAST($k0 AS TIMESTAMP), CAST($k1 AS VARCHAR), "
            "CAST($k2 AS INTEGER), CAST($k3 AS VARCHAR))"
        )
        values.update({f"k{i}": v for i, v in enumerate(after)})
    return catalog.fetchdicts(
        f"SELECT a.id, {sort_time} AS sort_time, coalesce(a.filename, '') AS filename, "
        "coalesce(a.frame_index, 0) AS frame_index "
        f"FROM assets a {_RATINGS if decisions else ''} WHERE {' AND '.join(conditions)} "
        "ORDER BY sort_time, filename, frame_index, a.id LIMIT $lim",
        values,
    )


def list_file_rows(catalog: Catalog, asset_id: str) -> list[dict[str, Any]]:
    """The asset's files: original, preview, thumbnail, then the rest, oldest first."""
    return catalog.fetchdicts(
        "SELECT kind, uri, content_type, byte_size, sha256 FROM asset_files WHERE asset_id = ? "
        "ORDER BY CASE kind WHEN 'original' THEN 0 WHEN 'preview' THEN 1 "
        "WHEN 'thumbnail' THEN 2 ELSE 3 END, created_at",
        [asset_id],
    )


def refresh_previews(catalog: Catalog, asset_ids: Sequence[str]) -> None:
    """Point each of ``asset_ids`` at its best preview file and its URI (the newest preview,
    else the newest thumbnail; NULL when it has neither): after renditions are written."""
    if not asset_ids:
        return
    catalog.execute(
        "UPDATE assets SET preview_file_id = best.id, preview_uri = best.uri FROM ("
        "SELECT a.id AS asset_id, f.id, f.uri FROM (SELECT unnest(?::VARCHAR[]) AS id) a "
        "LEFT JOIN (SELECT DISTINCT ON (asset_id) asset_id, id, uri FROM asset_files "
        "WHERE asset_id IN (SELECT unnest(?::VARCHAR[])) AND kind IN ('preview', 'thumbnail') "
        "ORDER BY asset_id, kind = 'preview' DESC, created_at DESC) f ON f.asset_id = a.id"
        ") AS best WHERE assets.id = best.asset_id",
        [list(dict.fromkeys(asset_ids))] * 2,
    )


# -- ingest: registering and processing ----------------------------------------------------
def update_registered(catalog: Catalog, updates: Sequence[Sequence[Any]]) -> None:
    """Assets found again with new contents, back to ``registered``: each update is
    (sha256, byte size, source mtime, content type, frame count, sidecar uri, updated at,
    asset id)."""
    catalog.executemany(
        "UPDATE assets SET sha256 = ?, byte_size = ?, source_mtime = ?, content_type = ?, "
        "frame_count = ?, sidecar_uri = ?, updated_at = ?, state = 'registered' "
        "WHERE id = ?",
        updates,
    )


def update_uploaded(
    catalog: Catalog,
    asset_id: str,
    sha256: str,
    byte_size: int,
    content_type: str | None,
    frame_count: int,
    now: datetime,
) -> None:
    """An uploaded file's pending asset, identified: ``registered``."""
    catalog.execute(
        "UPDATE assets SET state = 'registered', sha256 = ?, byte_size = ?, content_type = ?, "
        "frame_count = ?, updated_at = ? WHERE id = ?",
        [sha256, byte_size, content_type, frame_count, now, asset_id],
    )


def read_process_inputs(catalog: Catalog, asset_ids: Sequence[str]) -> list[dict[str, Any]]:
    """What processing each asset needs, in one query: its source, frame, checksum, type,
    sidecar and mtime, its original's URI and how many renditions it has already."""
    ids = list(asset_ids)
    return catalog.fetchdicts(
        "SELECT a.id, a.project_id, a.source_uri, a.frame_index, a.sha256, a.content_type, "
        "a.sidecar_uri, a.source_mtime, f.uri AS original_uri, f.renditions FROM assets a "
        "LEFT JOIN (SELECT asset_id, min(uri) FILTER (WHERE kind = 'original') AS uri, "
        "count(*) FILTER (WHERE kind <> 'original') AS renditions FROM asset_files "
        "WHERE asset_id IN (SELECT unnest(?::VARCHAR[])) "
        "GROUP BY asset_id) f ON f.asset_id = a.id "
        "WHERE a.id IN (SELECT unnest(?::VARCHAR[]))",
        [ids, ids],
    )


def delete_files_of_kinds(catalog: Catalog, asset_ids: Sequence[str], kinds: Sequence[str]) -> None:
    """Remove the ``kinds`` files of ``asset_ids`` (re-processing replaces them)."""
    catalog.execute(
        "DELETE FROM asset_files WHERE asset_id IN (SELECT unnest(?::VARCHAR[])) "
        "AND kind IN (SELECT unnest(?::VARCHAR[]))",
        [list(asset_ids), list(kinds)],
    )


#: the metadata processing sets, as (column, SQL type), in the order of each row's values
#: after its asset id (:func:`mark_assets_processed`)
PROCESSED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("byte_size", "BIGINT"),
    ("format", "VARCHAR"),
    ("captured_at", "TIMESTAMP"),
    ("captured_offset_min", "INTEGER"),
    ("captured_at_source", "VARCHAR"),
    ("width_px", "INTEGER"),
    ("height_px", "INTEGER"),
    ("orientation", "INTEGER"),
    ("camera_make", "VARCHAR"),
    ("camera_model", "VARCHAR"),
    ("camera_serial", "VARCHAR"),
    ("lens_model", "VARCHAR"),
    ("focal_length_mm", "DOUBLE"),
    ("shutter_speed", "VARCHAR"),
    ("exposure_time_s", "DOUBLE"),
    ("aperture", "DOUBLE"),
    ("iso", "INTEGER"),
    ("exposure_bias_ev", "DOUBLE"),
    ("gps_lat", "DOUBLE"),
    ("gps_lon", "DOUBLE"),
    ("gps_alt_m", "DOUBLE"),
    ("exif", "VARCHAR"),
    ("iptc", "VARCHAR"),
    ("keywords", "VARCHAR"),
    ("flags", "VARCHAR"),
    ("frame_count", "INTEGER"),
)


def mark_assets_processed(
    catalog: Catalog, values: Sequence[Sequence[Any]], now: datetime
) -> set[str]:
    """One UPDATE ... FROM for many assets (state ready, with their metadata): each row is
    the asset id then :data:`PROCESSED_COLUMNS`' values (JSON as text); each column travels
    as one typed list parameter, unnested into rows. Returns the ids of the assets that
    still exist (and were updated)."""
    columns = [("id", "VARCHAR"), *PROCESSED_COLUMNS]
    select = ", ".join(f"unnest(?::{kind}[]) AS {name}" for name, kind in columns)
    params: list[Any] = [[row[i] for row in values] for i in range(len(columns))]
    rows = catalog.fetchall(
        "UPDATE assets SET byte_size = coalesce(assets.byte_size, v.byte_size), "
        "format = v.format, captured_at = v.captured_at, "
        "captured_offset_min = v.captured_offset_min, captured_at_source = v.captured_at_source, "
        "width_px = v.width_px, height_px = v.height_px, orientation = v.orientation, "
        "camera_make = v.camera_make, camera_model = v.camera_model, "
        "camera_serial = v.camera_serial, lens_model = v.lens_model, "
        "focal_length_mm = v.focal_length_mm, shutter_speed = v.shutter_speed, "
        "exposure_time_s = v.exposure_time_s, aperture = v.aperture, iso = v.iso, "
        "exposure_bias_ev = v.exposure_bias_ev, gps_lat = v.gps_lat, gps_lon = v.gps_lon, "
        "gps_alt_m = v.gps_alt_m, exif = CAST(v.exif AS JSON), iptc = CAST(v.iptc AS JSON), "
        "keywords = CAST(CAST(v.keywords AS JSON) AS VARCHAR[]), "
        "flags = CASE WHEN v.flags IS NULL THEN assets.flags ELSE CAST(v.flags AS JSON) END, "
        f"frame_count = v.frame_count, state = 'ready', error = NULL, updated_at = ? "
        f"FROM (SELECT {select}) v WHERE assets.id = v.id RETURNING assets.id",
        [now, *params],
    )
    return {str(r[0]) for r in rows}


# -- what other capabilities read or keep of an asset --------------------------------------
def record_sidecar(catalog: Catalog, asset_id: str, uri: str, byte_size: int) -> None:
    """The asset's XMP sidecar at ``uri`` (written again: its one row, renewed)."""
    with catalog.transaction():
        catalog.execute(
            "DELETE FROM asset_files WHERE asset_id = ? AND kind = 'sidecar' AND uri = ?",
            [asset_id, uri],
        )
        catalog.execute(
            "INSERT INTO asset_files (id, asset_id, kind, uri, content_type, byte_size, "
            "created_at) VALUES (?, ?, 'sidecar', ?, 'application/rdf+xml', ?, ?)",
            [new_id(), asset_id, uri, byte_size, utcnow()],
        )


def find_rendition(catalog: Catalog, asset_id: str, kind: str) -> tuple[Any, ...] | None:
    """(file id, URI, byte size) of the asset's newest ``kind`` file while its project is
    not deleted; None when there is none."""
    return catalog.fetchone(
        "SELECT f.id, f.uri, f.byte_size FROM asset_files f JOIN assets a ON a.id = f.asset_id "
        "JOIN projects p ON p.id = a.project_id WHERE f.asset_id = ? AND f.kind = ? "
        "AND p.status <> 'deleted' ORDER BY f.created_at DESC LIMIT 1",
        [asset_id, kind],
    )


def record_rendition(
    catalog: Catalog,
    asset_id: str,
    kind: str,
    uri: str,
    *,
    byte_size: int,
    sha256: str,
    size: tuple[int, int],
) -> str:
    """A JPEG rendition of the asset made after processing (the loupe's full-size image):
    its one row of ``kind``, renewed. Returns the file id."""
    file_id = new_id()
    with catalog.transaction():
        catalog.execute("DELETE FROM asset_files WHERE asset_id = ? AND kind = ?", [asset_id, kind])
        catalog.execute(
            "INSERT INTO asset_files (id, asset_id, kind, uri, content_type, byte_size, sha256, "
            "width_px, height_px, created_at) VALUES (?, ?, ?, ?, 'image/jpeg', ?, ?, ?, ?, ?)",
            [file_id, asset_id, kind, uri, byte_size, sha256, size[0], size[1], utcnow()],
        )
    return file_id


def read_analysis_source(catalog: Catalog, asset_id: str) -> tuple[Any, ...] | None:
    """(source URI, frame index, newest preview URI, newest original URI) of the asset;
    None when there is no such asset."""
    return catalog.fetchone(
        f"SELECT a.source_uri, a.frame_index, {latest_file('preview')}, "
        f"{latest_file('original')} FROM assets a WHERE a.id = ?",
        [asset_id],
    )


def owned_original_uri(catalog: Catalog, asset_id: str, user_id: str) -> str | None:
    """Where the original pixels of the asset are when it is in a (not deleted) project
    of ``user_id``'s; None otherwise."""
    row = catalog.fetchone(
        f"SELECT coalesce({latest_file('original')}, a.source_uri) FROM assets a "
        "JOIN projects p ON p.id = a.project_id WHERE a.id = ? AND p.owner_user_id = ? "
        "AND p.status <> 'deleted' AND a.state <> 'pending_upload'",
        [asset_id, user_id],
    )
    return str(row[0]) if row is not None and row[0] else None


def read_export_rows(
    catalog: Catalog, asset_ids: Sequence[str], user_id: str
) -> list[dict[str, Any]]:
    """Every column of the assets with their newest thumbnail and original and the user's
    rating, pick and reject: what an export plans from."""
    return catalog.fetchdicts(
        f"SELECT a.*, {latest_file('thumbnail')} AS thumb_uri, "
        f"{latest_file('original')} AS original_uri, r.rating, r.picked, r.rejected "
        f"FROM assets a {DECISIONS_JOIN} WHERE a.id IN (SELECT unnest(?::VARCHAR[]))",
        [user_id, list(asset_ids)],
    )


def read_capture_instants(catalog: Catalog, asset_ids: Sequence[str]) -> dict[str, Any]:
    """When each asset was taken as chronological orders sort on it (naive UTC,
    :data:`~kilo.catalog.file_reads.CAPTURE_INSTANT`; None when undated), by id."""
    return dict(
        catalog.fetchall(
            f"SELECT a.id, {CAPTURE_INSTANT} FROM assets a "
            "WHERE a.id IN (SELECT unnest(?::VARCHAR[]))",
            [list(asset_ids)],
        )
    )


def count_offsets(catalog: Catalog, project_id: str) -> tuple[int, int]:
    """(dated photos of the project with an offset of their own, dated photos without one);
    a file's time is no date."""
    row = catalog.fetchone(
        "SELECT count(*) FILTER (WHERE captured_offset_min IS NOT NULL), "
        "count(*) FILTER (WHERE captured_offset_min IS NULL) FROM assets "
        "WHERE project_id = ? AND state <> 'quarantined' AND captured_at IS NOT NULL "
        "AND coalesce(captured_at_source, '') NOT LIKE 'file%'",
        [project_id],
    )
    return (int(row[0]), int(row[1])) if row else (0, 0)


def count_unembedded(catalog: Catalog, model_id: str) -> int:
    """Assets of the library (not quarantined) without a vector of ``model_id``."""
    return int(
        catalog.scalar(
            "SELECT count(*) FROM assets a WHERE a.state <> 'quarantined' AND NOT EXISTS "
            "(SELECT 1 FROM embeddings e WHERE e.asset_id = a.id AND e.model_id = ?)",
            [model_id],
        )
        or 0
    )


def live_file(catalog: Catalog, file_id: str) -> tuple[Any, ...] | None:
    """(URI, byte size) of the file ``file_id`` while its photo's project is not deleted (a
    signed link outlives neither)."""
    return catalog.fetchone(
        "SELECT f.uri, f.byte_size FROM asset_files f JOIN assets a ON a.id = f.asset_id "
        "JOIN projects p ON p.id = a.project_id WHERE f.id = ? AND p.status <> 'deleted'",
        [file_id],
    )
