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
    "CAPTURE_INSTANT",
    "CAPTURE_ORDER",
    "DECISIONS_JOIN",
    "IN_CLUSTER_KINDS",
    "FileKind",
    "OriginalSource",
    "asset_project",
    "count_clusters_by_kind",
    "count_project_stats",
    "latest_file",
    "latest_file_uri",
    "list_cluster_members",
    "list_clusters",
    "list_moment_members",
    "list_suggested_winners",
    "list_winner_picks",
    "one_of_each_shot",
    "original_source",
    "owned_asset_ids",
    "pick_duplicate_groups",
    "project_frame_ids",
    "project_frame_rows",
    "project_frames",
    "project_owner",
    "read_capture_instant_sql",
    "read_shoot_offset",
]


def shoot_offset_sql(project: str) -> str:
    """SQL: the offset (minutes) a project without a time zone reads its photos without an
    offset at: the one most of its dated photos with an offset carry (ties: the one of the
    earliest such photo, then the smaller); NULL when none has one. ``project``: SQL of the
    project's id."""
    return (
        "(SELECT g.off FROM (SELECT o.captured_offset_min AS off, count(*) AS n, "
        "min(o.captured_at) AS t FROM assets o WHERE o.project_id = "
        f"{project} AND o.captured_offset_min IS NOT NULL AND o.captured_at IS NOT NULL "
        "AND coalesce(o.captured_at_source, '') NOT LIKE 'file%' AND o.state NOT IN "
        "('quarantined', 'pending_upload') GROUP BY 1) g ORDER BY g.n DESC, g.t, g.off LIMIT 1)"
    )


def capture_instant_sql(
    zone: str = "(SELECT p.timezone FROM projects p WHERE p.id = a.project_id)",
    shoot_offset: str = shoot_offset_sql("a.project_id"),
) -> str:
    """SQL: :data:`CAPTURE_INSTANT` with the project's zone and shoot offset given as SQL
    (parameters, for a query over one project whose two values were read first: each row
    then needs no subquery)."""
    in_zone = f"timezone({zone}, a.captured_at)"  # ICU: a repeated wall time's later instant
    # a repeated wall time (a DST fall-back) read at its earlier instant, as Python's fold=0
    earlier = " ".join(
        f"WHEN timezone({zone}, {in_zone} - INTERVAL {d}) = a.captured_at "
        f"THEN make_timestamp(epoch_us({in_zone} - INTERVAL {d}))"
        for d in ("1 HOUR", "30 MINUTE")
    )
    return (
        "(CASE WHEN a.captured_at IS NULL OR coalesce(a.captured_at_source, '') LIKE 'file%' "
        "THEN NULL WHEN a.captured_offset_min IS NOT NULL THEN a.captured_at "
        f"WHEN {zone} IS NOT NULL THEN (CASE {earlier} "
        f"ELSE make_timestamp(epoch_us({in_zone})) END) "
        f"ELSE a.captured_at - to_minutes(CAST(coalesce({shoot_offset}, 0) AS BIGINT)) END)"
    )


#: SQL: the moment the photo ``a`` was taken, as naive UTC, what every chronological order
#: sorts on (:meth:`kilo.clock.CaptureTime.order_key` in Python): its own offset; else the
#: project's time zone at that wall time; else, in a project without one, the offset its
#: other photos carry (:func:`shoot_offset_sql`), else none (the wall clock as it is);
#: NULL when undated (a file's time says when it was copied, not shot).
CAPTURE_INSTANT = capture_instant_sql()
#: SQL: the order photos are shown, culled and exported in (assets aliased ``a``): when
#: they were taken (:data:`CAPTURE_INSTANT`), undated ones last, then by file name and frame.
CAPTURE_ORDER = f"{CAPTURE_INSTANT} NULLS LAST, a.filename, a.frame_index, a.id"
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


def _frames_sql(columns: str, joins: str, where: str, decisions: bool, instant: str) -> str:
    extra = f" AND ({where})" if where else ""
    return (
        f"SELECT {columns} FROM assets a {joins} {DECISIONS_JOIN if decisions else ''} "
        f"WHERE a.project_id = ? AND a.state <> 'pending_upload'{extra} "
        f"ORDER BY {instant} NULLS LAST, a.filename, a.frame_index, a.id"
    )


def read_capture_instant_sql(catalog: Catalog, project_id: str) -> str:
    """SQL: :data:`CAPTURE_INSTANT` for the photos ``a`` of the one project ``project_id``,
    its time zone and shoot offset read first and written in as constants. The same value
    row for row (the two scalar subqueries it replaces are of the row's project), several
    times cheaper a row: no subquery, and without a zone only the branches that can apply
    (20,000 photos without a zone: ORDER BY ... LIMIT 200 12 ms -> 3.5 ms)."""
    zone = catalog.scalar("SELECT timezone FROM projects WHERE id = ?", [project_id])
    if zone is not None:
        text = "'" + str(zone).replace("'", "''") + "'"
        return capture_instant_sql(f"CAST({text} AS VARCHAR)", "CAST(NULL AS INTEGER)")
    guess = read_shoot_offset(catalog, project_id)
    # CAPTURE_INSTANT without a zone: NULL for a file's time (and a NULL captured_at stays
    # NULL in both other branches); an own offset's UTC; else at the shoot offset (0: as is)
    shift = f" - to_minutes(CAST({int(guess)} AS BIGINT))" if guess else ""
    return (
        "(CASE WHEN coalesce(a.captured_at_source, '') LIKE 'file%' THEN NULL "
        + ("" if not shift else "WHEN a.captured_offset_min IS NOT NULL THEN a.captured_at ")
        + f"ELSE a.captured_at{shift} END)"
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
    instant = read_capture_instant_sql(catalog, project_id)
    return catalog.fetchdicts(
        _frames_sql(columns, joins, where, True, instant), [user_id, project_id, *params]
    )


def project_frame_rows(
    catalog: Catalog,
    project_id: str,
    user_id: str,
    columns: str,
    *,
    joins: str = "",
    instant: str | None = None,
) -> list[tuple[Any, ...]]:
    """:func:`project_frames` as tuples (``columns`` in order): for a caller that reads every
    frame of a large project (a dict per row costs as much as the query). ``instant``: the
    project's :func:`read_capture_instant_sql` when the caller read it already (for a
    column)."""
    instant = instant or read_capture_instant_sql(catalog, project_id)
    return catalog.fetchall(_frames_sql(columns, joins, "", True, instant), [user_id, project_id])


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
    instant = read_capture_instant_sql(catalog, project_id)
    rows = catalog.fetchall(_frames_sql("a.id", "", where, decisions, instant), [*head, *params])
    return [str(r[0]) for r in rows]


def read_shoot_offset(catalog: Catalog, project_id: str) -> int | None:
    """The offset (minutes) the project's photos without one are placed in time at when it
    has no time zone (:func:`shoot_offset_sql`); None when none of its photos has one."""
    value = catalog.scalar(f"SELECT {shoot_offset_sql('?')}", [project_id])
    return None if value is None else int(value)


def asset_project(catalog: Catalog, asset_id: str) -> str:
    """The project of the asset with id ``asset_id`` (:class:`NotFound` when there is none)."""
    project = catalog.table("assets").value(asset_id, "project_id")
    if project is None:
        raise NotFound(f"no asset with id {asset_id}")
    return str(project)


def count_project_stats(catalog: Catalog, project_id: str, user_id: str) -> tuple[Any, ...]:
    """(photos, the user's picks, the user's rejects, reviewed clusters) of the project."""
    row = catalog.fetchone(
        """
        SELECT
          (SELECT count(*) FROM assets WHERE project_id = $p AND state <> 'pending_upload'),
          (SELECT count(*) FROM ratings r JOIN assets a ON a.id = r.asset_id
             WHERE a.project_id = $p AND r.user_id = $u AND r.picked),
          (SELECT count(*) FROM ratings r JOIN assets a ON a.id = r.asset_id
             WHERE a.project_id = $p AND r.user_id = $u AND r.rejected),
          (SELECT count(*) FROM clusters WHERE project_id = $p AND reviewed)
        """,
        {"p": project_id, "u": user_id},
    )
    assert row is not None
    return row


# -- who owns what: the owner of the project a thing is in ---------------------------------
#: SQL: the project of one thing of each kind (its id is the ``?``)
_PROJECT_OF: dict[str, str] = {
    "projects": "SELECT id FROM projects WHERE id = ? AND status <> 'deleted'",
    "assets": "SELECT project_id FROM assets WHERE id = ? AND state <> 'pending_upload'",
    "clusters": "SELECT project_id FROM clusters WHERE id = ?",
    "edit_versions": (
        "SELECT a.project_id FROM edit_versions v JOIN assets a ON a.id = v.asset_id WHERE v.id = ?"
    ),
    "exports": "SELECT project_id FROM exports WHERE id = ?",
    "jobs": "SELECT project_id FROM jobs WHERE id = ?",
    "galleries": "SELECT project_id FROM galleries WHERE id = ?",
}


def project_owner(catalog: Catalog, kind: str, ident: str) -> str | None:
    """The owner (user id) of the project the ``kind`` thing with id ``ident`` is in (a
    project: itself); None when there is none, or its project is deleted."""
    row = catalog.fetchone(
        "SELECT p.owner_user_id FROM projects p WHERE p.status <> 'deleted' AND p.id = "
        f"({_PROJECT_OF[kind]})",
        [ident],
    )
    return None if row is None else row[0]


def owned_asset_ids(catalog: Catalog, user_id: str, asset_ids: Sequence[str]) -> set[str]:
    """Those of ``asset_ids`` that are in a project of ``user_id``'s (not deleted), in one
    query; pending uploads left out."""
    return {
        str(r[0])
        for r in catalog.fetchall(
            "SELECT a.id FROM assets a JOIN projects p ON p.id = a.project_id "
            "WHERE a.id IN (SELECT unnest(?::VARCHAR[])) AND p.owner_user_id = ? "
            "AND p.status <> 'deleted' AND a.state <> 'pending_upload'",
            [list(asset_ids), user_id],
        )
    }


# -- clusters as the other capabilities read them (kilo.cluster.store writes them) ---------
#: SQL: the asset ``a`` is in a cluster of one of the kinds of the ``?`` (a list)
IN_CLUSTER_KINDS = (
    "EXISTS (SELECT 1 FROM cluster_members m JOIN clusters c ON c.id = m.cluster_id "
    "WHERE m.asset_id = a.id AND c.kind IN (SELECT unnest(?::VARCHAR[])))"
)


def one_of_each_shot() -> str:
    """SQL over ``a`` and the user's decisions ``r``: the winner of every burst and
    duplicate group plus every photo in none, the user's rejects left out (its two ``?``
    are the project id)."""
    groups = "kind IN ('burst', 'duplicate_group')"
    return f"""NOT coalesce(r.rejected, false) AND (
            a.id IN (SELECT winner_asset_id FROM clusters WHERE project_id = ? AND {groups}
                     AND winner_asset_id IS NOT NULL)
            OR a.id NOT IN (SELECT m.asset_id FROM cluster_members m
                            JOIN clusters c ON c.id = m.cluster_id
                            WHERE c.project_id = ? AND c.{groups}))"""


def count_clusters_by_kind(catalog: Catalog, project_id: str) -> dict[str, int]:
    rows = catalog.fetchall(
        "SELECT kind, count(*) FROM clusters WHERE project_id = ? GROUP BY kind", [project_id]
    )
    return {str(kind): int(n) for kind, n in rows}


def list_clusters(catalog: Catalog, project_id: str) -> list[dict[str, Any]]:
    """The project's clusters with what review shows of them, in time order."""
    return catalog.fetchdicts(
        "SELECT id, kind, parent_id, title, start_time, reviewed, confidence, winner_asset_id, "
        "why_winner FROM clusters WHERE project_id = ? ORDER BY start_time NULLS LAST, id",
        [project_id],
    )


def list_cluster_members(catalog: Catalog, project_id: str) -> list[tuple[Any, ...]]:
    """(cluster id, asset id, rank, role) of every member of the project's clusters, by
    cluster and rank."""
    return catalog.fetchall(
        "SELECT m.cluster_id, m.asset_id, m.rank, m.role FROM cluster_members m "
        "JOIN clusters c ON c.id = m.cluster_id WHERE c.project_id = ? "
        "ORDER BY m.cluster_id, m.rank, m.asset_id",
        [project_id],
    )


def list_moment_members(catalog: Catalog, project_id: str) -> list[tuple[Any, ...]]:
    """(asset id, cluster id, title, start, end, manual overrides) of every member of the
    project's moments, moments in time order."""
    return catalog.fetchall(
        "SELECT m.asset_id, c.id, c.title, c.start_time, c.end_time, c.manual_overrides "
        "FROM cluster_members m JOIN clusters c ON c.id = m.cluster_id "
        "WHERE c.project_id = ? AND c.kind = 'moment' ORDER BY c.start_time NULLS LAST, c.id",
        [project_id],
    )


def list_suggested_winners(
    catalog: Catalog, project_id: str, kinds: Sequence[str]
) -> list[tuple[Any, ...]]:
    """(cluster id, suggested winner, confidence or 0) of the project's unreviewed clusters
    of ``kinds`` that have a suggestion, in time order."""
    return catalog.fetchall(
        "SELECT id, winner_asset_id, coalesce(confidence, 0) FROM clusters "
        "WHERE project_id = ? AND list_contains(?, kind) AND NOT reviewed "
        "AND winner_asset_id IS NOT NULL ORDER BY start_time NULLS LAST, id",
        [project_id, list(kinds)],
    )


def pick_duplicate_groups(catalog: Catalog, cluster_ids: Sequence[str]) -> list[str]:
    """Those of ``cluster_ids`` that are duplicate groups (copies of one picture)."""
    rows = catalog.fetchall(
        "SELECT id FROM clusters WHERE kind = 'duplicate_group' AND list_contains(?, id)",
        [list(cluster_ids)],
    )
    return [str(r[0]) for r in rows]


# -- the cull log as taste reads it (kilo.cull.actions writes it) ---------------------------
def list_winner_picks(catalog: Catalog, user_id: str) -> list[Any]:
    """The after-states of the user's ``pick_winner`` actions not undone, oldest first."""
    rows = catalog.fetchall(
        "SELECT after_state FROM cull_actions WHERE user_id = ? AND kind = 'pick_winner' "
        "AND NOT undone ORDER BY id",
        [user_id],
    )
    return [r[0] for r in rows]
