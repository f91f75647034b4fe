"""Reads that many capabilities share, written once: the newest file of a kind of an asset
(a thumbnail, a preview, the original copy), as a SQL fragment for a query over ``assets a``
or as one lookup. The start of the table layer: capabilities call these instead of spelling
the same subquery out (it stood in nine modules)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

from kilo.catalog import Catalog
from kilo.errors import NotFound

__all__ = [
    "CAPTURE_ORDER",
    "DECISIONS_JOIN",
    "FileKind",
    "OriginalSource",
    "asset_project",
    "latest_file",
    "latest_file_uri",
    "original_source",
    "project_frame_ids",
    "project_frames",
    "refresh_previews",
]

#: SQL: the order photos are shown and exported in (assets aliased ``a``).
CAPTURE_ORDER = "a.captured_at NULLS LAST, a.filename, a.frame_index, a.id"
#: SQL: one user's decisions on each asset ``a`` as ``r`` (the user is the ``?``).
DECISIONS_JOIN = "LEFT JOIN ratings r ON r.asset_id = a.id AND r.user_id = ?"

FileKind = Literal["original", "thumbnail", "preview", "export", "sidecar"]
_KINDS = frozenset({"original", "thumbnail", "preview", "export", "sidecar"})


def latest_file(kind: FileKind, asset: str = "a") -> str:
    """SQL: the URI of the newest ``kind`` file of the asset aliased ``asset`` (a scalar
    subquery; NULL when there is none)."""
    if kind not in _KINDS:
        raise ValueError(f"unknown file kind {kind!r}")
    return (
        f"(SELECT f.uri FROM asset_files f WHERE f.asset_id = {asset}.id AND f.kind = '{kind}' "
        "ORDER BY f.created_at DESC LIMIT 1)"
    )


def latest_file_uri(catalog: Catalog, asset_id: str, kind: FileKind) -> str | None:
    """The URI of the asset's newest ``kind`` file, None when there is none."""
    uri = catalog.scalar(f"SELECT {latest_file(kind)} FROM assets a WHERE a.id = ?", [asset_id])
    return str(uri) if uri else None


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


class OriginalSource(NamedTuple):
    """Where an asset's original pixels are: the library's copy when there is one, else the
    source it was ingested from; the frame of a multi-frame file; the sniffed content type."""

    uri: str
    frame_index: int
    content_type: str | None


def original_source(catalog: Catalog, asset_id: str) -> OriginalSource | None:
    """The asset's :class:`OriginalSource`, None when there is no such asset."""
    row = catalog.fetchone(
        f"SELECT coalesce({latest_file('original')}, a.source_uri), a.frame_index, "
        "a.content_type FROM assets a WHERE a.id = ?",
        [asset_id],
    )
    if row is None:
        return None
    return OriginalSource(str(row[0]), int(row[1] or 0), row[2])


def _frames_sql(columns: str, joins: str, where: str, decisions: bool) -> str:
    extra = f" AND ({where})" if where else ""
    return (
        f"SELECT {columns} FROM assets a {joins} {DECISIONS_JOIN if decisions else ''} "
        f"WHERE a.project_id = ? AND a.state <> 'pending_upload'{extra} ORDER BY {CAPTURE_ORDER}"
    )


def project_frames(
    catalog: Catalog,
    project_id: str,
    user_id: str,
    columns: str,
    *,
    joins: str = "",
    where: str = "",
    params: Sequence[Any] = (),
) -> list[dict[str, Any]]:
    """Every frame of a project (uploads still pending left out) in capture order, with
    ``columns`` (SQL over ``a``, the user's decisions ``r`` and any ``joins``), narrowed by
    ``where`` (SQL with ``params``)."""
    return catalog.fetchdicts(
        _frames_sql(columns, joins, where, True), [user_id, project_id, *params]
    )


def project_frame_ids(
    catalog: Catalog,
    project_id: str,
    user_id: str | None,
    *,
    where: str = "",
    params: Sequence[Any] = (),
) -> list[str]:
    """The ids of :func:`project_frames` (without ``user_id``: no decisions to filter on,
    none joined)."""
    decisions = user_id is not None
    head = [user_id, project_id] if decisions else [project_id]
    rows = catalog.fetchall(_frames_sql("a.id", "", where, decisions), [*head, *params])
    return [str(r[0]) for r in rows]


def asset_project(catalog: Catalog, asset_id: str) -> str:
    """The project of the asset with id ``asset_id`` (:class:`NotFound` when there is none)."""
    project = catalog.table("assets").value(asset_id, "project_id")
    if project is None:
        raise NotFound(f"no asset with id {asset_id}")
    return str(project)
