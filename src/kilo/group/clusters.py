"""Clusters in the catalog: list/get/update them, split, merge, and the catalog step of
choosing a winner (:func:`kilo.cull.pick_winner` is the action). Storing a fresh clustering,
stable across re-runs, is :mod:`kilo.group.recluster`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from kilo.catalog import Catalog
from kilo.catalog.file_reads import CAPTURE_INSTANT, read_shoot_offset
from kilo.catalog.ids import lookup_id
from kilo.clock import capture_time, floating, from_catalog, new_id, utcnow, zone
from kilo.errors import InvalidInput, NotFound
from kilo.group.rank import role_for
from kilo.group.recluster import duplicate_title
from kilo.jobspec import EventType
from kilo.models import (
    Cluster,
    ClusterAsset,
    ClusterKind,
    PagedClusters,
    PageInfo,
    UpdateClusterRequest,
)
from kilo.paging import Keyset, check_limit
from kilo.records import json_object

__all__ = [
    "CLUSTER_KINDS",
    "get_cluster",
    "list_clusters",
    "locked_clusters",
    "merge_clusters",
    "split_cluster",
    "store_winner",
    "update_cluster",
]

CLUSTER_KINDS: tuple[ClusterKind, ...] = ("moment", "burst", "duplicate_group")
_FAR_FUTURE = datetime(9999, 12, 31)
#: clusters sort by start time, undated ones last
_SORT_TIME = "coalesce(start_time, CAST(? AS TIMESTAMP))"
_KEYSET = Keyset("clusters", f"{_SORT_TIME}, id", time_key="sort_time")


# -- reading ------------------------------------------------------------------------------
_MEMBER_SQL = (
    "SELECT m.cluster_id, m.asset_id, m.rank, m.role, m.signals{} FROM cluster_members m{} "
    "WHERE m.cluster_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY m.cluster_id, m.rank, m.asset_id"
)
#: the capture columns of each member (NULL asset id: no such asset)
_MEMBER_TIMES = (
    ", a.id, a.captured_at, a.captured_offset_min, a.captured_at_source",
    " LEFT JOIN assets a ON a.id = m.asset_id",
)
_Span = tuple[datetime | None, datetime | None]
#: a photo's (captured_at, captured_offset_min, captured_at_source)
_Times = tuple[datetime, int | None, str | None]


def _member(aid: str, rank: int, role: str | None, signals: Any) -> ClusterAsset:
    return ClusterAsset(
        asset_id=aid, rank=max(1, int(rank)), role=role, signals=json_object(signals)
    )


def _members(catalog: Catalog, cluster_ids: Sequence[str]) -> dict[str, list[ClusterAsset]]:
    out: dict[str, list[ClusterAsset]] = {cid: [] for cid in cluster_ids}
    if not cluster_ids:
        return out
    for cid, *member in catalog.fetchall(_MEMBER_SQL.format("", ""), [list(cluster_ids)]):
        out[cid].append(_member(*member))
    return out


def _members_spans(
    catalog: Catalog, project_id: str, cluster_ids: Sequence[str], zone_name: str | None
) -> tuple[dict[str, list[ClusterAsset]], dict[str, _Span]]:
    """:func:`_members` with each cluster's first and last photo in their own local times
    (:func:`kilo.clock.local_capture_time` in the project's zone ``zone_name``), first and
    last in the one chronological order (:meth:`kilo.clock.CaptureTime.order_key` at the
    project's shoot offset), by cluster id; (None, None) when undated. One query, the zone
    looked up once (the shoot offset once, when a photo needs it): a page of clusters is
    thousands of members."""
    members: dict[str, list[ClusterAsset]] = {cid: [] for cid in cluster_ids}
    if not cluster_ids:
        return members, {}
    tz = zone(zone_name)
    ends: dict[str, list[tuple[datetime, _Times]]] = {}
    shoot: list[int | None] = []  # read once, when a photo needs it
    rows = catalog.fetchall(_MEMBER_SQL.format(*_MEMBER_TIMES), [list(cluster_ids)])
    for cid, aid, rank, role, signals, found, captured_at, offset_min, source in rows:
        members[cid].append(_member(aid, rank, role, signals))
        if not found or captured_at is None or str(source or "").startswith("file"):
            continue  # undated (a file's time says when it was copied)
        times: _Times = (captured_at, offset_min, source)
        # CaptureTime.order_key: a naive time with an offset of its own (UTC) is its own
        # key, one with no zone to read it in is its wall clock at the shoot offset; no
        # CaptureTime made for them
        if captured_at.tzinfo is None and offset_min is not None:
            key = captured_at
        elif captured_at.tzinfo is None and tz is None:
            if not shoot:
                shoot.append(read_shoot_offset(catalog, project_id))
            key = captured_at - timedelta(minutes=shoot[0] or 0)
        else:
            key = capture_time(captured_at, offset_min, source, tz).order_key() or datetime.max
        span = ends.get(cid)
        if span is None:
            ends[cid] = [(key, times), (key, times)]
            continue
        # the earliest and latest, the first of equals in member order (as min and max)
        if key < span[0][0]:
            span[0] = (key, times)
        if key > span[1][0]:
            span[1] = (key, times)
    spans: dict[str, _Span] = dict.fromkeys(cluster_ids, (None, None))
    for cid, (first, last) in ends.items():
        spans[cid] = (
            floating(capture_time(*first[1], tz).local),
            floating(capture_time(*last[1], tz).local),
        )
    return members, spans


def _to_model(
    row: dict[str, Any],
    members: list[ClusterAsset],
    span: _Span | None = None,
) -> Cluster:
    start, end = span or (from_catalog(row["start_time"]), from_catalog(row["end_time"]))
    return Cluster(
        id=row["id"],
        project_id=row["project_id"],
        kind=row["kind"],
        title=row["title"],
        start_time=start,
        end_time=end,
        score=row["score"],
        reviewed=bool(row["reviewed"]),
        winner_asset_id=row["winner_asset_id"],
        why_winner=list(row["why_winner"] or []),
        assets=members,
        confidence=row["confidence"],
        parent_id=row["parent_id"],
    )


def _row(catalog: Catalog, cluster_id: str) -> dict[str, Any]:
    cid = lookup_id(catalog, "clusters", cluster_id)
    row = catalog.table("clusters").get(cid)
    if row is None:
        raise NotFound(f"no cluster with id {cid}")
    return row


def get_cluster(catalog: Catalog, cluster_id: str) -> Cluster:
    """One cluster with its members (best first)."""
    row = _row(catalog, cluster_id)
    zone_name = catalog.table("projects").value(row["project_id"], "timezone")
    members, spans = _members_spans(catalog, row["project_id"], [row["id"]], zone_name)
    return _to_model(row, members[row["id"]], spans[row["id"]])


def list_clusters(
    catalog: Catalog,
    project_id: str,
    *,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> PagedClusters:
    """Clusters of a project in time order (undated last), one page at a time."""
    from kilo.projects import require_project_zone

    pid, zone_name = require_project_zone(catalog, project_id)
    limit = check_limit(limit)
    if kind is not None and kind not in CLUSTER_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(CLUSTER_KINDS)}")
    after = _KEYSET.after(cursor)
    where = ["project_id = ?"]
    params: list[Any] = [pid]
    if kind is not None:
        where.append("kind = ?")
        params.append(kind)
    if after is not None:
        where.append(after.sql)
        params += [_FAR_FUTURE, *after.params]
    rows, nxt = _KEYSET.page(
        catalog.fetchdicts(
            f"SELECT *, {_SORT_TIME} AS sort_time FROM clusters WHERE {' AND '.join(where)} "
            f"ORDER BY sort_time, id LIMIT ?",
            [_FAR_FUTURE, *params, limit + 1],
        ),
        limit,
    )
    members, spans = _members_spans(catalog, pid, [r["id"] for r in rows], zone_name)
    return PagedClusters(
        items=[_to_model(r, members[r["id"]], spans[r["id"]]) for r in rows],
        page_info=PageInfo(next_cursor=nxt),
    )


# -- user changes -------------------------------------------------------------------------
def _touch(catalog: Catalog, row: dict[str, Any], **cols: Any) -> None:
    catalog.table("clusters").update(row["id"], cols)


def _emit(catalog: Catalog, project_id: str, cluster_id: str, what: str) -> None:
    catalog.emit_event(
        EventType.CLUSTER_UPDATED,
        project_id=project_id,
        data={"clusterId": cluster_id, "change": what},
    )


def update_cluster(catalog: Catalog, cluster_id: str, request: UpdateClusterRequest) -> Cluster:
    """Rename, mark (not) reviewed, or merge keys into ``manual_overrides``."""
    row = _row(catalog, cluster_id)
    overrides = json_object(row["manual_overrides"])
    cols: dict[str, Any] = {}
    if request.title is not None:
        title = request.title.strip()
        cols["title"] = title or None
        overrides["title"] = bool(title)
    if request.reviewed is not None:
        cols["reviewed"] = bool(request.reviewed)
    if request.manual_overrides:
        overrides.update(request.manual_overrides)
    with catalog.transaction():
        _touch(catalog, row, **cols, manual_overrides=overrides)
        _emit(catalog, row["project_id"], row["id"], "updated")
    return get_cluster(catalog, row["id"])


def _rerank(
    catalog: Catalog,
    cluster_id: str,
    kind: ClusterKind,
    winner: str | None,
    source: str | None,
    *,
    same_members: bool = False,
) -> None:
    """Rank the members again as the ``project.cluster`` job ranks a group (the same rank
    inputs: :func:`kilo.group.inputs.load_rank_inputs`, :func:`kilo.group.build.rank_group`),
    keeping a given winner. With ``same_members`` (the membership is as last ranked) a
    burst's stored comparisons are used, not made again from the thumbnails."""
    # here, not at the top: a listing of clusters starts without the pixel stack (numpy)
    from kilo.group.build import rank_group
    from kilo.group.compare import BURST_SIGNALS
    from kilo.group.inputs import load_rank_inputs

    project_id = str(catalog.table("clusters").value(cluster_id, "project_id"))
    members = _members(catalog, [cluster_id])[cluster_id]
    ids = [m.asset_id for m in members]
    inputs = load_rank_inputs(catalog, project_id, ids)
    stored = {m.asset_id: m.signals for m in members}
    compared = (
        {a: {k: float(s[k]) for k in BURST_SIGNALS if k in s} for a, s in stored.items()}
        if same_members
        else None
    )
    result = rank_group(kind, inputs.assets, inputs.weights, inputs.load_grey, compared)
    # members the ranking cannot read (quarantined since) stay, last
    order = [*result.members, *[a for a in ids if a not in result.member_scores]]
    why = result.why_winner
    win: str | None = result.winner
    if winner is not None and winner in ids:
        if kind != "moment":  # moments stay chronological
            order = [winner, *[a for a in order if a != winner]]
        win = winner
        if winner != result.winner:
            why = ["Chosen by you"] if source == "user" else []
    members_table = catalog.table("cluster_members")
    for i, aid in enumerate(order, start=1):
        members_table.update(
            (cluster_id, aid),
            {
                "rank": i,
                "role": role_for(i, win is not None),
                "score": result.member_scores.get(aid),
                "signals": json.dumps(result.member_signals.get(aid, {})),
            },
        )
    cols: dict[str, Any] = {
        "score": result.score,
        "winner_asset_id": win,
        "why_winner": why,
        "confidence": result.confidence if win else None,
        "winner_source": (source or "auto") if win else None,
    }
    titled = json_object(catalog.table("clusters").value(cluster_id, "manual_overrides"))
    if kind == "duplicate_group" and win in result.names and not titled.get("title"):
        cols["title"] = duplicate_title(len(order), result.names[win])  # named by its winner
    catalog.table("clusters").update(cluster_id, cols)


def store_winner(catalog: Catalog, cluster_id: str, asset_id: str) -> None:
    """Write a person's choice of winner (``asset_id``, a member; whole ids): ranked first,
    why "Chosen by you", kept through re-clustering.

    This is only the catalog step of :func:`kilo.cull.pick_winner`, the one winner action
    of every front end (the HTTP API, ``kilo clusters winner``, the cull screen's F), which
    also picks the frame, marks the cluster reviewed, logs the undoable action and teaches
    the taste model: call that."""
    row = _row(catalog, cluster_id)
    if not catalog.table("cluster_members").exists((row["id"], asset_id)):
        raise InvalidInput(f"asset {asset_id} is not a member of cluster {row['id']}")
    overrides = json_object(row["manual_overrides"]) | {"winner": asset_id}
    with catalog.transaction():
        _rerank(catalog, row["id"], row["kind"], asset_id, "user", same_members=True)
        _touch(catalog, row, manual_overrides=overrides)
        _emit(catalog, row["project_id"], row["id"], "winner")


def split_cluster(catalog: Catalog, cluster_id: str, asset_ids: Sequence[str]) -> list[Cluster]:
    """Move ``asset_ids`` out of a cluster into a new one of the same kind. Both keep these
    memberships through re-clustering. Returns [the rest, the new cluster]."""
    row = _row(catalog, cluster_id)
    members = [m.asset_id for m in _members(catalog, [row["id"]])[row["id"]]]
    moving = [lookup_id(catalog, "assets", a, project_id=row["project_id"]) for a in asset_ids]
    if not moving or any(a not in members for a in moving):
        raise InvalidInput("name one or more assets of the cluster to split off")
    if len(set(moving)) >= len(members):
        raise InvalidInput("a split must leave at least one asset in the cluster")
    new = new_id()
    now = utcnow()
    overrides = json_object(row["manual_overrides"]) | {"membersLocked": True}
    with catalog.transaction():
        catalog.execute(
            "INSERT INTO clusters (id, project_id, kind, parent_id, title, start_time, end_time, "
            "score, reviewed, manual_overrides, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, NULL, ?, ?, ?, false, ?, ?, ?)",
            [
                new,
                row["project_id"],
                row["kind"],
                row["parent_id"],
                row["start_time"],
                row["end_time"],
                row["score"],
                {"membersLocked": True},
                now,
                now,
            ],
        )
        marks = ", ".join("?" for _ in moving)
        catalog.execute(
            f"UPDATE cluster_members SET cluster_id = ? WHERE cluster_id = ? "
            f"AND asset_id IN ({marks})",
            [new, row["id"], *moving],
        )
        keep_winner = row["winner_asset_id"] if row["winner_source"] == "user" else None
        _rerank(catalog, row["id"], row["kind"], keep_winner, row["winner_source"])
        _rerank(catalog, new, row["kind"], None, None)
        _touch(catalog, row, manual_overrides=overrides)
        _refresh_times(catalog, [row["id"], new])
        _emit(catalog, row["project_id"], row["id"], "split")
    return [get_cluster(catalog, row["id"]), get_cluster(catalog, new)]


def merge_clusters(catalog: Catalog, cluster_ids: Sequence[str]) -> Cluster:
    """Merge clusters of one kind and project into the first; the result keeps its members
    through re-clustering."""
    if len(cluster_ids) < 2:
        raise InvalidInput("name at least two clusters to merge")
    rows = [_row(catalog, c) for c in cluster_ids]
    if len({r["kind"] for r in rows}) != 1 or len({r["project_id"] for r in rows}) != 1:
        raise InvalidInput("only clusters of the same kind and project can be merged")
    target = rows[0]
    others = [r["id"] for r in rows[1:] if r["id"] != target["id"]]
    overrides = json_object(target["manual_overrides"]) | {"membersLocked": True}
    with catalog.transaction():
        for oid in others:
            catalog.execute(
                "INSERT OR IGNORE INTO cluster_members (cluster_id, asset_id, rank, role, score, "
                "signals) SELECT ?, asset_id, rank + 1000, role, score, signals "
                "FROM cluster_members WHERE cluster_id = ?",
                [target["id"], oid],
            )
            catalog.table("cluster_members").delete_where("cluster_id = ?", [oid])
            catalog.execute(
                "UPDATE clusters SET parent_id = ? WHERE parent_id = ?", [target["id"], oid]
            )
            catalog.table("clusters").delete(oid)
        keep = target["winner_asset_id"] if target["winner_source"] == "user" else None
        _rerank(catalog, target["id"], target["kind"], keep, target["winner_source"])
        _touch(catalog, target, manual_overrides=overrides)
        _refresh_times(catalog, [target["id"]])
        _emit(catalog, target["project_id"], target["id"], "merge")
    return get_cluster(catalog, target["id"])


def _refresh_times(catalog: Catalog, cluster_ids: Sequence[str]) -> None:
    for cid in cluster_ids:
        catalog.execute(
            f"UPDATE clusters SET start_time = t.lo, end_time = t.hi FROM (SELECT min("
            f"{CAPTURE_INSTANT}) AS lo, max({CAPTURE_INSTANT}) AS hi FROM cluster_members m "
            "JOIN assets a ON "
            "a.id = m.asset_id WHERE m.cluster_id = ?) t WHERE clusters.id = ?",
            [cid, cid],
        )


# -- clusters a person fixed (re-clustering keeps them) ----------------------------------
def locked_clusters(catalog: Catalog, project_id: str) -> list[dict[str, Any]]:
    """Clusters whose membership a person fixed: [{id, kind, members}]."""
    rows = catalog.fetchall(
        "SELECT id, kind, manual_overrides FROM clusters WHERE project_id = ?", [project_id]
    )
    locked = [(r[0], r[1]) for r in rows if json_object(r[2]).get("membersLocked")]
    members = _members(catalog, [cid for cid, _ in locked])
    return [
        {"id": cid, "kind": kind, "members": [m.asset_id for m in members[cid]]}
        for cid, kind in locked
    ]


# -- snapshots of stacks for undo (kilo.cull.actions logs split and merge) ----------------
_CLUSTER_TIMES = ("start_time", "end_time", "created_at", "updated_at")


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A row as plain JSON: times as ISO text, a list as a list (JSON columns stay text)."""
    out = dict(row)
    for col in _CLUSTER_TIMES:
        if isinstance(out.get(col), datetime):
            out[col] = out[col].isoformat()
    if out.get("why_winner") is not None:
        out["why_winner"] = list(out["why_winner"])
    return out


def snapshot_clusters(catalog: Catalog, cluster_ids: Sequence[str]) -> dict[str, Any]:
    """Every column of the clusters ``cluster_ids`` (``None``: no such cluster) and of their
    member rows, and the parent of each cluster under one of them, as plain JSON:
    :func:`restore_clusters` puts exactly this back (undo and redo of a split or merge)."""
    ids = sorted(set(cluster_ids))
    rows = catalog.table("clusters").rows_for(ids)
    members = catalog.table("cluster_members").rows_where(
        "list_contains(?, cluster_id)", [ids], order_by="cluster_id, rank, asset_id"
    )
    children = catalog.table("clusters").rows_where(
        "list_contains(?, parent_id)", [ids], select=("id", "parent_id")
    )
    per: dict[str, list[dict[str, Any]]] = {cid: [] for cid in ids}
    for m in members:
        per[m["cluster_id"]].append(dict(m))
    return {
        "clusters": {cid: _plain(rows[cid]) if cid in rows else None for cid in ids},
        "members": per,
        "parents": {str(c["id"]): c["parent_id"] for c in children},
    }


def restore_clusters(catalog: Catalog, snapshot: dict[str, Any]) -> None:
    """Put the clusters of a :func:`snapshot_clusters` back exactly: their rows and members
    as they were (a cluster that was not there is removed), their children's parents."""
    ids = sorted(snapshot["clusters"])
    rows: list[dict[str, Any]] = [
        {k: (datetime.fromisoformat(v) if k in _CLUSTER_TIMES and v else v) for k, v in r.items()}
        for r in snapshot["clusters"].values()
        if r is not None
    ]
    members = [m for cid in ids for m in snapshot["members"].get(cid, [])]
    with catalog.transaction():
        catalog.table("cluster_members").delete_in("cluster_id", ids)
        catalog.table("clusters").delete_in("id", ids)
        for row in rows:
            catalog.table("clusters").insert(row)
        if members:
            catalog.table("cluster_members").insert_all(members)
        for child, parent in snapshot.get("parents", {}).items():
            catalog.table("clusters").update(child, {"parent_id": parent}, stamp=False)
        for row in rows:
            _emit(catalog, str(row["project_id"]), str(row["id"]), "restored")
