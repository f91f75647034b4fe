"""Cull decisions on clusters and frames, each one undoable action: pick a cluster's winner
(picks the frame, marks the cluster reviewed: what every front end's winner choice does),
reject a cluster, toggle reject/star, rate, accept suggested winners.

These are what the terminal UI's keys call; the UI itself holds no culling logic.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from kilo.catalog import Catalog
from kilo.catalog.file_reads import asset_project, list_suggested_winners
from kilo.catalog.ids import lookup_id
from kilo.cull.actions import ActionHandle, CullAction, tracked
from kilo.cull.ratings import apply_changes, check_assets
from kilo.errors import InvalidInput, NotFound
from kilo.jobspec import EventType
from kilo.projects import require_project

__all__ = [
    "AcceptWinnersReport",
    "accept_winners",
    "mark_reviewed",
    "pick_asset",
    "pick_winner",
    "reject_cluster",
    "set_rating",
    "toggle_reject",
    "toggle_star",
]

#: cluster kinds that have a winner to decide (moments group them)
DECIDABLE_KINDS = ("burst", "duplicate_group")


class AcceptWinnersReport(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    accepted: list[dict[str, str]] = Field(default_factory=list)
    skipped_low_confidence: int = 0
    action_id: int | None = None

    def dump(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


def _cluster(catalog: Catalog, cluster_id: str) -> dict[str, Any]:
    cid = lookup_id(catalog, "clusters", cluster_id)
    row = catalog.table("clusters").get(
        cid, ("id", "project_id", "kind", "winner_asset_id", "winner_source", "reviewed")
    )
    if row is None:
        raise NotFound(f"no cluster with id {cid}")
    row["members"] = [
        m["asset_id"]
        for m in catalog.table("cluster_members").rows_where(
            "cluster_id = ?", [cid], select=("asset_id",), order_by="rank, asset_id"
        )
    ]
    return row


def _asset_project(catalog: Catalog, asset_id: str) -> tuple[str, str]:
    aid = lookup_id(catalog, "assets", asset_id)
    return aid, asset_project(catalog, aid)


def _set_winner(catalog: Catalog, cluster: dict[str, Any], asset_id: str) -> None:
    """Make ``asset_id`` the cluster's user-chosen winner (kilo.group.clusters writes it)."""
    from kilo.group.clusters import store_winner

    if cluster["winner_asset_id"] == asset_id and cluster["winner_source"] == "user":
        return
    store_winner(catalog, cluster["id"], asset_id)


def _set_reviewed(catalog: Catalog, cluster_id: str, reviewed: bool) -> None:
    clusters = catalog.table("clusters")
    if clusters.value(cluster_id, "reviewed") != reviewed:
        clusters.update(cluster_id, {"reviewed": reviewed})


def _finish(catalog: Catalog, handle: ActionHandle, user: str, learn: bool) -> CullAction:
    if learn:
        from kilo.cull.taste import refresh_taste

        refresh_taste(catalog, user)
    assert handle.action is not None
    return handle.action


def pick_winner(
    catalog: Catalog, cluster_id: str, asset_id: str | None = None, *, user_id: str | None = None
) -> CullAction:
    """Pick ``asset_id`` (default: the suggested winner) as the cluster's winner: the asset is
    picked, becomes the winner (source ``user``, kept through re-clustering) and the cluster
    is marked reviewed, in one undoable action of ``user_id`` (default: the local user). The
    decision feeds the user's taste model. The one winner action of every front end: the
    HTTP API's POST /clusters/{id}/winner, ``kilo clusters winner`` and the cull screen's F."""
    cluster = _cluster(catalog, cluster_id)
    chosen = (
        lookup_id(catalog, "assets", asset_id, project_id=cluster["project_id"])
        if asset_id
        else cluster["winner_asset_id"]
    )
    if chosen is None:
        raise InvalidInput(f"cluster {cluster['id']} has no suggested winner; name the asset")
    if chosen not in cluster["members"]:
        raise InvalidInput(f"asset {chosen} is not a member of cluster {cluster['id']}")
    user = user_id or catalog.local_user_id
    with tracked(
        catalog,
        cluster["project_id"],
        user,
        "pick_winner",
        asset_ids=[chosen],
        cluster_ids=[cluster["id"]],
    ) as handle:
        apply_changes(catalog, user, [(chosen, {"picked": True})])
        _set_winner(catalog, cluster, chosen)
        _set_reviewed(catalog, cluster["id"], True)
        catalog.emit_event(
            EventType.CLUSTER_REVIEWED,
            project_id=cluster["project_id"],
            asset_id=chosen,
            data={"clusterId": cluster["id"], "winnerAssetId": chosen},
        )
    return _finish(catalog, handle, user, learn=cluster["kind"] in DECIDABLE_KINDS)


def reject_cluster(catalog: Catalog, cluster_id: str, *, user_id: str | None = None) -> CullAction:
    """Reject every frame of the cluster and mark it reviewed."""
    cluster = _cluster(catalog, cluster_id)
    user = user_id or catalog.local_user_id
    members = cluster["members"]
    with tracked(
        catalog,
        cluster["project_id"],
        user,
        "reject_cluster",
        asset_ids=members,
        cluster_ids=[cluster["id"]],
    ) as handle:
        apply_changes(catalog, user, [(a, {"rejected": True}) for a in members])
        _set_reviewed(catalog, cluster["id"], True)
    return _finish(catalog, handle, user, learn=False)


def mark_reviewed(
    catalog: Catalog, cluster_id: str, reviewed: bool = True, *, user_id: str | None = None
) -> CullAction:
    cluster = _cluster(catalog, cluster_id)
    user = user_id or catalog.local_user_id
    with tracked(
        catalog, cluster["project_id"], user, "review", cluster_ids=[cluster["id"]]
    ) as handle:
        _set_reviewed(catalog, cluster["id"], reviewed)
    return _finish(catalog, handle, user, learn=False)


def _toggle(catalog: Catalog, asset_id: str, field: str, user_id: str | None) -> CullAction:
    aid, project_id = _asset_project(catalog, asset_id)
    user = user_id or catalog.local_user_id
    with tracked(catalog, project_id, user, field, asset_ids=[aid]) as handle:
        now = catalog.table("ratings").value((aid, user), field)
        apply_changes(catalog, user, [(aid, {field: not now})])
    return _finish(catalog, handle, user, learn=False)


def toggle_reject(catalog: Catalog, asset_id: str, *, user_id: str | None = None) -> CullAction:
    """Reject the frame, or un-reject it when it is rejected (rejecting clears a pick)."""
    return _toggle(catalog, asset_id, "rejected", user_id)


def toggle_star(catalog: Catalog, asset_id: str, *, user_id: str | None = None) -> CullAction:
    return _toggle(catalog, asset_id, "starred", user_id)


def pick_asset(
    catalog: Catalog, asset_id: str, picked: bool = True, *, user_id: str | None = None
) -> CullAction:
    """Pick (or un-pick) one frame outside any cluster decision."""
    aid, project_id = _asset_project(catalog, asset_id)
    user = user_id or catalog.local_user_id
    with tracked(catalog, project_id, user, "pick", asset_ids=[aid]) as handle:
        apply_changes(catalog, user, [(aid, {"picked": picked})])
    return _finish(catalog, handle, user, learn=False)


def set_rating(
    catalog: Catalog, asset_id: str, rating: int | None, *, user_id: str | None = None
) -> CullAction:
    """Rate one frame 1-5 (None clears)."""
    aid, project_id = _asset_project(catalog, asset_id)
    user = user_id or catalog.local_user_id
    with tracked(catalog, project_id, user, "rate", asset_ids=[aid]) as handle:
        apply_changes(catalog, user, [(aid, {"rating": rating})])
    return _finish(catalog, handle, user, learn=False)


def accept_winners(
    catalog: Catalog,
    project_id: str,
    min_confidence: float = 0.0,
    *,
    user_id: str | None = None,
) -> AcceptWinnersReport:
    """Pick the suggested winner of every unreviewed burst/duplicate group whose confidence is
    at least ``min_confidence`` and mark those clusters reviewed: one undoable action (also
    when nothing qualified, so that every call is one undo step).
    Accepting a suggestion is not evidence of taste, so it does not train the taste model."""
    if not 0.0 <= min_confidence <= 1.0:
        raise InvalidInput(f"min confidence must be from 0 to 1, got {min_confidence}")
    pid = require_project(catalog, project_id)
    user = user_id or catalog.local_user_id
    rows = list_suggested_winners(catalog, pid, DECIDABLE_KINDS)
    chosen = [(cid, aid) for cid, aid, conf in rows if conf >= min_confidence]
    report = AcceptWinnersReport(skipped_low_confidence=len(rows) - len(chosen))
    winners = check_assets(catalog, pid, sorted({aid for _, aid in chosen}))
    with tracked(
        catalog,
        pid,
        user,
        "accept_winners",
        asset_ids=winners,
        cluster_ids=[cid for cid, _ in chosen],
    ) as handle:
        apply_changes(catalog, user, [(a, {"picked": True}) for a in winners])
        for cid, _ in chosen:
            _set_reviewed(catalog, cid, True)
        catalog.emit_event(
            EventType.CULL_ACCEPTED_WINNERS, project_id=pid, data={"count": len(chosen)}
        )
    report.accepted = [{"clusterId": cid, "assetId": aid} for cid, aid in chosen]
    report.action_id = handle.id
    return report
