"""Extensions for the browser studio's cull screen (``/v1/x-kilo/``): the cull view (stacks
in review order with signed image URLs), its data version to poll, undo/redo, rejecting a
stack, splitting and merging stacks, the face strip, a project's processing progress and,
for the photographer at this machine only, ingesting a local folder."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kilo.cull.actions import CullAction, redo, undo
from kilo.cull.decisions import reject_cluster
from kilo.cull.faces import build_face_strip
from kilo.cull.stacks import merge_stacks, split_stack
from kilo.cull.view import build_cull_view, read_data_version
from kilo.errors import Forbidden
from kilo.ingest.status import project_progress, start_local_ingest
from kilo.models import Cluster, KiloModel
from kilo.models.studio import (
    ClusterActionResponse,
    CullDataVersion,
    CullStepResponse,
    CullView,
    FaceStripResponse,
    IngestLocalRequest,
    IngestLocalResponse,
    ProjectProgress,
)
from kilo_server.deps import Caller, CallerDep, client_address
from kilo_server.files import signed_face_url, studio_frame_urls
from kilo_server.routes import errors

router = APIRouter(tags=["Studio"])
LOOPBACK = frozenset({"127.0.0.1", "::1"})


@router.get(
    "/x-kilo/projects/{projectId}/cull", response_model=CullView, responses=errors(401, 404)
)
def cull_view(projectId: UUID, caller: CallerDep) -> Response:
    """Extension: the project's stacks in review order for the caller, each frame with its
    decisions, processing state and signed image URLs (good for 12 h or more); one
    "filmstrip" stack of every frame in capture order while the AI is not ready."""
    pid = caller.owns("projects", projectId)
    urls, expires = studio_frame_urls(caller.catalog)
    view = build_cull_view(
        caller.catalog,
        pid,
        caller.user_id,
        urls,
        urls_expire_at=datetime.fromtimestamp(expires, UTC),
    )
    # serialized once, as the model says (the response model documents it; validating
    # 3,000 frames again would double the time)
    return Response(view.model_dump_json(by_alias=True), media_type="application/json")


@router.get(
    "/x-kilo/projects/{projectId}/cull/version",
    response_model=CullDataVersion,
    responses=errors(401, 404),
)
def cull_version(projectId: UUID, caller: CallerDep) -> CullDataVersion:
    """Extension: the cull view's ``dataVersion`` alone (one query), to poll cheaply."""
    pid = caller.owns("projects", projectId)
    return CullDataVersion(
        project_id=pid, data_version=read_data_version(caller.catalog, pid, caller.user_id)
    )


def _step(caller: Caller, pid: str, action: CullAction | None) -> CullStepResponse:
    version = read_data_version(caller.catalog, pid, caller.user_id)
    if action is None:
        return CullStepResponse(done=False, asset_ids=[], cluster_ids=[], data_version=version)
    return CullStepResponse(
        done=True,
        action=action.kind,
        action_id=action.id,
        asset_ids=action.asset_ids,
        cluster_ids=action.cluster_ids,
        data_version=version,
    )


@router.post(
    "/x-kilo/projects/{projectId}/cull:undo",
    response_model=CullStepResponse,
    responses=errors(401, 403, 404),
)
def cull_undo(projectId: UUID, caller: CallerDep) -> CullStepResponse:
    """Extension: revert the caller's newest cull action in the project (what it changed:
    its name, asset ids and cluster ids); ``done`` false when there is nothing to undo."""
    pid = caller.owns("projects", projectId)
    return _step(caller, pid, undo(caller.catalog, pid, caller.user_id))


@router.post(
    "/x-kilo/projects/{projectId}/cull:redo",
    response_model=CullStepResponse,
    responses=errors(401, 403, 404),
)
def cull_redo(projectId: UUID, caller: CallerDep) -> CullStepResponse:
    """Extension: re-apply the caller's most recently undone cull action."""
    pid = caller.owns("projects", projectId)
    return _step(caller, pid, redo(caller.catalog, pid, caller.user_id))


@router.post(
    "/x-kilo/clusters/{clusterId}:reject",
    response_model=ClusterActionResponse,
    responses=errors(401, 403, 404),
)
def cluster_reject(clusterId: UUID, caller: CallerDep) -> ClusterActionResponse:
    """Extension: reject every frame of the stack and mark it reviewed (Shift+D), one
    undoable action."""
    cid = caller.owns("clusters", clusterId)
    action = reject_cluster(caller.catalog, cid, user_id=caller.user_id)
    return ClusterActionResponse(
        action=action.kind,
        action_id=action.id,
        asset_ids=action.asset_ids,
        cluster_ids=action.cluster_ids,
    )


class SplitClusterRequest(KiloModel):
    asset_ids: list[str]


class SplitClusterResponse(KiloModel):
    rest: Cluster
    created: Cluster


class MergeClustersRequest(KiloModel):
    cluster_ids: list[str]


@router.post(
    "/x-kilo/clusters/{clusterId}:split",
    response_model=SplitClusterResponse,
    responses=errors(400, 401, 403, 404),
)
def cluster_split(
    clusterId: UUID, body: SplitClusterRequest, caller: CallerDep
) -> SplitClusterResponse:
    """Extension: move ``assetIds`` out of the stack into a new one of the same kind (both
    keep these members through re-clustering), as ``kilo clusters split``; logged in the
    caller's cull action log, so ``:undo`` takes it back."""
    cid = caller.owns("clusters", clusterId)
    rest, created = split_stack(caller.catalog, caller.user_id, cid, body.asset_ids)
    return SplitClusterResponse(rest=rest, created=created)


@router.post(
    "/x-kilo/clusters/{clusterId}:merge",
    response_model=Cluster,
    responses=errors(400, 401, 403, 404),
)
def cluster_merge(clusterId: UUID, body: MergeClustersRequest, caller: CallerDep) -> Cluster:
    """Extension: merge ``clusterIds`` (of the same kind and project) into this stack, as
    ``kilo clusters merge``; logged in the caller's cull action log, so ``:undo`` takes it
    back."""
    cid = caller.owns("clusters", clusterId)
    others = [caller.owns_or_bad_request("clusters", c) for c in body.cluster_ids]
    return merge_stacks(caller.catalog, caller.user_id, [cid, *[c for c in others if c != cid]])


@router.get(
    "/x-kilo/clusters/{clusterId}/faces",
    response_model=FaceStripResponse,
    responses=errors(401, 404),
)
def cluster_faces(clusterId: UUID, caller: CallerDep) -> FaceStripResponse:
    """Extension: the face strip: each person across the stack's frames (in the cull
    view's member order), per frame a signed face crop URL and the eyes' state."""
    cid = caller.owns("clusters", clusterId)
    catalog = caller.catalog
    return build_face_strip(catalog, cid, lambda aid, box: signed_face_url(catalog, aid, box))


@router.get(
    "/x-kilo/projects/{projectId}/progress",
    response_model=ProjectProgress,
    responses=errors(401, 404),
)
def progress(projectId: UUID, caller: CallerDep) -> ProjectProgress:
    """Extension: how far the project's photos have come (ingest screen, status pill)."""
    return project_progress(caller.catalog, caller.owns("projects", projectId))


def _from_this_machine(request: Request) -> bool:
    """A request straight from loopback: no proxy header (a forwarded request is someone
    else's, whatever address it claims), a loopback peer."""
    if any(h in request.headers for h in ("x-forwarded-for", "forwarded", "x-real-ip")):
        return False
    return client_address(request) in LOOPBACK


@router.post(
    "/x-kilo/projects/{projectId}/ingest-local",
    response_model=IngestLocalResponse,
    status_code=202,
    responses=errors(400, 401, 403, 404),
)
def ingest_local(
    projectId: UUID, body: IngestLocalRequest, caller: CallerDep, request: Request
) -> IngestLocalResponse:
    """Extension: ingest a folder or card of the server's machine (as ``kilo ingest``), for
    the photographer at that machine only: a studio session made by ``kilo open`` for the
    library's local user, on a request from loopback; 403 for everyone else. Progress
    shows in the jobs list and on /realtime."""
    if not (
        caller.local_session
        and caller.user_id == caller.catalog.local_user_id
        and _from_this_machine(request)
    ):
        raise Forbidden("only the photographer at this machine (kilo open) ingests local folders")
    pid = caller.owns("projects", projectId)
    start_local_ingest(caller.catalog, pid, body.path)
    return IngestLocalResponse(project_id=pid, accepted=True)
