"""Snapshots of what a cull action touches, and their exact restoration (for undo/redo).

A state is plain JSON: ``{"ratings": {asset_id: row | null}, "clusters": {cluster_id: row}}``
where a rating row holds every column of the ``ratings`` table of one user and a cluster row
the decision columns (reviewed, winner, its source and reasons, manual overrides, member
ranks and roles). ``null`` means "no rating row": restoring it deletes the row.
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


def write_rating(catalog: Catalog, user_id: str, asset_id: str, row: RatingRow | None) -> None:
    """Make the rating row of (asset, user) exactly ``row`` (None deletes it)."""
    catalog.execute("DELETE FROM ratings WHERE asset_id = ? AND user_id = ?", [asset_id, user_id])
    if row is None:
        return
    catalog.execute(
        "INSERT INTO ratings (asset_id, user_id, rating, picked, rejected, starred, notes, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            asset_id,
            user_id,
            row["rating"],
            row["picked"],
            row["rejected"],
            row["starred"],
            row["notes"],
            _dt(row["updated_at"]),
        ],
    )


def read_clusters(catalog: Catalog, cluster_ids: Iterable[str]) -> dict[str, Any]:
    """``{cluster_id: decision columns and member ranks/roles}`` for existing clusters."""
    ids = sorted(set(cluster_ids))
    if not ids:
        return {}
    rows = catalog.fetchdicts(
        "SELECT id, reviewed, winner_asset_id, winner_source, why_winner, manual_overrides, "
        "confidence, updated_at FROM clusters WHERE list_contains(?, id)",
        [ids],
    )
    members = catalog.fetchall(
        "SELECT cluster_id, asset_id, rank, role FROM cluster_members "
        "WHERE list_contains(?, cluster_id)",
        [ids],
    )
    per: dict[str, dict[str, list[Any]]] = {}
    for cid, aid, rank, role in members:
        per.setdefault(cid, {})[aid] = [rank, role]
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
    catalog.execute(
        "UPDATE clusters SET reviewed = ?, winner_asset_id = ?, winner_source = ?, "
        "why_winner = ?, manual_overrides = ?, confidence = ?, updated_at = ? WHERE id = ?",
        [
            row["reviewed"],
            row["winner_asset_id"],
            row["winner_source"],
            row["why_winner"],
            None if overrides is None else json.dumps(overrides, separators=(",", ":")),
            row["confidence"],
            _dt(row["updated_at"]),
            cluster_id,
        ],
    )
    for asset_id, (rank, role) in row["members"].items():
        catalog.execute(
            "UPDATE cluster_members SET rank = ?, role = ? WHERE cluster_id = ? AND asset_id = ?",
            [rank, role, cluster_id, asset_id],
        )


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
    for asset_id, row in state.get("ratings", {}).items():
        write_rating(catalog, user_id, asset_id, row)
    for cluster_id, row in state.get("clusters", {}).items():
        write_cluster(catalog, cluster_id, row)
