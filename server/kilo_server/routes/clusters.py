"""Clusters: moments, bursts and duplicate groups of a project, and the culling actions."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from kilo.clock import parse_uuid
from kilo.cull.decisions import pick_winner
from kilo.cull.ratings import apply_bulk
from kilo.group.clusters import get_cluster, list_clusters, update_cluster
from kilo.models import (
    BulkCullActionRequest,
    BulkCullActionResponse,
    Cluster,
    ClusterKind,
    PagedClusters,
    SetWinnerRequest,
    UpdateClusterRequest,
)
from kilo_server.deps import CallerDep
from kilo_server.routes import Cursor, IdempotencyKey, Limit, errors

router = APIRouter(tags=["Clusters"])
culling = APIRouter(tags=["Culling"])


@router.get(
    "/projects/{projectId}/clusters", response_model=PagedClusters, responses=errors(401, 404)
)
def clusters_list(
    projectId: UUID,
    caller: CallerDep,
    kind: Annotated[ClusterKind | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> PagedClusters:
    return list_clusters(
        caller.catalog, caller.owns("projects", projectId), kind=kind, cursor=cursor, limit=limit
    )


@router.get("/clusters/{clusterId}", response_model=Cluster, responses=errors(401, 404))
def clusters_get(clusterId: UUID, caller: CallerDep) -> Cluster:
    return get_cluster(caller.catalog, caller.owns("clusters", clusterId))


@router.patch("/clusters/{clusterId}", response_model=Cluster, responses=errors(400, 401, 404))
def clusters_update(
    clusterId: UUID,
    body: UpdateClusterRequest,
    caller: CallerDep,
) -> Cluster:
    return update_cluster(caller.catalog, caller.owns("clusters", clusterId), body)


@router.post(
    "/clusters/{clusterId}/winner", response_model=Cluster, responses=errors(400, 401, 404)
)
def clusters_winner(clusterId: UUID, body: SetWinnerRequest, caller: CallerDep) -> Cluster:
    """Pick a member as the winner, as ``kilo clusters winner`` and the cull screen's F do:
    the frame is picked, the cluster marked reviewed, the decision undoable and taught to
    the caller's taste model; the choice survives re-clustering."""
    cid = caller.owns("clusters", clusterId)
    winner = parse_uuid(body.winner_asset_id, "winner asset id")
    pick_winner(caller.catalog, cid, winner, user_id=caller.user_id)
    return get_cluster(caller.catalog, cid)


@culling.post(
    "/projects/{projectId}/cull:applyAction",
    response_model=BulkCullActionResponse,
    responses=errors(400, 401, 404),
)
def cull_apply(
    projectId: UUID,
    body: BulkCullActionRequest,
    caller: CallerDep,
    idempotency_key: IdempotencyKey = None,
) -> BulkCullActionResponse:
    """Many pick/reject/rate/star changes in one transaction, one undoable action."""
    return apply_bulk(
        caller.catalog,
        caller.owns("projects", projectId),
        body,
        user_id=caller.user_id,
        idempotency_key=idempotency_key,
    )
