"""Snapshots of what a cull action touches, and their exact restoration (for undo/redo).

A state is plain JSON: ``{"ratings": {asset_id: row | null}, "clusters": {cluster_id: row}}``
where a rating row holds every column of the ``ratings`` table of one user and a cluster row
the decision columns (reviewed, winner, its source and reasons, manual overrides, member
ranks and roles). ``null`` means "no rating row": restoring it deletes the row. A split or
merge of stacks adds ``"stacks"``: whole clusters with their members
(``kilo.group.clusters.snapshot_clusters``), ``null`` for a cluster that did not exist.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from kilo.catalog import Catalog

RatingRow = dict[str, Any]
State = dict[str, dict[str, Any]]


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _json(value: Any) -> Any:
    if value is None or isinstance(value, dict | list):
        return value
    return json.loads(value)


def read_ratings(catalog: Catalog, user_id: str, asset_ids: Iterable[str]) -> dict[str, Any]:
    """``{asset_id: rating row or None}`` for ``asset_ids`` (ids without a row map to None)."""
    ids = sorted(set(asset_ids))
    found: dict[str, Any] = dict.fromkeys(ids)
    if not ids:
        return found
    rows = catalog.fetchdicts(
        "SELECT asset_id, rating, picked, rejected, starred, notes, updated_at FROM ratings "
        "WHERE user_id = ? AND list_contains(?, asset_id)",
        [user_id, ids],
    )
    for row in rows:
        found[row["asset_id"]] = {
            "rating": row["rating"],
            "picked": row["picked"],
            "rejected": row["rejected"],
            "starred": row["starred"],
            "notes": row["notes"],
            "updated_at": _iso(row["updated_at"]),
        }
    return found


def rated_asset_ids(catalog: Catalog, project_id: str, user_id: str) -> list[str]:
    """The assets of the project that ``user_id`` has a rating row of."""
    rows = catalog.fetchall(
        "SELECT r.asset_id FROM ratings r JOIN assets a ON a.id = r.asset_id "
        "WHERE a.project_id = ? AND r.user_id = ?",
        [project_id, user_id],
    )
    return [r[0] for r in rows]


def picked_among(catalog: Catalog, user_id: str, asset_ids: Iterable[str]) -> set[str]:
    """Those of ``asset_ids`` that ``user_id`` picked."""
    rows = catalog.table("ratings").rows_where(
        "user_id = ? AND picked AND asset_id IN (SELECT unnest(?::VARCHAR[]))",
        [user_id, list(asset_ids)],
        select=("asset_id",),
    )
    return {str(r["asset_id"]) for r in rows}


_RATING_COLUMNS = (
    ("asset_id", "VARCHAR"),
    ("user_id", "VARCHAR"),
    ("rating", "INTEGER"),
    ("picked", "BOOLEAN"),
    ("rejected", "BOOLEAN"),
    ("starred", "BOOLEAN"),
    ("notes", "VARCHAR"),
    ("updated_at", "TIMESTAMP"),
)


def write_ratings(catalog: Catalog, user_id: str, rows: dict[str, RatingRow | None]) -> None:
    """Make the rating rows of ``user_id`` exactly ``rows`` (asset id -> row; None deletes
    it): one bulk upsert and, when some go, one DELETE, however many there are. Call inside
    a transaction."""
    gone = [aid for aid, row in rows.items() if row is None]
    if gone:
        catalog.table("ratings").delete_where(
            "user_id = ? AND list_contains(?, asset_id)", [user_id, gone]
        )
    keep = [
        {
            "asset_id": aid,
            "user_id": user_id,
            **{c: row[c] for c, _ in _RATING_COLUMNS[2:7]},
            "updated_at": _dt(row["updated_at"]),
        }
        for aid, row in rows.items()
        if row is not None
    ]
    catalog.table("ratings").upsert_all(keep, types=dict(_RATING_COLUMNS))


_DECISION_COLUMNS = (
    "id",
    "reviewed",
    "winner_asset_id",
    "winner_source",
    "why_winner",
    "manual_overrides",
    "confidence",
    "updated_at",
)


def read_clusters(catalog: Catalog, cluster_ids: Iterable[str]) -> dict[str, Any]:
    """``{cluster_id: decision columns and member ranks/roles}`` for existing clusters."""
    ids = sorted(set(cluster_ids))
    if not ids:
        return {}
    rows = catalog.table("clusters").rows_for(ids, _DECISION_COLUMNS).values()
    members = catalog.table("cluster_members").rows_where(
        "list_contains(?, cluster_id)", [ids], select=("cluster_id", "asset_id", "rank", "role")
    )
    per: dict[str, dict[str, list[Any]]] = {}
    for m in members:
        per.setdefault(m["cluster_id"], {})[m["asset_id"]] = [m["rank"], m["role"]]
    return {
        row["id"]: {
            "reviewed": row["reviewed"],
            "winner_asset_id": row["winner_asset_id"],
            "winner_source": row["winner_source"],
            "why_winner": list(row["why_winner"]) if row["why_winner"] is not None else None,
            "manual_overrides": _json(row["manual_overrides"]),
            "confidence": row["confidence"],
            "updated_at": _iso(row["updated_at"]),
            "members": per.get(row["id"], {}),
        }
        for row in rows
    }


def write_cluster(catalog: Catalog, cluster_id: str, row: dict[str, Any]) -> None:
    """Put back the decision columns and member ranks/roles of one cluster."""
    overrides = row["manual_overrides"]
    values = {c: row[c] for c in _DECISION_COLUMNS[1:]}
    values["manual_overrides"] = (
        None if overrides is None else json.dumps(overrides, separators=(",", ":"))
    )
    values["updated_at"] = _dt(row["updated_at"])
    catalog.table("clusters").update(cluster_id, values)
    members = catalog.table("cluster_members")
    for asset_id, (rank, role) in row["members"].items():
        members.update((cluster_id, asset_id), {"rank": rank, "role": role})


def capture(
    catalog: Catalog, user_id: str, asset_ids: Iterable[str], cluster_ids: Iterable[str] = ()
) -> State:
    """The current state of the given ratings (of ``user_id``) and clusters."""
    return {
        "ratings": read_ratings(catalog, user_id, asset_ids),
        "clusters": read_clusters(catalog, cluster_ids),
    }


def restore(catalog: Catalog, user_id: str, state: State) -> None:
    """Write ``state`` back exactly. Call inside a transaction."""
    if "stacks" in state:  # a split or merge: whole clusters and their members
        from kilo.group.clusters import restore_clusters

        restore_clusters(catalog, state["stacks"])
    write_ratings(catalog, user_id, state.get("ratings", {}))
    for cluster_id, row in state.get("clusters", {}).items():
        write_cluster(catalog, cluster_id, row)
