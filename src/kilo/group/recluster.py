"""Storing a computed clustering, stable across re-runs.

A freshly computed cluster takes over the id of the stored cluster of the same kind it
overlaps most (Jaccard >= 0.5), and keeps what a person decided there:

* a title set by hand (``manual_overrides.title``),
* ``reviewed`` (carried over as stored),
* a winner chosen by a person (``winner_source = 'user'``) while that asset is still a member,
* memberships made by :func:`kilo.group.split_cluster` / :func:`kilo.group.merge_clusters`
  (``manual_overrides.membersLocked``): such clusters keep exactly their members (minus deleted
  assets), and those assets are taken out of computed clusters of the same kind.

Clusters whose members all disappeared, or that no computed cluster matches, are deleted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kilo.catalog import Catalog
from kilo.clock import new_id, utcnow
from kilo.group.rank import role_for
from kilo.jobspec import EventType
from kilo.models import ClusterKind
from kilo.records import json_object

__all__ = ["MATCH_MIN_JACCARD", "ComputedCluster", "duplicate_title", "store_clusters"]

MATCH_MIN_JACCARD = 0.5


@dataclass
class ComputedCluster:
    """One cluster as computed (ranked); ``members`` best first."""

    kind: ClusterKind
    members: list[str]
    title: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    score: float | None = None
    confidence: float | None = None
    winner: str | None = None
    why_winner: list[str] = field(default_factory=list)
    member_scores: dict[str, float] = field(default_factory=dict)
    member_signals: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: key of the parent moment among the computed clusters (index into the list), bursts only
    parent_index: int | None = None
    #: id of the stored cluster this is (locked clusters are recomputed under their id)
    cluster_id: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    #: member id -> its display name (a duplicate group is titled by its winner's)
    names: dict[str, str] = field(default_factory=dict)


_CLUSTER_COLUMNS = (
    ("id", "VARCHAR"),
    ("project_id", "VARCHAR"),
    ("kind", "VARCHAR"),
    ("parent_id", "VARCHAR"),
    ("title", "VARCHAR"),
    ("start_time", "TIMESTAMP"),
    ("end_time", "TIMESTAMP"),
    ("score", "DOUBLE"),
    ("confidence", "DOUBLE"),
    ("reviewed", "BOOLEAN"),
    ("winner_asset_id", "VARCHAR"),
    ("winner_source", "VARCHAR"),
    ("why_winner", "VARCHAR[]"),
    ("manual_overrides", "JSON"),
    ("created_at", "TIMESTAMP"),
    ("updated_at", "TIMESTAMP"),
)
_MEMBER_COLUMNS = (
    ("cluster_id", "VARCHAR"),
    ("asset_id", "VARCHAR"),
    ("rank", "INTEGER"),
    ("role", "VARCHAR"),
    ("score", "DOUBLE"),
    ("signals", "JSON"),
)


def _keep_ids(
    existing: list[dict[str, Any]],
    ex_members: dict[str, set[str]],
    computed: Sequence[ComputedCluster],
) -> list[str | None]:
    """The existing cluster id each computed cluster keeps (None: a new one), by greedy
    best-overlap matching per kind (Jaccard of the members at least MATCH_MIN_JACCARD);
    clusters whose members a person locked are not matched."""
    pairs: list[tuple[float, int, str]] = []
    by_asset: dict[tuple[str, str], list[str]] = {}
    for r in existing:
        if json_object(r["manual_overrides"]).get("membersLocked"):
            continue
        for aid in ex_members[r["id"]]:
            by_asset.setdefault((r["kind"], aid), []).append(r["id"])
    for k, c in enumerate(computed):
        if c.cluster_id is not None:
            continue
        seen: set[str] = set()
        mem = set(c.members)
        for aid in c.members:
            for cid in by_asset.get((c.kind, aid), []):
                if cid in seen:
                    continue
                seen.add(cid)
                jac = len(mem & ex_members[cid]) / len(mem | ex_members[cid])
                if jac >= MATCH_MIN_JACCARD:
                    pairs.append((jac, k, cid))
    pairs.sort(key=lambda t: (-t[0], t[1], t[2]))
    assigned: dict[int, str] = {k: c.cluster_id for k, c in enumerate(computed) if c.cluster_id}
    used = set(assigned.values())
    for _, k, cid in pairs:
        if k not in assigned and cid not in used:
            assigned[k] = cid
            used.add(cid)
    return [assigned.get(k) for k in range(len(computed))]


def duplicate_title(count: int, winner_name: str) -> str:
    """A duplicate group's title, named by the copy kept: "2 copies of mate_Dune.dng"."""
    return f"{count} copies of {winner_name}"


def _cluster_rows(
    project_id: str,
    c: ComputedCluster,
    ids: list[str],
    k: int,
    old: dict[str, Any] | None,
    now: datetime,
) -> tuple[list[Any], list[list[Any]]]:
    """The clusters row and cluster_members rows of computed cluster ``k``: a kept one keeps
    its created_at, title, reviewed flag, overrides and a person's winner."""
    overrides = json_object(old["manual_overrides"]) if old else {}
    overrides.update(c.overrides)
    title = old["title"] if old and (overrides.get("title") or c.title is None) else c.title
    reviewed = bool(old["reviewed"]) if old else False
    members = list(c.members)
    winner, why, source = c.winner, list(c.why_winner), "auto" if c.winner else None
    if old and old["winner_source"] == "user" and old["winner_asset_id"] in members:
        winner, source = old["winner_asset_id"], "user"
        members = [winner, *[a for a in members if a != winner]]
        if winner != c.winner:
            why = ["Chosen by you"]
            if c.kind == "duplicate_group" and c.title is not None and winner in c.names:
                title = (
                    title
                    if overrides.get("title")
                    else duplicate_title(len(members), c.names[winner])
                )
    parent = ids[c.parent_index] if c.parent_index is not None else None
    row = [
        ids[k],
        project_id,
        c.kind,
        parent,
        title,
        c.start_time,
        c.end_time,
        c.score,
        c.confidence,
        reviewed,
        winner,
        source,
        why,
        json.dumps(overrides),
        old["created_at"] if old is not None else now,
        now,
    ]
    member_rows = [
        [
            ids[k],
            aid,
            rank,
            role_for(rank, winner is not None),
            c.member_scores.get(aid),
            json.dumps(c.member_signals.get(aid, {})),
        ]
        for rank, aid in enumerate(members, start=1)
    ]
    return row, member_rows


def store_clusters(
    catalog: Catalog, project_id: str, computed: Sequence[ComputedCluster]
) -> dict[str, int]:
    """Replace the project's clusters by ``computed``, keeping ids and manual decisions."""
    existing = catalog.table("clusters").rows_where("project_id = ?", [project_id])
    ex_members: dict[str, set[str]] = {r["id"]: set() for r in existing}
    for cid, aid in catalog.fetchall(
        "SELECT m.cluster_id, m.asset_id FROM cluster_members m JOIN clusters c "
        "ON c.id = m.cluster_id WHERE c.project_id = ?",
        [project_id],
    ):
        ex_members[cid].add(aid)
    by_id = {r["id"]: r for r in existing}
    ids = [cid or new_id() for cid in _keep_ids(existing, ex_members, computed)]
    now = utcnow()
    stats = {"created": 0, "kept": 0, "deleted": len(set(by_id) - set(ids))}
    cluster_rows: list[list[Any]] = []
    member_rows: list[list[Any]] = []
    for k, c in enumerate(computed):
        old = by_id.get(ids[k])
        stats["kept" if old is not None else "created"] += 1
        row, members = _cluster_rows(project_id, c, ids, k, old, now)
        cluster_rows.append(row)
        member_rows += members
    with catalog.transaction():  # every cluster of the project rewritten in bulk
        catalog.table("cluster_members").delete_in("cluster_id", list(by_id))
        catalog.table("clusters").delete_in("id", list(by_id))
        catalog.insert_many("clusters", _CLUSTER_COLUMNS, cluster_rows)
        catalog.insert_many("cluster_members", _MEMBER_COLUMNS, member_rows)
        catalog.emit_event(
            EventType.CLUSTER_UPDATED,
            project_id=project_id,
            data={"change": "reclustered", **stats},
        )
    return stats
