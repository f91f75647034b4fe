"""Search: text plus filters over a project's photos."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from kilo.models import AdvancedSearchRequest, SearchResponse
from kilo.search.engine import search
from kilo_server.deps import CallerDep
from kilo_server.routes import Limit, errors

router = APIRouter(tags=["Search"])


@router.get(
    "/projects/{projectId}/search", response_model=SearchResponse, responses=errors(400, 401)
)
def search_get(
    projectId: UUID,
    caller: CallerDep,
    q: Annotated[str, Query(min_length=1)],
    limit: Limit = 50,
) -> SearchResponse:
    """Search by text (CLIP when it is available) and filter words (camera:, picked ...)."""
    pid = caller.owns_or_bad_request("projects", projectId)  # the contract has no 404 here
    return search(caller.catalog, pid, q, limit=limit, user_id=caller.user_id)


@router.post(
    "/projects/{projectId}/search", response_model=SearchResponse, responses=errors(400, 401)
)
def search_post(
    projectId: UUID,
    body: AdvancedSearchRequest,
    caller: CallerDep,
) -> SearchResponse:
    pid = caller.owns_or_bad_request("projects", projectId)  # the contract has no 404 here
    return search(caller.catalog, pid, body.q, filters=body.filters, user_id=caller.user_id)
